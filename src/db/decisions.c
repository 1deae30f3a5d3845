#include "db/devices.h"

#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/devrows.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"
#include "util/xmalloc.h"

static enum outcome
update_status(struct registry *r, int64_t id, const struct decision *dc, int64_t expires_at,
              char *err, size_t errlen)
{
	const char *expires = dc->expires, *note = dc->note;
	struct dbst *st;
	int rc =
	    db_prepare(r,
	               "UPDATE devices SET status = ?, decided_at = ?, decided_by = ?, note = ?,"
	               " renewal_request = '',"
	               " expires = CASE WHEN ? = '' THEN expires ELSE ? END,"
	               " expires_at = CASE WHEN ? = '' THEN expires_at ELSE ? END,"
	               " legacy_tls = CASE WHEN ? < 0 THEN legacy_tls ELSE ? END WHERE id = ?",
	               &st);

	if (rc != DB_OK)
		return db_error(r, rc, "update", err, errlen);
	db_bind_text(st, 1, device_status_name(dc->to));
	db_bind_int(st, 2, (int64_t)clock_now());
	db_bind_text(st, 3, dc->actor);
	db_bind_text(st, 4, note ? note : "");
	db_bind_text(st, 5, expires ? expires : "");
	db_bind_text(st, 6, expires ? expires : "");
	db_bind_text(st, 7, expires ? expires : "");
	db_bind_int(st, 8, expires_at);
	db_bind_int(st, 9, dc->legacy_tls);
	db_bind_int(st, 10, dc->legacy_tls);
	db_bind_int(st, 11, id);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "update", err, errlen);
}

static bool
parse_expires(const char *expires, int64_t *at, char *err, size_t errlen)
{
	if (expires == NULL || expires[0] == '\0') {
		*at = 0;
		return true;
	}
	if (!isodate_parse_expiry(expires, at)) {
		str_fmt(err, errlen,
		        "'%s' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)",
		        expires);
		return false;
	}
	return true;
}

/* "pending -> approved expires=... legacy_tls=yes why=..." for the history. */
static void
decision_detail(const struct device *d, const struct decision *dc, char *dst, size_t size)
{
	const char *e = dc->expires, *n = dc->note && dc->note[0] ? dc->note : dc->reason;

	str_fmt(dst, size, "%s -> %s%s%s%s%s%s", device_status_name(d->status),
	        device_status_name(dc->to), e && e[0] ? " expires=" : "", e ? e : "",
	        dc->legacy_tls < 0 ? ""
	        : dc->legacy_tls   ? " legacy_tls=yes"
	                           : " legacy_tls=no",
	        n && n[0] ? " why=" : "", n ? n : "");
}

