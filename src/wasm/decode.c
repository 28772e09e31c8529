/*
 * decode.c - the binary format decoder: module bytes -> wm_module.
 *
 * Decodes every section of a WebAssembly 2.0 binary (no SIMD) except the
 * instructions of function bodies, which validate.c decodes. Constant
 * expressions are decoded here.
 *
 * Error wording and offsets follow the spec tests, which were written
 * against the reference interpreter. That interpreter reads each section
 * from the whole file, not from a window the size of the section, and only
 * afterwards compares the bytes it used with the declared size. Several
 * expected messages depend on that ("length out of bounds" when a length
 * runs past the file, a later section's bytes read as part of an earlier
 * one), so this decoder does the same: the reader spans the whole file and
 * each section's size is checked once it has been decoded.
 *
 * Nothing is allocated from a count before the count has been checked
 * against the bytes left in its section: every element of every vector
 * takes at least one byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "reader.h"

#define MSG_EOS "unexpected end of section or function"

typedef struct dec {
    wm_module *m;
    wm_reader r;              /* over the whole file */
    const uint8_t *sec_start; /* payload of the section being decoded */
    const uint8_t *sec_end;

    /* First error; reported by wm_decode. */
    bool failed;
    wb_status status;
    uint64_t err_off;
    char msg[128];

    /* A validation error found in a constant expression. The spec decodes
     * the whole module before validating it, so this is reported only if
     * no decoding error follows. */
    bool deferred;
    uint64_t def_off;
    const char *def_msg;

    bool space_done[4];  /* index space of each WM_KIND_* allocated */
    uint32_t nfunc_decls; /* function section count */
    uint32_t ncodes;      /* code section count */
    uint32_t codes_alloc; /* entries of m->codes allocated */
    size_t customs_cap;
    const uint8_t *names, *names_end; /* first "name" section payload */
} dec;

/* ---------------------------------------------------------------- errors */

static bool fail(dec *d, wb_status status, uint64_t offset, const char *msg) {
    if (!d->failed) {
        d->failed = true;
        d->status = status;
        d->err_off = offset;
        snprintf(d->msg, sizeof d->msg, "%s", msg);
    }
    return false;
}

static bool malformed(dec *d, uint64_t offset, const char *msg) {
    return fail(d, WB_ERR_MALFORMED, offset, msg);
}

static bool unsupported_v128(dec *d, uint64_t offset) {
    return fail(d, WB_ERR_UNSUPPORTED, offset, "SIMD not supported yet (v128)");
}

static void defer_invalid(dec *d, uint64_t offset, const char *msg) {
    if (!d->deferred) {
        d->deferred = true;
        d->def_off = offset;
        d->def_msg = msg;
    }
}

/* Turns a failed read into the decoder's error. Running out of bytes inside
 * a section gets the reference interpreter's longer wording. */
static bool reader_failed(dec *d) {
    const char *msg = d->r.error ? d->r.error : "unexpected end";
    if (strcmp(msg, "unexpected end") == 0) msg = MSG_EOS;
    return malformed(d, d->r.error_offset, msg);
}

/* --------------------------------------------------------------- reading */

static size_t here(const dec *d) { return wm_reader_offset(&d->r); }

static bool u8(dec *d, uint8_t *out) {
    return wm_read_u8(&d->r, out) || reader_failed(d);
}

static bool u32(dec *d, uint32_t *out) {
    return wm_read_u32(&d->r, out) || reader_failed(d);
}

/* A length or count. Like the reference interpreter, one larger than the
 * bytes left in the file, counted from the length's own first byte, is
 * "length out of bounds". */
static bool read_len(dec *d, uint32_t *n) {
    size_t start = here(d);
    size_t left = d->m->len - start;
    if (!u32(d, n)) return false;
    if (*n > left) return malformed(d, start, "length out of bounds");
    return true;
}

/* A byte length: the bytes must also be there. */
static bool read_size(dec *d, uint32_t *n) {
    if (!read_len(d, n)) return false;
    if (*n > wm_reader_left(&d->r)) return malformed(d, d->m->len, MSG_EOS);
    return true;
}

