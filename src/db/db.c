#include "db/db.h"

#include "util/clock.h"
#include "util/str.h"

enum outcome
db_error(struct registry *r, int rc, const char *what, char *err, size_t errlen)
{
	str_fmt(err, errlen, "registry: %s: %s", what, sqlite3_errmsg(r->db));
	rc &= 0xff;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR || rc == SQLITE_FULL ||
	    rc == SQLITE_CANTOPEN)
		return OUT_TEMPFAIL;
	return OUT_PERMFAIL;
}

int
db_exec(struct registry *r, const char *sql)
{
	return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

int
db_exec_bound(struct registry *r, const char *sql, const char *a, int64_t b)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	if (a)
		db_bind_text(st, 1, a);
	sqlite3_bind_int64(st, a ? 2 : 1, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

enum outcome
db_begin(struct registry *r, char *err, size_t errlen)
{
	int rc = db_exec(r, "BEGIN IMMEDIATE");

	return rc == SQLITE_OK ? OUT_OK : db_error(r, rc, "begin", err, errlen);
}

enum outcome
db_finish(struct registry *r, enum outcome o, char *err, size_t errlen)
{
	int rc;

	if (o != OUT_OK) {
		db_exec(r, "ROLLBACK");
		return o;
	}
	if ((rc = db_exec(r, "COMMIT")) != SQLITE_OK) {
		o = db_error(r, rc, "commit", err, errlen);
		db_exec(r, "ROLLBACK");
	}
	return o;
}

void
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
db_col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	str_copy(dst, size, t ? (const char *)t : "");
}

enum outcome
db_query_int(struct registry *r, const char *sql, const char *param, int64_t *out, const char *what,
             char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, what, err, errlen);
	if (param)
		db_bind_text(st, 1, param);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : db_error(r, rc, what, err, errlen);
}

enum outcome
db_run_each(struct registry *r, const char *sql, size_t n,
            void (*bind)(sqlite3_stmt *, const void *items, size_t i), const void *items,
            const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	enum outcome o = OUT_OK;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, what, err, errlen);
	for (size_t i = 0; i < n && o == OUT_OK; i++) {
		sqlite3_reset(st);
		bind(st, items, i);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			o = db_error(r, rc, what, err, errlen);
	}
	sqlite3_finalize(st);
	return o;
}

int
db_add_history(struct registry *r, int64_t id, const char *actor, const char *action,
               const char *detail)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db,
	                            "INSERT INTO history (device_id, at, actor, action, detail) "
	                            "VALUES (?, ?, ?, ?, ?)",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clock_now());
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, action);
	db_bind_text(st, 5, detail ? detail : "");
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool
db_expiry_in_future(const char *expires, int64_t at, bool force, char *err, size_t errlen)
{
	if (at == 0 || force || at > clock_now())
		return true;
	str_fmt(err, errlen, "the expiry %s has passed; give a later date (or --force)", expires);
	return false;
}
