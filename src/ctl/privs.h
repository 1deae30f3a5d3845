/*
 * privs: what a mailoutctl command does before it touches the daemon's
 * files: become [gateway] user when run as root (so what it creates is
 * the daemon's, and it follows no path the service user controls as
 * root), and open the registry as that user, its folder made first.
 * Failures are written to stderr as sentences; the caller exits 1.
 */
#ifndef MAILOUT_CTL_PRIVS_H
#define MAILOUT_CTL_PRIVS_H

#include <stdbool.h>

#include "config/config.h"
#include "db/registry.h"

bool ctl_drop_privileges(const struct config *);
/* NULL (with a sentence) if [registry] database is unset or cannot be opened. */
struct registry *ctl_open_registry(const struct config *);

#endif