/* A vector count. Every element takes at least one byte, so at most `cap`
 * (the bytes left before `limit`) elements can fit; callers allocate `cap`
 * and call vec_overrun if element `cap` is due. */
static bool read_count(dec *d, const uint8_t *limit, uint32_t *n, uint32_t *cap) {
    if (!read_len(d, n)) return false;
    size_t left = limit > d->r.p ? (size_t)(limit - d->r.p) : 0;
    *cap = *n < left ? *n : (uint32_t)left;
    return true;
}

/* `cap` elements of at least a byte each have used up the section (or code
 * entry) and more are due: the reference interpreter would read on and fail
 * at the end of the file or on the section's size. */
static bool vec_overrun(dec *d) {
    if (d->r.p >= d->r.end) return malformed(d, here(d), MSG_EOS);
    return malformed(d, (size_t)(d->sec_start - d->r.base), "section size mismatch");
}

static void *xcalloc(dec *d, size_t n, size_t size) {
    if (n == 0) return NULL;
    void *p = calloc(n, size);
    if (!p) fail(d, WB_ERR_NOMEM, WB_NO_OFFSET, "out of memory");
    return p;
}

/* Allocates ptr[n], zeroed; false (with the error set) on failure. */
#define NEW_ARRAY(d, ptr, n) \
    (((ptr) = xcalloc((d), (n), sizeof *(ptr))) != NULL || (n) == 0)

/* ----------------------------------------------------------------- names */

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF,
 * no truncated sequences. */
static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false; /* continuation byte, C0/C1, F5..FF */
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
        if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
        i += len;
    }
    return true;
}

static bool read_name(dec *d, wm_name *out) {
    size_t at = here(d);
    uint32_t n;
    const uint8_t *p;
    if (!read_size(d, &n)) return false;
    if (!wm_read_bytes(&d->r, n, &p)) return reader_failed(d);
    if (!utf8_valid(p, n)) return malformed(d, at, "malformed UTF-8 encoding");
    out->ptr = (const char *)p;
    out->len = n;
    return true;
}

/* ----------------------------------------------------------------- types */

/* A byte with the LEB128 continuation bit, where the reference interpreter
 * reads a one-byte signed LEB (value and reference types, the function type
 * form), is an over-long integer for it. */
static bool overlong_byte(dec *d, size_t at) {
    return malformed(d, at + 1, "integer representation too long");
}

static bool read_valtype(dec *d, uint8_t *t) {
    size_t at = here(d);
    uint8_t b;
    if (!u8(d, &b)) return false;
    switch (b) {
    case WM_I32: case WM_I64: case WM_F32: case WM_F64:
    case WM_FUNCREF: case WM_EXTERNREF:
        *t = b;
        return true;
    case WM_V128:
        return unsupported_v128(d, at);
    }
    if (b & 0x80) return overlong_byte(d, at);
    return malformed(d, at, b < 0x70 ? "malformed reference type" : "malformed value type");
}

static bool read_reftype(dec *d, uint8_t *t) {
    size_t at = here(d);
    uint8_t b;
    if (!u8(d, &b)) return false;
    if (b == WM_FUNCREF || b == WM_EXTERNREF) {
        *t = b;
        return true;
    }
    if (b & 0x80) return overlong_byte(d, at);
    return malformed(d, at, "malformed reference type");
}

/* Limits: the flag is a one-bit LEB for the reference interpreter, so 2..127
 * are "integer too large" and 0x80/0x81 are over-long. Sizes are u32; their
 * bounds are the validator's. */
static bool read_limits(dec *d, wm_limits *l) {
    size_t at = here(d);
    uint8_t flag;
    uint32_t v;
    if (!u8(d, &flag)) return false;
    if ((flag & 0x7F) > 1) return malformed(d, at, "integer too large");
    if (flag & 0x80) return overlong_byte(d, at);
    if (!u32(d, &v)) return false;
    l->min = v;
    l->has_max = flag == 1;
    l->max = 0;
    if (l->has_max) {
        if (!u32(d, &v)) return false;
        l->max = v;
    }
    return true;
}

static bool read_tabletype(dec *d, wm_tabletype *t) {
    return read_reftype(d, &t->elem) && read_limits(d, &t->lim);
}

