/* compress.c - a "real" program: a small DEFLATE-style compressor and its
 * decompressor, run as a round trip over generated data.
 *
 * The compressor finds LZ77 matches (3..258 bytes, up to 32 KiB back) with
 * hash chains and one step of lazy matching, as zlib does, and codes each
 * block of up to 32768 tokens with two canonical Huffman codes (literals,
 * end of block and match lengths in one alphabet, distances in the other;
 * lengths limited to 15 bits), the same symbol and extra-bit scheme as
 * DEFLATE. Each block starts with its two tables of code lengths, 4 bits
 * each. The decompressor reads them back, builds full 15-bit lookup tables
 * and decodes. The data is pseudo-English text with record lines and short
 * runs of random bytes, so there is something to find and something not to.
 * The run fails unless the data comes back byte for byte.
 *
 * usage: compress [KIB]    full: KIB = 4096 (default), small: KIB = 96
 * prints: compress: in=... out=... crc=... blocks=... matches=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_KIB 4096u

#define WBITS 15
#define WSIZE (1u << WBITS)
#define WMASK (WSIZE - 1)
#define HBITS 15
#define HSIZE (1u << HBITS)
#define MIN_MATCH 3u
#define MAX_MATCH 258u
#define MAX_CHAIN 64u
#define GOOD_LAZY 32u     /* no lazy look-ahead once a match is this long */
#define TOO_FAR 4096u     /* a 3-byte match farther back than this is worthless */
#define BLOCK_TOKENS 32768u
#define NLIT 286          /* 0-255 literals, 256 end of block, 257-285 lengths */
#define NDIST 30
#define EOB 256
#define MAXBITS 15

static const uint16_t len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};

static uint8_t len_code[MAX_MATCH + 1]; /* match length -> index into len_base */
static uint8_t dist_code[WSIZE + 1];    /* distance -> index into dist_base */
static uint32_t crc_table[256];

static void die(const char *msg)
{
    fprintf(stderr, "compress: %s\n", msg);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory");
    return p;
}

