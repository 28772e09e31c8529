/* sieve.c - CPU integer work: a segmented sieve of Eratosthenes over the
 * odd numbers (one byte per odd number, 32 KiB segments that stay in the
 * L1 cache), counting and summing the primes below N.
 *
 * usage: sieve [N]    full: N = 400000000 (default), small: N = 2000000
 * prints: sieve: N=... primes=... sum=... checksum=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 400000000ull
#define SEG 32768u

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : DEFAULT_N;
    uint64_t count = 0, sum = 0, mix = 0;

    if (n > 2) {
        count = 1; /* the prime 2 */
        sum = 2;
    }
    /* base primes: every odd prime p with p * p < n */
    uint32_t r = 1;
    while ((uint64_t)(r + 1) * (r + 1) < n)
        r++;
    uint8_t *small = calloc(r + 2, 1);
    uint32_t *primes = malloc(sizeof *primes * (r / 2 + 2));
    uint64_t *next = malloc(sizeof *next * (r / 2 + 2));
    uint8_t *seg = malloc(SEG);
    if (!small || !primes || !next || !seg) {
        fprintf(stderr, "sieve: out of memory\n");
        return 1;
    }
    uint32_t np = 0;
    for (uint32_t i = 3; i <= r; i += 2) {
        if (small[i])
            continue;
        primes[np] = i;
        /* odd numbers are 2k+1: the first multiple to cross off is i*i */
        next[np] = ((uint64_t)i * i - 1) / 2;
        np++;
        for (uint32_t j = i * i; j <= r; j += 2 * i)
            small[j] = 1;
    }

    uint64_t kend = n / 2; /* odd numbers 2k+1 < n have k < kend */
    for (uint64_t k0 = 0; k0 < kend; k0 += SEG) {
        uint64_t k1 = k0 + SEG < kend ? k0 + SEG : kend;
        uint32_t len = (uint32_t)(k1 - k0);
        memset(seg, 0, len);
        for (uint32_t i = 0; i < np; i++) {
            uint32_t p = primes[i];
            uint64_t k = next[i];
            for (; k < k1; k += p)
                seg[k - k0] = 1;
            next[i] = k;
        }
        for (uint32_t j = (k0 == 0); j < len; j++) {
            if (!seg[j]) {
                uint64_t v = 2 * (k0 + j) + 1;
                count++;
                sum += v;
                mix = (mix ^ v) * 0x100000001b3ull;
            }
        }
    }
    printf("sieve: N=%llu primes=%llu sum=%llu checksum=%016llx\n",
           (unsigned long long)n, (unsigned long long)count,
           (unsigned long long)sum, (unsigned long long)mix);
    free(small);
    free(primes);
    free(next);
    free(seg);
    return 0;
}
