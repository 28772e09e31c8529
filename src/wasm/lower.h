/*
 * lower.h - the internal instruction set (internal; see iops.def).
 */
#ifndef WM_LOWER_H
#define WM_LOWER_H

#include "runtime.h"

typedef enum wm_iop {
#define WM_IOP(name, nwords) WM_IOP_##name,
#include "iops.def"
    WM_IOP_COUNT
} wm_iop;

#endif /* WM_LOWER_H */