static void init_tables(void)
{
    /* code 27 covers 227..257: 258 has a code of its own, 28 */
    for (uint32_t c = 0; c < 29; c++) {
        uint32_t end = c < 28 ? len_base[c + 1] : MAX_MATCH + 1;
        for (uint32_t l = len_base[c]; l < end; l++)
            len_code[l] = (uint8_t)c;
    }
    for (uint32_t c = 0; c < 30; c++) {
        uint32_t end = dist_base[c] + (1u << dist_extra[c]);
        for (uint32_t d = dist_base[c]; d < end && d <= WSIZE; d++)
            dist_code[d] = (uint8_t)c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* ---- test data ---------------------------------------------------------- */

static uint32_t rng = 0x6b8b4567u;

static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const char *const syllables[] = {
    "the", "and", "ing", "er", "on", "al", "re", "st", "ent", "ion", "ar", "ou",
    "ed", "es", "or", "le", "ti", "co", "ma", "pre", "sh", "wa", "by", "ly",
};
#define NSYLL (sizeof syllables / sizeof syllables[0])
#define NWORDS 1500u

static void generate(uint8_t *out, uint32_t n)
{
    static char words[NWORDS][24];
    for (uint32_t w = 0; w < NWORDS; w++) {
        uint32_t k = 1 + xorshift32() % 4, len = 0;
        for (uint32_t s = 0; s < k; s++) {
            const char *syl = syllables[xorshift32() % NSYLL];
            while (*syl && len < 23)
                words[w][len++] = *syl++;
        }
        words[w][len] = 0;
    }
    uint32_t pos = 0, record = 0;
    char line[128];
    while (pos < n) {
        uint32_t r = xorshift32() % 100, len = 0;
        if (r < 78) {
            /* a sentence */
            uint32_t nw = 4 + xorshift32() % 12;
            for (uint32_t i = 0; i < nw && len < 100; i++) {
                /* one call per statement: the order of evaluation of
                 * operands and arguments is unspecified in C */
                uint32_t w = xorshift32() % NWORDS;
                w %= 1 + xorshift32() % NWORDS;
                const char *s = words[w];
                if (i > 0)
                    line[len++] = ' ';
                while (*s && len < 120)
                    line[len++] = *s++;
            }
            line[len++] = '.';
            line[len++] = xorshift32() % 4 ? ' ' : '\n';
        } else if (r < 96) {
            /* a record line */
            uint32_t name = xorshift32() % 64;
            uint32_t qty = xorshift32() % 1000;
            uint32_t flags = xorshift32() & 0x0f0f;
            record++;
            len = (uint32_t)snprintf(line, sizeof line, "id=%06u name=%s qty=%u flags=0x%04x\n",
                                     record, words[name], qty, flags);
        } else {
            /* random bytes */
            len = 8 + xorshift32() % 64;
            for (uint32_t i = 0; i < len; i++)
                line[i] = (char)(xorshift32() >> 24);
        }
        for (uint32_t i = 0; i < len && pos < n; i++)
            out[pos++] = (uint8_t)line[i];
    }
}

/* ---- bit output --------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    uint32_t len, cap;
    uint64_t acc;
    uint32_t nacc;
} BitWriter;

static void put_bits(BitWriter *w, uint32_t v, uint32_t n)
{
    w->acc |= (uint64_t)v << w->nacc;
    w->nacc += n;
    while (w->nacc >= 8) {
        if (w->len == w->cap)
            die("output buffer full");
        w->buf[w->len++] = (uint8_t)w->acc;
        w->acc >>= 8;
        w->nacc -= 8;
    }
}

static void flush_bits(BitWriter *w)
{
    if (w->nacc > 0)
        put_bits(w, 0, 8 - w->nacc);
}

/* ---- Huffman codes ------------------------------------------------------ */

/* Code lengths for the symbols with non-zero frequency, at most MAXBITS
 * long: build a Huffman tree (two-queue method over the symbols sorted by
 * frequency), and if it is too deep, flatten the frequencies and retry. */
static void build_lengths(const uint32_t *freq_in, uint32_t n, uint8_t *lens)
{
    uint32_t freq[NLIT], sym[NLIT], weight[2 * NLIT], parent[2 * NLIT], depth[2 * NLIT];
    memcpy(freq, freq_in, n * sizeof *freq);
    memset(lens, 0, n);
    for (;;) {
        uint32_t ns = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (freq[i] == 0)
                continue;
            /* insertion sort by (frequency, symbol) */
            uint32_t j = ns++;
            while (j > 0 && freq[sym[j - 1]] > freq[i]) {
                sym[j] = sym[j - 1];
                j--;
            }
            sym[j] = i;
        }
        if (ns == 0)
            return;
        if (ns == 1) {
            lens[sym[0]] = 1;
            return;
        }
        for (uint32_t i = 0; i < ns; i++)
            weight[i] = freq[sym[i]];
        uint32_t leaf = 0, node = ns;
        for (uint32_t next = ns; next < 2 * ns - 1; next++) {
            uint32_t pick[2];
            for (int k = 0; k < 2; k++) {
                if (leaf < ns && (node >= next || weight[leaf] <= weight[node]))
                    pick[k] = leaf++;
                else
                    pick[k] = node++;
            }
            weight[next] = weight[pick[0]] + weight[pick[1]];
            parent[pick[0]] = parent[pick[1]] = next;
        }
        uint32_t root = 2 * ns - 2, maxd = 0;
        depth[root] = 0;
        for (uint32_t k = root; k-- > 0;) {
            depth[k] = depth[parent[k]] + 1;
            if (depth[k] > maxd)
                maxd = depth[k];
        }
        if (maxd <= MAXBITS) {
            for (uint32_t i = 0; i < ns; i++)
                lens[sym[i]] = (uint8_t)depth[i];
            return;
        }
        for (uint32_t i = 0; i < n; i++)
            if (freq[i])
                freq[i] = (freq[i] >> 1) | 1;
    }
}

static uint32_t reverse_bits(uint32_t v, uint32_t n)
{
    uint32_t r = 0;
    for (uint32_t i = 0; i < n; i++, v >>= 1)
        r = (r << 1) | (v & 1);
    return r;
}

/* Canonical codes, bit-reversed so that they can be written LSB first. */
static void make_codes(const uint8_t *lens, uint32_t n, uint16_t *codes)
{
    uint32_t count[MAXBITS + 1] = {0}, next[MAXBITS + 1];
    for (uint32_t i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    uint32_t code = 0;
    for (uint32_t b = 1; b <= MAXBITS; b++) {
        code = (code + count[b - 1]) << 1;
        next[b] = code;
    }
    for (uint32_t i = 0; i < n; i++)
        codes[i] = lens[i] ? (uint16_t)reverse_bits(next[lens[i]]++, lens[i]) : 0;
}

/* ---- compressor --------------------------------------------------------- */

typedef struct {
    const uint8_t *in;
    uint32_t n;
    int32_t head[HSIZE];
    int32_t prev[WSIZE];
} Matcher;

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HBITS);
}

static void insert(Matcher *m, uint32_t pos)
{
    if (pos + MIN_MATCH > m->n)
        return;
    uint32_t h = hash3(m->in + pos);
    m->prev[pos & WMASK] = m->head[h];
    m->head[h] = (int32_t)pos;
}

