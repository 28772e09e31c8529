/*
 * genlower.c - writes a random module (WebAssembly text) made of the code
 * shapes that wasmbox's lowering rewrites: loads whose use comes later,
 * stores of arithmetic on the same or another address, base+constant and
 * scaled addresses (some of them out of bounds), count-down and count-up
 * loops, i32.wrap_i64 feeding every kind of i32 reader, f64 product
 * chains, the i64 mixing steps of hashes, and loads next to traps, calls
 * and local changes. tests/fuzz/differential.sh runs each module in
 * binaryen's interpreter and in wasmbox and compares the results: random
 * modules from wasm-opt -ttf seldom contain these exact shapes.
 *
 * Every exported function takes no arguments and returns an i64 hash of
 * its locals; the export "memhash" hashes the memory. f64 values pass
 * through $tame before they reach a local or memory, so that no NaN or
 * infinity (whose bits engines may choose differently) is ever stored.
 *
 * usage: wb-genlower SEED [FUNCTIONS]
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Locals of every generated function: 0-3 i32, 4-5 i64, 6-7 f64. The
 * i32 locals 0 and 1 hold addresses: whatever is stored in them is
 * masked to (mostly) stay inside the memory. */
#define I32_LOCALS 4
#define I64_LOCALS 2
#define F64_LOCALS 2

static unsigned local_i32(void) { return pick(I32_LOCALS); }
static unsigned local_addr(void) { return pick(2); }
static unsigned local_val(void) { return 2 + pick(2); }
static unsigned local_i64(void) { return I32_LOCALS + pick(I64_LOCALS); }
static unsigned local_f64(void) { return I32_LOCALS + I64_LOCALS + pick(F64_LOCALS); }

static int32_t const_i32(void)
{
    static const int32_t edge[] = {0, 1, -1, 2, 3, 7, 8, 31, 32, 255, 4096, INT32_MIN, INT32_MAX};
    return pick(3) ? edge[pick(sizeof edge / sizeof edge[0])] : (int32_t)rnd();
}

static int64_t const_i64(void)
{
    static const int64_t edge[] = {0, 1, -1, 30, 32, 0x100000000, INT64_MIN, INT64_MAX,
                                   (int64_t)0xbf58476d1ce4e5b9ull};
    return pick(3) ? edge[pick(sizeof edge / sizeof edge[0])] : (int64_t)rnd();
}

static void gen_i32(int depth);
static void gen_i64(int depth);
static void gen_f64(int depth);

/* An address: mostly in bounds, sometimes near or past the end. */
static void gen_addr(void)
{
    switch (pick(7)) {
    case 0: out("(i32.const %u)", pick(4) ? pick(1024) * 4 : 65536 - pick(16)); break;
    case 6: /* a static table's entry */
        out("(i32.add (i32.shl (i32.and (local.get %u) (i32.const 1023)) (i32.const %u)) "
            "(i32.const %u))",
            local_i32(), pick(4), pick(4) ? 8 * pick(512) : 65536 - pick(64));
        break;
    case 1: out("(local.get %u)", local_addr()); break;
    case 2: /* base + k and base - k */
        out("(i32.%s (local.get %u) (i32.const %u))", pick(2) ? "add" : "sub", local_addr(),
            pick(64));
        break;
    case 3: /* a scaled index */
        out("(i32.add (local.get %u) (i32.shl (i32.and (local.get %u) (i32.const 255)) "
            "(i32.const %u)))",
            local_addr(), local_i32(), pick(4));
        break;
    case 4: out("(i32.add (local.get %u) (local.get %u))", local_addr(), local_addr()); break;
    default: out("(i32.and (local.get %u) (i32.const 0xfff8))", local_i32()); break;
    }
}

static void gen_load(const char *type)
{
    static const char *i32_loads[] = {"i32.load", "i32.load8_u", "i32.load8_s", "i32.load16_u",
                                      "i32.load16_s"};
    static const char *i64_loads[] = {"i64.load", "i64.load32_u", "i64.load32_s", "i64.load8_u"};
    const char *op = type[1] == '3'   ? i32_loads[pick(5)]
                     : type[0] == 'i' ? i64_loads[pick(4)]
                                      : "f64.load";
    if (pick(2)) op = type[1] == '3' ? "i32.load" : type[0] == 'i' ? "i64.load" : "f64.load";
    out("(%s offset=%u ", op, pick(3) ? 0 : pick(40));
    gen_addr();
    out(")");
}

