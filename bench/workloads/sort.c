/* sort.c - sorting: N pseudo-random 32-bit keys sorted twice, by an
 * introspective quicksort (median of three, insertion sort for short
 * ranges, heapsort if the recursion gets too deep) and by a plain heapsort,
 * then checked against each other. Branchy compare-and-swap work with
 * cache-friendly (quicksort) and cache-hostile (heapsort) access patterns.
 *
 * usage: sort [N]    full: N = 2000000 (default), small: N = 30000
 * prints: sort: n=... min=... median=... max=... checksum=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 2000000u

static uint32_t rng = 0x2545f491u;

static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void sift_down(uint32_t *a, uint32_t root, uint32_t n)
{
    uint32_t v = a[root];
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= v)
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

static void heapsort_u32(uint32_t *a, uint32_t n)
{
    if (n < 2)
        return;
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

static void insertion_sort(uint32_t *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = a[i], j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void swap(uint32_t *a, uint32_t i, uint32_t j)
{
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(uint32_t *a, uint32_t n, uint32_t depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heapsort_u32(a, n);
            return;
        }
        /* median of three into a[0], then Hoare partition around it */
        uint32_t mid = n / 2;
        if (a[mid] < a[0])
            swap(a, mid, 0);
        if (a[n - 1] < a[0])
            swap(a, n - 1, 0);
        if (a[n - 1] < a[mid])
            swap(a, n - 1, mid);
        swap(a, 0, mid);
        uint32_t pivot = a[0];
        uint32_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (i >= j)
                break;
            swap(a, i, j);
        }
        swap(a, 0, j);
        /* recurse into the smaller side, loop on the larger */
        if (j < n - j - 1) {
            quicksort(a, j, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            quicksort(a + j + 1, n - j - 1, depth);
            n = j;
        }
    }
    insertion_sort(a, n);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    if (n == 0) {
        fprintf(stderr, "sort: N must be at least 1\n");
        return 2;
    }
    uint32_t *a = malloc(sizeof(uint32_t) * n);
    uint32_t *b = malloc(sizeof(uint32_t) * n);
    if (!a || !b) {
        fprintf(stderr, "sort: out of memory\n");
        return 1;
    }
    /* keys with many duplicates in the low range, spread in the high one */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = xorshift32();
        a[i] = (r & 1) ? r : r % (n / 4 + 1);
    }
    memcpy(b, a, sizeof(uint32_t) * n);
    uint32_t depth = 0;
    for (uint32_t m = n; m > 1; m >>= 1)
        depth += 2;
    quicksort(a, n, depth);
    heapsort_u32(b, n);
    uint64_t mix = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (a[i] != b[i] || (i > 0 && a[i - 1] > a[i])) {
            fprintf(stderr, "sort: results differ at %u\n", i);
            return 1;
        }
        mix = (mix + a[i]) * 0x9e3779b97f4a7c15ull;
        mix ^= mix >> 31;
    }
    printf("sort: n=%u min=%u median=%u max=%u checksum=%016llx\n", n, a[0], a[n / 2],
           a[n - 1], (unsigned long long)mix);
    free(a);
    free(b);
    return 0;
}
