#include "db/authstats.h"

#include <string.h>

#include "db/db.h"

static void
bind_auth_stat(struct dbst *st, const void *items, size_t i)
{
	const struct auth_stat *a = (const struct auth_stat *)items + i;

	db_bind_int(st, 1, a->hour);
	db_bind_text(st, 2, a->client);
	db_bind_text(st, 3, a->user);
	db_bind_int(st, 4, a->failures);
	db_bind_int(st, 5, a->successes);
	db_bind_int(st, 6, a->messages);
	db_bind_int(st, 7, a->recipients);
	db_bind_int(st, 8, a->last_seen);
}

enum outcome
registry_add_auth_stats(struct registry *r, const struct auth_stat *a, size_t n, char *err,
                        size_t errlen)
{
	enum outcome o;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(
	    r,
	    "INSERT INTO auth_stats (hour, client, \"user\", failures, successes, messages,"
	    " recipients, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (hour, client, \"user\") DO UPDATE SET"
	    " failures = auth_stats.failures + excluded.failures,"
	    " successes = auth_stats.successes + excluded.successes,"
	    " messages = auth_stats.messages + excluded.messages,"
	    " recipients = auth_stats.recipients + excluded.recipients,"
	    " last_seen = CASE WHEN auth_stats.last_seen > excluded.last_seen"
	    " THEN auth_stats.last_seen ELSE excluded.last_seen END",
	    n, bind_auth_stat, a, "auth stats", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_prune_auth_stats(struct registry *r, int64_t before_hour, unsigned long long *n, char *err,
                          size_t errlen)
{
	enum outcome o;
	int rc;

	*n = 0;
	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = db_exec_bound(r, "DELETE FROM auth_stats WHERE hour < ?", NULL, before_hour);
	*n = rc == DB_DONE ? (unsigned long long)db_changes(r) : 0;
	if (rc != DB_DONE)
		o = db_error(r, rc, "prune", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_auth_report(struct registry *r, int64_t since_hour, enum authstat_by by, bool only_failed,
                     bool (*fn)(const struct auth_stat *, void *), void *arg, char *err,
                     size_t errlen)
{
	static const char *const sql[2][2] = {
	    {"SELECT client, SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? GROUP BY client"
	     " ORDER BY SUM(failures) DESC, SUM(messages) DESC, client",
	     "SELECT client, SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? GROUP BY client"
	     " HAVING SUM(failures) > 0 ORDER BY SUM(failures) DESC, client"},
	    {"SELECT \"user\", SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? AND \"user\" <> '' GROUP BY \"user\""
	     " ORDER BY SUM(failures) DESC, SUM(messages) DESC, \"user\"",
	     "SELECT \"user\", SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? AND \"user\" <> '' GROUP BY \"user\""
	     " HAVING SUM(failures) > 0 ORDER BY SUM(failures) DESC, \"user\""},
	};
	struct dbst *st;
	struct auth_stat a;
	int rc = db_prepare(r, sql[by][only_failed], &st);

	if (rc != DB_OK)
		return db_error(r, rc, "report", err, errlen);
	db_bind_int(st, 1, since_hour);
	while ((rc = db_step(st)) == DB_ROW) {
		memset(&a, 0, sizeof(a));
		db_col_text(st, 0, by == AUTHSTAT_BY_CLIENT ? a.client : a.user,
		            by == AUTHSTAT_BY_CLIENT ? sizeof(a.client) : sizeof(a.user));
		a.failures = db_col_int(st, 1);
		a.successes = db_col_int(st, 2);
		a.messages = db_col_int(st, 3);
		a.recipients = db_col_int(st, 4);
		a.last_seen = db_col_int(st, 5);
		if (!fn(&a, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "report", err, errlen);
}
