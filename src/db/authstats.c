#include "db/authstats.h"

#include <string.h>

#include "db/db.h"

static void
bind_auth_stat(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct auth_stat *a = (const struct auth_stat *)items + i;

	sqlite3_bind_int64(st, 1, a->hour);
	db_bind_text(st, 2, a->client);
	db_bind_text(st, 3, a->user);
	sqlite3_bind_int64(st, 4, a->failures);
	sqlite3_bind_int64(st, 5, a->successes);
	sqlite3_bind_int64(st, 6, a->messages);
	sqlite3_bind_int64(st, 7, a->recipients);
	sqlite3_bind_int64(st, 8, a->last_seen);
}

enum outcome
registry_add_auth_stats(struct registry *r, const struct auth_stat *a, size_t n, char *err,
                        size_t errlen)
{
	enum outcome o;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = db_run_each(r,
	                "INSERT INTO auth_stats (hour, client, user, failures, successes, messages,"
	                " recipients, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	                " ON CONFLICT (hour, client, user) DO UPDATE SET"
	                " failures = failures + excluded.failures,"
	                " successes = successes + excluded.successes,"
	                " messages = messages + excluded.messages,"
	                " recipients = recipients + excluded.recipients,"
	                " last_seen = MAX(last_seen, excluded.last_seen)",
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
	*n = rc == SQLITE_DONE ? (unsigned long long)sqlite3_changes(r->db) : 0;
	if (rc != SQLITE_DONE)
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
	    {"SELECT user, SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? AND user <> '' GROUP BY user"
	     " ORDER BY SUM(failures) DESC, SUM(messages) DESC, user",
	     "SELECT user, SUM(failures), SUM(successes), SUM(messages), SUM(recipients),"
	     " MAX(last_seen) FROM auth_stats WHERE hour >= ? AND user <> '' GROUP BY user"
	     " HAVING SUM(failures) > 0 ORDER BY SUM(failures) DESC, user"},
	};
	sqlite3_stmt *st;
	struct auth_stat a;
	int rc = sqlite3_prepare_v2(r->db, sql[by][only_failed], -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "report", err, errlen);
	sqlite3_bind_int64(st, 1, since_hour);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		db_col_text(st, 0, by == AUTHSTAT_BY_CLIENT ? a.client : a.user,
		            by == AUTHSTAT_BY_CLIENT ? sizeof(a.client) : sizeof(a.user));
		a.failures = sqlite3_column_int64(st, 1);
		a.successes = sqlite3_column_int64(st, 2);
		a.messages = sqlite3_column_int64(st, 3);
		a.recipients = sqlite3_column_int64(st, 4);
		a.last_seen = sqlite3_column_int64(st, 5);
		if (!fn(&a, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "report", err, errlen);
}