static void gen_i32(int depth)
{
    static const char *bin[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u", "shr_s",
                                "rotl", "eq", "ne", "lt_s", "lt_u", "gt_u", "le_s", "ge_u"};
    if (depth <= 0) {
        switch (pick(4)) {
        case 0: out("(i32.const %" PRId32 ")", const_i32()); return;
        case 1: gen_load("i32"); return;
        default: out("(local.get %u)", local_i32()); return;
        }
    }
    switch (pick(10)) {
    case 0: out("(i32.wrap_i64 "); gen_i64(depth - 1); out(")"); return;
    case 1: out("(i32.eqz "); gen_i32(depth - 1); out(")"); return;
    case 2: out("(i32.div_u "); gen_i32(depth - 1); out(" (i32.or "); gen_i32(depth - 1);
        out(" (i32.const 1)))"); return;
    case 3: out("(select "); gen_i32(depth - 1); out(" "); gen_i32(depth - 1); out(" ");
        gen_i32(depth - 1); out(")"); return;
    case 4: out("(f64.lt "); gen_f64(depth - 1); out(" "); gen_f64(depth - 1); out(")"); return;
    case 5: gen_load("i32"); return;
    default:
        out("(i32.%s ", bin[pick(sizeof bin / sizeof bin[0])]);
        gen_i32(depth - 1);
        out(" ");
        gen_i32(depth - 1);
        out(")");
        return;
    }
}

