/* vm.c - indirect calls: a tiny register machine whose every instruction is
 * run by a handler reached through a table of function pointers (in wasm:
 * one call_indirect per instruction). The bytecode program sums the lengths
 * of the Collatz sequences of 1..N, with a call to a bytecode subroutine
 * that mixes each length into a hash.
 *
 * usage: vm [N]    full: N = 200000 (default), small: N = 5000
 * prints: vm: n=... steps=... hash=... insns=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_N 200000u

enum {
    OP_LI,   /* r[a] = imm */
    OP_MOV,  /* r[a] = r[b] */
    OP_ADD,  /* r[a] = r[b] + r[c] */
    OP_ADDI, /* r[a] = r[b] + imm */
    OP_MULI, /* r[a] = r[b] * imm */
    OP_XOR,  /* r[a] = r[b] ^ r[c] */
    OP_ANDI, /* r[a] = r[b] & imm */
    OP_SHRI, /* r[a] = r[b] >> imm */
    OP_ROTL, /* r[a] = rotl(r[b], imm) */
    OP_BEQI, /* if r[a] == imm goto target */
    OP_BNEZ, /* if r[a] != 0 goto target */
    OP_BLT,  /* if r[a] < r[b] goto target */
    OP_JMP,  /* goto target */
    OP_CALL, /* push return address, goto target */
    OP_RET,  /* pop return address */
    OP_HALT,
    NOPS
};

typedef struct {
    uint8_t op, a, b, c;
    int32_t target;
    uint64_t imm;
} Insn;

typedef struct {
    uint64_t r[16];
    int32_t stack[64];
    int32_t sp;
    uint64_t insns;
} VM;

typedef int32_t (*Handler)(VM *vm, const Insn *in, int32_t pc);

static int32_t op_li(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = in->imm; return pc + 1; }
static int32_t op_mov(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b]; return pc + 1; }
static int32_t op_add(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] + vm->r[in->c]; return pc + 1; }
static int32_t op_addi(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] + in->imm; return pc + 1; }
static int32_t op_muli(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] * in->imm; return pc + 1; }
static int32_t op_xor(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] ^ vm->r[in->c]; return pc + 1; }
static int32_t op_andi(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] & in->imm; return pc + 1; }
static int32_t op_shri(VM *vm, const Insn *in, int32_t pc) { vm->r[in->a] = vm->r[in->b] >> (in->imm & 63); return pc + 1; }

static int32_t op_rotl(VM *vm, const Insn *in, int32_t pc)
{
    uint64_t v = vm->r[in->b];
    unsigned s = (unsigned)(in->imm & 63);
    vm->r[in->a] = s ? (v << s) | (v >> (64 - s)) : v;
    return pc + 1;
}

static int32_t op_beqi(VM *vm, const Insn *in, int32_t pc) { return vm->r[in->a] == in->imm ? in->target : pc + 1; }
static int32_t op_bnez(VM *vm, const Insn *in, int32_t pc) { return vm->r[in->a] != 0 ? in->target : pc + 1; }
static int32_t op_blt(VM *vm, const Insn *in, int32_t pc) { return vm->r[in->a] < vm->r[in->b] ? in->target : pc + 1; }
static int32_t op_jmp(VM *vm, const Insn *in, int32_t pc) { (void)vm; (void)pc; return in->target; }

static int32_t op_call(VM *vm, const Insn *in, int32_t pc)
{
    if (vm->sp == 64)
        return -2;
    vm->stack[vm->sp++] = pc + 1;
    return in->target;
}

static int32_t op_ret(VM *vm, const Insn *in, int32_t pc)
{
    (void)in;
    (void)pc;
    return vm->sp ? vm->stack[--vm->sp] : -2;
}

static int32_t op_halt(VM *vm, const Insn *in, int32_t pc) { (void)vm; (void)in; (void)pc; return -1; }

static const Handler handlers[NOPS] = {
    op_li, op_mov, op_add, op_addi, op_muli, op_xor, op_andi, op_shri,
    op_rotl, op_beqi, op_bnez, op_blt, op_jmp, op_call, op_ret, op_halt,
};

static Insn prog[64];
static int32_t nprog;

static int32_t emit(uint8_t op, uint8_t a, uint8_t b, uint8_t c, int32_t target, uint64_t imm)
{
    Insn in = {op, a, b, c, target, imm};
    prog[nprog] = in;
    return nprog++;
}

/* Registers: r0 i, r1 limit, r2 total steps, r3 x, r4 steps of x,
 * r5 scratch, r6 hash, r7 the constant 1. */
static void assemble(uint64_t n)
{
    enum { I = 0, LIMIT = 1, TOTAL = 2, X = 3, STEPS = 4, T = 5, HASH = 6 };
    nprog = 0;
    emit(OP_LI, I, 0, 0, 0, 1);
    emit(OP_LI, LIMIT, 0, 0, 0, n + 1);
    emit(OP_LI, TOTAL, 0, 0, 0, 0);
    emit(OP_LI, HASH, 0, 0, 0, 0x243f6a8885a308d3ull);
    int32_t outer = emit(OP_MOV, X, I, 0, 0, 0);
    emit(OP_LI, STEPS, 0, 0, 0, 0);
    int32_t inner = emit(OP_BEQI, X, 0, 0, -1 /* patched: done */, 1);
    emit(OP_ANDI, T, X, 0, 0, 1);
    int32_t odd_test = emit(OP_BNEZ, T, 0, 0, -1 /* patched: odd */, 0);
    emit(OP_SHRI, X, X, 0, 0, 1);
    int32_t to_cont = emit(OP_JMP, 0, 0, 0, -1 /* patched: cont */, 0);
    int32_t odd = emit(OP_MULI, X, X, 0, 0, 3);
    emit(OP_ADDI, X, X, 0, 0, 1);
    int32_t cont = emit(OP_ADDI, STEPS, STEPS, 0, 0, 1);
    emit(OP_JMP, 0, 0, 0, inner, 0);
    int32_t done = emit(OP_ADD, TOTAL, TOTAL, STEPS, 0, 0);
    int32_t call = emit(OP_CALL, 0, 0, 0, -1 /* patched: mix */, 0);
    emit(OP_ADDI, I, I, 0, 0, 1);
    emit(OP_BLT, I, LIMIT, 0, outer, 0);
    emit(OP_HALT, 0, 0, 0, 0, 0);
    /* mix: hash = rotl(hash ^ steps, 23) * K */
    int32_t mix = emit(OP_XOR, HASH, HASH, STEPS, 0, 0);
    emit(OP_ROTL, HASH, HASH, 0, 0, 23);
    emit(OP_MULI, HASH, HASH, 0, 0, 0x9e3779b97f4a7c15ull);
    emit(OP_RET, 0, 0, 0, 0, 0);
    prog[inner].target = done;
    prog[odd_test].target = odd;
    prog[to_cont].target = cont;
    prog[call].target = mix;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : DEFAULT_N;
    static VM vm;
    assemble(n);
    int32_t pc = 0;
    uint64_t count = 0;
    while (pc >= 0) {
        const Insn *in = &prog[pc];
        pc = handlers[in->op](&vm, in, pc);
        count++;
    }
    if (pc != -1) {
        fprintf(stderr, "vm: bad return (stack under/overflow)\n");
        return 1;
    }
    printf("vm: n=%llu steps=%llu hash=%016llx insns=%llu\n", (unsigned long long)n,
           (unsigned long long)vm.r[2], (unsigned long long)vm.r[6],
           (unsigned long long)count);
    return 0;
}
