/* memrand.c - memory-bound: random access and streaming over a large array.
 * Three phases over M 32-bit words (M * 4 bytes, 16 MiB at full size):
 *   1. Sattolo's shuffle builds one random cycle through the array (random
 *      reads and writes);
 *   2. a pointer chase follows the cycle for M steps (each load depends on
 *      the previous one: pure memory latency);
 *   3. a histogram of random increments, then a streaming triad over two
 *      arrays (memory bandwidth).
 * Interpreters lose less here than on the CPU workloads: a cache miss
 * costs every engine the same.
 *
 * usage: memrand [M]    full: M = 4194304 (default), small: M = 262144
 * prints: memrand: m=... chase=... hist=... triad=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_M 4194304u

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* splitmix64 */
static uint64_t next64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* an unbiased-enough index below n (n < 2^32): multiply-shift */
static uint32_t below(uint32_t n)
{
    return (uint32_t)(((next64() >> 32) * (uint64_t)n) >> 32);
}

int main(int argc, char **argv)
{
    uint32_t m = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_M;
    if (m < 2 || m > (1u << 27)) {
        fprintf(stderr, "memrand: M must be 2..134217728\n");
        return 2;
    }
    uint32_t *next = malloc(sizeof(uint32_t) * m);
    if (!next) {
        fprintf(stderr, "memrand: out of memory\n");
        return 1;
    }
    /* 1. Sattolo: a single cycle of length m */
    for (uint32_t i = 0; i < m; i++)
        next[i] = i;
    for (uint32_t i = m - 1; i > 0; i--) {
        uint32_t j = below(i);
        uint32_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    /* 2. the chase */
    uint32_t p = 0;
    uint64_t chase = 0;
    for (uint32_t s = 0; s < m; s++) {
        p = next[p];
        chase += p ^ s;
    }
    if (p != 0) {
        fprintf(stderr, "memrand: the cycle is broken\n");
        return 1;
    }
    /* 3a. histogram: reuse the array as m counters */
    for (uint32_t i = 0; i < m; i++)
        next[i] = 0;
    for (uint32_t s = 0; s < m; s++)
        next[below(m)] += s & 7;
    uint64_t hist = 0;
    for (uint32_t i = 0; i < m; i++)
        hist = hist * 31 + next[i];
    /* 3b. triad: a = b + 3 * c over two halves, four passes */
    uint32_t half = m / 2;
    uint32_t *a = next, *b = next + half;
    for (uint32_t i = 0; i < half; i++)
        b[i] = i * 2654435761u;
    uint64_t triad = 0;
    for (uint32_t pass = 0; pass < 4; pass++) {
        for (uint32_t i = 0; i < half; i++)
            a[i] = b[i] + 3 * a[i] + pass;
        for (uint32_t i = 0; i < half; i++)
            triad += a[i];
    }
    printf("memrand: m=%u chase=%llu hist=%016llx triad=%llu\n", m,
           (unsigned long long)chase, (unsigned long long)hist,
           (unsigned long long)triad);
    free(next);
    return 0;
}