static bool read_globaltype(dec *d, wm_globaltype *g) {
    uint8_t mut;
    if (!read_valtype(d, &g->type)) return false;
    size_t at = here(d);
    if (!u8(d, &mut)) return false;
    if (mut > 1) return malformed(d, at, "malformed mutability");
    g->mut = mut == 1;
    return true;
}

/* ---------------------------------------------------- constant expressions */

static bool zero_byte(dec *d) {
    size_t at = here(d);
    uint8_t b;
    if (!u8(d, &b)) return false;
    return b == 0 || malformed(d, at, "zero byte expected");
}

static bool read_blocktype(dec *d) {
    if (d->r.p >= d->r.end) return malformed(d, d->m->len, MSG_EOS);
    uint8_t b = *d->r.p;
    if (b == WM_BLOCK_EMPTY) {
        d->r.p++;
        return true;
    }
    if ((b & 0xC0) == 0x40) {
        uint8_t t;
        return read_valtype(d, &t);
    }
    int64_t x; /* a type index; its range is the validator's */
    return wm_read_s33(&d->r, &x) || reader_failed(d);
}

/* Skips the immediates of an instruction that may not appear in a constant
 * expression, so that the expression's end can be found and a malformed one
 * reported as such. `depth` counts the open blocks. */
static bool skip_instr(dec *d, uint8_t op, size_t at, unsigned *depth) {
    uint32_t x, n;
    char buf[40];
    switch (op) {
#define WM_SIMPLE(name, code, in1, in2, out) case code:
#include "opcodes.def"
    case 0x00: case 0x01: case 0x0F: case 0x1A: case 0x1B: case 0xD1:
        return true;
    case 0x02: case 0x03: case 0x04:
        (*depth)++;
        return read_blocktype(d);
    case 0x05:
        /* The reference interpreter stops the expression at `else` and
         * then wants its `end`. */
        if (*depth == 0) return malformed(d, at, "END opcode expected");
        return true;
    case 0x0C: case 0x0D: case 0x10:
    case 0x20: case 0x21: case 0x22: case 0x24: case 0x25: case 0x26:
        return u32(d, &x);
    case 0x0E:
        if (!read_len(d, &n)) return false;
        for (uint64_t i = 0; i <= n; i++) /* the targets, then the default */
            if (!u32(d, &x)) return false;
        return true;
    case 0x11:
        return u32(d, &x) && u32(d, &x);
    case 0x1C: {
        uint8_t t;
        if (!read_len(d, &n)) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!read_valtype(d, &t)) return false;
        return true;
    }
#define WM_MEMOP(name, code, type, size, store) case code:
#include "opcodes.def"
        return u32(d, &x) && u32(d, &x); /* align, offset */
    case 0x3F: case 0x40:
        return zero_byte(d);
    case 0xFC:
        if (!u32(d, &n)) return false;
        switch (n) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            return true;
        case 8: return u32(d, &x) && zero_byte(d);
        case 10: return zero_byte(d) && zero_byte(d);
        case 11: return zero_byte(d);
        case 12: case 14: return u32(d, &x) && u32(d, &x);
        case 9: case 13: case 15: case 16: case 17: return u32(d, &x);
        }
        snprintf(buf, sizeof buf, "illegal opcode fc %02x", (unsigned)n);
        return malformed(d, at, buf);
    case 0xFD:
        return unsupported_v128(d, at);
    }
    snprintf(buf, sizeof buf, "illegal opcode %02x", op);
    return malformed(d, at, buf);
}

/* A constant expression: exactly one constant instruction, then `end`.
 * Anything else that decodes is a validation error, deferred: a
 * non-constant instruction is "constant expression required", a wrong
 * number of constant instructions "type mismatch", as in the spec tests. */
