/*
 * preflight: what would stop mailoutd from starting with a config that
 * parsed, found without starting it, for `mailoutctl check`: certificates
 * and keys that do not load or do not match, the service user, folders
 * whose parent is missing or that are symlinks, listening addresses that
 * are not on this host, the web pages' files, the pid file's folder.
 * Also warnings: what starts but is probably not meant (a listener that
 * relays anywhere for the whole internet). Creates nothing, binds nothing
 * for longer than a test, never changes a file.
 */
#ifndef MAILOUT_MASTER_PREFLIGHT_H
#define MAILOUT_MASTER_PREFLIGHT_H

#include "config/config.h"
#include "util/buf.h"

/* Appends one line per problem to errs and per warning to warns; returns
 * the number of problems. */
unsigned preflight(const struct config *, struct buf *errs, struct buf *warns);

#endif
