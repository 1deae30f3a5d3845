#include "db/devrows.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define SQL_MAX 4096

char *
devrows_select(void)
{
	struct buf b;

	buf_init(&b, SQL_MAX);
	buf_puts(&b, "SELECT ");
	for (size_t i = 0; i < device_n_fields; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", device_fields[i].column);
	buf_puts(&b, " FROM devices");
	return b.data;
}

static void
read_field(struct dbst *st, int i, const struct device_field *f, struct device *d)
{
	char status[16];

	switch (f->kind) {
	case DEVICE_KIND_ID:
	case DEVICE_KIND_TIME:
	case DEVICE_KIND_COUNT:
		*device_int(d, f) = db_col_int(st, i);
		break;
	case DEVICE_KIND_STATUS:
		db_col_text(st, i, status, sizeof(status));
		device_status_parse(status, device_status_of(d, f));
		break;
	case DEVICE_KIND_BOOL:
		*device_bool(d, f) = db_col_int(st, i) != 0;
		break;
	case DEVICE_KIND_ADDRESS:
		db_col_text(st, i, device_text(d, f), f->size);
		cidr_parse(d->address, &d->net);
		break;
	case DEVICE_KIND_TEXT:
		db_col_text(st, i, device_text(d, f), f->size);
		break;
	}
}

void
devrows_read(struct dbst *st, struct device *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < device_n_fields; i++)
		read_field(st, (int)i, &device_fields[i], d);
}

/* ---- the network key ---- */

/* The first prefix bits of c's address (host bits zero), 4 or 16 bytes:
 * the key of the devices_net index. */
static void
net_bytes(const struct cidr *c, unsigned prefix, uint8_t out[16], size_t *len)
{
	*len = c->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < *len; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;
		out[i] = c->addr[i] & (keep >= 8 ? 0xff : (uint8_t)(0xff << (8 - keep)));
	}
}

static void
bind_net(struct dbst *st, int i, const struct cidr *c, unsigned prefix)
{
	uint8_t b[16];
	size_t len;

	net_bytes(c, prefix, b, &len);
	db_bind_blob(st, i, b, len);
}

int
devrows_fill_nets(struct registry *r)
{
	struct dbst *sel, *upd;
	int rc = db_prepare(r, "SELECT id, address FROM devices WHERE net IS NULL", &sel);

	if (rc != DB_OK)
		return rc;
	if ((rc = db_prepare(r, "UPDATE devices SET net = ?, prefix = ? WHERE id = ?", &upd)) !=
	    DB_OK) {
		db_finalize(sel);
		return rc;
	}
	while ((rc = db_step(sel)) == DB_ROW) {
		struct cidr c;
		if (!cidr_parse(db_col_str(sel, 1), &c))
			continue;
		db_reset(upd);
		bind_net(upd, 1, &c, c.prefix);
		db_bind_int(upd, 2, (int)c.prefix);
		db_bind_int(upd, 3, db_col_int(sel, 0));
		if ((rc = db_step(upd)) != DB_DONE)
			break;
	}
	db_finalize(sel);
	db_finalize(upd);
	return rc == DB_DONE ? DB_OK : rc;
}

/* ---- insert ---- */

static void
bind_field(struct dbst *st, int i, const struct device_field *f, struct device *d)
{
	switch (f->kind) {
	case DEVICE_KIND_ID:
	case DEVICE_KIND_TIME:
	case DEVICE_KIND_COUNT:
		db_bind_int(st, i, *device_int(d, f));
		break;
	case DEVICE_KIND_STATUS:
		db_bind_text(st, i, device_status_name(*device_status_of(d, f)));
		break;
	case DEVICE_KIND_BOOL:
		db_bind_int(st, i, *device_bool(d, f));
		break;
	case DEVICE_KIND_ADDRESS:
	case DEVICE_KIND_TEXT:
		db_bind_text(st, i, device_text(d, f));
		break;
	}
}

