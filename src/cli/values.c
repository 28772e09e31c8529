/*
 * values.c - Wasm values as command-line text, in both directions.
 *
 * Floats are printed in the shortest decimal form that reads back to the
 * very same bits, so `--invoke` output can be fed back in losslessly and
 * compared against expected text (a function returning 0.1f prints 0.1,
 * not 0.100000001). NaNs keep their sign and payload: the canonical NaN
 * (only the quiet bit set) prints as nan or -nan, any other as
 * nan:0xPAYLOAD, the WebAssembly text format's notation, which the parser
 * reads back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

#define CLI_F32_MANTISSA UINT32_C(0x007fffff)
#define CLI_F32_QUIET UINT32_C(0x00400000)
#define CLI_F32_EXP UINT32_C(0x7f800000)
#define CLI_F64_MANTISSA UINT64_C(0x000fffffffffffff)
#define CLI_F64_QUIET UINT64_C(0x0008000000000000)
#define CLI_F64_EXP UINT64_C(0x7ff0000000000000)

static void cli_why(char *why, size_t size, const char *msg) {
    if (why && size) snprintf(why, size, "%s", msg);
}

/* --------------------------------------------------------- integers */

/* True when s is a non-empty run of digits of base 10 or 16. */
static bool cli_all_digits(const char *s, int base) {
    if (*s == '\0') return false;
    for (; *s; s++) {
        bool ok = (*s >= '0' && *s <= '9') ||
                  (base == 16 && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')));
        if (!ok) return false;
    }
    return true;
}

/* Parses an integer of `bits` bits (32 or 64) into its two's complement
 * bit pattern. Accepted: [+-]DIGITS and [+-]0xHEX, with a value anywhere in
 * [-2^(bits-1), 2^bits - 1], so both the signed and the unsigned reading of
 * a bit pattern are allowed. */
static bool cli_parse_int(const char *text, unsigned bits, uint64_t *out,
                          char *why, size_t why_size) {
    const char *p = text;
    bool negative = false;
    if (*p == '-' || *p == '+') negative = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    /* strtoull would also skip spaces, take a second sign or a second 0x;
     * refuse all of that by checking every character first. */
    if (!cli_all_digits(p, base)) {
        cli_why(why, why_size, "not an integer");
        return false;
    }
    errno = 0;
    unsigned long long magnitude = strtoull(p, NULL, base);
    uint64_t max_unsigned = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t max_negative = UINT64_C(1) << (bits - 1);
    if (errno == ERANGE || (negative ? magnitude > max_negative : magnitude > max_unsigned)) {
        cli_why(why, why_size, bits == 64 ? "out of range for i64" : "out of range for i32");
        return false;
    }
    uint64_t value = (uint64_t)magnitude;
    if (negative) value = ~value + 1; /* two's complement, no signed overflow */
    *out = value & max_unsigned;
    return true;
}

/* ----------------------------------------------------------- floats */

/* Splits off a sign and recognises nan, nan:0xPAYLOAD. Returns true when
 * text is a NaN; *payload is then the mantissa (0 = canonical). */
static bool cli_is_nan_text(const char *text, bool *negative, uint64_t *payload,
                            bool *ok) {
    const char *p = text;
    *negative = false;
    if (*p == '-' || *p == '+') *negative = *p++ == '-';
    if (strncasecmp(p, "nan", 3) != 0) return false;
    p += 3;
    *ok = true;
    *payload = 0;
    if (*p == '\0') return true;
    /* nan:0xHEX */
    if (p[0] != ':' || p[1] != '0' || (p[2] != 'x' && p[2] != 'X') ||
        !cli_all_digits(p + 3, 16)) {
        *ok = false;
        return true;
    }
    errno = 0;
    unsigned long long v = strtoull(p + 3, NULL, 16);
    if (errno == ERANGE || v == 0) *ok = false;
    *payload = v;
    return true;
}

/* Rejects what strtod takes but a number should not start with (spaces,
 * a second sign); what follows a sign must begin a number or inf. */
static bool cli_float_start_ok(const char *text) {
    const char *p = text;
    if (*p == '-' || *p == '+') p++;
    return (*p >= '0' && *p <= '9') || *p == '.' || *p == 'i' || *p == 'I';
}

static bool cli_parse_f32(const char *text, float *out, char *why, size_t why_size) {
    bool negative, ok;
    uint64_t payload;
    if (cli_is_nan_text(text, &negative, &payload, &ok)) {
        if (!ok || payload > CLI_F32_MANTISSA) {
            cli_why(why, why_size, "bad NaN payload for f32");
            return false;
        }
        uint32_t bits = CLI_F32_EXP | (payload ? (uint32_t)payload : CLI_F32_QUIET);
        if (negative) bits |= UINT32_C(0x80000000);
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    char *end;
    if (!cli_float_start_ok(text)) {
        cli_why(why, why_size, "not a number");
        return false;
    }
    /* strtof rounds once, directly to float; going through double could
     * round twice. ERANGE (overflow to inf, underflow to a subnormal or
     * zero) is the correctly rounded IEEE result, so it is accepted. */
    float f = strtof(text, &end);
    if (*end != '\0') {
        cli_why(why, why_size, "not a number");
        return false;
    }
    *out = f;
    return true;
}

static bool cli_parse_f64(const char *text, double *out, char *why, size_t why_size) {
    bool negative, ok;
    uint64_t payload;
    if (cli_is_nan_text(text, &negative, &payload, &ok)) {
        if (!ok || payload > CLI_F64_MANTISSA) {
            cli_why(why, why_size, "bad NaN payload for f64");
            return false;
        }
        uint64_t bits = CLI_F64_EXP | (payload ? payload : CLI_F64_QUIET);
        if (negative) bits |= UINT64_C(0x8000000000000000);
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    char *end;
    if (!cli_float_start_ok(text)) {
        cli_why(why, why_size, "not a number");
        return false;
    }
    double d = strtod(text, &end);
    if (*end != '\0') {
        cli_why(why, why_size, "not a number");
        return false;
    }
    *out = d;
    return true;
}

bool cli_parse_value(wb_valtype type, const char *text, wb_val *out,
                     char *why, size_t why_size) {
    uint64_t bits;
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case WB_I32:
        if (!cli_parse_int(text, 32, &bits, why, why_size)) return false;
        out->of.i32 = (int32_t)(uint32_t)bits; /* implementation-defined, but
                                                  two's complement everywhere
                                                  we build */
        return true;
    case WB_I64:
        if (!cli_parse_int(text, 64, &bits, why, why_size)) return false;
        out->of.i64 = (int64_t)bits;
        return true;
    case WB_F32:
        return cli_parse_f32(text, &out->of.f32, why, why_size);
    case WB_F64:
        return cli_parse_f64(text, &out->of.f64, why, why_size);
    case WB_FUNCREF:
    case WB_EXTERNREF:
        if (strcmp(text, "null") == 0) return true; /* NULL is ref.null */
        cli_why(why, why_size, "only null can be passed as a reference");
        return false;
    case WB_V128:
        break;
    }
    cli_why(why, why_size, "values of this type cannot be passed on the command line");
    return false;
}

/* --------------------------------------------------------- printing */

static void cli_format_f32(float f, char *buf, size_t size) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    const char *sign = bits >> 31 ? "-" : "";
    uint32_t mantissa = bits & CLI_F32_MANTISSA;
    if ((bits & CLI_F32_EXP) == CLI_F32_EXP) {
        if (mantissa == 0)
            snprintf(buf, size, "%sinf", sign);
        else if (mantissa == CLI_F32_QUIET)
            snprintf(buf, size, "%snan", sign);
        else
            snprintf(buf, size, "%snan:0x%" PRIx32, sign, mantissa);
        return;
    }
    /* 9 significant digits always round-trip a float; stop at the first
     * precision that does. */
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)f);
        float back = strtof(buf, NULL);
        uint32_t back_bits;
        memcpy(&back_bits, &back, sizeof back_bits);
        if (back_bits == bits) return;
    }
}

