/* wordcount.c - strings and hashing: generates a text of N words (a
 * vocabulary of made-up words, picked with a skewed, Zipf-like frequency,
 * capitalised and punctuated now and then), hashes the whole text with
 * 64-bit FNV-1a, then splits it into lower-cased words and counts them in
 * an open-addressing hash table (FNV-1a keys, memcmp on collisions).
 *
 * usage: wordcount [N]    full: N = 5000000 (default), small: N = 40000
 * prints: wordcount: words=... distinct=... top=... fnv=... table=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_N 5000000u
#define VOCAB 20000u
#define MAXWORD 32u

static uint32_t rng = 0xdeadbeefu;

static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const char *const syllables[] = {
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "en", "or", "al", "is",
    "th", "qu", "ex", "on", "bra", "sti", "mon", "gle", "ph", "ya", "zu", "ce",
};
#define NSYLL (sizeof syllables / sizeof syllables[0])

typedef struct {
    uint64_t hash;
    uint32_t off;   /* into the key arena; 0 means the slot is empty */
    uint32_t len;
    uint32_t count;
} Slot;

static uint64_t fnv1a(const char *s, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;

    /* the vocabulary: VOCAB words of 1-5 syllables, kept in one arena */
    char *vocab = malloc(VOCAB * MAXWORD);
    uint8_t *vlen = malloc(VOCAB);
    if (!vocab || !vlen) {
        fprintf(stderr, "wordcount: out of memory\n");
        return 1;
    }
    for (uint32_t w = 0; w < VOCAB; w++) {
        uint32_t k = 1 + xorshift32() % 5, len = 0;
        for (uint32_t s = 0; s < k; s++) {
            const char *syl = syllables[xorshift32() % NSYLL];
            while (*syl && len < MAXWORD - 1)
                vocab[w * MAXWORD + len++] = *syl++;
        }
        vlen[w] = (uint8_t)len;
    }

    /* the text: words picked with a skew towards low indices */
    uint32_t cap = 1u << 16;
    char *text = malloc(cap);
    if (!text) {
        fprintf(stderr, "wordcount: out of memory\n");
        return 1;
    }
    uint32_t tlen = 0, sentence = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = xorshift32();
        uint32_t w = (r % VOCAB) % (1 + (xorshift32() % VOCAB));
        if (tlen + MAXWORD + 3 > cap) {
            char *more = cap < (1u << 30) ? realloc(text, (size_t)cap * 2) : NULL;
            if (!more) {
                fprintf(stderr, "wordcount: out of memory\n");
                return 1;
            }
            text = more;
            cap *= 2;
        }
        memcpy(text + tlen, vocab + w * MAXWORD, vlen[w]);
        if (sentence == 0)
            text[tlen] = (char)(text[tlen] - 'a' + 'A');
        tlen += vlen[w];
        sentence++;
        if ((r >> 24) < 20 || sentence > 14) {
            text[tlen++] = (r >> 16 & 1) ? '.' : '!';
            text[tlen++] = (r >> 17 & 3) == 0 ? '\n' : ' ';
            sentence = 0;
        } else if ((r >> 24) < 40) {
            text[tlen++] = ',';
            text[tlen++] = ' ';
        } else {
            text[tlen++] = ' ';
        }
    }
    text[tlen] = 0;
    uint64_t whole = fnv1a(text, tlen);

    /* count the words */
    uint32_t tcap = 1;
    while (tcap < 4 * VOCAB)
        tcap <<= 1;
    Slot *table = calloc(tcap, sizeof *table);
    char *keys = malloc(VOCAB * MAXWORD + 1);
    if (!table || !keys) {
        fprintf(stderr, "wordcount: out of memory\n");
        return 1;
    }
    uint32_t klen = 1, distinct = 0, words = 0;
    char word[MAXWORD];
    uint32_t i = 0;
    while (i < tlen) {
        while (i < tlen && !((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')))
            i++;
        uint32_t len = 0;
        while (i < tlen && len < MAXWORD &&
               ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z'))) {
            char c = text[i++];
            word[len++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        if (len == 0)
            break;
        words++;
        uint64_t h = fnv1a(word, len);
        uint32_t s = (uint32_t)h & (tcap - 1);
        for (;;) {
            Slot *e = &table[s];
            if (e->off == 0) {
                if (klen + len > VOCAB * MAXWORD) {
                    fprintf(stderr, "wordcount: key arena full\n");
                    return 1;
                }
                memcpy(keys + klen, word, len);
                e->hash = h;
                e->off = klen;
                e->len = len;
                e->count = 1;
                klen += len;
                distinct++;
                break;
            }
            if (e->hash == h && e->len == len && memcmp(keys + e->off, word, len) == 0) {
                e->count++;
                break;
            }
            s = (s + 1) & (tcap - 1);
        }
    }

    /* fold the table (slot order is deterministic) and find the top word */
    uint64_t fold = 0;
    uint32_t top = 0, topc = 0;
    for (uint32_t s = 0; s < tcap; s++) {
        if (table[s].off == 0)
            continue;
        fold = (fold ^ table[s].hash ^ table[s].count) * 0x100000001b3ull;
        if (table[s].count > topc) {
            topc = table[s].count;
            top = s;
        }
    }
    printf("wordcount: words=%u distinct=%u top=%.*s:%u fnv=%016llx table=%016llx\n",
           words, distinct, (int)table[top].len, keys + table[top].off, topc,
           (unsigned long long)whole, (unsigned long long)fold);
    free(vocab);
    free(vlen);
    free(text);
    free(table);
    free(keys);
    return 0;
}
