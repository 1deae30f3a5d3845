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

/* PostgreSQL's side of a statement: the SQL with $N parameters, the values
 * as text (bytea in binary), and the result being read. */
struct pgst {
	char *sql;
	struct pgsql_params params;
	char *val[PGSQL_MAX_PARAMS];
	int len[PGSQL_MAX_PARAMS], fmt[PGSQL_MAX_PARAMS];
	unsigned type[PGSQL_MAX_PARAMS];
	PGresult *res;
	int row, rows;
	unsigned char *blob; /* the last bytea read, unescaped */
};

struct dbst {
	struct registry *r;
	sqlite3_stmt *lite; /* SQLite, or */
	struct pgst *pg;    /* PostgreSQL */
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
	struct pgst *p = st->pg = xcalloc(1, sizeof(*p));
	if (!pgsql_translate(sql, buf, sizeof(buf), &p->params)) {
		db_finalize(st);
		return DB_ERROR; /* a statement of ours that does not fit: a bug */
	}
	if (!pg_ready(r->pg, r->in_tx)) {
		db_finalize(st);
		return DB_IOERR;
	}
	p->sql = xstrdup(buf);
	for (int i = 0; i < p->params.n; i++)
		p->type[i] = OID_TEXT;
	p->row = -1;
	*out = st;
	return DB_OK;
}

static void
set_value(struct pgst *p, int i, const void *v, size_t len, int fmt, unsigned type)
{
	if (i < 1 || i > p->params.n)
		return;
	free(p->val[i - 1]);
	p->val[i - 1] = xmalloc(len + 1);
	memcpy(p->val[i - 1], v, len);
	p->val[i - 1][len] = '\0';
	p->len[i - 1] = (int)len;
	p->fmt[i - 1] = fmt;
	p->type[i - 1] = type;
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
	set_value(st->pg, i, num, (size_t)n, 0, OID_INT8);
}

void
db_bind_text(struct dbst *st, int i, const char *s)
{
	if (st->lite)
		sqlite3_bind_text(st->lite, i, s, -1, SQLITE_TRANSIENT);
	else
		set_value(st->pg, i, s, strlen(s), 0, OID_TEXT);
}

void
db_bind_blob(struct dbst *st, int i, const void *b, size_t len)
{
	if (st->lite)
		sqlite3_bind_blob(st->lite, i, b, (int)len, SQLITE_TRANSIENT);
	else
		set_value(st->pg, i, b, len, 1, OID_BYTEA);
}

void
db_bind_null(struct dbst *st, int i)
{
	struct pgst *p = st->pg;

	if (st->lite) {
		sqlite3_bind_null(st->lite, i);
		return;
	}
	if (i < 1 || i > p->params.n)
		return;
	free(p->val[i - 1]);
	p->val[i - 1] = NULL; /* NULL to PQexecParams */
	p->len[i - 1] = 0;
	p->fmt[i - 1] = 0;
}

int
db_param_index(struct dbst *st, const char *name)
{
	return st->lite ? sqlite3_bind_parameter_index(st->lite, name)
	                : pgsql_param_index(&st->pg->params, name);
}

static int
pg_run(struct dbst *st)
{
	struct pgconn *pg = st->r->pg;
	struct pgst *p = st->pg;
	const char *cmd;
	int rc;

	if (!pg_ready(pg, st->r->in_tx))
		return DB_IOERR;
	p->res = PQexecParams(pg_conn(pg), p->sql, p->params.n, p->type,
	                      (const char *const *)p->val, p->len, p->fmt, 0);
	if ((rc = pg_result_code(pg, p->res)) != DB_OK)
		return rc;
	cmd = PQcmdTuples(p->res);
	st->r->changes = cmd[0] ? strtoll(cmd, NULL, 10) : 0;
	p->rows = PQresultStatus(p->res) == PGRES_TUPLES_OK ? PQntuples(p->res) : 0;
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
	if (st->pg->row < 0 && st->pg->res == NULL && (rc = pg_run(st)) != DB_OK)
		return rc;
	return ++st->pg->row < st->pg->rows ? DB_ROW : DB_DONE;
}

void
db_reset(struct dbst *st)
{
	if (st->lite) {
		sqlite3_reset(st->lite);
		return;
	}
	PQclear(st->pg->res);
	st->pg->res = NULL;
	st->pg->row = -1;
	st->pg->rows = 0;
}

void
db_finalize(struct dbst *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->lite);
	if (st->pg) {
		PQclear(st->pg->res);
		for (int i = 0; i < PGSQL_MAX_PARAMS; i++)
			free(st->pg->val[i]);
		PQfreemem(st->pg->blob);
		free(st->pg->sql);
		free(st->pg);
	}
	free(st);
}

/* The cell of column i in the row being read (PostgreSQL), or NULL. */
static const char *
cell(const struct dbst *st, int i)
{
	const struct pgst *p = st->pg;

	if (p->res == NULL || p->row < 0 || p->row >= p->rows || i < 0 || i >= PQnfields(p->res))
		return NULL;
	return PQgetvalue(p->res, p->row, i);
}

int64_t
db_col_int(struct dbst *st, int i)
{
	const char *v;

	if (st->lite)
		return sqlite3_column_int64(st->lite, i);
	return (v = cell(st, i)) ? strtoll(v, NULL, 10) : 0;
}

const char *
db_col_str(struct dbst *st, int i)
{
	const unsigned char *t;
	const char *v;

	if (st->lite) {
		t = sqlite3_column_text(st->lite, i);
		return t ? (const char *)t : "";
	}
	return (v = cell(st, i)) ? v : "";
}

void
db_col_text(struct dbst *st, int i, char *dst, size_t size)
{
	str_copy(dst, size, db_col_str(st, i));
}

bool
db_col_bytes(struct dbst *st, int i, void *dst, size_t cap, size_t *len)
{
	const char *v;

	*len = 0;
	if (st->lite) {
		if (sqlite3_column_type(st->lite, i) == SQLITE_NULL)
			return false;
		*len = (size_t)sqlite3_column_bytes(st->lite, i);
		if (*len > cap)
			return false;
		memcpy(dst, sqlite3_column_blob(st->lite, i), *len);
		return true;
	}
	if ((v = cell(st, i)) == NULL || PQgetisnull(st->pg->res, st->pg->row, i))
		return false;
	PQfreemem(st->pg->blob);
	st->pg->blob = PQunescapeBytea((const unsigned char *)v, len);
	if (st->pg->blob == NULL || *len > cap)
		return false;
	memcpy(dst, st->pg->blob, *len);
	return true;
}

bool
db_col_blob(struct dbst *st, int i, void *dst, size_t size)
{
	unsigned char buf[256];
	size_t len;

	if (size > sizeof(buf) || !db_col_bytes(st, i, buf, sizeof(buf), &len) || len != size)
		return false;
	memcpy(dst, buf, size);
	return true;
}

int64_t
db_changes(struct registry *r)
{
	return r->changes;
}