static bool read_constexpr(dec *d, wm_constexpr *ce) {
    memset(ce, 0, sizeof *ce);
    ce->offset = (uint32_t)here(d);
    unsigned depth = 0, ninstr = 0;
    bool nonconst = false;
    for (;;) {
        size_t at = here(d);
        uint8_t op;
        wm_constexpr cur = {0};
        int32_t v32;
        int64_t v64;
        uint32_t bits;
        if (!u8(d, &op)) return false;
        if (op == 0x0B) {
            if (depth == 0) break;
            depth--;
            continue;
        }
        cur.op = op;
        switch (op) {
        case 0x41:
            if (!wm_read_s32(&d->r, &v32)) return reader_failed(d);
            cur.value = (uint64_t)(int64_t)v32;
            break;
        case 0x42:
            if (!wm_read_s64(&d->r, &v64)) return reader_failed(d);
            cur.value = (uint64_t)v64;
            break;
        case 0x43:
            if (!wm_read_f32_bits(&d->r, &bits)) return reader_failed(d);
            cur.value = bits;
            break;
        case 0x44:
            if (!wm_read_f64_bits(&d->r, &cur.value)) return reader_failed(d);
            break;
        case 0x23: case 0xD2:
            if (!u32(d, &cur.index)) return false;
            break;
        case 0xD0:
            if (!read_reftype(d, &cur.reftype)) return false;
            break;
        default:
            if (!nonconst) defer_invalid(d, at, "constant expression required");
            nonconst = true;
            if (!skip_instr(d, op, at, &depth)) return false;
            continue;
        }
        if (depth == 0 && ++ninstr == 1) {
            cur.offset = ce->offset;
            *ce = cur;
        }
    }
    if (!nonconst && ninstr != 1) defer_invalid(d, ce->offset, "type mismatch");
    return true;
}

/* ---------------------------------------------------------- index spaces */

/* Allocates the index space of `kind`: the imported entries (filled in
 * here), then `ndef` defined ones. Called by the kind's section, or at the
 * end when the module has no such section. */
static bool make_space(dec *d, uint8_t kind, uint32_t ndef) {
    wm_module *m = d->m;
    uint32_t nimp = 0, j = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == kind) nimp++;
    uint64_t total = (uint64_t)nimp + ndef;
    if (total > UINT32_MAX) return malformed(d, here(d), "too many definitions");
    d->space_done[kind] = true;
    switch (kind) {
    case WM_KIND_FUNC:
        if (!NEW_ARRAY(d, m->func_types, total)) return false;
        m->nimported_funcs = nimp;
        m->nfuncs = (uint32_t)total;
        for (uint32_t i = 0; i < m->nimports; i++)
            if (m->imports[i].kind == kind) m->func_types[j++] = m->imports[i].desc.functype;
        break;
    case WM_KIND_TABLE:
        if (!NEW_ARRAY(d, m->tables, total)) return false;
        m->nimported_tables = nimp;
        m->ntables = (uint32_t)total;
        for (uint32_t i = 0; i < m->nimports; i++)
            if (m->imports[i].kind == kind) m->tables[j++] = m->imports[i].desc.table;
        break;
    case WM_KIND_MEMORY:
        if (!NEW_ARRAY(d, m->mems, total)) return false;
        m->nimported_mems = nimp;
        m->nmems = (uint32_t)total;
        for (uint32_t i = 0; i < m->nimports; i++)
            if (m->imports[i].kind == kind) m->mems[j++] = m->imports[i].desc.mem;
        break;
    case WM_KIND_GLOBAL:
        if (!NEW_ARRAY(d, m->globals, total)) return false;
        if (!NEW_ARRAY(d, m->global_inits, ndef)) return false;
        m->nimported_globals = nimp;
        m->nglobals = (uint32_t)total;
        for (uint32_t i = 0; i < m->nimports; i++)
            if (m->imports[i].kind == kind) m->globals[j++] = m->imports[i].desc.global;
        break;
    }
    return true;
}

/* -------------------------------------------------------------- sections */

