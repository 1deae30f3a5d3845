#include "db/devices.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/devrows.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* ---- add ---- */

struct overlap_ctx {
	const struct device *candidate;
	int64_t now;
	int64_t found;
	enum device_status status;
	char address[CIDR_STR_MAX];
};

static bool
check_overlap(const struct device *d, void *arg)
{
	struct overlap_ctx *c = arg;

	/* Pending and valid approvals block; an approval past its expiry is
	 * expired in all but name (until `device expire` runs) and does not. */
	if (device_rank(d->status, d->expires_at, c->now) > 1 ||
	    !cidr_overlaps(&d->net, &c->candidate->net))
		return true;
	c->found = d->id;
	c->status = d->status;
	str_copy(c->address, sizeof(c->address), d->address);
	return false;
}

enum outcome
registry_add(struct registry *r, struct device *d, const char *actor, bool force, char *err,
             size_t errlen)
{
	int64_t now = clock_now();
	struct overlap_ctx oc = {d, now, 0, DEVICE_PENDING, ""};
	char detail[512];
	enum outcome o;

	if (d->status == DEVICE_APPROVED &&
	    !db_expiry_in_future(d->expires, d->expires_at, force, err, errlen))
		return OUT_PERMFAIL;
	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	o = devrows_each_related(r, &d->net, true, check_overlap, &oc, err, errlen);
	if (o == OUT_OK && oc.found) {
		str_fmt(err, errlen, "%s registration #%lld (%s, %s)",
		        strcmp(oc.address, d->address) == 0 ? "already registered:"
		                                            : "overlaps the existing",
		        (long long)oc.found, oc.address, device_status_name(oc.status));
		o = OUT_PERMFAIL;
	}
	if (o == OUT_OK)
		o = devrows_insert(r, d, err, errlen);
	str_fmt(detail, sizeof(detail), "address=%s status=%s expires=%s legacy_tls=%d name=%s",
	        d->address, device_status_name(d->status), d->expires[0] ? d->expires : "-",
	        d->legacy_tls, d->name);
	if (o == OUT_OK && db_add_history(r, d->id, actor, "add", detail) != DB_OK)
		o = db_error(r, DB_ERROR, "history", err, errlen);
	return db_finish(r, o, err, errlen);
}

/* ---- read ---- */

struct get_ctx {
	struct device *out;
	bool found;
};

static bool
take_first(const struct device *d, void *arg)
{
	struct get_ctx *c = arg;

	*c->out = *d;
	c->found = true;
	return false;
}

enum outcome
registry_get(struct registry *r, int64_t id, struct device *d, char *err, size_t errlen)
{
	struct get_ctx c = {d, false};
	enum outcome o = devrows_each(r, " WHERE id = ?1", &id, take_first, &c, err, errlen);

	if (o == OUT_OK && !c.found) {
		str_fmt(err, errlen, "no device with id %lld", (long long)id);
		return OUT_PERMFAIL;
	}
	return o;
}

struct find_ctx {
	struct sockaddr_storage ss;
	struct device *out;
	int best_prefix, best_rank;
	int64_t now;
	const char *exact; /* only this address, as stored */
};

/* The most specific registration covering the address, and of several for
 * one network the most relevant (as the workers decide; devsnap.h). */
static bool
take_best(const struct device *d, void *arg)
{
	struct find_ctx *c = arg;
	int rank = device_rank(d->status, d->expires_at, c->now);

	if (c->exact ? strcmp(d->address, c->exact) != 0
	             : !cidr_contains(&d->net, (const struct sockaddr *)&c->ss))
		return true;
	if ((int)d->net.prefix > c->best_prefix ||
	    ((int)d->net.prefix == c->best_prefix && rank <= c->best_rank)) {
		*c->out = *d;
		c->best_prefix = (int)d->net.prefix;
		c->best_rank = rank;
	}
	return true;
}

enum outcome
registry_find_by_address(struct registry *r, const char *addr, struct device *d, char *err,
                         size_t errlen)
{
	struct find_ctx c = {.out = d, .best_prefix = -1, .now = clock_now()};
	struct cidr host;
	enum outcome o;

	if (!cidr_parse(addr, &host)) {
		str_fmt(err, errlen, "'%s' is not an IP address", addr);
		return OUT_PERMFAIL;
	}
	cidr_to_sockaddr(&host, &c.ss);
	o = devrows_each_related(r, &host, false, take_best, &c, err, errlen);
	if (o == OUT_OK && c.best_prefix < 0) {
		str_fmt(err, errlen, "no device covers %s", addr);
		return OUT_PERMFAIL;
	}
	return o;
}