/* The longest match for pos among earlier positions (not yet inserting pos). */
static uint32_t longest_match(const Matcher *m, uint32_t pos, uint32_t *dist)
{
    if (pos + MIN_MATCH > m->n)
        return 0;
    uint32_t maxlen = m->n - pos < MAX_MATCH ? m->n - pos : MAX_MATCH;
    const uint8_t *p = m->in + pos;
    int32_t cur = m->head[hash3(p)];
    uint32_t best = MIN_MATCH - 1, chain = MAX_CHAIN;
    while (cur >= 0 && pos - (uint32_t)cur < WSIZE && chain-- > 0) {
        const uint8_t *q = m->in + cur;
        if (q[best] == p[best] && q[0] == p[0] && q[1] == p[1]) {
            uint32_t len = 2;
            while (len < maxlen && q[len] == p[len])
                len++;
            if (len > best) {
                best = len;
                *dist = pos - (uint32_t)cur;
                if (len >= maxlen)
                    break;
            }
        }
        cur = m->prev[cur & WMASK];
    }
    if (best == MIN_MATCH && *dist > TOO_FAR)
        return 0;
    return best >= MIN_MATCH ? best : 0;
}

/* A token: a literal byte (bit 31 clear) or a match: bit 31, the length in
 * bits 16..24, distance - 1 in bits 0..14. */
#define MATCH(len, dist) (0x80000000u | (uint32_t)(len) << 16 | (uint32_t)((dist) - 1))

static void write_block(BitWriter *w, const uint32_t *tok, uint32_t ntok)
{
    uint32_t lfreq[NLIT] = {0}, dfreq[NDIST] = {0};
    uint8_t llen[NLIT], dlen[NDIST];
    uint16_t lcode[NLIT], dcode[NDIST];
    for (uint32_t i = 0; i < ntok; i++) {
        uint32_t t = tok[i];
        if (t & 0x80000000u) {
            lfreq[257 + len_code[(t >> 16) & 0x1ff]]++;
            dfreq[dist_code[(t & 0x7fff) + 1]]++;
        } else {
            lfreq[t]++;
        }
    }
    lfreq[EOB]++;
    build_lengths(lfreq, NLIT, llen);
    build_lengths(dfreq, NDIST, dlen);
    make_codes(llen, NLIT, lcode);
    make_codes(dlen, NDIST, dcode);
    for (uint32_t i = 0; i < NLIT; i++)
        put_bits(w, llen[i], 4);
    for (uint32_t i = 0; i < NDIST; i++)
        put_bits(w, dlen[i], 4);
    for (uint32_t i = 0; i < ntok; i++) {
        uint32_t t = tok[i];
        if (t & 0x80000000u) {
            uint32_t len = (t >> 16) & 0x1ff, dist = (t & 0x7fff) + 1;
            uint32_t lc = len_code[len], dc = dist_code[dist];
            put_bits(w, lcode[257 + lc], llen[257 + lc]);
            put_bits(w, len - len_base[lc], len_extra[lc]);
            put_bits(w, dcode[dc], dlen[dc]);
            put_bits(w, dist - dist_base[dc], dist_extra[dc]);
        } else {
            put_bits(w, lcode[t], llen[t]);
        }
    }
    put_bits(w, lcode[EOB], llen[EOB]);
}

typedef struct {
    uint32_t blocks, matches;
} Stats;

static uint32_t compress(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap, Stats *st)
{
    Matcher *m = xmalloc(sizeof *m);
    uint32_t *tok = xmalloc(sizeof *tok * BLOCK_TOKENS);
    BitWriter w = {out, 0, cap, 0, 0};
    m->in = in;
    m->n = n;
    for (uint32_t i = 0; i < HSIZE; i++)
        m->head[i] = -1;
    for (uint32_t i = 0; i < WSIZE; i++)
        m->prev[i] = -1;
    put_bits(&w, n & 0xffff, 16);
    put_bits(&w, n >> 16, 16);

    uint32_t pos = 0, ntok = 0, have_next = 0, next_len = 0, next_dist = 0;
    while (pos < n) {
        uint32_t len, dist = 0;
        if (have_next) {
            len = next_len;
            dist = next_dist;
            have_next = 0;
        } else {
            len = longest_match(m, pos, &dist);
        }
        insert(m, pos);
        if (len && len < GOOD_LAZY && pos + 1 < n) {
            /* lazy: a longer match one byte on wins over this one */
            next_len = longest_match(m, pos + 1, &next_dist);
            have_next = 1;
            if (next_len > len)
                len = 0;
        }
        if (len) {
            tok[ntok++] = MATCH(len, dist);
            st->matches++;
            for (uint32_t k = 1; k < len; k++)
                insert(m, pos + k);
            pos += len;
            have_next = 0;
        } else {
            tok[ntok++] = in[pos++];
        }
        if (ntok == BLOCK_TOKENS) {
            write_block(&w, tok, ntok);
            st->blocks++;
            ntok = 0;
        }
    }
    if (ntok > 0 || st->blocks == 0) {
        write_block(&w, tok, ntok);
        st->blocks++;
    }
    flush_bits(&w);
    free(tok);
    free(m);
    return w.len;
}