static bool sec_type(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->types, cap)) return false;
    m->ntypes = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_functype *ft = &m->types[i];
        size_t at = here(d);
        uint8_t form, t;
        uint32_t np, nr, c;
        if (!u8(d, &form)) return false;
        if (form & 0x80) return overlong_byte(d, at);
        if (form != 0x60) return malformed(d, at, "malformed function type");
        /* Each value type is one byte, so the types are read in place and
         * copied once both counts are known. */
        size_t pcount_at = here(d);
        if (!read_count(d, d->sec_end, &np, &c)) return false;
        if (np > WM_MAX_FUNC_PARAMS) return malformed(d, pcount_at, "too many parameters");
        const uint8_t *pbytes = d->r.p;
        for (uint32_t k = 0; k < np; k++)
            if (!read_valtype(d, &t)) return false;
        size_t rcount_at = here(d);
        if (!read_count(d, d->sec_end, &nr, &c)) return false;
        if (nr > WM_MAX_FUNC_RESULTS) return malformed(d, rcount_at, "too many results");
        const uint8_t *rbytes = d->r.p;
        for (uint32_t k = 0; k < nr; k++)
            if (!read_valtype(d, &t)) return false;
        if (!NEW_ARRAY(d, ft->params, (size_t)np + nr)) return false;
        if (np) memcpy(ft->params, pbytes, np);
        if (nr) memcpy(ft->params + np, rbytes, nr);
        ft->nparams = np;
        ft->nresults = nr;
        ft->results = ft->params ? ft->params + np : NULL;
    }
    return true;
}

static bool sec_import(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->imports, cap)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_import *im = &m->imports[i];
        if (!read_name(d, &im->module) || !read_name(d, &im->name)) return false;
        size_t at = here(d);
        if (!u8(d, &im->kind)) return false;
        bool ok;
        switch (im->kind) {
        case WM_KIND_FUNC: ok = u32(d, &im->desc.functype); break;
        case WM_KIND_TABLE: ok = read_tabletype(d, &im->desc.table); break;
        case WM_KIND_MEMORY: ok = read_limits(d, &im->desc.mem); break;
        case WM_KIND_GLOBAL: ok = read_globaltype(d, &im->desc.global); break;
        default: return malformed(d, at, "malformed import kind");
        }
        if (!ok) return false;
        m->nimports = i + 1; /* only complete imports fill index spaces */
    }
    return true;
}

static bool sec_func(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!make_space(d, WM_KIND_FUNC, cap)) return false;
    d->nfunc_decls = n;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!u32(d, &m->func_types[m->nimported_funcs + i])) return false;
    }
    return true;
}

static bool sec_table(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!make_space(d, WM_KIND_TABLE, cap)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!read_tabletype(d, &m->tables[m->nimported_tables + i])) return false;
    }
    return true;
}

static bool sec_memory(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!make_space(d, WM_KIND_MEMORY, cap)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!read_limits(d, &m->mems[m->nimported_mems + i])) return false;
    }
    return true;
}

static bool sec_global(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!make_space(d, WM_KIND_GLOBAL, cap)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!read_globaltype(d, &m->globals[m->nimported_globals + i])) return false;
        if (!read_constexpr(d, &m->global_inits[i])) return false;
    }
    return true;
}

static bool sec_export(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->exports, cap)) return false;
    m->nexports = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_export *ex = &m->exports[i];
        if (!read_name(d, &ex->name)) return false;
        size_t at = here(d);
        if (!u8(d, &ex->kind)) return false;
        if (ex->kind > WM_KIND_GLOBAL) return malformed(d, at, "malformed export kind");
        if (!u32(d, &ex->index)) return false;
    }
    return true;
}

static bool sec_start(dec *d) {
    d->m->has_start = true;
    return u32(d, &d->m->start);
}

/* Element items given as function indices (encodings 0..3). */
static bool elem_funcs(dec *d, wm_elem *e) {
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, e->items, cap)) return false;
    e->count = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_constexpr *ce = &e->items[i];
        ce->op = 0xD2;
        ce->offset = (uint32_t)here(d);
        if (!u32(d, &ce->index)) return false;
    }
    return true;
}

/* Element items given as expressions (encodings 4..7). */
static bool elem_exprs(dec *d, wm_elem *e) {
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, e->items, cap)) return false;
    e->count = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!read_constexpr(d, &e->items[i])) return false;
    }
    return true;
}

static bool elem_kind(dec *d, wm_elem *e) {
    size_t at = here(d);
    uint8_t b;
    if (!u8(d, &b)) return false;
    if (b != 0x00) return malformed(d, at, "malformed element kind");
    e->reftype = WM_FUNCREF;
    return true;
}

