#include "db/db.h"

#include "db/pg.h"
#include "util/clock.h"
#include "util/str.h"

#define LOCK_WRITE 0x6d6f7772 /* the advisory lock of PostgreSQL's write transactions */

enum outcome
db_error(struct registry *r, int rc, const char *what, char *err, size_t errlen)
{
	str_fmt(err, errlen, "registry: %s: %s", what, db_errmsg(r));
	rc &= 0xff;
	if (rc == DB_BUSY || rc == DB_LOCKED || rc == DB_IOERR || rc == DB_FULL ||
	    rc == DB_CANTOPEN)
		return OUT_TEMPFAIL;
	return OUT_PERMFAIL;
}

int
db_exec_bound(struct registry *r, const char *sql, const char *a, int64_t b)
{
	struct dbst *st;
	int rc = db_prepare(r, sql, &st);

	if (rc != DB_OK)
		return rc;
	if (a)
		db_bind_text(st, 1, a);
	db_bind_int(st, a ? 2 : 1, b);
	rc = db_step(st);
	db_finalize(st);
	return rc;
}

enum outcome
db_begin(struct registry *r, char *err, size_t errlen)
{
	char sql[80];
	int rc;

	/* SQLite's IMMEDIATE is one writer per file; PostgreSQL's lock is one
	 * writer on all nodes, so that a check and its write stay together. */
	str_fmt(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d)", LOCK_WRITE);
	rc = db_exec(r, r->pg ? sql : "BEGIN IMMEDIATE");
	if (rc != DB_OK) {
		if (r->pg)
			db_exec(r, "ROLLBACK");
		return db_error(r, rc, "begin", err, errlen);
	}
	r->in_tx = true;
	return OUT_OK;
}

enum outcome
db_finish(struct registry *r, enum outcome o, char *err, size_t errlen)
{
	int rc;

	if (o != OUT_OK) {
		db_exec(r, "ROLLBACK");
		r->in_tx = false;
		return o;
	}
	if ((rc = db_exec(r, "COMMIT")) != DB_OK) {
		o = db_error(r, rc, "commit", err, errlen);
		db_exec(r, "ROLLBACK");
	}
	r->in_tx = false;
	return o;
}

enum outcome
db_query_int(struct registry *r, const char *sql, const char *param, int64_t *out, const char *what,
             char *err, size_t errlen)
{
	struct dbst *st;
	int rc = db_prepare(r, sql, &st);

	if (rc != DB_OK)
		return db_error(r, rc, what, err, errlen);
	if (param)
		db_bind_text(st, 1, param);
	rc = db_step(st);
	*out = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : db_error(r, rc, what, err, errlen);
}

enum outcome
db_run_each(struct registry *r, const char *sql, size_t n,
            void (*bind)(struct dbst *, const void *items, size_t i), const void *items,
            const char *what, char *err, size_t errlen)
{
	struct dbst *st;
	enum outcome o = OUT_OK;
	int rc = db_prepare(r, sql, &st);

	if (rc != DB_OK)
		return db_error(r, rc, what, err, errlen);
	for (size_t i = 0; i < n && o == OUT_OK; i++) {
		db_reset(st);
		bind(st, items, i);
		if ((rc = db_step(st)) != DB_DONE)
			o = db_error(r, rc, what, err, errlen);
	}
	db_finalize(st);
	return o;
}

int
db_add_history(struct registry *r, int64_t id, const char *actor, const char *action,
               const char *detail)
{
	struct dbst *st;
	int rc = db_prepare(r,
	                    "INSERT INTO history (device_id, at, actor, action, detail) "
	                    "VALUES (?, ?, ?, ?, ?)",
	                    &st);

	if (rc != DB_OK)
		return rc;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, (int64_t)clock_now());
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, action);
	db_bind_text(st, 5, detail ? detail : "");
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? DB_OK : rc;
}

bool
db_expiry_in_future(const char *expires, int64_t at, bool force, char *err, size_t errlen)
{
	if (at == 0 || force || at > clock_now())
		return true;
	str_fmt(err, errlen, "the expiry %s has passed; give a later date (or --force)", expires);
	return false;
}
