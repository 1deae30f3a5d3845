/*
 * daemon: what mailoutd does to run as a daemon: use the descriptors the
 * hard limit allows (one per session), go into the background with the
 * log on syslog (or on stderr when there is no syslog socket, said once),
 * and write the pid file new (never through a link).
 */
#ifndef MAILOUT_MASTER_DAEMON_H
#define MAILOUT_MASTER_DAEMON_H

#include <stdbool.h>

void daemon_raise_fd_limit(void);
/* foreground: stay, log to stderr; else fork into the background. */
void daemon_start_logging(bool foreground);
/* path "" : none. */
void daemon_write_pid_file(const char *path);

#endif