static void gen_i64(int depth)
{
    static const char *bin[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u", "shr_s"};
    unsigned x;
    if (depth <= 0) {
        switch (pick(4)) {
        case 0: out("(i64.const %" PRId64 ")", const_i64()); return;
        case 1: gen_load("i64"); return;
        default: out("(local.get %u)", local_i64()); return;
        }
    }
    switch (pick(9)) {
    case 0: /* x ^ (x >> k), then * c */
        x = local_i64();
        out("(i64.mul (i64.xor (local.get %u) (i64.shr_u (local.get %u) (i64.const %u))) ", x, x,
            pick(64));
        gen_i64(depth - 1);
        out(")");
        return;
    case 1: /* the high half of a product */
        out("(i64.shr_u (i64.mul ");
        gen_i64(depth - 1);
        out(" ");
        gen_i64(depth - 1);
        out(") (i64.const %u))", pick(3) ? 32 : pick(64));
        return;
    case 2: out("(i64.extend_i32_%s ", pick(2) ? "u" : "s"); gen_i32(depth - 1); out(")"); return;
    case 3: gen_load("i64"); return;
    default:
        out("(i64.%s ", bin[pick(sizeof bin / sizeof bin[0])]);
        gen_i64(depth - 1);
        out(" ");
        gen_i64(depth - 1);
        out(")");
        return;
    }
}

static void gen_f64(int depth)
{
    if (depth <= 0) {
        switch (pick(4)) {
        case 0: out("(f64.const %d.%d)", (int)pick(200) - 100, (int)pick(100)); return;
        case 1: out("(call $tame "); gen_load("f64"); out(")"); return;
        default: out("(local.get %u)", local_f64()); return;
        }
    }
    switch (pick(7)) {
    case 0: /* (x * y) * z, either way round */
        if (pick(2)) {
            out("(f64.mul (f64.mul "); gen_f64(depth - 1); out(" "); gen_f64(depth - 1);
            out(") "); gen_f64(depth - 1); out(")");
        } else {
            out("(f64.mul "); gen_f64(depth - 1); out(" (f64.mul "); gen_f64(depth - 1);
            out(" "); gen_f64(depth - 1); out("))");
        }
        return;
    case 1: out("(f64.convert_i32_s "); gen_i32(depth - 1); out(")"); return;
    case 2: out("(f64.sqrt (f64.abs "); gen_f64(depth - 1); out("))"); return;
    default:
        out("(f64.%s ", (const char *[]){"add", "sub", "mul"}[pick(3)]);
        gen_f64(depth - 1);
        out(" ");
        gen_f64(depth - 1);
        out(")");
        return;
    }
}

static void gen_value(const char *type, int depth)
{
    if (type[0] == 'f') {
        out("(call $tame ");
        gen_f64(depth);
        out(")");
    } else if (type[1] == '3') {
        gen_i32(depth);
    } else {
        gen_i64(depth);
    }
}

/* local.set of an i32 local: an address local gets the value masked. */
static void set_i32(unsigned l, int depth)
{
    out("(local.set %u ", l);
    if (l < 2) out("(i32.and ");
    gen_i32(depth);
    if (l < 2) out(" (i32.const %s))", pick(8) ? "0x7ff8" : "0xfff8");
    out(")");
}

/* One statement. */
static void gen_stmt(int depth)
{
    static const char *types[] = {"i32", "i64", "f64"};
    const char *t = types[pick(3)];
    unsigned a, l;
    out("    ");
    switch (pick(14)) {
    case 12: /* a local held on the stack across an if that may set it */
        a = local_i32();
        out("(local.set %u (i32.add (local.get %u) (if (result i32) ", local_val(), a);
        gen_i32(1);
        out(" (then ");
        if (pick(2)) set_i32(a, 1);
        out(" (local.get %u)) (else (i32.add (local.get %u) (i32.const %u))))))", local_i32(), a,
            pick(9));
        break;
    case 13: /* ... and across a loop that steps it (at most 8 times) */
        a = local_i32();
        out("(local.set %u (i32.sub (local.get %u) (i32.mul (i32.const %u) (block (result i32) "
            "(loop (local.set %u (i32.add (local.get %u) (i32.const 1))) "
            "(drop (br_if 1 (local.get %u) (i32.eqz (i32.and (local.get %u) (i32.const 7))))) "
            "(br 0)) (i32.const -1)))))",
            local_val(), a, pick(5), a, a, a, a);
        break;
    case 0: case 1: /* local.set of a value, often a load */
        if (t[1] == '3') {
            set_i32(local_i32(), pick(2) ? 0 : depth);
            break;
        }
        l = t[0] == 'f' ? local_f64() : local_i64();
        out("(local.set %u ", l);
        gen_value(t, pick(2) ? 0 : depth);
        out(")");
        break;
    case 2: case 3: { /* read-modify-write, same address or not */
        const char *op = pick(2) ? "add" : "sub";
        unsigned off = pick(3) ? 0 : 8 * pick(4);
        a = local_addr();
        if (t[0] == 'f') /* memory may hold any bits: make it a tame f64 first */
            out("(f64.store offset=%u (local.get %u) (f64.const %d.25)) ", off, a,
                (int)pick(100) - 50);
        out("(%s.store offset=%u (local.get %u) (%s.%s ", t, off, a, t, op);
        if (pick(2)) {
            if (t[0] == 'f')
                out("(f64.load offset=%u (local.get %u)) ", off, a);
            else
                out("(%s.load offset=%u (local.get %u)) ", t, pick(4) ? off : off + 8,
                    pick(4) ? a : local_addr());
            gen_value(t, depth - 1);
        } else {
            gen_value(t, depth - 1);
            out(" (%s.load offset=%u (local.get %u))", t, off,
                pick(4) || t[0] == 'f' ? a : local_addr());
        }
        out("))");
        break;
    }
    case 4: /* a plain store */
        out("(%s.store offset=%u ", t, pick(3) ? 0 : pick(40));
        gen_addr();
        out(" ");
        gen_value(t, depth);
        out(")");
        break;
    case 5: /* a load kept on the stack while its address local changes */
        a = local_addr();
        out("(local.set %u (i32.add (i32.load (local.get %u)) (block (result i32) "
            "(local.set %u (i32.add (local.get %u) (i32.const 4))) (i32.load (local.get %u)))))",
            local_val(), a, a, a, a);
        break;
    case 6: /* a load kept on the stack across a store to the same place */
        a = local_addr();
        out("(local.set %u (i32.sub (i32.load (local.get %u)) (block (result i32) "
            "(i32.store (local.get %u) (i32.const %" PRId32 ")) (i32.load (local.get %u)))))",
            local_val(), a, a, const_i32(), a);
        break;
    case 7: /* a count-down loop closed by local.tee, or a count-up one */
        l = local_i32();
        a = local_val();
        if (a == l) a = a == 2 ? 3 : 2;
        out("(local.set %u (i32.const %u)) (loop (local.set %u (i32.add (local.get %u) ", l,
            1 + pick(5), a, a);
        gen_i32(1);
        if (pick(2))
            out(")) (br_if 0 (local.tee %u (i32.sub (local.get %u) (i32.const 1)))))", l, l);
        else
            out(")) (local.set %u (i32.add (local.get %u) (i32.const 1))) "
                "(br_if 0 (i32.ne (local.get %u) (i32.const %u))))",
                l, l, l, 6 + pick(4));
        break;
    case 8: /* a dropped load, or a load before a possible trap */
        if (pick(2)) {
            out("(drop ");
            gen_load(t);
            out(")");
        } else {
            out("(local.set %u (i32.div_s (i32.load ", local_val());
            gen_addr();
            out(") (local.get %u)))", local_i32());
        }
        break;
    case 9: /* a load across a call that stores */
        a = local_addr();
        out("(local.set %u (i32.add (i32.load (local.get %u)) (call $poke (local.get %u))))",
            local_val(), a, a);
        break;
    case 10: /* i32.wrap_i64 into a branch and a local */
        out("(if (i32.wrap_i64 ");
        gen_i64(depth - 1);
        out(") (then (local.set %u (i32.wrap_i64 ", local_val());
        gen_i64(depth - 1);
        out("))))");
        break;
    default:
        if (t[1] == '3') {
            set_i32(local_i32(), depth);
            break;
        }
        l = t[0] == 'f' ? local_f64() : local_i64();
        out("(local.set %u ", l);
        gen_value(t, depth);
        out(")");
        break;
    }
    out("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: wb-genlower SEED [FUNCTIONS]\n");
        return 2;
    }
    rng_state = strtoull(argv[1], NULL, 10);
    unsigned nfuncs = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 8;

    out("(module\n  (memory 1)\n");
    out("  (data (i32.const 0) \"");
    for (int i = 0; i < 1024; i++) out("\\%02x", (unsigned)(rnd() & 0xff));
    out("\")\n");
    /* A finite f64 of moderate size stays; anything else becomes 1.5. */
    out("  (func $tame (param f64) (result f64)\n"
        "    (select (local.get 0) (f64.const 1.5)\n"
        "      (f64.lt (f64.abs (local.get 0)) (f64.const 1e6))))\n");
    out("  (func $poke (param i32) (result i32)\n"
        "    (i32.store (local.get 0) (i32.const 12345)) (i32.const 1))\n");
    out("  (func (export \"memhash\") (result i64) (local i32 i64)\n"
        "    (loop\n"
        "      (local.set 1 (i64.add (i64.mul (local.get 1) (i64.const 1099511628211))\n"
        "                            (i64.load (local.get 0))))\n"
        "      (br_if 0 (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 8)))\n"
        "                       (i32.const 65536))))\n"
        "    (local.get 1))\n");
    for (unsigned f = 0; f < nfuncs; f++) {
        out("  (func (export \"f%u\") (result i64) (local i32 i32 i32 i32 i64 i64 f64 f64)\n", f);
        /* Start values: addresses inside the data, and a few numbers. */
        for (unsigned l = 0; l < I32_LOCALS; l++)
            if (l < 2)
                out("    (local.set %u (i32.const %u))\n", l, pick(8) ? 8 * pick(120) : 65536 - pick(8));
            else
                out("    (local.set %u (i32.const %" PRId32 "))\n", l, const_i32());
        for (unsigned l = 0; l < I64_LOCALS; l++)
            out("    (local.set %u (i64.const %" PRId64 "))\n", I32_LOCALS + l, const_i64());
        for (unsigned l = 0; l < F64_LOCALS; l++)
            out("    (local.set %u (f64.const %d.5))\n", I32_LOCALS + I64_LOCALS + l,
                (int)pick(20) - 10);
        unsigned n = 4 + pick(16);
        for (unsigned s = 0; s < n; s++) gen_stmt(1 + (int)pick(3));
        /* The hash of the locals (f64 ones by their bits: never NaN). */
        out("    (i64.add (i64.mul (i64.extend_i32_u (i32.xor (i32.xor (local.get 0) (local.get 1))\n"
            "      (i32.xor (local.get 2) (i32.mul (local.get 3) (i32.const 31)))))\n"
            "      (i64.const 1000003))\n"
            "      (i64.xor (i64.xor (local.get 4) (i64.rotl (local.get 5) (i64.const 7)))\n"
            "        (i64.xor (i64.reinterpret_f64 (local.get 6))\n"
            "          (i64.rotl (i64.reinterpret_f64 (local.get 7)) (i64.const 13))))))\n");
    }
    out("  (export \"memhash_end\" (func 2))\n)\n");
    return 0;
}
