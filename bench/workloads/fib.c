/* fib.c - call-heavy and recursive: the doubly recursive Fibonacci function
 * (about 2 * fib(N) calls, each doing almost nothing but call and return),
 * then Takeuchi's function for deep, argument-heavy recursion.
 *
 * usage: fib [N]    full: N = 40 (default), small: N = 24
 * prints: fib: n=... fib=... tak=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_N 40u

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int32_t tak(int32_t x, int32_t y, int32_t z)
{
    if (y >= x)
        return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    if (n > 46) {
        fprintf(stderr, "fib: N must be at most 46\n");
        return 2;
    }
    uint32_t f = fib(n);
    /* tak's cost grows fast with its first argument: keep it near n / 2 */
    int32_t t = 0;
    for (int32_t i = 0; i < 4; i++)
        t += tak((int32_t)(n / 2) + i % 2, (int32_t)(n / 4), i);
    printf("fib: n=%u fib=%u tak=%d\n", n, f, t);
    return 0;
}