enum outcome
registry_find_exact(struct registry *r, const char *address, struct device *d, char *err,
                    size_t errlen)
{
	struct find_ctx c = {.out = d, .best_prefix = -1, .now = clock_now()};
	char norm[CIDR_STR_MAX];
	struct cidr net;
	enum outcome o;

	if (!cidr_parse(address, &net)) {
		str_fmt(err, errlen, "'%s' is neither a device id nor an IP address or CIDR prefix",
		        address);
		return OUT_PERMFAIL;
	}
	cidr_format(&net, norm, sizeof(norm));
	c.exact = norm;
	o = devrows_each_related(r, &net, false, take_best, &c, err, errlen);
	if (o == OUT_OK && c.best_prefix < 0) {
		str_fmt(err, errlen,
		        "no registration for %s itself (mailoutctl device show %s tells "
		        "which covers it)",
		        norm, norm);
		return OUT_PERMFAIL;
	}
	return o;
}

/* The WHERE clause of a filter, with named parameters (bind_filter()).
 * Status is the status as device_status_at() sees it. */
static void
filter_where(const struct device_filter *f, const struct device_page *p, char *dst, size_t size)
{
	static const char *const by_status[DEVICE_NSTATUS] = {
	    [DEVICE_PENDING] = "status = 'pending'",
	    [DEVICE_APPROVED] = "status = 'approved' AND (expires_at = 0 OR expires_at > :now)",
	    [DEVICE_REJECTED] = "status = 'rejected'",
	    [DEVICE_EXPIRED] =
	        "(status = 'expired' OR (status = 'approved' AND expires_at != 0 AND "
	        "expires_at <= :now))",
	    [DEVICE_REVOKED] = "status = 'revoked'",
	};

	str_fmt(dst, size, "WHERE %s AND %s AND %s",
	        f->status >= 0 && f->status < DEVICE_NSTATUS ? by_status[f->status] : "1 = 1",
	        f->expiring_before ? "expires_at != 0 AND expires_at <= :eb" : "1 = 1",
	        p && p->after_id ? (p->is_newest_first ? "id < :after" : "id > :after") : "1 = 1");
}

static void
bind_filter(struct dbst *st, const struct device_filter *f, const struct device_page *p)
{
	int i;

	if ((i = db_param_index(st, ":now")) > 0)
		db_bind_int(st, i, f->now ? f->now : clock_now());
	if ((i = db_param_index(st, ":eb")) > 0)
		db_bind_int(st, i, f->expiring_before);
	if ((i = db_param_index(st, ":after")) > 0)
		db_bind_int(st, i, p->after_id);
	if ((i = db_param_index(st, ":limit")) > 0)
		db_bind_int(st, i, p->limit ? (int64_t)p->limit : INT64_MAX);
	if ((i = db_param_index(st, ":offset")) > 0)
		db_bind_int(st, i, (int64_t)p->offset);
}

enum outcome
registry_page(struct registry *r, const struct device_filter *f, const struct device_page *p,
              bool (*fn)(const struct device *, void *), void *arg, char *err, size_t errlen)
{
	char where[512], sql[2048];
	struct dbst *st;
	int rc;

	filter_where(f, p, where, sizeof(where));
	str_fmt(sql, sizeof(sql), "%s %s ORDER BY id %s LIMIT :limit OFFSET :offset", r->select,
	        where, p->is_newest_first ? "DESC" : "ASC");
	if ((rc = db_prepare(r, sql, &st)) != DB_OK)
		return db_error(r, rc, "query", err, errlen);
	bind_filter(st, f, p);
	return devrows_each_row(r, st, fn, arg, err, errlen);
}

enum outcome
registry_count(struct registry *r, const struct device_filter *f, int64_t *n, char *err,
               size_t errlen)
{
	struct device_page p = {0};
	char where[512], sql[640];
	struct dbst *st;
	int rc;

	filter_where(f, NULL, where, sizeof(where));
	str_fmt(sql, sizeof(sql), "SELECT COUNT(*) FROM devices %s", where);
	if ((rc = db_prepare(r, sql, &st)) != DB_OK)
		return db_error(r, rc, "count", err, errlen);
	bind_filter(st, f, &p);
	rc = db_step(st);
	*n = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : db_error(r, rc, "count", err, errlen);
}

enum outcome
registry_list(struct registry *r, const struct device_filter *f,
              bool (*fn)(const struct device *, void *), void *arg, char *err, size_t errlen)
{
	struct device_page all = {0};

	return registry_page(r, f, &all, fn, arg, err, errlen);
}

