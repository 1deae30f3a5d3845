#include "db/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dbcode.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define RECONNECT_EVERY_MS 1000
#define LOCK_MIGRATE       0x6d61696c6f7574 /* "mailout": the schema's advisory lock */

struct pgconn {
	PGconn *conn;
	char *url;
	const struct pg_schema *schema;
	bool is_migrated;
	bool is_newer; /* the database's schema is newer than ours: never use it */
	bool is_listening;
	int lock_timeout_ms;
	int64_t next_try_ms;
	int64_t notices; /* change notices and reconnections counted */
	char err[256];
};

bool
pg_is_url(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	       strncmp(database, "postgres://", 11) == 0;
}

PGconn *
pg_conn(struct pgconn *p)
{
	return p->conn;
}

const char *
pg_errmsg(const struct pgconn *p)
{
	return p->err;
}

/* libpq's messages end in a newline and may run over lines. */
static void
keep_error(struct pgconn *p, const char *what, const char *msg)
{
	str_fmt(p->err, sizeof(p->err), "%s%s%s", what, what[0] ? ": " : "",
	        msg && msg[0] ? msg : "no answer");
	for (char *c = p->err; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
		else if (*c == '"' || *c == '\\')
			*c = '\''; /* the log quotes values with " */
	for (size_t n = strlen(p->err); n > 0 && p->err[n - 1] == ' '; n--)
		p->err[n - 1] = '\0';
}

int
pg_result_code(struct pgconn *p, const PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *state;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return DB_OK;
	keep_error(p, "", res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
	if (PQstatus(p->conn) != CONNECTION_OK)
		return DB_IOERR;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL)
		return DB_IOERR;
	if (strncmp(state, "40", 2) == 0 || strcmp(state, "55P03") == 0)
		return DB_BUSY; /* serialization, deadlock, lock timeout */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strncmp(state, "53", 2) == 0)
		return DB_IOERR; /* connection, shutdown, resources */
	if (strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	return DB_ERROR;
}

int
pg_exec(struct pgconn *p, const char *sql)
{
	PGresult *res = PQexec(p->conn, sql);
	int rc = pg_result_code(p, res);

	PQclear(res);
	return rc;
}

static int
schema_version(struct pgconn *p, int *v)
{
	PGresult *res = PQexec(p->conn, "SELECT max(version) FROM schema_version");
	int rc = pg_result_code(p, res);

	*v = rc == DB_OK && PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return rc;
}

/* Bring the schema to the latest version in one transaction, under a lock
 * that lets one node at a time do it. */
static bool
migrate(struct pgconn *p)
{
	const struct pg_schema *s = p->schema;
	int latest = s->base + (int)s->n - 1, v = 0, rc;
	char sql[160];

	/* Current already (the usual case): no lock. A first start finds no
	 * table here, which is no error. */
	if (schema_version(p, &v) == DB_OK && v == latest)
		return p->is_migrated = true;
	v = 0;
	rc = pg_exec(p, "BEGIN");
	str_fmt(sql, sizeof(sql),
	        "SELECT pg_advisory_xact_lock(%lld);"
	        " CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	        (long long)LOCK_MIGRATE);
	if (rc == DB_OK && (rc = pg_exec(p, sql)) == DB_OK)
		rc = schema_version(p, &v);
	if (rc == DB_OK && v > latest) {
		str_fmt(p->err, sizeof(p->err), "schema version %d is newer than this mailout (%d)",
		        v, latest);
		p->is_newer = true;
		rc = DB_ERROR;
	}
	/* 0 -> base by migrations[0]; then base + k -> base + k + 1 by migrations[k + 1] */
	for (; rc == DB_OK && v < latest; v = v ? v + 1 : s->base)
		rc = pg_exec(p, s->migrations[v ? v - s->base + 1 : 0]);
	str_fmt(sql, sizeof(sql),
	        "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", v);
	if (rc == DB_OK && (rc = pg_exec(p, sql)) == DB_OK && (rc = pg_exec(p, "COMMIT")) == DB_OK)
		return p->is_migrated = true;
	char keep[sizeof(p->err)];
	str_copy(keep, sizeof(keep), p->err);
	pg_exec(p, "ROLLBACK");
	str_fmt(p->err, sizeof(p->err), "schema: %s", keep);
	return false;
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs ("already exists, skipping") are not for the log */
}

static void
set_lock_timeout(struct pgconn *p)
{
	char sql[64];

	str_fmt(sql, sizeof(sql), "SET lock_timeout = %d", p->lock_timeout_ms);
	pg_exec(p, sql);
}

/* Connect (again), then the session's settings, the schema and LISTEN. */
static bool
connect_now(struct pgconn *p)
{
	/* Ours first: what the URL says of the same wins (later overrides). */
	static const char *const keys[] = {
	    "connect_timeout",  "keepalives_idle",  "keepalives_interval",
	    "keepalives_count", "tcp_user_timeout", "application_name",
	    "options",          "dbname",           NULL};
	const char *values[] = {
	    "5", "10", "5", "3", "15000", "mailout", "-c statement_timeout=30000", p->url, NULL};

	PQfinish(p->conn);
	p->next_try_ms = clock_monotonic_ms() + RECONNECT_EVERY_MS;
	p->conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		keep_error(p, "PostgreSQL", PQerrorMessage(p->conn));
		return false;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	p->notices++; /* notices sent while we were away are lost: read again */
	set_lock_timeout(p);
	if (!p->is_migrated && !migrate(p))
		return false;
	if (p->is_listening && pg_exec(p, "LISTEN " PG_CHANNEL) != DB_OK) {
		keep_error(p, "LISTEN", PQerrorMessage(p->conn));
		PQfinish(p->conn); /* never a connection that misses the notices */
		p->conn = NULL;
		return false;
	}
	return true;
}

struct pgconn *
pg_open(const char *url, const struct pg_schema *s, char *err, size_t errlen)
{
	struct pgconn *p = xcalloc(1, sizeof(*p));

	p->url = xstrdup(url);
	p->schema = s;
	p->lock_timeout_ms = 2000;
	if (!connect_now(p) && p->is_newer) {
		str_fmt(err, errlen, "registry: %s", p->err);
		pg_close(p);
		return NULL;
	}
	return p;
}

void
pg_close(struct pgconn *p)
{
	if (p == NULL)
		return;
	PQfinish(p->conn);
	free(p->url);
	free(p);
}

bool
pg_ready(struct pgconn *p, bool in_tx)
{
	if (PQstatus(p->conn) == CONNECTION_OK && p->is_migrated)
		return true;
	if (in_tx || p->is_newer || clock_monotonic_ms() < p->next_try_ms)
		return false;
	return connect_now(p);
}

bool
pg_notices(struct pgconn *p, int64_t *count)
{
	PGnotify *n;

	if (!pg_ready(p, false))
		return false;
	if (!PQconsumeInput(p->conn)) {
		keep_error(p, "PostgreSQL", PQerrorMessage(p->conn));
		return false;
	}
	while ((n = PQnotifies(p->conn)) != NULL) {
		p->notices++;
		PQfreemem(n);
	}
	*count = p->notices;
	return PQstatus(p->conn) == CONNECTION_OK;
}

void
pg_listen(struct pgconn *p)
{
	p->is_listening = true;
	if (PQstatus(p->conn) == CONNECTION_OK && p->is_migrated &&
	    pg_exec(p, "LISTEN " PG_CHANNEL) != DB_OK) {
		PQfinish(p->conn); /* the next pg_ready() connects again, and listens */
		p->conn = NULL;
	}
}

void
pg_set_lock_timeout(struct pgconn *p, int ms)
{
	p->lock_timeout_ms = ms > 0 ? ms : 1; /* 0 would mean "for ever" */
	if (PQstatus(p->conn) == CONNECTION_OK)
		set_lock_timeout(p);
}
