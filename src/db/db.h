/*
 * db: what the files of db/ share and nobody else sees: the open
 * connection and its statements (db/stmt.h), errors as outcomes with a
 * sentence, transactions, binding and reading values, and running one
 * statement for many items. Every function works in the caller's
 * transaction unless it names its own.
 */
#ifndef MAILOUT_DB_DB_H
#define MAILOUT_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/stmt.h"
#include "outcome.h"

/* DB_BUSY/LOCKED/IOERR/FULL/CANTOPEN are "try later" (OUT_TEMPFAIL),
 * the rest a definite no; err: "registry: WHAT: the database's message". */
enum outcome db_error(struct registry *, int rc, const char *what, char *err, size_t errlen);
/* Run sql with text parameter a (when set) and integer b; DB_DONE or an error. */
int db_exec_bound(struct registry *, const char *sql, const char *a, int64_t b);
/* The write transaction (one writer at a time, on every node); db_finish()
 * commits on OUT_OK, else rolls back, and returns the outcome (a failed
 * commit as its own). */
enum outcome db_begin(struct registry *, char *err, size_t errlen);
enum outcome db_finish(struct registry *, enum outcome, char *err, size_t errlen);

/* One int64 of a one-row query (bound to param when not NULL). */
enum outcome db_query_int(struct registry *, const char *sql, const char *param, int64_t *out,
                          const char *what, char *err, size_t errlen);

/* Run sql once for each of n items (bind fills the statement from item i). */
enum outcome db_run_each(struct registry *, const char *sql, size_t n,
                         void (*bind)(struct dbst *, const void *items, size_t i),
                         const void *items, const char *what, char *err, size_t errlen);

/* A line of a registration's history (who, when, what). DB_OK or an error. */
int db_add_history(struct registry *, int64_t id, const char *actor, const char *action,
                   const char *detail);
/* An expiry that has passed is refused unless forced: the registration
 * would be expired from its first second. at: its first invalid second. */
bool db_expiry_in_future(const char *expires, int64_t at, bool force, char *err, size_t errlen);

#endif