enum outcome
registry_count_pending(struct registry *r, const char *from, int64_t *n, char *err, size_t errlen)
{
	return db_query_int(r,
	                    from ? "SELECT COUNT(*) FROM devices d JOIN history h ON"
	                           " h.device_id = d.id AND h.action = 'add'"
	                           " WHERE d.status = 'pending' AND h.actor = ?"
	                         : "SELECT COUNT(*) FROM devices WHERE status = 'pending'",
	                    from, n, "count", err, errlen);
}

enum outcome
registry_each_brief(struct registry *r, bool (*fn)(const struct device_brief *, void *), void *arg,
                    char *err, size_t errlen)
{
	struct dbst *st;
	struct device_brief b;
	char status[16];
	int rc = db_prepare(r,
	                    "SELECT id, address, status, legacy_tls, expires, expires_at,"
	                    " note, sender FROM devices ORDER BY id",
	                    &st);

	if (rc != DB_OK)
		return db_error(r, rc, "query", err, errlen);
	while ((rc = db_step(st)) == DB_ROW) {
		char address[CIDR_STR_MAX];

		memset(&b, 0, sizeof(b));
		b.id = db_col_int(st, 0);
		db_col_text(st, 1, address, sizeof(address));
		db_col_text(st, 2, status, sizeof(status));
		if (!cidr_parse(address, &b.net) || !device_status_parse(status, &b.status))
			continue; /* not ours to judge: registry_add() never writes such a row */
		b.legacy_tls = db_col_int(st, 3) != 0;
		db_col_text(st, 4, b.expires, sizeof(b.expires));
		b.expires_at = db_col_int(st, 5);
		db_col_text(st, 6, b.note, sizeof(b.note));
		db_col_text(st, 7, b.sender, sizeof(b.sender));
		if (!fn(&b, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "query", err, errlen);
}

/* ---- changes ---- */

enum outcome
registry_remove(struct registry *r, int64_t id, const char *actor, char *err, size_t errlen)
{
	struct dbst *st;
	struct device d;
	char detail[512];
	enum outcome o;
	int rc;

	if ((o = db_begin(r, err, errlen)) != OUT_OK)
		return o;
	if ((o = registry_get(r, id, &d, err, errlen)) != OUT_OK)
		return db_finish(r, o, err, errlen);
	rc = db_prepare(r, "DELETE FROM devices WHERE id = ?", &st);
	if (rc == DB_OK) {
		db_bind_int(st, 1, id);
		rc = db_step(st);
		db_finalize(st);
	}
	if (rc != DB_DONE)
		return db_finish(r, db_error(r, rc, "remove", err, errlen), err, errlen);
	str_fmt(detail, sizeof(detail), "address=%s status=%s name=%s", d.address,
	        device_status_name(d.status), d.name);
	if (db_add_history(r, id, actor, "remove", detail) != DB_OK)
		o = db_error(r, DB_ERROR, "history", err, errlen);
	return db_finish(r, o, err, errlen);
}

enum outcome
registry_history(struct registry *r, int64_t id,
                 bool (*fn)(int64_t, const char *, const char *, const char *, void *), void *arg,
                 char *err, size_t errlen)
{
	struct dbst *st;
	int rc = db_prepare(r,
	                    "SELECT at, actor, action, detail FROM history WHERE device_id "
	                    "= ? ORDER BY id",
	                    &st);

	if (rc != DB_OK)
		return db_error(r, rc, "history", err, errlen);
	db_bind_int(st, 1, id);
	while ((rc = db_step(st)) == DB_ROW)
		if (!fn(db_col_int(st, 0), db_col_str(st, 1), db_col_str(st, 2), db_col_str(st, 3),
		        arg))
			break;
	db_finalize(st);
	return rc == DB_DONE || rc == DB_ROW ? OUT_OK : db_error(r, rc, "history", err, errlen);
}

enum outcome
registry_count_by_status(struct registry *r, int64_t now, int64_t out[DEVICE_NSTATUS], char *err,
                         size_t errlen)
{
	struct dbst *st;
	int rc =
	    db_prepare(r,
	               "SELECT CASE WHEN status = 'approved' AND expires_at > 0 AND expires_at <= ?"
	               " THEN 'expired' ELSE status END AS now_status, COUNT(*) FROM devices"
	               " GROUP BY now_status",
	               &st);

	memset(out, 0, sizeof(int64_t) * DEVICE_NSTATUS);
	if (rc != DB_OK)
		return db_error(r, rc, "count", err, errlen);
	db_bind_int(st, 1, now);
	while ((rc = db_step(st)) == DB_ROW) {
		char status[16];
		enum device_status s;
		db_col_text(st, 0, status, sizeof(status));
		if (device_status_parse(status, &s))
			out[s] = db_col_int(st, 1);
	}
	db_finalize(st);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "count", err, errlen);
}
