/* matmul.c - memory-bound: naive i-j-k multiplication of two N x N double
 * matrices. The inner loop walks B down a column (a stride of N * 8 bytes),
 * so for large N every step touches a new cache line and the loop runs at
 * the speed of the cache hierarchy, not of the FPU. The sums run in a fixed
 * order, so every engine gets the same bits.
 *
 * usage: matmul [N]    full: N = 640 (default), small: N = 96
 * prints: matmul: n=... trace=... sum=... checksum=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 640u

static uint32_t rng = 0x12345678u;

static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    if (n == 0 || n > 4096) {
        fprintf(stderr, "matmul: N must be 1..4096\n");
        return 2;
    }
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) {
        fprintf(stderr, "matmul: out of memory\n");
        return 1;
    }
    /* small exact values (multiples of 1/1024) keep the products exact */
    for (uint32_t i = 0; i < n * n; i++) {
        a[i] = (double)(xorshift32() % 2048) / 1024.0 - 1.0;
        b[i] = (double)(xorshift32() % 2048) / 1024.0 - 1.0;
    }
    for (uint32_t i = 0; i < n; i++) {
        const double *ai = a + (size_t)i * n;
        for (uint32_t j = 0; j < n; j++) {
            const double *bj = b + j;
            double s = 0;
            for (uint32_t k = 0; k < n; k++)
                s += ai[k] * bj[(size_t)k * n];
            c[(size_t)i * n + j] = s;
        }
    }
    double trace = 0, sum = 0;
    uint64_t mix = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < n; i++) {
        trace += c[(size_t)i * n + i];
        for (uint32_t j = 0; j < n; j++) {
            double v = c[(size_t)i * n + j];
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            sum += v;
            mix = (mix ^ bits) * 0x100000001b3ull;
            mix ^= mix >> 29;
        }
    }
    printf("matmul: n=%u trace=%.6f sum=%.6f checksum=%016llx\n", n, trace, sum,
           (unsigned long long)mix);
    free(a);
    free(b);
    free(c);
    return 0;
}
