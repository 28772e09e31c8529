/*
 * error.c - error records, trap wording and status names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "module.h"

static const char *const trap_messages[WB_TRAP_COUNT] = {
    [WB_TRAP_NONE] = "no trap",
    [WB_TRAP_UNREACHABLE] = "unreachable",
    [WB_TRAP_INT_DIV_ZERO] = "integer divide by zero",
    [WB_TRAP_INT_OVERFLOW] = "integer overflow",
    [WB_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [WB_TRAP_OOB_MEMORY] = "out of bounds memory access",
    [WB_TRAP_OOB_TABLE] = "out of bounds table access",
    [WB_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WB_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [WB_TRAP_INDIRECT_CALL_MISMATCH] = "indirect call type mismatch",
    [WB_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [WB_TRAP_OUT_OF_FUEL] = "all fuel consumed",
    [WB_TRAP_INTERRUPTED] = "interrupted",
    [WB_TRAP_HOST] = "host function failed",
};

const char *wb_trap_message(wb_trap trap) {
    if ((unsigned)trap >= WB_TRAP_COUNT) return "unknown trap";
    return trap_messages[trap];
}

const char *wb_status_name(wb_status status) {
    switch (status) {
    case WB_OK: return "ok";
    case WB_ERR_MALFORMED: return "malformed module";
    case WB_ERR_INVALID: return "invalid module";
    case WB_ERR_UNSUPPORTED: return "unsupported feature";
    case WB_ERR_LINK: return "link error";
    case WB_ERR_TRAP: return "trap";
    case WB_ERR_EXIT: return "exit";
    case WB_ERR_NOMEM: return "out of memory";
    case WB_ERR_ARG: return "bad argument";
    case WB_ERR_IO: return "i/o error";
    }
    return "unknown error";
}

const char *wb_valtype_name(wb_valtype t) {
    switch (t) {
    case WB_I32: return "i32";
    case WB_I64: return "i64";
    case WB_F32: return "f32";
    case WB_F64: return "f64";
    case WB_V128: return "v128";
    case WB_FUNCREF: return "funcref";
    case WB_EXTERNREF: return "externref";
    }
    return "?";
}

void wb_error_clear(wb_error *err) {
    if (!err) return;
    err->status = WB_OK;
    err->trap = WB_TRAP_NONE;
    err->exit_code = 0;
    err->offset = WB_NO_OFFSET;
    err->func_index = WB_NO_INDEX;
    err->func_name[0] = '\0';
    err->message[0] = '\0';
}

wb_status wm_fail(wb_error *err, wb_status status, uint64_t offset,
                  uint32_t func_index, const char *fmt, ...) {
    if (!err) return status;
    wb_error_clear(err);
    err->status = status;
    err->offset = offset;
    err->func_index = func_index;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

const char *wb_error_format(const wb_error *err, char *buf, size_t size) {
    if (!buf || size == 0) return buf;
    if (!err || err->status == WB_OK) {
        snprintf(buf, size, "ok");
        return buf;
    }
    size_t n = 0;
    int w;
#define APPEND(...)                                              \
    do {                                                         \
        w = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__); \
        if (w > 0) n += (size_t)w;                               \
    } while (0)
    if (err->status == WB_ERR_EXIT) {
        APPEND("exit with code %d", err->exit_code);
        return buf;
    }
    APPEND("%s: %s", wb_status_name(err->status), err->message);
    if (err->func_index != WB_NO_INDEX) {
        if (err->func_name[0])
            APPEND(" in function $%s (#%u)", err->func_name, err->func_index);
        else
            APPEND(" in function #%u", err->func_index);
    }
    if (err->offset != WB_NO_OFFSET)
        APPEND(" at byte offset 0x%llx", (unsigned long long)err->offset);
#undef APPEND
    return buf;
}