enum outcome
devrows_insert(struct registry *r, struct device *d, char *err, size_t errlen)
{
	struct buf sql;
	struct dbst *st;
	int rc, n = 0;

	buf_init(&sql, SQL_MAX);
	buf_puts(&sql, "INSERT INTO devices (");
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].flags & DEVICE_INSERT)
			buf_printf(&sql, "%s, ", device_fields[i].column), n++;
	buf_puts(&sql, "net, prefix) VALUES (");
	for (int i = 0; i < n; i++)
		buf_puts(&sql, "?, ");
	buf_puts(&sql, "?, ?) RETURNING id");
	rc = db_prepare(r, buf_cstr(&sql), &st);
	buf_free(&sql);
	if (rc != DB_OK)
		return db_error(r, rc, "add", err, errlen);
	n = 0;
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].flags & DEVICE_INSERT)
			bind_field(st, ++n, &device_fields[i], d);
	bind_net(st, n + 1, &d->net, d->net.prefix);
	db_bind_int(st, n + 2, (int)d->net.prefix);
	if ((rc = db_step(st)) == DB_ROW)
		d->id = db_col_int(st, 0);
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : db_error(r, rc, "add", err, errlen);
}

/* ---- reading many ---- */

enum outcome
devrows_each_row(struct registry *r, struct dbst *st, devrows_fn fn, void *arg, char *err,
                 size_t errlen)
{
	struct device *d = xmalloc(sizeof(*d));
	int rc;

	while ((rc = db_step(st)) == DB_ROW) {
		devrows_read(st, d);
		if (!fn(d, arg)) {
			rc = DB_DONE;
			break;
		}
	}
	db_finalize(st);
	free(d);
	return rc == DB_DONE ? OUT_OK : db_error(r, rc, "query", err, errlen);
}

enum outcome
devrows_each(struct registry *r, const char *tail, const int64_t *param, devrows_fn fn, void *arg,
             char *err, size_t errlen)
{
	char sql[SQL_MAX];
	struct dbst *st;
	int rc;

	str_fmt(sql, sizeof(sql), "%s%s", r->select, tail);
	if ((rc = db_prepare(r, sql, &st)) != DB_OK)
		return db_error(r, rc, "query", err, errlen);
	if (param)
		db_bind_int(st, 1, *param);
	return devrows_each_row(r, st, fn, arg, err, errlen);
}

/* The last address inside the first p bits of lo (len bytes) into hi. */
static void
net_last(const uint8_t *lo, size_t len, unsigned p, uint8_t *hi)
{
	memcpy(hi, lo, len);
	for (size_t i = 0; i < len; i++)
		hi[i] |= p >= 8 * (i + 1) ? 0 : (uint8_t)(0xff >> (p > 8 * i ? p - 8 * i : 0));
}

enum outcome
devrows_each_related(struct registry *r, const struct cidr *c, bool inside_too, devrows_fn fn,
                     void *arg, char *err, size_t errlen)
{
	char sql[SQL_MAX];
	struct dbst *st;
	struct device *d = xmalloc(sizeof(*d));
	unsigned max = c->family == AF_INET ? 32 : 128;
	uint8_t lo[16], hi[16];
	size_t len;
	bool go = true;
	int rc;

	/* Point lookups of each shorter prefix, and one range of the index. */
	str_fmt(sql, sizeof(sql),
	        "%s WHERE (net = ?1 AND prefix = ?2) OR (?3 = 1 AND prefix > ?2 AND net >= ?1 AND"
	        " net <= ?4 AND length(net) = length(?1))",
	        r->select);
	if ((rc = db_prepare(r, sql, &st)) != DB_OK) {
		free(d);
		return db_error(r, rc, "query", err, errlen);
	}
	for (unsigned p = 0; p <= c->prefix && p <= max && go && (rc == DB_OK || rc == DB_DONE);
	     p++) {
		net_bytes(c, p, lo, &len);
		net_last(lo, len, p, hi);
		db_reset(st);
		db_bind_blob(st, 1, lo, len);
		db_bind_int(st, 2, (int)p);
		db_bind_int(st, 3, inside_too && p == c->prefix);
		db_bind_blob(st, 4, hi, len);
		while (go && (rc = db_step(st)) == DB_ROW) {
			devrows_read(st, d);
			go = fn(d, arg);
		}
	}
	db_finalize(st);
	free(d);
	if (rc != DB_DONE && rc != DB_ROW)
		return db_error(r, rc, "query", err, errlen);
	return OUT_OK;
}
