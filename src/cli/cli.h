/*
 * cli.h - what the command-line verbs share: their handlers, error
 * printing, file reading and the text form of Wasm values.
 *
 * Every verb lives in its own file (run.c, validate.c) and has the shape
 * of main: argv[0] is the verb's name, the return value the exit status.
 */
#ifndef WASMBOX_CLI_H
#define WASMBOX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmbox.h"

/* Exit statuses shared by all verbs. A trap exits like a process killed by
 * SIGABRT (128 + 6), as wasmtime does, so scripts can tell it apart from an
 * exit code the guest chose below 128. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_TRAP 134
/* `run --timeout`: the module ran out of time (as timeout(1) exits). */
#define CLI_EXIT_TIMEOUT 124

/* The verbs (one file each). */
int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);
int cli_compile(int argc, char **argv);
int cli_cache(int argc, char **argv);
/* The OCI runtime verbs: runc's command line (src/oci/ does the work). */
int cli_create(int argc, char **argv);
int cli_oci_run(int argc, char **argv); /* `run` with runc's flags (create.c) */
int cli_start(int argc, char **argv);
int cli_state(int argc, char **argv);
int cli_kill(int argc, char **argv);
int cli_delete(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_ps(int argc, char **argv);
int cli_pause(int argc, char **argv); /* pause and resume */
int cli_update(int argc, char **argv);
int cli_exec(int argc, char **argv);
int cli_features(int argc, char **argv);
int cli_spec(int argc, char **argv);

/* True when runc-style global options (--root, --log, ...) came before
 * the verb: then `run` is the runtime's run, not the Wasm program runner. */
extern bool cli_runtime_globals;

/* For verbs taking exactly one container id (and --help): the id, or
 * NULL after printing a usage error (or the help). */
const char *cli_single_id(int argc, char **argv);

/* Limits of `run` (limits.c). Counts in decimal up to max; sizes in bytes
 * with an optional K/M/G (KiB/MiB/GiB) suffix; durations with ns, us,
 * ms, s (the default), m or h. False when the text is not one. */
bool cli_parse_count(const char *s, uint64_t max, uint64_t *out);
bool cli_parse_bytes(const char *s, uint64_t *out);
bool cli_parse_duration(const char *s, uint64_t *ns);
/* The --timeout watchdog: after ns it interrupts the store, and ends the
 * process (CLI_EXIT_TIMEOUT) 200 ms later if the guest has not
 * stopped. spec is the option's text, for the message. */
typedef struct cli_watchdog cli_watchdog;
cli_watchdog *cli_watchdog_start(wb_store *store, uint64_t ns, const char *spec);
/* Stops and frees it. NULL is allowed. */
void cli_watchdog_stop(cli_watchdog *w);

/* Prints the help of one verb (from the table in main.c) to stdout. */
void cli_verb_help(const char *verb);

/* Prints "wasmbox: <message>\n" on stderr. Every error goes through it, so
 * every error line starts with "wasmbox: ". */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "wasmbox: <file>: <engine error, formatted>" on stderr. */
void cli_error_wb(const char *file, const wb_error *err);

/* Reads a whole file into a malloc'd buffer (*data, *len); on failure
 * prints an error naming the file and the reason and returns false. Reads
 * pipes and character devices too; refuses directories. */
bool cli_read_file(const char *path, uint8_t **data, size_t *len);

/* Parses `text` as a value of `type` into *out. Integers: signed or
 * unsigned decimal, or 0x hex, with an optional sign. Floats: anything
 * strtod accepts, plus nan, -nan, inf, -inf and nan:0xPAYLOAD. References:
 * only "null". On failure writes the reason into why[why_size]. */
bool cli_parse_value(wb_valtype type, const char *text, wb_val *out,
                     char *why, size_t why_size);
/* Formats a value the way `wasmbox run --invoke` prints results:
 * integers in signed decimal; floats in the shortest decimal that reads
 * back to the same bits, inf/-inf, nan/-nan for the canonical NaN and
 * nan:0xPAYLOAD (with the sign in front) for any other; references as
 * null or ref; v128 as 0x and 32 hex digits (the 128-bit little-endian
 * integer). */
void cli_format_value(const wb_val *val, char *buf, size_t size);

#endif /* WASMBOX_CLI_H */
