#include "db/stmt.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg.h"
#include "db/pgsql.h"
#include "util/str.h"
#include "util/xmalloc.h"

_Static_assert(DB_OK == SQLITE_OK && DB_ERROR == SQLITE_ERROR && DB_BUSY == SQLITE_BUSY &&
                   DB_LOCKED == SQLITE_LOCKED && DB_IOERR == SQLITE_IOERR &&
                   DB_FULL == SQLITE_FULL && DB_CANTOPEN == SQLITE_CANTOPEN &&
                   DB_CONSTRAINT == SQLITE_CONSTRAINT && DB_ROW == SQLITE_ROW &&
                   DB_DONE == SQLITE_DONE,
               "db codes are SQLite's");

#define SQL_MAX   8192
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_TEXT  25

struct dbst {
	struct registry *r;
	sqlite3_stmt *lite;
	/* PostgreSQL: the statement with $N parameters, its values as text
	 * (bytea in binary), and the result being read */
	char *sql;
	struct pgsql_params params;
	char *val[PGSQL_MAX_PARAMS];
	int len[PGSQL_MAX_PARAMS], fmt[PGSQL_MAX_PARAMS];
	unsigned type[PGSQL_MAX_PARAMS];
	PGresult *res;
	int row, rows;
	unsigned char *blob; /* the last bytea read, unescaped */
};

const char *
db_errmsg(struct registry *r)
{
	return r->pg ? pg_errmsg(r->pg) : sqlite3_errmsg(r->db);
}

int
db_exec(struct registry *r, const char *sql)
{
	if (r->pg == NULL)
		return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	if (!pg_ready(r->pg, r->in_tx))
		return DB_IOERR;
	return pg_exec(r->pg, sql);
}

int
db_prepare(struct registry *r, const char *sql, struct dbst **out)
{
	struct dbst *st = xcalloc(1, sizeof(*st));
	char buf[SQL_MAX];
	int rc;

	st->r = r;
	if (r->pg == NULL) {
		if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st->lite, NULL)) != SQLITE_OK) {
			free(st);
			return rc;
		}
		*out = st;
		return DB_OK;
	}
	if (!pgsql_translate(sql, buf, sizeof(buf), &st->params)) {
		free(st);
		return DB_ERROR; /* a statement of ours that does not fit: a bug */
	}
	if (!pg_ready(r->pg, r->in_tx)) {
		free(st);
		return DB_IOERR;
	}
	st->sql = xstrdup(buf);
	for (int i = 0; i < st->params.n; i++)
		st->type[i] = OID_TEXT;
	st->row = -1;
	*out = st;
	return DB_OK;
}

static void
set_value(struct dbst *st, int i, const void *v, size_t len, int fmt, unsigned type)
{
	if (i < 1 || i > st->params.n)
		return;
	free(st->val[i - 1]);
	st->val[i - 1] = xmalloc(len + 1);
	memcpy(st->val[i - 1], v, len);
	st->val[i - 1][len] = '\0';
	st->len[i - 1] = (int)len;
	st->fmt[i - 1] = fmt;
	st->type[i - 1] = type;
}

void
db_bind_int(struct dbst *st, int i, int64_t v)
{
	char num[24];
	int n;

	if (st->lite) {
		sqlite3_bind_int64(st->lite, i, v);
		return;
	}
	n = snprintf(num, sizeof(num), "%lld", (long long)v);
	set_value(st, i, num, (size_t)n, 0, OID_INT8);
}

void
db_bind_text(struct dbst *st, int i, const char *s)
{
	if (st->lite)
		sqlite3_bind_text(st->lite, i, s, -1, SQLITE_TRANSIENT);
	else
		set_value(st, i, s, strlen(s), 0, OID_TEXT);
}

void
db_bind_blob(struct dbst *st, int i, const void *b, size_t len)
{
	if (st->lite)
		sqlite3_bind_blob(st->lite, i, b, (int)len, SQLITE_TRANSIENT);
	else
		set_value(st, i, b, len, 1, OID_BYTEA);
}

int
db_param_index(struct dbst *st, const char *name)
{
	return st->lite ? sqlite3_bind_parameter_index(st->lite, name)
	                : pgsql_param_index(&st->params, name);
}

static int
pg_run(struct dbst *st)
{
	struct pgconn *pg = st->r->pg;
	const char *cmd;
	int rc;

	if (!pg_ready(pg, st->r->in_tx))
		return DB_IOERR;
	st->res = PQexecParams(pg_conn(pg), st->sql, st->params.n, st->type,
	                       (const char *const *)st->val, st->len, st->fmt, 0);
	if ((rc = pg_result_code(pg, st->res)) != DB_OK)
		return rc;
	cmd = PQcmdTuples(st->res);
	st->r->changes = cmd[0] ? strtoll(cmd, NULL, 10) : 0;
	st->rows = PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
	return DB_OK;
}

int
db_step(struct dbst *st)
{
	int rc;

	if (st->lite) {
		rc = sqlite3_step(st->lite);
		if (rc == SQLITE_DONE)
			st->r->changes = sqlite3_changes(st->r->db);
		return rc;
	}
	if (st->row < 0 && st->res == NULL && (rc = pg_run(st)) != DB_OK)
		return rc;
	return ++st->row < st->rows ? DB_ROW : DB_DONE;
}

void
db_reset(struct dbst *st)
{
	if (st->lite) {
		sqlite3_reset(st->lite);
		return;
	}
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->rows = 0;
}

void
db_finalize(struct dbst *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->lite);
	PQclear(st->res);
	for (int i = 0; i < PGSQL_MAX_PARAMS; i++)
		free(st->val[i]);
	PQfreemem(st->blob);
	free(st->sql);
	free(st);
}

/* The row being read has column i (PostgreSQL). */
static bool
has_cell(const struct dbst *st, int i)
{
	return st->res && st->row >= 0 && st->row < st->rows && i >= 0 && i < PQnfields(st->res);
}

int64_t
db_col_int(struct dbst *st, int i)
{
	if (st->lite)
		return sqlite3_column_int64(st->lite, i);
	return has_cell(st, i) ? strtoll(PQgetvalue(st->res, st->row, i), NULL, 10) : 0;
}

const char *
db_col_str(struct dbst *st, int i)
{
	const unsigned char *t;

	if (st->lite) {
		t = sqlite3_column_text(st->lite, i);
		return t ? (const char *)t : "";
	}
	return has_cell(st, i) ? PQgetvalue(st->res, st->row, i) : "";
}

void
db_col_text(struct dbst *st, int i, char *dst, size_t size)
{
	str_copy(dst, size, db_col_str(st, i));
}

bool
db_col_blob(struct dbst *st, int i, void *dst, size_t size)
{
	size_t n = 0;

	if (st->lite) {
		if ((size_t)sqlite3_column_bytes(st->lite, i) != size)
			return false;
		memcpy(dst, sqlite3_column_blob(st->lite, i), size);
		return true;
	}
	if (!has_cell(st, i))
		return false;
	PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, i), &n);
	if (st->blob == NULL || n != size)
		return false;
	memcpy(dst, st->blob, size);
	return true;
}

int64_t
db_changes(struct registry *r)
{
	return r->changes;
}
