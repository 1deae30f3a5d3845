/*
 * master: reads the config, prepares the spool, builds the TLS contexts,
 * binds every listener, then forks the SMTP workers and the queue runner,
 * which drop privileges before they read a client byte. It restarts a
 * crashed child, reloads on SIGHUP (config and certificates; a bad new
 * config is logged and the old one stays), and stops cleanly on SIGTERM.
 * The master itself never touches a client connection.
 */
#ifndef MAILOUT_MASTER_MASTER_H
#define MAILOUT_MASTER_MASTER_H

#include <stdbool.h>

/* Returns the process exit code. */
int master_run(const char *config_path, bool foreground);

#endif