enum outcome
registry_decide(struct registry *r, int64_t id, const struct decision *dc, char *err, size_t errlen)
{
	struct device d = {0};
	char detail[768];
	int64_t at;
	enum outcome o;

	if (!parse_expires(dc->expires, &at, err, errlen) ||
	    (dc->to == DEVICE_APPROVED &&
	     !db_expiry_in_future(dc->expires, at, dc->force, err, errlen)))
		return OUT_PERMFAIL;
	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = registry_get(r, id, &d, err, errlen);
	if (o == OUT_OK)
		o = update_status(r, id, dc, at, err, errlen);
	decision_detail(&d, dc, detail, sizeof(detail));
	if (o == OUT_OK &&
	    db_add_history(r, id, dc->actor, device_status_name(dc->to), detail) != DB_OK)
		o = db_error(r, DB_ERROR, "history", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_renew(struct registry *r, int64_t id, const struct decision *dc, char *err, size_t errlen)
{
	struct decision renew = *dc;
	struct device d;
	int64_t at;
	enum outcome o;

	if (dc->expires == NULL || !parse_expires(dc->expires, &at, err, errlen) || at == 0) {
		if (dc->expires == NULL || !err[0])
			str_fmt(err, errlen, "renew needs --expires DATE");
		return OUT_PERMFAIL;
	}
	if ((o = registry_get(r, id, &d, err, errlen)) != OUT_OK)
		return o;
	if (d.status != DEVICE_APPROVED && d.status != DEVICE_EXPIRED) {
		str_fmt(err, errlen,
		        "device %lld is %s; only approved or expired devices can be "
		        "renewed",
		        (long long)id, device_status_name(d.status));
		return OUT_PERMFAIL;
	}
	renew.to = DEVICE_APPROVED;
	renew.note = "";
	return registry_decide(r, id, &renew, err, errlen);
}

/* One UPDATE of a registration's text columns with its history line, in
 * one transaction. */
static enum outcome
update_text(struct registry *r, int64_t id, const char *sql, const char *a, const char *b,
            const char *actor, const char *action, const char *detail, char *err, size_t errlen)
{
	struct dbst *st;
	enum outcome o;
	int rc;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = db_prepare(r, sql, &st);
	if (rc == DB_OK) {
		db_bind_text(st, 1, a);
		db_bind_text(st, 2, b);
		db_bind_int(st, 3, (int64_t)clock_now());
		db_bind_int(st, 4, id);
		rc = db_step(st);
		db_finalize(st);
	}
	if (rc != DB_DONE)
		o = db_error(r, rc, action, err, errlen);
	else if (db_changes(r) == 0) {
		str_fmt(err, errlen, "no registration %lld that could take this", (long long)id);
		o = OUT_PERMFAIL;
	} else if (db_add_history(r, id, actor, action, detail) != DB_OK)
		o = db_error(r, DB_ERROR, "history", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_request_renewal(struct registry *r, int64_t id, const char *text, const char *actor,
                         char *err, size_t errlen)
{
	return update_text(r, id,
	                   "UPDATE devices SET renewal_request = ?1"
	                   " WHERE id = ?4 AND status IN ('approved', 'expired')",
	                   text, "", actor, "renewal-requested", text, err, errlen);
}

enum outcome
registry_let_expire(struct registry *r, int64_t id, const char *actor, const char *reason,
                    char *err, size_t errlen)
{
	char note[DEVICE_TEXT_MAX];

	str_fmt(note, sizeof(note), "let expire: %s", reason);
	return update_text(r, id,
	                   "UPDATE devices SET note = ?1, decided_by = ?2, decided_at = ?3,"
	                   " renewal_request = '' WHERE id = ?4 AND status = 'approved'",
	                   note, actor, actor, "let-expire", reason, err, errlen);
}

struct expire_ctx {
	int64_t now;
	int64_t ids[1024];
	size_t n;
};

static bool
collect_expired(const struct device *d, void *arg)
{
	struct expire_ctx *c = arg;

	if (d->status == DEVICE_APPROVED && d->expires_at && d->expires_at <= c->now &&
	    c->n < sizeof(c->ids) / sizeof(c->ids[0]))
		c->ids[c->n++] = d->id;
	return true;
}

enum outcome
registry_expire(struct registry *r, int64_t now, const char *actor, unsigned *n, char *err,
                size_t errlen)
{
	struct expire_ctx *c = xcalloc(1, sizeof(*c));
	enum outcome o;

	c->now = now;
	*n = 0;
	if ((o = db_begin(r, err, errlen)) != OUT_OK) {
		free(c);
		return o;
	}
	o = devrows_each(r, " WHERE status = 'approved'", NULL, collect_expired, c, err, errlen);
	for (size_t i = 0; o == OUT_OK && i < c->n; i++) {
		struct decision dc = {DEVICE_EXPIRED, NULL, "expiry date passed", -1, false,
		                      actor,          NULL};
		o = update_status(r, c->ids[i], &dc, 0, err, errlen);
		if (o == OUT_OK &&
		    db_add_history(r, c->ids[i], actor, "expired", "approved -> expired") != DB_OK)
			o = db_error(r, DB_ERROR, "history", err, errlen);
	}
	if (o == OUT_OK)
		*n = (unsigned)c->n;
	free(c);
	return db_finish(r, o, err, errlen);
}