static bool sec_elem(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->elems, cap)) return false;
    m->nelems = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_elem *e = &m->elems[i];
        size_t at = here(d);
        uint32_t flags;
        if (!u32(d, &flags)) return false;
        if (flags > 7) return malformed(d, at, "malformed elements segment kind");
        /* Bit 0: passive or declarative; bit 1: explicit table index (when
         * active) or declarative (when not); bit 2: items are expressions
         * and an explicit type is a reference type, not an element kind. */
        bool active = !(flags & 1);
        bool explicit_type = (flags & 3) != 0;
        e->mode = active ? WM_SEG_ACTIVE : (flags & 2) ? WM_SEG_DECLARATIVE : WM_SEG_PASSIVE;
        e->reftype = WM_FUNCREF;
        if (active) {
            if ((flags & 2) && !u32(d, &e->table)) return false;
            if (!read_constexpr(d, &e->offset)) return false;
        }
        if (flags & 4) {
            if (explicit_type && !read_reftype(d, &e->reftype)) return false;
            if (!elem_exprs(d, e)) return false;
        } else {
            if (explicit_type && !elem_kind(d, e)) return false;
            if (!elem_funcs(d, e)) return false;
        }
    }
    return true;
}

static bool sec_datacount(dec *d) {
    d->m->has_datacount = true;
    return u32(d, &d->m->datacount);
}

/* Why a body does not end with `end`. The reference interpreter decodes
 * instructions past the body's size, so its message depends on what follows:
 * the end of the file, an 0x0B taken for the missing `end` (the body then
 * overruns its size), or any other byte where `end` was wanted. */
static bool missing_end(dec *d, const uint8_t *entry_end, size_t size_at) {
    if (entry_end >= d->r.end) return malformed(d, d->m->len, MSG_EOS);
    if (*entry_end == 0x0B) return malformed(d, size_at, "section size mismatch");
    return malformed(d, (size_t)(entry_end - d->r.base), "END opcode expected");
}

static bool code_entry(dec *d, uint32_t index, wm_code *c) {
    wm_module *m = d->m;
    size_t size_at = here(d);
    uint32_t size, n, cap;
    if (!read_size(d, &size)) return false;
    const uint8_t *entry_end = d->r.p + size;
    /* Parameters count towards the locals limit when the type is known;
     * an unknown type is the validator's to report. */
    uint64_t limit = WM_MAX_LOCALS;
    if (index < d->nfunc_decls) {
        uint32_t ti = m->func_types[m->nimported_funcs + index];
        if (ti < m->ntypes) {
            uint32_t np = m->types[ti].nparams;
            limit = np < limit ? limit - np : 0;
        }
    }
    /* The local declarations must lie within the entry. */
    const uint8_t *file_end = d->r.end;
    d->r.end = entry_end;
    size_t locals_at = here(d);
    bool ok = read_count(d, entry_end, &n, &cap) &&
              ((c->runs = xcalloc(d, cap, sizeof *c->runs)) != NULL || cap == 0);
    uint64_t total = 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        uint32_t count;
        uint8_t t;
        if (i >= cap) {
            ok = vec_overrun(d);
            break;
        }
        ok = u32(d, &count) && read_valtype(d, &t);
        if (!ok) break;
        total += count;
        if (total > limit) {
            ok = malformed(d, locals_at, "too many locals");
            break;
        }
        if (count) c->runs[c->nruns++] = (wm_localrun){count, t};
    }
    d->r.end = file_end;
    if (!ok) return false;
    c->nlocals = (uint32_t)total;
    c->body = d->r.p;
    c->end = entry_end;
    c->body_offset = (uint32_t)here(d);
    c->size_offset = (uint32_t)size_at;
    if (c->body == entry_end || entry_end[-1] != 0x0B)
        return missing_end(d, entry_end, size_at);
    d->r.p = entry_end;
    return true;
}

static bool sec_code(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->codes, cap)) return false;
    d->codes_alloc = cap;
    d->ncodes = n;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        if (!code_entry(d, i, &m->codes[i])) return false;
    }
    return true;
}

