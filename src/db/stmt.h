/*
 * stmt: the registry's connection, SQLite or PostgreSQL (db/pg.h), and
 * statements that run the same on both: one dialect with SQLite's
 * parameters (db/pgsql.h), values bound and read through one set of calls,
 * results as the codes of db/dbcode.h. Used by db/ only.
 */
#ifndef MAILOUT_DB_STMT_H
#define MAILOUT_DB_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/dbcode.h"

struct sqlite3;
struct pgconn;

struct registry {
	struct sqlite3 *db; /* SQLite, or */
	struct pgconn *pg;  /* PostgreSQL (db/pg.h) */
	char *select;       /* "SELECT <every device column> FROM devices" (devrows.h) */
	int64_t changes;    /* rows the last statement changed */
	bool in_tx;
};

/* A statement of either database. */
struct dbst;

const char *db_errmsg(struct registry *);
/* Statements without parameters (several, separated by ';'). */
int db_exec(struct registry *, const char *sql);
int db_prepare(struct registry *, const char *sql, struct dbst **);
void db_bind_int(struct dbst *, int i, int64_t);
void db_bind_text(struct dbst *, int i, const char *);
void db_bind_blob(struct dbst *, int i, const void *, size_t);
void db_bind_null(struct dbst *, int i);
/* The number of the parameter called name (":now"), 0 if the SQL has none. */
int db_param_index(struct dbst *, const char *name);
/* DB_ROW, DB_DONE or an error. */
int db_step(struct dbst *);
/* Run again with new bindings. */
void db_reset(struct dbst *);
void db_finalize(struct dbst *);
int64_t db_col_int(struct dbst *, int i);
/* Column i as text ("" for NULL), valid until the next step. */
const char *db_col_str(struct dbst *, int i);
/* Column i as text into dst, cut to size. */
void db_col_text(struct dbst *, int i, char *dst, size_t size);
/* Column i's bytes into dst when they are exactly size; false otherwise. */
bool db_col_blob(struct dbst *, int i, void *dst, size_t size);
/* Column i's bytes into dst (*len of them) when they fit in cap; false
 * when they do not or the column is NULL. */
bool db_col_bytes(struct dbst *, int i, void *dst, size_t cap, size_t *len);
/* Rows the last statement inserted, changed or deleted. */
int64_t db_changes(struct registry *);

#endif
