#include "db/stats.h"

#include <string.h>

#include "db/db.h"
#include "util/clock.h"
#include "util/str.h"

static void
bind_usage(struct dbst *st, const void *items, size_t i)
{
	const struct device_usage *u = (const struct device_usage *)items + i;

	db_bind_int(st, 1, u->sessions);
	db_bind_int(st, 2, u->messages);
	db_bind_int(st, 3, u->first_seen);
	db_bind_int(st, 4, u->last_seen);
	db_bind_text(st, 5, u->last_tls);
	db_bind_text(st, 6, u->last_listener);
	db_bind_int(st, 7, u->device_id);
}

enum outcome
registry_add_usage(struct registry *r, const struct device_usage *u, size_t n, char *err,
                   size_t errlen)
{
	enum outcome o;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(r,
	                "UPDATE devices SET session_count = session_count + ?,"
	                " message_count = message_count + ?,"
	                " first_seen = CASE WHEN first_seen = 0 THEN ? ELSE first_seen END,"
	                " last_seen = CASE WHEN last_seen > ?4 THEN last_seen ELSE ?4 END,"
	                " last_tls = ?5, last_listener = ?6 WHERE id = ?7",
	                n, bind_usage, u, "usage", err, errlen);
	return db_finish(r, o, err, errlen);
}

