#include "db/notices.h"

#include <string.h>

#include "db/db.h"

enum outcome
notices_was_sent(struct registry *r, const char *key, bool *sent, char *err, size_t errlen)
{
	int64_t n = 0;
	enum outcome o = db_query_int(r, "SELECT count(*) FROM notices WHERE key = ?", key, &n,
	                              "notices", err, errlen);

	*sent = n > 0;
	return o;
}

enum outcome
notices_claim(struct registry *r, const struct notice_row *n, bool *is_new, char *err,
              size_t errlen)
{
	sqlite3_stmt *st;
	enum outcome o;
	int rc;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = sqlite3_prepare_v2(r->db,
	                        "INSERT OR IGNORE INTO notices (key, at, recipient, what)"
	                        " VALUES (?, ?, ?, ?)",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		db_bind_text(st, 1, n->key);
		sqlite3_bind_int64(st, 2, n->at);
		db_bind_text(st, 3, n->recipient);
		db_bind_text(st, 4, n->what);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	*is_new = rc == SQLITE_DONE && sqlite3_changes(r->db) > 0;
	if (rc != SQLITE_DONE)
		o = db_error(r, rc, "record a notice", err, errlen);
	if (o != OUT_OK || !*is_new)
		(void)db_finish(r, OUT_TEMPFAIL, err, errlen); /* roll back */
	return o;
}

enum outcome
notices_commit(struct registry *r, bool sent, char *err, size_t errlen)
{
	return db_finish(r, sent ? OUT_OK : OUT_TEMPFAIL, err, errlen);
}

enum outcome
notices_list(struct registry *r, int64_t since, bool (*fn)(const struct notice_row *, void *),
             void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct notice_row n;
	int rc = sqlite3_prepare_v2(r->db,
	                            "SELECT key, at, recipient, what FROM notices WHERE at >= ?"
	                            " ORDER BY at DESC, key",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "notices", err, errlen);
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_text(st, 0, n.key, sizeof(n.key));
		n.at = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, n.recipient, sizeof(n.recipient));
		db_col_text(st, 3, n.what, sizeof(n.what));
		if (!fn(&n, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "notices", err, errlen);
}
