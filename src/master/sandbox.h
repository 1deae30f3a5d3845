/*
 * sandbox: a seccomp allow-list for each kind of child, entered after the
 * child dropped its privileges and set no_new_privs. One base list of the
 * system calls every child makes (memory, threads, time, signals, files in
 * the spool and the registry, logging to syslog) and a few for each job:
 * accept for the SMTP workers and the web process, outbound connections,
 * DNS and interface lookup for the queue runner. Anything else ends the
 * process with SIGSYS after one log line naming the call, so a missing
 * entry is found at once (the master restarts the child). Under the
 * sanitizers the few calls their runtime needs are allowed too.
 */
#ifndef MAILOUT_MASTER_SANDBOX_H
#define MAILOUT_MASTER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_kind { SANDBOX_SMTP, SANDBOX_QUEUE, SANDBOX_WEB };

/* Install the filter for kind (on every thread of the process). False with
 * err when the kernel or libseccomp refused it. */
bool sandbox_enter(enum sandbox_kind, char *err, size_t errlen);

#endif