static bool sec_data(dec *d) {
    wm_module *m = d->m;
    uint32_t n, cap;
    if (!read_count(d, d->sec_end, &n, &cap)) return false;
    if (!NEW_ARRAY(d, m->datas, cap)) return false;
    m->ndatas = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i >= cap) return vec_overrun(d);
        wm_data *s = &m->datas[i];
        size_t at = here(d);
        uint32_t flags;
        if (!u32(d, &flags)) return false;
        if (flags > 2) return malformed(d, at, "malformed data segment kind");
        s->mode = flags == 1 ? WM_SEG_PASSIVE : WM_SEG_ACTIVE;
        if (flags == 2 && !u32(d, &s->mem)) return false;
        if (flags != 1 && !read_constexpr(d, &s->offset)) return false;
        if (!read_size(d, &s->len)) return false;
        if (!wm_read_bytes(&d->r, s->len, &s->bytes)) return reader_failed(d);
    }
    return true;
}

static bool sec_custom(dec *d) {
    wm_module *m = d->m;
    wm_custom c;
    if (!read_name(d, &c.name)) return false;
    /* The name ran past the section: the reference interpreter then fails
     * skipping a negative number of bytes. */
    if (d->r.p > d->sec_end) return malformed(d, m->len, MSG_EOS);
    c.data = d->r.p;
    c.len = (uint32_t)(d->sec_end - d->r.p);
    d->r.p = d->sec_end;
    if (m->ncustoms == d->customs_cap) {
        size_t ncap = d->customs_cap ? d->customs_cap * 2 : 4;
        wm_custom *p = realloc(m->customs, ncap * sizeof *p);
        if (!p) return fail(d, WB_ERR_NOMEM, WB_NO_OFFSET, "out of memory");
        m->customs = p;
        d->customs_cap = ncap;
    }
    m->customs[m->ncustoms++] = c;
    if (!d->names && c.name.len == 4 && memcmp(c.name.ptr, "name", 4) == 0) {
        d->names = c.data;
        d->names_end = d->sec_end;
    }
    return true;
}

/* ------------------------------------------------------------ name section */

/* Function names (subsection 1) of the first "name" section. Like any
 * custom section it cannot make the module malformed: if it is malformed,
 * it is ignored. */
static void decode_names(dec *d) {
    wm_module *m = d->m;
    wm_reader r;
    bool bad = false;
    wm_reader_init(&r, m->bytes, d->names, d->names_end);
    while (!bad && r.p < r.end) {
        uint8_t id;
        uint32_t size, count;
        const uint8_t *sub;
        if (!wm_read_u8(&r, &id) || !wm_read_u32(&r, &size) ||
            !wm_read_bytes(&r, size, &sub)) {
            bad = true;
            break;
        }
        if (id != 1 || m->func_names) continue;
        wm_reader s;
        wm_reader_init(&s, m->bytes, sub, sub + size);
        if (!wm_read_u32(&s, &count) || count > wm_reader_left(&s)) {
            bad = true;
            break;
        }
        if (m->nfuncs && !(m->func_names = calloc(m->nfuncs, sizeof *m->func_names)))
            return;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t index, len;
            const uint8_t *p;
            if (!wm_read_u32(&s, &index) || !wm_read_u32(&s, &len) ||
                !wm_read_bytes(&s, len, &p) || !utf8_valid(p, len)) {
                bad = true;
                break;
            }
            if (index < m->nfuncs && !m->func_names[index].ptr)
                m->func_names[index] = (wm_name){(const char *)p, len};
        }
        if (s.p != s.end) bad = true;
        if (!m->func_names) return; /* no functions to name */
    }
    if (bad) {
        free(m->func_names);
        m->func_names = NULL;
    }
}

/* -------------------------------------------------------------- the module */

static void declare(wm_module *m, const wm_constexpr *ce) {
    if (ce->op == 0xD2 && ce->index < m->nfuncs) m->func_declared[ce->index] = 1;
}

/* C.refs of the spec: the functions that ref.func in a body may name. */
static bool compute_declared(dec *d) {
    wm_module *m = d->m;
    if (!NEW_ARRAY(d, m->func_declared, m->nfuncs)) return false;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WM_KIND_FUNC && m->exports[i].index < m->nfuncs)
            m->func_declared[m->exports[i].index] = 1;
    for (uint32_t i = 0; i < m->nglobals - m->nimported_globals; i++)
        declare(m, &m->global_inits[i]);
    for (uint32_t i = 0; i < m->nelems; i++) {
        declare(m, &m->elems[i].offset);
        for (uint32_t k = 0; k < m->elems[i].count; k++) declare(m, &m->elems[i].items[k]);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) declare(m, &m->datas[i].offset);
    return true;
}