static void
bind_client_stat(struct dbst *st, const void *items, size_t i)
{
	const struct client_stat *c = (const struct client_stat *)items + i;

	db_bind_int(st, 1, c->day);
	db_bind_text(st, 2, c->client);
	db_bind_text(st, 3, c->listener);
	db_bind_text(st, 4, c->tls);
	db_bind_int(st, 5, c->sessions);
	db_bind_int(st, 6, c->messages);
	db_bind_int(st, 7, c->refused);
	db_bind_int(st, 8, c->last_seen);
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
	    " sessions = client_tls.sessions + excluded.sessions,"
	    " messages = client_tls.messages + excluded.messages,"
	    " refused = client_tls.refused + excluded.refused,"
	    " last_seen = CASE WHEN client_tls.last_seen > excluded.last_seen"
	    " THEN client_tls.last_seen ELSE excluded.last_seen END",
	    n, bind_client_stat, c, "client stats", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_prune_client_stats(struct registry *r, int64_t before_day, uint64_t max_rows,
                            unsigned long long *n, char *err, size_t errlen)
{
	enum outcome o;
	int64_t rows = 0;
	int rc;

	*n = 0;
	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = db_exec_bound(r, "DELETE FROM client_tls WHERE day < ?", NULL, before_day);
	*n += (unsigned long long)db_changes(r);
	/* Then the cap: the oldest rows go first. */
	if (rc == DB_DONE && (o = db_query_int(r, "SELECT COUNT(*) FROM client_tls", NULL, &rows,
	                                       "prune", err, errlen)) != OUT_OK)
		return db_finish(r, o, err, errlen);
	if (rc == DB_DONE && rows > (int64_t)max_rows)
		rc = db_exec_bound(r,
		                   "DELETE FROM client_tls WHERE (day, client, listener, tls) IN"
		                   " (SELECT day, client, listener, tls FROM client_tls"
		                   " ORDER BY day, last_seen LIMIT ?)",
		                   NULL, rows - (int64_t)max_rows);
	*n += rc == DB_DONE && rows > (int64_t)max_rows ? (unsigned long long)db_changes(r) : 0;
	if (rc != DB_DONE)
		o = db_error(r, rc, "prune", err, errlen);
	return db_finish(r, o, err, errlen);
}

/* Rows of client, day, listener, tls, sessions, messages, refused,
 * last_seen (a query of that shape, since_day bound) through fn. */
static enum outcome
each_stat(struct registry *r, const char *sql, int64_t since_day,
          bool (*fn)(const struct client_stat *, void *), void *arg, char *err, size_t errlen)
{
	struct dbst *st;
	struct client_stat c;
	int rc = db_prepare(r, sql, &st);

	if (rc != DB_OK)
		return db_error(r, rc, "report", err, errlen);
	db_bind_int(st, 1, since_day);
	while ((rc = db_step(st)) == DB_ROW) {
		memset(&c, 0, sizeof(c));
		db_col_text(st, 0, c.client, sizeof(c.client));
		c.day = db_col_int(st, 1);
		db_col_text(st, 2, c.listener, sizeof(c.listener));
		db_col_text(st, 3, c.tls, sizeof(c.tls));
		c.sessions = db_col_int(st, 4);
		c.messages = db_col_int(st, 5);
		c.refused = db_col_int(st, 6);
		c.last_seen = db_col_int(st, 7);
		if (!fn(&c, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "report", err, errlen);
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
	    " ORDER BY tls <> 'none', tls <> 'handshake-failed', SUM(sessions) DESC, client,"
	    " listener, tls",
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
	                 " GROUP BY client, day, tls ORDER BY day, client, tls",
	                 since_day, fn, arg, err, errlen);
}

static void
bind_recent(struct dbst *st, const void *items, size_t i)
{
	const struct recent_session *x = (const struct recent_session *)items + i;

	db_bind_text(st, 1, x->client);
	db_bind_int(st, 2, x->at);
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
		if (rc != DB_DONE)
			o = db_error(r, rc, "recent prune", err, errlen);
	}
	if (o == OUT_OK && (rc = db_exec_bound(r, "DELETE FROM recent_sessions WHERE at < ?", NULL,
	                                       clock_now() - RECENT_MAX_AGE)) != DB_DONE)
		o = db_error(r, rc, "recent prune", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_recent(struct registry *r, const char *client,
                bool (*fn)(const struct recent_session *, void *), void *arg, char *err,
                size_t errlen)
{
	struct dbst *st;
	struct recent_session x;
	int rc = db_prepare(r,
	                    "SELECT at, listener, tls, result FROM recent_sessions"
	                    " WHERE client = ? ORDER BY id DESC",
	                    &st);

	if (rc != DB_OK)
		return db_error(r, rc, "recent", err, errlen);
	db_bind_text(st, 1, client);
	while ((rc = db_step(st)) == DB_ROW) {
		memset(&x, 0, sizeof(x));
		x.at = db_col_int(st, 0);
		str_copy(x.client, sizeof(x.client), client);
		db_col_text(st, 1, x.listener, sizeof(x.listener));
		db_col_text(st, 2, x.tls, sizeof(x.tls));
		db_col_text(st, 3, x.result, sizeof(x.result));
		if (!fn(&x, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "recent", err, errlen);
}

enum outcome
registry_client_use(struct registry *r, const char *client, struct client_use *u, char *err,
                    size_t errlen)
{
	struct dbst *st;
	int rc = db_prepare(
	    r,
	    "SELECT coalesce(max(CASE WHEN tls LIKE 'TLSv1.3/%' THEN 4 WHEN tls LIKE 'TLSv1.2/%'"
	    " THEN 3 WHEN tls LIKE 'TLSv1.1/%' THEN 2 WHEN tls LIKE 'TLSv1/%' THEN 1"
	    " WHEN tls = 'none' THEN 0 ELSE -1 END), -1),"
	    " count(DISTINCT CASE WHEN tls LIKE 'TLSv1.2/%' OR tls LIKE 'TLSv1.3/%' THEN day END)"
	    " FROM client_tls WHERE client = ?",
	    &st);

	if (rc != DB_OK)
		return db_error(r, rc, "client use", err, errlen);
	db_bind_text(st, 1, client);
	rc = db_step(st);
	u->best = rc == DB_ROW ? db_col_int(st, 0) : -1;
	u->tls_days = rc == DB_ROW ? db_col_int(st, 1) : 0;
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : db_error(r, rc, "client use", err, errlen);
}
