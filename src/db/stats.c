#include "db/stats.h"

#include <string.h>

#include "db/db.h"
#include "util/clock.h"
#include "util/str.h"

static void
bind_usage(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct device_usage *u = (const struct device_usage *)items + i;

	sqlite3_bind_int64(st, 1, u->sessions);
	sqlite3_bind_int64(st, 2, u->messages);
	sqlite3_bind_int64(st, 3, u->first_seen);
	sqlite3_bind_int64(st, 4, u->last_seen);
	db_bind_text(st, 5, u->last_tls);
	db_bind_text(st, 6, u->last_listener);
	sqlite3_bind_int64(st, 7, u->device_id);
}

enum outcome
registry_add_usage(struct registry *r, const struct device_usage *u, size_t n, char *err,
                   size_t errlen)
{
	enum outcome o;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(
	    r,
	    "UPDATE devices SET session_count = session_count + ?,"
	    " message_count = message_count + ?,"
	    " first_seen = CASE WHEN first_seen = 0 THEN ? ELSE first_seen END,"
	    " last_seen = MAX(last_seen, ?), last_tls = ?, last_listener = ? WHERE id = ?",
	    n, bind_usage, u, "usage", err, errlen);
	return db_finish(r, o, err, errlen);
}

static void
bind_client_stat(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct client_stat *c = (const struct client_stat *)items + i;

	sqlite3_bind_int64(st, 1, c->day);
	db_bind_text(st, 2, c->client);
	db_bind_text(st, 3, c->listener);
	db_bind_text(st, 4, c->tls);
	sqlite3_bind_int64(st, 5, c->sessions);
	sqlite3_bind_int64(st, 6, c->messages);
	sqlite3_bind_int64(st, 7, c->refused);
	sqlite3_bind_int64(st, 8, c->last_seen);
}

