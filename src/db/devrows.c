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
read_field(sqlite3_stmt *st, int i, const struct device_field *f, struct device *d)
{
	char status[16];

	switch (f->kind) {
	case DEVICE_KIND_ID:
	case DEVICE_KIND_TIME:
	case DEVICE_KIND_COUNT:
		*device_int(d, f) = sqlite3_column_int64(st, i);
		break;
	case DEVICE_KIND_STATUS:
		db_col_text(st, i, status, sizeof(status));
		device_status_parse(status, device_status_of(d, f));
		break;
	case DEVICE_KIND_BOOL:
		*device_bool(d, f) = sqlite3_column_int(st, i) != 0;
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
devrows_read(sqlite3_stmt *st, struct device *d)
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
bind_net(sqlite3_stmt *st, int i, const struct cidr *c, unsigned prefix)
{
	uint8_t b[16];
	size_t len;

	net_bytes(c, prefix, b, &len);
	sqlite3_bind_blob(st, i, b, (int)len, SQLITE_TRANSIENT);
}

int
devrows_fill_nets(struct registry *r)
{
	sqlite3_stmt *sel, *upd;
	int rc = sqlite3_prepare_v2(r->db, "SELECT id, address FROM devices WHERE net IS NULL", -1,
	                            &sel, NULL);

	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_prepare_v2(r->db, "UPDATE devices SET net = ?, prefix = ? WHERE id = ?",
	                             -1, &upd, NULL)) != SQLITE_OK) {
		sqlite3_finalize(sel);
		return rc;
	}
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		struct cidr c;
		const unsigned char *a = sqlite3_column_text(sel, 1);

		if (a == NULL || !cidr_parse((const char *)a, &c))
			continue;
		sqlite3_reset(upd);
		bind_net(upd, 1, &c, c.prefix);
		sqlite3_bind_int(upd, 2, (int)c.prefix);
		sqlite3_bind_int64(upd, 3, sqlite3_column_int64(sel, 0));
		if ((rc = sqlite3_step(upd)) != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- insert ---- */

static void
bind_field(sqlite3_stmt *st, int i, const struct device_field *f, struct device *d)
{
	switch (f->kind) {
	case DEVICE_KIND_ID:
	case DEVICE_KIND_TIME:
	case DEVICE_KIND_COUNT:
		sqlite3_bind_int64(st, i, *device_int(d, f));
		break;
	case DEVICE_KIND_STATUS:
		db_bind_text(st, i, device_status_name(*device_status_of(d, f)));
		break;
	case DEVICE_KIND_BOOL:
		sqlite3_bind_int(st, i, *device_bool(d, f));
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
	sqlite3_stmt *st;
	int rc, n = 0;

	buf_init(&sql, SQL_MAX);
	buf_puts(&sql, "INSERT INTO devices (");
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].flags & DEVICE_INSERT)
			buf_printf(&sql, "%s, ", device_fields[i].column), n++;
	buf_puts(&sql, "net, prefix) VALUES (");
	for (int i = 0; i < n; i++)
		buf_puts(&sql, "?, ");
	buf_puts(&sql, "?, ?)");
	rc = sqlite3_prepare_v2(r->db, buf_cstr(&sql), -1, &st, NULL);
	buf_free(&sql);
	if (rc != SQLITE_OK)
		return db_error(r, rc, "add", err, errlen);
	n = 0;
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].flags & DEVICE_INSERT)
			bind_field(st, ++n, &device_fields[i], d);
	bind_net(st, n + 1, &d->net, d->net.prefix);
	sqlite3_bind_int(st, n + 2, (int)d->net.prefix);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(r, rc, "add", err, errlen);
	d->id = sqlite3_last_insert_rowid(r->db);
	return OUT_OK;
}

/* ---- reading many ---- */

enum outcome
devrows_each_row(struct registry *r, sqlite3_stmt *st, devrows_fn fn, void *arg, char *err,
                 size_t errlen)
{
	struct device *d = xmalloc(sizeof(*d));
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		devrows_read(st, d);
		if (!fn(d, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	free(d);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "query", err, errlen);
}

enum outcome
devrows_each(struct registry *r, const char *tail, const int64_t *param, devrows_fn fn, void *arg,
             char *err, size_t errlen)
{
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int rc;

	str_fmt(sql, sizeof(sql), "%s%s", r->select, tail);
	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return db_error(r, rc, "query", err, errlen);
	if (param)
		sqlite3_bind_int64(st, 1, *param);
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
	sqlite3_stmt *st;
	struct device *d = xmalloc(sizeof(*d));
	unsigned max = c->family == AF_INET ? 32 : 128;
	uint8_t lo[16], hi[16];
	size_t len;
	bool go = true;
	int rc;

	/* Point lookups of each shorter prefix, and one range of the index. */
	str_fmt(sql, sizeof(sql),
	        "%s WHERE (net = ?1 AND prefix = ?2) OR (?3 AND prefix > ?2 AND net >= ?1 AND"
	        " net <= ?4 AND length(net) = length(?1))",
	        r->select);
	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK) {
		free(d);
		return db_error(r, rc, "query", err, errlen);
	}
	for (unsigned p = 0; p <= c->prefix && p <= max && go && rc != SQLITE_ERROR; p++) {
		net_bytes(c, p, lo, &len);
		net_last(lo, len, p, hi);
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, lo, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, (int)p);
		sqlite3_bind_int(st, 3, inside_too && p == c->prefix);
		sqlite3_bind_blob(st, 4, hi, (int)len, SQLITE_TRANSIENT);
		while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			devrows_read(st, d);
			go = fn(d, arg);
		}
	}
	sqlite3_finalize(st);
	free(d);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(r, rc, "query", err, errlen);
	return OUT_OK;
}
