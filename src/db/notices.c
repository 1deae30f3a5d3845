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
	struct dbst *st;
	enum outcome o;
	int rc;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = db_prepare(r,
	                "INSERT INTO notices (key, at, recipient, what)"
	                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
	                &st);
	if (rc == DB_OK) {
		db_bind_text(st, 1, n->key);
		db_bind_int(st, 2, n->at);
		db_bind_text(st, 3, n->recipient);
		db_bind_text(st, 4, n->what);
		rc = db_step(st);
		db_finalize(st);
	}
	*is_new = rc == DB_DONE && db_changes(r) > 0;
	if (rc != DB_DONE)
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
	struct dbst *st;
	struct notice_row n;
	int rc = db_prepare(r,
	                    "SELECT key, at, recipient, what FROM notices WHERE at >= ?"
	                    " ORDER BY at DESC, key",
	                    &st);

	if (rc != DB_OK)
		return db_error(r, rc, "notices", err, errlen);
	db_bind_int(st, 1, since);
	while ((rc = db_step(st)) == DB_ROW) {
		db_col_text(st, 0, n.key, sizeof(n.key));
		n.at = db_col_int(st, 1);
		db_col_text(st, 2, n.recipient, sizeof(n.recipient));
		db_col_text(st, 3, n.what, sizeof(n.what));
		if (!fn(&n, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "notices", err, errlen);
}
