/*
 * commands: the command groups of mailoutctl, one file each, called by
 * ctl/main.c (which parses -c and loads the config). Each takes the loaded
 * config and its own arguments (argv[0] is the group's name) and returns
 * the exit status: 0 success, 1 refused or failed (with a sentence on
 * stderr), 2 usage. What they share lives below them: ctl/out.h (output),
 * ctl/privs.h (becoming the service user).
 */
#ifndef MAILOUT_CTL_COMMANDS_H
#define MAILOUT_CTL_COMMANDS_H

#include <stdio.h>

#include "config/config.h"

int ctl_device(const struct config *, int argc, char **argv);
int ctl_queue(const struct config *, int argc, char **argv);
int ctl_report(const struct config *, int argc, char **argv);
/* notify [--dry-run] (ctl/notify.c): the reminders and the digest. */
int ctl_notify(const struct config *, int argc, char **argv);
/* report auth (ctl/report_auth.c), called by ctl_report. */
int ctl_report_auth(const struct config *, int argc, char **argv);
/* report transition (ctl/report_transition.c), called by ctl_report. */
int ctl_report_transition(const struct config *, int argc, char **argv);
/* registry copy --from DATABASE (ctl/regcopy.c). */
int ctl_registry(const struct config *, int argc, char **argv);
/* Each command's usage, for --help (stdout) and for errors (stderr). */
void ctl_device_usage(FILE *);
void ctl_queue_usage(FILE *);
void ctl_report_usage(FILE *);
void ctl_notify_usage(FILE *);
void ctl_registry_usage(FILE *);
/* web passwd USER, auth passwd USER: need no config. */
int ctl_web(int argc, char **argv);
int ctl_auth(int argc, char **argv);

#endif
