#include "db/copy.h"

#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "device.h"
#include "util/buf.h"
#include "util/str.h"

#define SQL_MAX  4096
#define BLOB_MAX 64

/* A table's columns and their kinds: i integer, t text, b bytes. */
struct table {
	const char *name;
	const char *columns; /* NULL: the devices table, from device_fields[] */
	const char *kinds;
};

static const struct table tables[COPY_TABLES] = {
    {"devices", NULL, NULL},
    {"history", "id, device_id, at, actor, action, detail", "iiittt"},
    {"client_tls", "day, client, listener, tls, sessions, messages, refused, last_seen",
     "itttiiii"},
    {"recent_sessions", "id, client, at, listener, tls, result", "itittt"},
    {"auth_stats", "hour, client, \"user\", failures, successes, messages, recipients, last_seen",
     "ittiiiii"},
    {"notices", "key, at, recipient, what", "titt"},
    {"keys", "name, value", "tb"},
};

static char
field_kind(const struct device_field *f)
{
	switch (f->kind) {
	case DEVICE_KIND_ID:
	case DEVICE_KIND_TIME:
	case DEVICE_KIND_COUNT:
	case DEVICE_KIND_BOOL:
		return 'i';
	default:
		return 't';
	}
}

/* The devices table's columns and kinds, as the registry stores them. */
static void
devices_columns(char *cols, size_t cols_size, char *kinds, size_t kinds_size)
{
	struct buf b;
	size_t i;

	buf_init(&b, SQL_MAX);
	for (i = 0; i < device_n_fields && i + 3 < kinds_size; i++) {
		buf_printf(&b, "%s, ", device_fields[i].column);
		kinds[i] = field_kind(&device_fields[i]);
	}
	buf_puts(&b, "net, prefix");
	str_copy(kinds + i, kinds_size - i, "bi");
	str_copy(cols, cols_size, buf_cstr(&b));
	buf_free(&b);
}

static void
copy_value(struct dbst *from, struct dbst *to, int i, char kind)
{
	unsigned char blob[BLOB_MAX];
	size_t len;

	if (kind == 'i')
		db_bind_int(to, i + 1, db_col_int(from, i));
	else if (kind == 't')
		db_bind_text(to, i + 1, db_col_str(from, i));
	else if (db_col_bytes(from, i, blob, sizeof(blob), &len))
		db_bind_blob(to, i + 1, blob, len);
	else
		db_bind_null(to, i + 1);
}

/* Every row of one table. */
static enum outcome
copy_table(struct registry *from, struct registry *to, const char *name, const char *cols,
           const char *kinds, size_t *rows, char *err, size_t errlen)
{
	char sql[SQL_MAX];
	struct dbst *sel, *ins;
	size_t n = strlen(kinds);
	enum outcome o = OUT_OK;
	int rc;

	str_fmt(sql, sizeof(sql), "SELECT %s FROM %s", cols, name);
	if ((rc = db_prepare(from, sql, &sel)) != DB_OK)
		return db_error(from, rc, name, err, errlen);
	str_fmt(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (", name, cols);
	for (size_t i = 0; i < n; i++)
		str_fmt(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s?", i ? ", " : "");
	str_fmt(sql + strlen(sql), sizeof(sql) - strlen(sql), ")");
	if ((rc = db_prepare(to, sql, &ins)) != DB_OK) {
		db_finalize(sel);
		return db_error(to, rc, name, err, errlen);
	}
	while (o == OUT_OK && (rc = db_step(sel)) == DB_ROW) {
		db_reset(ins);
		for (size_t i = 0; i < n; i++)
			copy_value(sel, ins, (int)i, kinds[i]);
		if ((rc = db_step(ins)) != DB_DONE)
			o = db_error(to, rc, name, err, errlen);
		else
			(*rows)++;
	}
	if (o == OUT_OK && rc != DB_DONE)
		o = db_error(from, rc, name, err, errlen);
	db_finalize(sel);
	db_finalize(ins);
	return o;
}

/* Ids go on after the highest copied (registration ids are never reused). */
static enum outcome
continue_ids(struct registry *to, char *err, size_t errlen)
{
	static const char *const pg =
	    "SELECT setval(pg_get_serial_sequence('devices', 'id'), greatest(1, (SELECT"
	    " max(id) FROM (SELECT max(id) AS id FROM devices UNION SELECT max(device_id)"
	    " FROM history) AS ids)));"
	    "SELECT setval(pg_get_serial_sequence('history', 'id'),"
	    " greatest(1, (SELECT max(id) FROM history)));"
	    "SELECT setval(pg_get_serial_sequence('recent_sessions', 'id'),"
	    " greatest(1, (SELECT max(id) FROM recent_sessions)))";
	static const char *const lite =
	    "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(id), 0) FROM devices),"
	    " (SELECT coalesce(max(device_id), 0) FROM history)) WHERE name = 'devices'";
	int rc = db_exec(to, to->pg ? pg : lite);

	return rc == DB_OK ? OUT_OK : db_error(to, rc, "ids", err, errlen);
}

enum outcome
registry_copy(struct registry *from, struct registry *to, struct copy_count counts[COPY_TABLES],
              char *err, size_t errlen)
{
	char cols[SQL_MAX], kinds[128];
	int64_t n = 0;
	enum outcome o;

	if ((o = db_begin(to, err, errlen)) != OUT_OK)
		return o;
	o = db_query_int(to,
	                 "SELECT (SELECT count(*) FROM devices) + (SELECT count(*) FROM history)",
	                 NULL, &n, "count", err, errlen);
	if (o == OUT_OK && n > 0) {
		str_copy(err, errlen, "registry copy: the target already holds registrations");
		o = OUT_PERMFAIL;
	}
	for (size_t t = 0; t < COPY_TABLES && o == OUT_OK; t++) {
		const struct table *tb = &tables[t];
		counts[t].table = tb->name;
		counts[t].rows = 0;
		if (tb->columns == NULL)
			devices_columns(cols, sizeof(cols), kinds, sizeof(kinds));
		o = copy_table(from, to, tb->name, tb->columns ? tb->columns : cols,
		               tb->columns ? tb->kinds : kinds, &counts[t].rows, err, errlen);
	}
	if (o == OUT_OK)
		o = continue_ids(to, err, errlen);
	return db_finish(to, o, err, errlen);
}
