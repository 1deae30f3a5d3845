/*
 * ctl: mailoutctl sub-commands. Each takes the loaded config and its own
 * arguments (argv[0] is the sub-command) and returns the exit status:
 * 0 success, 1 refused or failed (with a sentence on stderr), 2 usage.
 */
#ifndef MAILOUT_CTL_H
#define MAILOUT_CTL_H

#include <stdio.h>

#include "config/config.h"

int ctl_device(const struct config *, int argc, char **argv);
int ctl_queue(const struct config *, int argc, char **argv);
int ctl_report(const struct config *, int argc, char **argv);
/* Each command's usage, for --help (stdout) and for errors (stderr). */
void ctl_device_usage(FILE *);
void ctl_queue_usage(FILE *);
void ctl_report_usage(FILE *);
/* Become [gateway] user when run as root, so files we create are the
 * daemon's. False (with a message) on failure. */
bool ctl_drop_privileges(const struct config *);

/* web passwd USER: needs no config. */
int ctl_web(int argc, char **argv);

#endif
