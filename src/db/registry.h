/*
 * registry: the device registry's database, a SQLite file (WAL mode) for
 * one gateway or PostgreSQL (db/pg.h) shared by a fleet: opening it,
 * migrating its schema (one migration per version, in either), and the
 * versions that tell a reader something changed. What is
 * stored is in db/devices.h (registrations and their history) and
 * db/stats.h (who sends how). Prepared statements only: values are bound,
 * never quoted. Errors are returned (OUT_TEMPFAIL: busy or I/O;
 * OUT_PERMFAIL: the request is wrong) with a sentence in the caller's
 * buffer; nothing is logged here. One struct registry per thread.
 */
#ifndef MAILOUT_DB_REGISTRY_H
#define MAILOUT_DB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "util/safedir.h"

#define REGISTRY_SCHEMA_VERSION 7

struct registry;

/* As root, before privileges are dropped: make the database's folder
 * (symlinks and foreign owners refused, util/safedir.h) and give it to the
 * service user, who then creates or migrates the database itself with
 * registry_open(): SQLite in WAL mode writes -wal and -shm beside it, and
 * root never opens a file in a folder the service user can change. */
bool registry_prepare_dir(const char *path, const struct safedir_owner *, char *err, size_t errlen);
/* Whether database ("[registry] database") is a PostgreSQL URL
 * (postgresql://...), shared by several gateways, rather than a file. */
bool registry_is_shared(const char *database);
/* Open (creating and migrating as needed). busy_ms: how long to wait for
 * another writer (0 on an event loop thread: fail fast, try later). NULL
 * with err on failure. PostgreSQL that cannot be reached is no failure:
 * every statement then says "try later" (OUT_TEMPFAIL) until it is back. */
struct registry *registry_open(const char *database, int busy_ms, char *err, size_t errlen);
/* Whether the database can be reached now (SQLite: always); err if not. */
bool registry_is_up(struct registry *, char *err, size_t errlen);
void registry_close(struct registry *);
#define REGISTRY_KEY_LEN 32
/* The secret key called name (made at its first use, kept in the
 * registry: it outlives restarts), e.g. for links the web pages mail. */
enum outcome registry_key(struct registry *, const char *name, unsigned char out[REGISTRY_KEY_LEN],
                          char *err, size_t errlen);
/* This connection follows changes (PostgreSQL: LISTEN for the change
 * notices; SQLite: nothing to do): for the threads that poll
 * registry_data_version(), no one else. */
void registry_watch(struct registry *);
/* Changes whenever another connection committed (SQLite: PRAGMA
 * data_version), or, on PostgreSQL, with each change notice of the
 * registrations and each reconnection (read without waiting). */
enum outcome registry_data_version(struct registry *, int64_t *version);
/* *devices changes whenever a registration was added, removed, or changed
 * in what decides at connect (address, status, legacy TLS, expiry, note),
 * not with the usage counters; *admit only when such a change concerns an
 * approval (what can admit a device or stop admitting it). */
enum outcome registry_devices_version(struct registry *, int64_t *devices, int64_t *admit);
/* How long to wait for another writer from now on (0: fail at once). */
void registry_set_busy(struct registry *, int busy_ms);

#endif
