/*
 * pg: the registry's connection to PostgreSQL (libpq). It connects with
 * bounded waits (connect_timeout, TCP keepalives and user timeout, a
 * statement timeout), brings the schema up to date at the first connection
 * that works, LISTENs for the registry's change notices when asked to
 * (pg_listen()), and connects again
 * when the connection broke, at most once a second and never inside a
 * transaction (whose statements would then land outside it). Blocking: only
 * threads that may wait use it, never an event loop. Errors are outcomes
 * with a sentence; nothing is logged here.
 */
#ifndef MAILOUT_DB_PG_H
#define MAILOUT_DB_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PG_CHANNEL "mailout_registry" /* NOTIFY when a registration changed */

struct pgconn;

/* The schema: migrations[i] brings version base + i - 1 (0 for the first,
 * an empty database) to base + i; their count plus base - 1 is the latest. */
struct pg_schema {
	const char *const *migrations;
	size_t n;
	int base;
};

bool pg_is_url(const char *database);
/* A connection to url, tried at once; a failure is kept (pg_ready() tries
 * again), except a schema that is newer than ours (NULL, err). */
struct pgconn *pg_open(const char *url, const struct pg_schema *, char *err, size_t errlen);
void pg_close(struct pgconn *);
/* Connected (again, if it broke and in_tx is false and a second passed). */
bool pg_ready(struct pgconn *, bool in_tx);
PGconn *pg_conn(struct pgconn *);
/* The last error's sentence, one line. */
const char *pg_errmsg(const struct pgconn *);
/* Map a result (NULL: none) to a DB_ code of db.h, keeping its message. */
int pg_result_code(struct pgconn *, const PGresult *);
/* Run sql (statements without parameters); a DB_ code. */
int pg_exec(struct pgconn *, const char *sql);
/* From now on (and after each reconnection) LISTEN for change notices. Only
 * for a connection that reads them (pg_notices()): unread notices pile up
 * in the client and hold the server's notice queue. */
void pg_listen(struct pgconn *);
/* Counts change notices and reconnections (after which a notice may have
 * been missed): a new number means "read again". Reads what waits on the
 * socket without blocking. false when disconnected. */
bool pg_notices(struct pgconn *, int64_t *count);
/* How long a writer waits for the registry's write lock. */
void pg_set_lock_timeout(struct pgconn *, int ms);

#endif