enum outcome
registry_add_client_stats(struct registry *r, const struct client_stat *c, size_t n, char *err,
                          size_t errlen)
{
	enum outcome o;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(
	    r,
	    "INSERT INTO client_tls (day, client, listener, tls, sessions, messages, refused,"
	    " last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (day, client, listener, tls) DO UPDATE SET"
	    " sessions = sessions + excluded.sessions, messages = messages + excluded.messages,"
	    " refused = refused + excluded.refused, last_seen = MAX(last_seen, excluded.last_seen)",
	    n, bind_client_stat, c, "client stats", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_prune_client_stats(struct registry *r, int64_t before_day, uint64_t max_rows,
                            unsigned long long *n, char *err, size_t errlen)
{
	enum outcome o;
	int rc;

	*n = 0;
	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = db_exec_bound(r, "DELETE FROM client_tls WHERE day < ?", NULL, before_day);
	*n += (unsigned long long)sqlite3_changes(r->db);
	/* Then the cap: the oldest rows go first. */
	if (rc == SQLITE_DONE)
		rc = db_exec_bound(
		    r,
		    "DELETE FROM client_tls WHERE rowid IN (SELECT rowid FROM client_tls"
		    " ORDER BY day, last_seen LIMIT max(0, (SELECT COUNT(*) FROM"
		    " client_tls) - ?))",
		    NULL, (int64_t)max_rows);
	*n += rc == SQLITE_DONE ? (unsigned long long)sqlite3_changes(r->db) : 0;
	if (rc != SQLITE_DONE)
		o = db_error(r, rc, "prune", err, errlen);
	return db_finish(r, o, err, errlen);
}

/* Rows of client, day, listener, tls, sessions, messages, refused,
 * last_seen (a query of that shape, since_day bound) through fn. */
static enum outcome
each_stat(struct registry *r, const char *sql, int64_t since_day,
          bool (*fn)(const struct client_stat *, void *), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct client_stat c;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "report", err, errlen);
	sqlite3_bind_int64(st, 1, since_day);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		db_col_text(st, 0, c.client, sizeof(c.client));
		c.day = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, c.listener, sizeof(c.listener));
		db_col_text(st, 3, c.tls, sizeof(c.tls));
		c.sessions = sqlite3_column_int64(st, 4);
		c.messages = sqlite3_column_int64(st, 5);
		c.refused = sqlite3_column_int64(st, 6);
		c.last_seen = sqlite3_column_int64(st, 7);
		if (!fn(&c, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "report", err, errlen);
}

enum outcome
registry_tls_report(struct registry *r, int64_t since_day,
                    bool (*fn)(const struct client_stat *, void *), void *arg, char *err,
                    size_t errlen)
{
	return each_stat(
	    r,
	    "SELECT client, 0, listener, tls, SUM(sessions), SUM(messages), SUM(refused),"
	    " MAX(last_seen) FROM client_tls WHERE day >= ? GROUP BY client, listener, tls"
	    " ORDER BY tls <> 'none', tls <> 'handshake-failed', SUM(sessions) DESC, client",
	    since_day, fn, arg, err, errlen);
}

enum outcome
registry_client_days(struct registry *r, int64_t since_day,
                     bool (*fn)(const struct client_stat *, void *), void *arg, char *err,
                     size_t errlen)
{
	return each_stat(r,
	                 "SELECT client, day, '', tls, SUM(sessions), SUM(messages), SUM(refused),"
	                 " MAX(last_seen) FROM client_tls WHERE day >= ?"
	                 " GROUP BY client, day, tls ORDER BY day",
	                 since_day, fn, arg, err, errlen);
}

static void
bind_recent(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct recent_session *x = (const struct recent_session *)items + i;

	db_bind_text(st, 1, x->client);
	sqlite3_bind_int64(st, 2, x->at);
	db_bind_text(st, 3, x->listener);
	db_bind_text(st, 4, x->tls);
	db_bind_text(st, 5, x->result);
}

enum outcome
registry_add_recent(struct registry *r, const struct recent_session *s, size_t n, char *err,
                    size_t errlen)
{
	enum outcome o;
	int rc;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(r,
	                "INSERT INTO recent_sessions (client, at, listener, tls, result)"
	                " VALUES (?, ?, ?, ?, ?)",
	                n, bind_recent, s, "recent", err, errlen);
	/* Bound the table: per client, and by age. */
	for (size_t i = 0; i < n && o == OUT_OK; i++) {
		rc = db_exec_bound(
		    r,
		    "DELETE FROM recent_sessions WHERE client = ?1 AND id <= (SELECT id FROM"
		    " recent_sessions WHERE client = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
		    s[i].client, RECENT_PER_CLIENT);
		if (rc != SQLITE_DONE)
			o = db_error(r, rc, "recent prune", err, errlen);
	}
	if (o == OUT_OK && (rc = db_exec_bound(r, "DELETE FROM recent_sessions WHERE at < ?", NULL,
	                                       clock_now() - RECENT_MAX_AGE)) != SQLITE_DONE)
		o = db_error(r, rc, "recent prune", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_recent(struct registry *r, const char *client,
                bool (*fn)(const struct recent_session *, void *), void *arg, char *err,
                size_t errlen)
{
	sqlite3_stmt *st;
	struct recent_session x;
	int rc = sqlite3_prepare_v2(r->db,
	                            "SELECT at, listener, tls, result FROM recent_sessions"
	                            " WHERE client = ? ORDER BY id DESC",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "recent", err, errlen);
	db_bind_text(st, 1, client);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&x, 0, sizeof(x));
		x.at = sqlite3_column_int64(st, 0);
		str_copy(x.client, sizeof(x.client), client);
		db_col_text(st, 1, x.listener, sizeof(x.listener));
		db_col_text(st, 2, x.tls, sizeof(x.tls));
		db_col_text(st, 3, x.result, sizeof(x.result));
		if (!fn(&x, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "recent", err, errlen);
}

enum outcome
registry_client_use(struct registry *r, const char *client, struct client_use *u, char *err,
                    size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    "SELECT coalesce(max(CASE WHEN tls LIKE 'TLSv1.3/%' THEN 4 WHEN tls LIKE 'TLSv1.2/%'"
	    " THEN 3 WHEN tls LIKE 'TLSv1.1/%' THEN 2 WHEN tls LIKE 'TLSv1/%' THEN 1"
	    " WHEN tls = 'none' THEN 0 ELSE -1 END), -1),"
	    " count(DISTINCT CASE WHEN tls LIKE 'TLSv1.2/%' OR tls LIKE 'TLSv1.3/%' THEN day END)"
	    " FROM client_tls WHERE client = ?",
	    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "client use", err, errlen);
	db_bind_text(st, 1, client);
	rc = sqlite3_step(st);
	u->best = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	u->tls_days = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : db_error(r, rc, "client use", err, errlen);
}
