/*
 * runtime.h - the runtime verbs (runc's command line), implemented in
 * container.c (create/start/run/exec) and verbs.c (state, kill, delete,
 * list, ps, pause/resume, update, features, spec). Each returns the
 * process exit status; errors are logged through oci_log_error.
 */
#ifndef WASMBOX_OCI_RUNTIME_H
#define WASMBOX_OCI_RUNTIME_H

#include "oci/oci.h"

typedef struct oci_create_opts {
    const char *id;
    const char *bundle;         /* default: the current directory */
    const char *pid_file;
    const char *console_socket;
    bool no_pivot;
    int preserve_fds;
    bool detach;                /* run: do not wait for the container */
    bool keep;                  /* run: keep the state after it exits */
} oci_create_opts;

int oci_cmd_create(const oci_create_opts *o);
int oci_cmd_start(const char *id);
int oci_cmd_run(const oci_create_opts *o);

typedef struct oci_exec_opts {
    const char *id;
    const char *process_file;   /* --process: an OCI process JSON */
    char **args;                /* else: the command line */
    int nargs;
    char **env;                 /* --env additions */
    int nenv;
    const char *cwd;
    const char *pid_file;
    const char *console_socket;
    bool tty;
    bool detach;
} oci_exec_opts;

int oci_cmd_exec(const oci_exec_opts *o);

int oci_cmd_state(const char *id);
int oci_cmd_kill(const char *id, int sig, bool all);
int oci_cmd_delete(const char *id, bool force);
int oci_cmd_list(bool json, bool quiet);
int oci_cmd_ps(const char *id, bool json, char **ps_args, int nps_args);
int oci_cmd_pause(const char *id, bool pause);
int oci_cmd_update(const char *id, const oci_resources *r);
int oci_cmd_features(void);
int oci_cmd_spec(const char *bundle);

/* When the container is not ours (a Linux one, run by runc), the verb is
 * handed over: returns true and *rc when it did (or failed to). */
bool oci_maybe_delegate(const char *id, int *rc);

#endif