static void cli_format_f64(double d, char *buf, size_t size) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    const char *sign = bits >> 63 ? "-" : "";
    uint64_t mantissa = bits & CLI_F64_MANTISSA;
    if ((bits & CLI_F64_EXP) == CLI_F64_EXP) {
        if (mantissa == 0)
            snprintf(buf, size, "%sinf", sign);
        else if (mantissa == CLI_F64_QUIET)
            snprintf(buf, size, "%snan", sign);
        else
            snprintf(buf, size, "%snan:0x%" PRIx64, sign, mantissa);
        return;
    }
    /* 17 significant digits always round-trip a double. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        uint64_t back_bits;
        memcpy(&back_bits, &back, sizeof back_bits);
        if (back_bits == bits) return;
    }
}

void cli_format_value(const wb_val *val, char *buf, size_t size) {
    if (!buf || size == 0) return;
    switch (val->type) {
    case WB_I32:
        snprintf(buf, size, "%" PRId32, val->of.i32);
        return;
    case WB_I64:
        snprintf(buf, size, "%" PRId64, val->of.i64);
        return;
    case WB_F32:
        cli_format_f32(val->of.f32, buf, size);
        return;
    case WB_F64:
        cli_format_f64(val->of.f64, buf, size);
        return;
    case WB_FUNCREF:
        snprintf(buf, size, "%s", val->of.func ? "ref" : "null");
        return;
    case WB_EXTERNREF:
        snprintf(buf, size, "%s", val->of.ref ? "ref" : "null");
        return;
    case WB_V128: {
        /* Most significant byte first, as a 128-bit little-endian number. */
        char hex[35];
        size_t n = 0;
        hex[n++] = '0';
        hex[n++] = 'x';
        for (int i = 15; i >= 0; i--) {
            static const char digits[] = "0123456789abcdef";
            hex[n++] = digits[val->of.v128[i] >> 4];
            hex[n++] = digits[val->of.v128[i] & 15];
        }
        hex[n] = '\0';
        snprintf(buf, size, "%s", hex);
        return;
    }
    }
    snprintf(buf, size, "?");
}
