/*
 * native.h - the cache of native code: where compiled artifacts live, how
 * they are named, sealed, found and refused (src/native/).
 *
 * The cache is a folder of sealed artifacts (root: /var/lib/wasmbox/aot,
 * others: $XDG_CACHE_HOME/wasmbox/aot; $WASMBOX_CACHE_DIR overrides),
 * named by a key made of the module's sha256 and of what else makes code
 * valid for it: engine version, artifact ABI, the CPU features of this
 * machine and the compile flags. Beside it lives the host's sealing key
 * (`key`, 32 random bytes, mode 0600), created on first use: an artifact
 * is loaded only when its tag, made with that key, verifies, so a file
 * dropped into the cache by someone who cannot read the key is refused.
 * Writers write a temporary file and rename it into place: readers never
 * see half an artifact, and two writers of one key both succeed.
 */
#ifndef WB_NATIVE_H
#define WB_NATIVE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmbox.h"

/* Compile options that change the code, hence the key. */
typedef struct native_flags {
    int opt_level;   /* 0..3, default 2 */
    bool strict_fp;
} native_flags;

/* What `wasmbox run` and containers look up: -O2, no strict-fp. */
#define NATIVE_FLAGS_DEFAULT ((native_flags){2, false})

typedef struct native_cache {
    char dir[PATH_MAX];   /* the artifacts */
    int dirfd;            /* open on dir, -1 when closed */
    uint8_t key[WB_NATIVE_KEY_SIZE];
    uint64_t max_bytes;   /* size cap; the oldest go first */
    bool verbose;         /* say on stderr which native code runs
                           * ($WASMBOX_AOT_VERBOSE) */
} native_cache;

/* The cache folder this process uses (creating nothing). */
bool native_cache_path(char *out, size_t size);
/* Opens (create: and makes) the cache and reads (create: makes) the key.
 * Fills why on failure. */
bool native_cache_open(native_cache *c, bool create, char *why, size_t wsize);
void native_cache_close(native_cache *c);

/* The artifact file name for a module: "<sha256>-<16 hex>.wbaot". */
void native_cache_name(const uint8_t *wasm, size_t len, const native_flags *f, char out[96]);
/* Whether a file name in the cache folder is an artifact. */
bool native_cache_is_artifact(const char *name);

/* Finds (by its native_cache_name), verifies and attaches a module's
 * native code. Returns 1 when attached, 0 when the cache has none, -1
 * when an artifact was there but refused (why says why; the file is
 * removed so it gets rebuilt). */
int native_cache_load_name(native_cache *c, wb_module *mod, const char *name, char *why,
                           size_t wsize);

/* Compiles the module at wasm_path (whose bytes are wasm[0..len)) with
 * wasmbox-aotc, seals the artifact and renames it into the cache (or, when
 * out_path is not NULL, writes it there). Bounded: the compiler gets
 * limits on memory and CPU time. Fills why on failure. */
bool native_cache_compile(native_cache *c, const char *wasm_path, const uint8_t *wasm, size_t len,
                          const native_flags *f, const char *out_path, char *why, size_t wsize);

/* Removes the oldest artifacts until the cache holds at most max_bytes. */
void native_cache_trim(native_cache *c);

/* The compiler program (wasmbox-aotc beside this binary, $WASMBOX_AOTC,
 * or on PATH); false when there is none. */
bool native_compiler_path(char *out, size_t size);

#endif /* WB_NATIVE_H */
