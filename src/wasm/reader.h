/*
 * reader.h - a bounds-checked cursor over module bytes with strict LEB128
 * (internal; shared by decode.c, validate.c and lower.c).
 *
 * Every read checks the bytes that remain. On failure the reader records
 * the first error (message and offset) and returns 0; later reads keep
 * failing, so a caller may check `r->failed` once after a group of reads.
 * Messages use the spec tests' wording: "unexpected end",
 * "integer representation too long", "integer too large".
 */
#ifndef WM_READER_H
#define WM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct wm_reader {
    const uint8_t *base; /* start of the whole module: offsets are from here */
    const uint8_t *p;    /* next byte */
    const uint8_t *end;  /* one past the last readable byte */
    bool failed;
    const char *error;   /* static string, set on the first failure */
    size_t error_offset;
} wm_reader;

static inline void wm_reader_init(wm_reader *r, const uint8_t *base,
                                  const uint8_t *p, const uint8_t *end) {
    r->base = base;
    r->p = p;
    r->end = end;
    r->failed = false;
    r->error = NULL;
    r->error_offset = 0;
}

static inline size_t wm_reader_offset(const wm_reader *r) {
    return (size_t)(r->p - r->base);
}

static inline size_t wm_reader_left(const wm_reader *r) {
    return r->failed ? 0 : (size_t)(r->end - r->p);
}

static inline bool wm_reader_fail(wm_reader *r, const char *msg) {
    if (!r->failed) {
        r->failed = true;
        r->error = msg;
        r->error_offset = wm_reader_offset(r);
    }
    return false;
}

static inline bool wm_read_u8(wm_reader *r, uint8_t *out) {
    if (r->failed || r->p >= r->end) {
        *out = 0;
        return wm_reader_fail(r, "unexpected end");
    }
    *out = *r->p++;
    return true;
}

static inline bool wm_read_bytes(wm_reader *r, size_t n, const uint8_t **out) {
    if (r->failed || (size_t)(r->end - r->p) < n) {
        *out = NULL;
        return wm_reader_fail(r, "unexpected end");
    }
    *out = r->p;
    r->p += n;
    return true;
}

/* Unsigned LEB128 of at most `bits` bits (32 or 64). */
static inline bool wm_read_uleb(wm_reader *r, unsigned bits, uint64_t *out) {
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned maxbytes = (bits + 6) / 7;
    *out = 0;
    for (unsigned i = 0;; i++) {
        uint8_t b;
        if (r->failed || r->p >= r->end)
            return wm_reader_fail(r, "unexpected end");
        b = *r->p++;
        if (i == maxbytes - 1) {
            /* Last permitted byte: no continuation, and the unused high
             * bits must be zero. */
            if (b & 0x80) return wm_reader_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* bits this byte may carry */
            if (used < 7 && (b >> used) != 0)
                return wm_reader_fail(r, "integer too large");
            result |= (uint64_t)(b & 0x7F) << shift;
            break;
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    *out = result;
    return true;
}

/* Signed LEB128 of at most `bits` bits (32 or 64). */
static inline bool wm_read_sleb(wm_reader *r, unsigned bits, int64_t *out) {
    uint64_t result = 0;
    unsigned shift = 0;
    unsigned maxbytes = (bits + 6) / 7;
    uint8_t b = 0;
    *out = 0;
    for (unsigned i = 0;; i++) {
        if (r->failed || r->p >= r->end)
            return wm_reader_fail(r, "unexpected end");
        b = *r->p++;
        if (i == maxbytes - 1) {
            if (b & 0x80) return wm_reader_fail(r, "integer representation too long");
            unsigned used = bits - shift; /* value bits in this byte */
            if (used < 7) {
                /* The unused bits must all equal the sign bit. */
                uint8_t rest = (uint8_t)((b & 0x7F) >> (used - 1));
                uint8_t all = (uint8_t)(0x7F >> (used - 1));
                if (rest != 0 && rest != all)
                    return wm_reader_fail(r, "integer too large");
            }
            result |= (uint64_t)(b & 0x7F) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) result |= ~(uint64_t)0 << shift;
    *out = (int64_t)result;
    return true;
}

static inline bool wm_read_u32(wm_reader *r, uint32_t *out) {
    uint64_t v;
    bool ok = wm_read_uleb(r, 32, &v);
    *out = (uint32_t)v;
    return ok;
}

static inline bool wm_read_s32(wm_reader *r, int32_t *out) {
    int64_t v;
    bool ok = wm_read_sleb(r, 32, &v);
    *out = (int32_t)v;
    return ok;
}

static inline bool wm_read_s64(wm_reader *r, int64_t *out) {
    return wm_read_sleb(r, 64, out);
}

/* Signed 33-bit LEB (block types). */
static inline bool wm_read_s33(wm_reader *r, int64_t *out) {
    return wm_read_sleb(r, 33, out);
}

static inline bool wm_read_f32_bits(wm_reader *r, uint32_t *out) {
    const uint8_t *b;
    if (!wm_read_bytes(r, 4, &b)) { *out = 0; return false; }
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static inline bool wm_read_f64_bits(wm_reader *r, uint64_t *out) {
    const uint8_t *b;
    if (!wm_read_bytes(r, 8, &b)) { *out = 0; return false; }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    *out = v;
    return true;
}

#endif /* WM_READER_H */