/* ---- decompressor ------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    uint64_t acc;
    uint32_t n;
} BitReader;

static void refill(BitReader *r)
{
    while (r->n <= 56) {
        uint64_t b = r->p < r->end ? *r->p++ : 0;
        r->acc |= b << r->n;
        r->n += 8;
    }
}

static uint32_t get_bits(BitReader *r, uint32_t n)
{
    if (r->n < n)
        refill(r);
    uint32_t v = (uint32_t)(r->acc & ((1u << n) - 1));
    r->acc >>= n;
    r->n -= n;
    return v;
}

/* A table entry: symbol << 4 | code length; 0 marks an unused code. */
static void build_table(const uint8_t *lens, uint32_t n, uint16_t *table)
{
    uint16_t codes[NLIT];
    make_codes(lens, n, codes);
    memset(table, 0, sizeof(uint16_t) << MAXBITS);
    for (uint32_t s = 0; s < n; s++) {
        uint32_t l = lens[s];
        if (l == 0)
            continue;
        for (uint32_t i = codes[s]; i < (1u << MAXBITS); i += 1u << l)
            table[i] = (uint16_t)(s << 4 | l);
    }
}

static uint32_t decode_symbol(BitReader *r, const uint16_t *table)
{
    if (r->n < MAXBITS)
        refill(r);
    uint32_t e = table[r->acc & ((1u << MAXBITS) - 1)];
    if ((e & 15) == 0)
        die("corrupt data: bad code");
    r->acc >>= e & 15;
    r->n -= e & 15;
    return e >> 4;
}

static uint32_t decompress(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap)
{
    BitReader r = {in, in + n, 0, 0};
    uint16_t *ltab = xmalloc(sizeof(uint16_t) << MAXBITS);
    uint16_t *dtab = xmalloc(sizeof(uint16_t) << MAXBITS);
    uint32_t total = get_bits(&r, 16);
    total |= get_bits(&r, 16) << 16;
    if (total > cap)
        die("corrupt data: too long");
    uint32_t pos = 0;
    while (pos < total) {
        uint8_t llen[NLIT], dlen[NDIST];
        for (uint32_t i = 0; i < NLIT; i++)
            llen[i] = (uint8_t)get_bits(&r, 4);
        for (uint32_t i = 0; i < NDIST; i++)
            dlen[i] = (uint8_t)get_bits(&r, 4);
        build_table(llen, NLIT, ltab);
        build_table(dlen, NDIST, dtab);
        for (;;) {
            uint32_t s = decode_symbol(&r, ltab);
            if (s < 256) {
                if (pos >= total)
                    die("corrupt data: overrun");
                out[pos++] = (uint8_t)s;
                continue;
            }
            if (s == EOB)
                break;
            s -= 257;
            if (s >= 29)
                die("corrupt data: bad length code");
            uint32_t len = len_base[s] + get_bits(&r, len_extra[s]);
            uint32_t dc = decode_symbol(&r, dtab);
            if (dc >= NDIST)
                die("corrupt data: bad distance code");
            uint32_t dist = dist_base[dc] + get_bits(&r, dist_extra[dc]);
            if (dist > pos || len > total - pos)
                die("corrupt data: bad match");
            uint8_t *dst = out + pos;
            const uint8_t *src = dst - dist;
            for (uint32_t i = 0; i < len; i++)
                dst[i] = src[i];
            pos += len;
        }
    }
    free(ltab);
    free(dtab);
    return pos;
}

int main(int argc, char **argv)
{
    uint32_t kib = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_KIB;
    if (kib == 0 || kib > (1u << 20)) {
        fprintf(stderr, "compress: KIB must be 1..1048576\n");
        return 2;
    }
    uint32_t n = kib * 1024u;
    init_tables();
    uint8_t *data = xmalloc(n);
    generate(data, n);
    uint32_t crc = crc32(data, n);

    /* worst case: 15-bit codes for every byte, plus the block headers */
    uint32_t cap = n * 2 + 1024 + (n / BLOCK_TOKENS + 1) * 256;
    uint8_t *packed = xmalloc(cap);
    Stats st = {0, 0};
    uint32_t plen = compress(data, n, packed, cap, &st);

    uint8_t *back = xmalloc(n);
    uint32_t blen = decompress(packed, plen, back, n);
    if (blen != n || memcmp(back, data, n) != 0)
        die("round trip failed: the data did not come back");
    printf("compress: in=%u out=%u crc=%08x packed=%08x blocks=%u matches=%u\n", n, plen,
           crc, crc32(packed, plen), st.blocks, st.matches);
    free(data);
    free(packed);
    free(back);
    return 0;
}