/* Position of each section id in the required order (custom sections may
 * go anywhere); data count comes between element and code. */
static const uint8_t section_rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

static bool decode_module(dec *d) {
    wm_module *m = d->m;
    const uint8_t *b = m->bytes;
    size_t len = m->len;
    if (len < 4) return malformed(d, len, "unexpected end");
    if (memcmp(b, "\0asm", 4) != 0) return malformed(d, 0, "magic header not detected");
    if (len < 8) return malformed(d, len, "unexpected end");
    if (b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0)
        return malformed(d, 4, "unknown binary version");
    wm_reader_init(&d->r, b, b + 8, b + len);

    unsigned last = 0;
    while (d->r.p < d->r.end) {
        size_t id_at = here(d);
        uint8_t id;
        uint32_t size;
        if (!u8(d, &id)) return false;
        if (id > 12) return malformed(d, id_at, "malformed section id");
        if (id != 0) {
            /* Out of order or repeated: the reference interpreter has
             * stopped before it, and the bytes left are junk. */
            if (section_rank[id] <= last)
                return malformed(d, id_at, "unexpected content after last section");
            last = section_rank[id];
        }
        if (!read_size(d, &size)) return false;
        d->sec_start = d->r.p;
        d->sec_end = d->r.p + size;
        bool ok = false;
        switch (id) {
        case 0: ok = sec_custom(d); break;
        case 1: ok = sec_type(d); break;
        case 2: ok = sec_import(d); break;
        case 3: ok = sec_func(d); break;
        case 4: ok = sec_table(d); break;
        case 5: ok = sec_memory(d); break;
        case 6: ok = sec_global(d); break;
        case 7: ok = sec_export(d); break;
        case 8: ok = sec_start(d); break;
        case 9: ok = sec_elem(d); break;
        case 10: ok = sec_code(d); break;
        case 11: ok = sec_data(d); break;
        case 12: ok = sec_datacount(d); break;
        }
        if (!ok) return false;
        if (d->r.p != d->sec_end)
            return malformed(d, (size_t)(d->sec_start - b), "section size mismatch");
    }

    for (uint8_t k = 0; k < 4; k++)
        if (!d->space_done[k] && !make_space(d, k, 0)) return false;
    if (d->nfunc_decls != d->ncodes)
        return malformed(d, len, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        return malformed(d, len, "data count and data section have inconsistent lengths");
    if (!compute_declared(d)) return false;
    if (d->names) decode_names(d);
    return true;
}

static void free_contents(wm_module *m, uint32_t ncodes) {
    for (uint32_t i = 0; i < m->ntypes; i++) free(m->types[i].params);
    free(m->types);
    free(m->imports);
    free(m->func_types);
    if (m->codes)
        for (uint32_t i = 0; i < ncodes; i++) free(m->codes[i].runs);
    free(m->codes);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    free(m->global_inits);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++) free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->customs);
    free(m->func_names);
    free(m->func_declared);
    free(m->bytes);
    free(m);
}

void wm_module_free(wm_module *m) {
    if (!m) return;
    wm_lower_free(m);
    free_contents(m, m->nfuncs - m->nimported_funcs);
}

wb_status wm_decode(uint8_t *bytes, size_t len, wm_module **out, wb_error *err) {
    if (out) *out = NULL;
    wm_module *m = calloc(1, sizeof *m);
    if (!m) {
        free(bytes);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory");
    }
    m->bytes = bytes;
    m->len = bytes ? len : 0;
    dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    if (decode_module(&d) && d.deferred)
        fail(&d, WB_ERR_INVALID, d.def_off, d.def_msg);
    if (d.failed || !out) {
        /* Nothing has been lowered yet, so lower.c has nothing to free. */
        free_contents(m, d.codes_alloc);
        if (!d.failed) return WB_OK;
        return wm_fail(err, d.status, d.err_off, WB_NO_INDEX, "%s", d.msg);
    }
    *out = m;
    return WB_OK;
}
