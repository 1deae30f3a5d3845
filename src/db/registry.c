#include "db/registry.h"

#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/isodate.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct registry {
	sqlite3 *db;
};

/* The columns after id of the devices table as schema 1 made it; schema 4
 * rebuilt the table with the same columns (and AUTOINCREMENT). */
#define DEVICES_V1_COLUMNS                                                                         \
	" address TEXT NOT NULL,"                                                                  \
	" name TEXT NOT NULL, manufacturer TEXT NOT NULL DEFAULT '',"                              \
	" model TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',"                      \
	" owner_name TEXT NOT NULL DEFAULT '', owner_email TEXT NOT NULL,"                         \
	" org_unit TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"                     \
	" replacement TEXT NOT NULL DEFAULT '',"                                                   \
	" status TEXT NOT NULL CHECK (status IN"                                                   \
	"  ('pending','approved','rejected','expired','revoked')),"                                \
	" legacy_tls INTEGER NOT NULL DEFAULT 0,"                                                  \
	" expires TEXT NOT NULL DEFAULT '', expires_at INTEGER NOT NULL DEFAULT 0,"                \
	" created_at INTEGER NOT NULL, decided_at INTEGER NOT NULL DEFAULT 0,"                     \
	" decided_by TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',"                     \
	" first_seen INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"            \
	" session_count INTEGER NOT NULL DEFAULT 0, message_count INTEGER NOT NULL DEFAULT 0,"     \
	" last_tls TEXT NOT NULL DEFAULT '', last_listener TEXT NOT NULL DEFAULT ''"

/* Each entry moves the schema from version i to i + 1. Never edit one that
 * has shipped: add the next. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE devices ("
    " id INTEGER PRIMARY KEY," DEVICES_V1_COLUMNS ");"
    "CREATE INDEX devices_status ON devices(status);"
    "CREATE TABLE history ("
    " id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, at INTEGER NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX history_device ON history(device_id);",
    /* 1 -> 2: who sends how, for `mailoutctl report tls` */
    "CREATE TABLE client_tls ("
    " day INTEGER NOT NULL, client TEXT NOT NULL, listener TEXT NOT NULL, tls TEXT NOT NULL,"
    " sessions INTEGER NOT NULL DEFAULT 0, messages INTEGER NOT NULL DEFAULT 0,"
    " refused INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (day, client, listener, tls));",
    /* 2 -> 3: the last sessions of each client, for device operators */
    "CREATE TABLE recent_sessions (id INTEGER PRIMARY KEY, client TEXT NOT NULL,"
    " at INTEGER NOT NULL, listener TEXT NOT NULL, tls TEXT NOT NULL, result TEXT NOT NULL);"
    "CREATE INDEX recent_client ON recent_sessions(client, id);"
    "CREATE INDEX recent_at ON recent_sessions(at);",
    /* 3 -> 4: registration ids are unique forever (AUTOINCREMENT, counting
     * from the highest id the history ever named, removed devices too);
     * net and prefix (the network's address bytes, host bits zero) make the
     * lookups by address indexed (fill_nets() writes them for old rows);
     * meta.devices_version changes with what a worker's snapshot holds (not
     * with the usage counters), so the workers rebuild only then, and
     * admit_version with what can admit or refuse a device (an approval
     * added, changed or taken back), the changes a new connection waits
     * for; new pending registrations do not make it wait. */
    "CREATE TABLE devices4 ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," DEVICES_V1_COLUMNS ","
    " net BLOB, prefix INTEGER NOT NULL DEFAULT -1);"
    "INSERT INTO devices4 SELECT *, NULL, -1 FROM devices;"
    "DROP TABLE devices;"
    "ALTER TABLE devices4 RENAME TO devices;"
    "CREATE INDEX devices_status ON devices(status);"
    "CREATE INDEX devices_net ON devices(net, prefix);"
    "CREATE INDEX devices_address ON devices(address);"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'devices', 0 WHERE NOT EXISTS"
    " (SELECT 1 FROM sqlite_sequence WHERE name = 'devices');"
    "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(device_id), 0)"
    " FROM history)) WHERE name = 'devices';"
    "CREATE TABLE meta (devices_version INTEGER NOT NULL, admit_version INTEGER NOT NULL);"
    "INSERT INTO meta VALUES (0, 0);"
    "CREATE TRIGGER devices_added AFTER INSERT ON devices BEGIN UPDATE meta SET"
    " devices_version = devices_version + 1,"
    " admit_version = admit_version + (NEW.status = 'approved'); END;"
    "CREATE TRIGGER devices_removed AFTER DELETE ON devices BEGIN UPDATE meta SET"
    " devices_version = devices_version + 1,"
    " admit_version = admit_version + (OLD.status = 'approved'); END;"
    "CREATE TRIGGER devices_changed AFTER UPDATE OF address, status, legacy_tls, expires,"
    " expires_at, note ON devices BEGIN UPDATE meta SET"
    " devices_version = devices_version + 1,"
    " admit_version = admit_version + (OLD.status = 'approved' OR NEW.status = 'approved');"
    " END;",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == REGISTRY_SCHEMA_VERSION, "a migration per schema version");

#define DEVICE_COLUMNS                                                                             \
	"id, address, name, manufacturer, model, location, owner_name, owner_email, org_unit, "    \
	"reason, replacement, status, legacy_tls, expires, expires_at, created_at, decided_at, "   \
	"decided_by, note, first_seen, last_seen, session_count, message_count, last_tls, "        \
	"last_listener"

static const char *const status_names[DEVICE_NSTATUS] = {"pending", "approved", "rejected",
                                                         "expired", "revoked"};

const char *
device_status_name(enum device_status s)
{
	return (unsigned)s < DEVICE_NSTATUS ? status_names[s] : "?";
}

bool
device_status_parse(const char *s, enum device_status *out)
{
	for (int i = 0; i < DEVICE_NSTATUS; i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum device_status)i;
			return true;
		}
	}
	return false;
}

enum device_status
device_status_at(const struct device *d, int64_t now)
{
	if (d->status == DEVICE_APPROVED && d->expires_at && now >= d->expires_at)
		return DEVICE_EXPIRED;
	return d->status;
}

int
device_rank(enum device_status st, int64_t expires_at, int64_t now)
{
	switch (st) {
	case DEVICE_APPROVED:
		return expires_at == 0 || now < expires_at ? 0 : 2;
	case DEVICE_PENDING:
		return 1;
	case DEVICE_EXPIRED:
		return 2;
	case DEVICE_REVOKED:
		return 3;
	default:
		return 4;
	}
}

/* SQLITE_BUSY/LOCKED/IOERR/FULL are "try later"; the rest is a definite no. */
static enum outcome
db_error(struct registry *r, int rc, const char *what, char *err, size_t errlen)
{
	str_fmt(err, errlen, "registry: %s: %s", what, sqlite3_errmsg(r->db));
	rc &= 0xff;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR || rc == SQLITE_FULL ||
	    rc == SQLITE_CANTOPEN)
		return OUT_TEMPFAIL;
	return OUT_PERMFAIL;
}

static int
exec(struct registry *r, const char *sql)
{
	return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

static int
user_version(struct registry *r, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static void net_bytes(const struct cidr *, unsigned prefix, uint8_t out[16], size_t *len);
static void bind_net(sqlite3_stmt *, int i, const struct cidr *, unsigned prefix);

/* Schema 4 indexes each registration by its network: write it for rows an
 * earlier schema made. */
static int
fill_nets(struct registry *r)
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

static bool
migrate(struct registry *r, char *err, size_t errlen)
{
	int v, rc;
	char sql[64];

	/* Current already (the usual case): no write lock, so processes
	 * opening the registry at the same moment do not collide. */
	if (user_version(r, &v) == SQLITE_OK && v == (int)N_MIGRATIONS)
		return true;
	if ((rc = exec(r, "BEGIN IMMEDIATE")) != SQLITE_OK) {
		db_error(r, rc, "begin migration", err, errlen);
		return false;
	}
	if ((rc = user_version(r, &v)) != SQLITE_OK)
		goto fail;
	if (v > (int)N_MIGRATIONS) {
		str_fmt(err, errlen, "registry: schema version %d is newer than this mailout (%zu)",
		        v, N_MIGRATIONS);
		exec(r, "ROLLBACK");
		return false;
	}
	for (; v < (int)N_MIGRATIONS; v++)
		if ((rc = exec(r, migrations[v])) != SQLITE_OK ||
		    (v == 3 && (rc = fill_nets(r)) != SQLITE_OK))
			goto fail;
	str_fmt(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	if ((rc = exec(r, sql)) != SQLITE_OK || (rc = exec(r, "COMMIT")) != SQLITE_OK)
		goto fail;
	return true;
fail:
	db_error(r, rc, "migration", err, errlen);
	exec(r, "ROLLBACK");
	return false;
}

struct registry *
registry_open(const char *path, int busy_ms, char *err, size_t errlen)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	int rc = sqlite3_open_v2(
	    path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		str_fmt(err, errlen, "registry %s: %s", path,
		        r->db ? sqlite3_errmsg(r->db) : "cannot open");
		registry_close(r);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, busy_ms);
	if ((rc = exec(r, "PRAGMA journal_mode = WAL")) != SQLITE_OK ||
	    (rc = exec(r, "PRAGMA synchronous = NORMAL")) != SQLITE_OK) {
		db_error(r, rc, path, err, errlen);
		registry_close(r);
		return NULL;
	}
	if (!migrate(r, err, errlen)) {
		registry_close(r);
		return NULL;
	}
	return r;
}

void
registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r);
}

enum outcome
registry_data_version(struct registry *r, int64_t *version)
{
	sqlite3_stmt *st;
	char err[128];
	int rc = sqlite3_prepare_v2(r->db, "PRAGMA data_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "data_version", err, sizeof(err));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : OUT_TEMPFAIL;
}

static int exec_bound(struct registry *, const char *sql, const char *a, int64_t b);

enum outcome
registry_devices_version(struct registry *r, int64_t *devices, int64_t *admit)
{
	sqlite3_stmt *st;
	char err[128];
	int rc = sqlite3_prepare_v2(r->db, "SELECT devices_version, admit_version FROM meta", -1,
	                            &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "devices_version", err, sizeof(err));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*devices = sqlite3_column_int64(st, 0);
		*admit = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : OUT_TEMPFAIL;
}

void
registry_set_busy(struct registry *r, int busy_ms)
{
	sqlite3_busy_timeout(r->db, busy_ms);
}

/* ---- networks ---- */

static void read_device(sqlite3_stmt *, struct device *);

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

/* fn for each registration whose network covers c (prefix <= c's) or lies
 * inside it: point lookups of each shorter prefix and one range of the
 * index, never a scan of the table. */
static enum outcome
each_related(struct registry *r, const struct cidr *c, bool inside_too,
             bool (*fn)(const struct device *, void *), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct device *d = xmalloc(sizeof(*d));
	unsigned max = c->family == AF_INET ? 32 : 128;
	uint8_t lo[16], hi[16];
	size_t len;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    "SELECT " DEVICE_COLUMNS " FROM devices WHERE (net = ?1 AND prefix = ?2)"
	    " OR (?3 AND prefix > ?2 AND net >= ?1 AND net <= ?4 AND length(net) = length(?1))",
	    -1, &st, NULL);
	bool go = true;

	if (rc != SQLITE_OK) {
		free(d);
		return db_error(r, rc, "query", err, errlen);
	}
	for (unsigned p = 0; p <= c->prefix && p <= max && go && rc != SQLITE_ERROR; p++) {
		net_bytes(c, p, lo, &len);
		memcpy(hi, lo, len);
		for (size_t i = 0; i < len; i++) /* the last address inside c */
			hi[i] |=
			    p >= 8 * (i + 1) ? 0 : (uint8_t)(0xff >> (p > 8 * i ? p - 8 * i : 0));
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, lo, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, (int)p);
		sqlite3_bind_int(st, 3, inside_too && p == c->prefix);
		sqlite3_bind_blob(st, 4, hi, (int)len, SQLITE_TRANSIENT);
		while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			read_device(st, d);
			go = fn(d, arg);
		}
	}
	sqlite3_finalize(st);
	free(d);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(r, rc, "query", err, errlen);
	return OUT_OK;
}

/* ---- rows ---- */

static void
col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	str_copy(dst, size, t ? (const char *)t : "");
}

static void
read_device(sqlite3_stmt *st, struct device *d)
{
	char status[16];

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, d->address, sizeof(d->address));
	cidr_parse(d->address, &d->net);
	col_text(st, 2, d->name, sizeof(d->name));
	col_text(st, 3, d->manufacturer, sizeof(d->manufacturer));
	col_text(st, 4, d->model, sizeof(d->model));
	col_text(st, 5, d->location, sizeof(d->location));
	col_text(st, 6, d->owner_name, sizeof(d->owner_name));
	col_text(st, 7, d->owner_email, sizeof(d->owner_email));
	col_text(st, 8, d->org_unit, sizeof(d->org_unit));
	col_text(st, 9, d->reason, sizeof(d->reason));
	col_text(st, 10, d->replacement, sizeof(d->replacement));
	col_text(st, 11, status, sizeof(status));
	device_status_parse(status, &d->status);
	d->legacy_tls = sqlite3_column_int(st, 12) != 0;
	col_text(st, 13, d->expires, sizeof(d->expires));
	d->expires_at = sqlite3_column_int64(st, 14);
	d->created_at = sqlite3_column_int64(st, 15);
	d->decided_at = sqlite3_column_int64(st, 16);
	col_text(st, 17, d->decided_by, sizeof(d->decided_by));
	col_text(st, 18, d->note, sizeof(d->note));
	d->first_seen = sqlite3_column_int64(st, 19);
	d->last_seen = sqlite3_column_int64(st, 20);
	d->session_count = sqlite3_column_int64(st, 21);
	d->message_count = sqlite3_column_int64(st, 22);
	col_text(st, 23, d->last_tls, sizeof(d->last_tls));
	col_text(st, 24, d->last_listener, sizeof(d->last_listener));
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
add_history(struct registry *r, int64_t id, const char *actor, const char *action,
            const char *detail)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db,
	                            "INSERT INTO history (device_id, at, actor, action, detail) "
	                            "VALUES (?, ?, ?, ?, ?)",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clock_now());
	bind_text(st, 3, actor);
	bind_text(st, 4, action);
	bind_text(st, 5, detail ? detail : "");
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* fn for each device row of the prepared st (until it returns false);
 * finalizes st. */
static enum outcome
each_row(struct registry *r, sqlite3_stmt *st, bool (*fn)(const struct device *, void *),
         void *arg, char *err, size_t errlen)
{
	struct device *d = xmalloc(sizeof(*d));
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_device(st, d);
		if (!fn(d, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	free(d);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "query", err, errlen);
}

/* Run fn on every device row of sql (one optional int64 parameter). */
static enum outcome
for_each(struct registry *r, const char *sql, const int64_t *param,
         bool (*fn)(const struct device *, void *), void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "query", err, errlen);
	if (param)
		sqlite3_bind_int64(st, 1, *param);
	return each_row(r, st, fn, arg, err, errlen);
}

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

static enum outcome
insert_device(struct registry *r, struct device *d, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    "INSERT INTO devices (address, name, manufacturer, model, location, owner_name, "
	    "owner_email, org_unit, reason, replacement, status, legacy_tls, expires, "
	    "expires_at, created_at, decided_at, decided_by, net, prefix) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "add", err, errlen);
	const char *texts[] = {d->address,
	                       d->name,
	                       d->manufacturer,
	                       d->model,
	                       d->location,
	                       d->owner_name,
	                       d->owner_email,
	                       d->org_unit,
	                       d->reason,
	                       d->replacement,
	                       device_status_name(d->status)};
	for (int i = 0; i < 11; i++)
		bind_text(st, i + 1, texts[i]);
	sqlite3_bind_int(st, 12, d->legacy_tls);
	bind_text(st, 13, d->expires);
	sqlite3_bind_int64(st, 14, d->expires_at);
	sqlite3_bind_int64(st, 15, d->created_at);
	sqlite3_bind_int64(st, 16, d->decided_at);
	bind_text(st, 17, d->decided_by);
	bind_net(st, 18, &d->net, d->net.prefix);
	sqlite3_bind_int(st, 19, (int)d->net.prefix);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(r, rc, "add", err, errlen);
	d->id = sqlite3_last_insert_rowid(r->db);
	return OUT_OK;
}

/* Finish a write transaction: commit on success, else roll back. */
static enum outcome
finish(struct registry *r, enum outcome o, char *err, size_t errlen)
{
	int rc;

	if (o != OUT_OK) {
		exec(r, "ROLLBACK");
		return o;
	}
	if ((rc = exec(r, "COMMIT")) != SQLITE_OK) {
		o = db_error(r, rc, "commit", err, errlen);
		exec(r, "ROLLBACK");
	}
	return o;
}

static enum outcome
begin(struct registry *r, char *err, size_t errlen)
{
	int rc = exec(r, "BEGIN IMMEDIATE");

	return rc == SQLITE_OK ? OUT_OK : db_error(r, rc, "begin", err, errlen);
}

/* An expiry that has passed is refused unless forced: the registration
 * would be expired from its first second. */
static bool
expiry_in_future(const char *expires, int64_t at, bool force, char *err, size_t errlen)
{
	if (at == 0 || force || at > clock_now())
		return true;
	str_fmt(err, errlen, "the expiry %s has passed; give a later date (or --force)", expires);
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
	    !expiry_in_future(d->expires, d->expires_at, force, err, errlen))
		return OUT_PERMFAIL;
	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	o = each_related(r, &d->net, true, check_overlap, &oc, err, errlen);
	if (o == OUT_OK && oc.found) {
		str_fmt(err, errlen, "%s registration #%lld (%s, %s)",
		        strcmp(oc.address, d->address) == 0 ? "already registered:"
		                                            : "overlaps the existing",
		        (long long)oc.found, oc.address, device_status_name(oc.status));
		o = OUT_PERMFAIL;
	}
	if (o == OUT_OK)
		o = insert_device(r, d, err, errlen);
	str_fmt(detail, sizeof(detail), "address=%s status=%s expires=%s legacy_tls=%d name=%s",
	        d->address, device_status_name(d->status), d->expires[0] ? d->expires : "-",
	        d->legacy_tls, d->name);
	if (o == OUT_OK && add_history(r, d->id, actor, "add", detail) != SQLITE_OK)
		o = db_error(r, SQLITE_ERROR, "history", err, errlen);
	return finish(r, o, err, errlen);
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
	enum outcome o = for_each(r, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?", &id,
	                          take_first, &c, err, errlen);

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
	c.ss.ss_family = (sa_family_t)host.family;
	if (host.family == AF_INET)
		memcpy(&((struct sockaddr_in *)&c.ss)->sin_addr, host.addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&c.ss)->sin6_addr, host.addr, 16);
	o = each_related(r, &host, false, take_best, &c, err, errlen);
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
	o = each_related(r, &net, false, take_best, &c, err, errlen);
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
	        f->status >= 0 && f->status < DEVICE_NSTATUS ? by_status[f->status] : "1",
	        f->expiring_before ? "expires_at != 0 AND expires_at <= :eb" : "1",
	        p && p->after_id ? (p->is_newest_first ? "id < :after" : "id > :after") : "1");
}

static void
bind_filter(sqlite3_stmt *st, const struct device_filter *f, const struct device_page *p)
{
	int i;

	if ((i = sqlite3_bind_parameter_index(st, ":now")) > 0)
		sqlite3_bind_int64(st, i, f->now ? f->now : clock_now());
	if ((i = sqlite3_bind_parameter_index(st, ":eb")) > 0)
		sqlite3_bind_int64(st, i, f->expiring_before);
	if ((i = sqlite3_bind_parameter_index(st, ":after")) > 0)
		sqlite3_bind_int64(st, i, p->after_id);
	if ((i = sqlite3_bind_parameter_index(st, ":limit")) > 0)
		sqlite3_bind_int64(st, i, p->limit ? (int64_t)p->limit : -1);
	if ((i = sqlite3_bind_parameter_index(st, ":offset")) > 0)
		sqlite3_bind_int64(st, i, (int64_t)p->offset);
}

enum outcome
registry_page(struct registry *r, const struct device_filter *f, const struct device_page *p,
              bool (*fn)(const struct device *, void *), void *arg, char *err, size_t errlen)
{
	char where[512], sql[1024];
	sqlite3_stmt *st;
	int rc;

	filter_where(f, p, where, sizeof(where));
	str_fmt(sql, sizeof(sql),
	        "SELECT " DEVICE_COLUMNS " FROM devices %s ORDER BY id %s "
	        "LIMIT :limit OFFSET :offset",
	        where, p->is_newest_first ? "DESC" : "ASC");
	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return db_error(r, rc, "query", err, errlen);
	bind_filter(st, f, p);
	return each_row(r, st, fn, arg, err, errlen);
}

enum outcome
registry_count(struct registry *r, const struct device_filter *f, int64_t *n, char *err,
               size_t errlen)
{
	struct device_page p = {0};
	char where[512], sql[640];
	sqlite3_stmt *st;
	int rc;

	filter_where(f, NULL, where, sizeof(where));
	str_fmt(sql, sizeof(sql), "SELECT COUNT(*) FROM devices %s", where);
	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return db_error(r, rc, "count", err, errlen);
	bind_filter(st, f, &p);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : db_error(r, rc, "count", err, errlen);
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
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    from ? "SELECT COUNT(*) FROM devices d JOIN history h ON h.device_id = d.id AND"
	           " h.action = 'add' WHERE d.status = 'pending' AND h.actor = ?"
	         : "SELECT COUNT(*) FROM devices WHERE status = 'pending'",
	    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "count", err, errlen);
	if (from)
		bind_text(st, 1, from);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? OUT_OK : db_error(r, rc, "count", err, errlen);
}

enum outcome
registry_each_brief(struct registry *r, bool (*fn)(const struct device_brief *, void *), void *arg,
                    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct device_brief b;
	char status[16];
	int rc = sqlite3_prepare_v2(r->db,
	                            "SELECT id, address, status, legacy_tls, expires, expires_at,"
	                            " note FROM devices ORDER BY id",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "query", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char address[CIDR_STR_MAX];

		memset(&b, 0, sizeof(b));
		b.id = sqlite3_column_int64(st, 0);
		col_text(st, 1, address, sizeof(address));
		col_text(st, 2, status, sizeof(status));
		if (!cidr_parse(address, &b.net) || !device_status_parse(status, &b.status))
			continue; /* not ours to judge: registry_add() never writes such a row */
		b.legacy_tls = sqlite3_column_int(st, 3) != 0;
		col_text(st, 4, b.expires, sizeof(b.expires));
		b.expires_at = sqlite3_column_int64(st, 5);
		col_text(st, 6, b.note, sizeof(b.note));
		if (!fn(&b, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "query", err, errlen);
}

/* ---- changes ---- */

static enum outcome
update_status(struct registry *r, int64_t id, const struct decision *dc, int64_t expires_at,
              char *err, size_t errlen)
{
	const char *expires = dc->expires, *note = dc->note;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    "UPDATE devices SET status = ?, decided_at = ?, decided_by = ?, note = ?,"
	    " expires = CASE WHEN ? = '' THEN expires ELSE ? END,"
	    " expires_at = CASE WHEN ? = '' THEN expires_at ELSE ? END,"
	    " legacy_tls = CASE WHEN ? < 0 THEN legacy_tls ELSE ? END WHERE id = ?",
	    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "update", err, errlen);
	bind_text(st, 1, device_status_name(dc->to));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clock_now());
	bind_text(st, 3, dc->actor);
	bind_text(st, 4, note ? note : "");
	bind_text(st, 5, expires ? expires : "");
	bind_text(st, 6, expires ? expires : "");
	bind_text(st, 7, expires ? expires : "");
	sqlite3_bind_int64(st, 8, expires_at);
	sqlite3_bind_int(st, 9, dc->legacy_tls);
	sqlite3_bind_int(st, 10, dc->legacy_tls);
	sqlite3_bind_int64(st, 11, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "update", err, errlen);
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
	const char *e = dc->expires, *n = dc->note;

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
	     !expiry_in_future(dc->expires, at, dc->force, err, errlen)))
		return OUT_PERMFAIL;
	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	o = registry_get(r, id, &d, err, errlen);
	if (o == OUT_OK)
		o = update_status(r, id, dc, at, err, errlen);
	decision_detail(&d, dc, detail, sizeof(detail));
	if (o == OUT_OK &&
	    add_history(r, id, dc->actor, device_status_name(dc->to), detail) != SQLITE_OK)
		o = db_error(r, SQLITE_ERROR, "history", err, errlen);
	return finish(r, o, err, errlen);
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

enum outcome
registry_remove(struct registry *r, int64_t id, const char *actor, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct device d;
	char detail[512];
	enum outcome o;
	int rc;

	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	if ((o = registry_get(r, id, &d, err, errlen)) != OUT_OK)
		return finish(r, o, err, errlen);
	rc = sqlite3_prepare_v2(r->db, "DELETE FROM devices WHERE id = ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		return finish(r, db_error(r, rc, "remove", err, errlen), err, errlen);
	str_fmt(detail, sizeof(detail), "address=%s status=%s name=%s", d.address,
	        device_status_name(d.status), d.name);
	if (add_history(r, id, actor, "remove", detail) != SQLITE_OK)
		o = db_error(r, SQLITE_ERROR, "history", err, errlen);
	return finish(r, o, err, errlen);
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
	if ((o = begin(r, err, errlen)) != OUT_OK) {
		free(c);
		return o;
	}
	o = for_each(r, "SELECT " DEVICE_COLUMNS " FROM devices WHERE status = 'approved'", NULL,
	             collect_expired, c, err, errlen);
	for (size_t i = 0; o == OUT_OK && i < c->n; i++) {
		struct decision dc = {DEVICE_EXPIRED, NULL, "expiry date passed", -1, false, actor};
		o = update_status(r, c->ids[i], &dc, 0, err, errlen);
		if (o == OUT_OK &&
		    add_history(r, c->ids[i], actor, "expired", "approved -> expired") != SQLITE_OK)
			o = db_error(r, SQLITE_ERROR, "history", err, errlen);
	}
	if (o == OUT_OK)
		*n = (unsigned)c->n;
	free(c);
	return finish(r, o, err, errlen);
}

enum outcome
registry_history(struct registry *r, int64_t id,
                 bool (*fn)(int64_t, const char *, const char *, const char *, void *), void *arg,
                 char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db,
	                            "SELECT at, actor, action, detail FROM history WHERE device_id "
	                            "= ? ORDER BY id",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "history", err, errlen);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!fn(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		        (const char *)sqlite3_column_text(st, 2),
		        (const char *)sqlite3_column_text(st, 3), arg))
			break;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? OUT_OK
	                                             : db_error(r, rc, "history", err, errlen);
}

/* Run one statement for each of n items (bind fills it from item i), in
 * the caller's transaction. */
static enum outcome
run_each(struct registry *r, const char *sql, size_t n,
         void (*bind)(sqlite3_stmt *, const void *items, size_t i), const void *items,
         const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	enum outcome o = OUT_OK;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, what, err, errlen);
	for (size_t i = 0; i < n && o == OUT_OK; i++) {
		sqlite3_reset(st);
		bind(st, items, i);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			o = db_error(r, rc, what, err, errlen);
	}
	sqlite3_finalize(st);
	return o;
}

static void
bind_usage(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct device_usage *u = (const struct device_usage *)items + i;

	sqlite3_bind_int64(st, 1, u->sessions);
	sqlite3_bind_int64(st, 2, u->messages);
	sqlite3_bind_int64(st, 3, u->first_seen);
	sqlite3_bind_int64(st, 4, u->last_seen);
	bind_text(st, 5, u->last_tls);
	bind_text(st, 6, u->last_listener);
	sqlite3_bind_int64(st, 7, u->device_id);
}

enum outcome
registry_add_usage(struct registry *r, const struct device_usage *u, size_t n, char *err,
                   size_t errlen)
{
	enum outcome o;

	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	o = run_each(r,
	             "UPDATE devices SET session_count = session_count + ?,"
	             " message_count = message_count + ?,"
	             " first_seen = CASE WHEN first_seen = 0 THEN ? ELSE first_seen END,"
	             " last_seen = MAX(last_seen, ?), last_tls = ?, last_listener = ? WHERE id = ?",
	             n, bind_usage, u, "usage", err, errlen);
	return finish(r, o, err, errlen);
}

bool
registry_prepare_dir(const char *db, const struct safedir_owner *o, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(db, '/');
	int fd;

	if (slash == NULL)
		str_copy(dir, sizeof(dir), ".");
	else if (!str_copyn(dir, sizeof(dir), db, slash == db ? 1 : (size_t)(slash - db))) {
		str_fmt(err, errlen, "registry path too long: %s", db);
		return false;
	}
	if ((fd = safedir_open(AT_FDCWD, dir, 0750, o, dir, err, errlen)) < 0)
		return false;
	close(fd);
	return true;
}

static void
bind_client_stat(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct client_stat *c = (const struct client_stat *)items + i;

	sqlite3_bind_int64(st, 1, c->day);
	bind_text(st, 2, c->client);
	bind_text(st, 3, c->listener);
	bind_text(st, 4, c->tls);
	sqlite3_bind_int64(st, 5, c->sessions);
	sqlite3_bind_int64(st, 6, c->messages);
	sqlite3_bind_int64(st, 7, c->refused);
	sqlite3_bind_int64(st, 8, c->last_seen);
}

enum outcome
registry_add_client_stats(struct registry *r, const struct client_stat *c, size_t n, char *err,
                          size_t errlen)
{
	enum outcome o;

	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	o = run_each(
	    r,
	    "INSERT INTO client_tls (day, client, listener, tls, sessions, messages, refused,"
	    " last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (day, client, listener, tls) DO UPDATE SET"
	    " sessions = sessions + excluded.sessions, messages = messages + excluded.messages,"
	    " refused = refused + excluded.refused, last_seen = MAX(last_seen, excluded.last_seen)",
	    n, bind_client_stat, c, "client stats", err, errlen);
	return finish(r, o, err, errlen);
}

enum outcome
registry_prune_client_stats(struct registry *r, int64_t before_day, uint64_t max_rows,
                            unsigned long long *n, char *err, size_t errlen)
{
	enum outcome o;
	int rc;

	*n = 0;
	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	rc = exec_bound(r, "DELETE FROM client_tls WHERE day < ?", NULL, before_day);
	*n += (unsigned long long)sqlite3_changes(r->db);
	/* Then the cap: the oldest rows go first. */
	if (rc == SQLITE_DONE)
		rc =
		    exec_bound(r,
		               "DELETE FROM client_tls WHERE rowid IN (SELECT rowid FROM client_tls"
		               " ORDER BY day, last_seen LIMIT max(0, (SELECT COUNT(*) FROM"
		               " client_tls) - ?))",
		               NULL, (int64_t)max_rows);
	*n += rc == SQLITE_DONE ? (unsigned long long)sqlite3_changes(r->db) : 0;
	if (rc != SQLITE_DONE)
		o = db_error(r, rc, "prune", err, errlen);
	return finish(r, o, err, errlen);
}

enum outcome
registry_tls_report(struct registry *r, int64_t since_day,
                    bool (*fn)(const struct client_stat *, void *), void *arg, char *err,
                    size_t errlen)
{
	sqlite3_stmt *st;
	struct client_stat c;
	int rc = sqlite3_prepare_v2(
	    r->db,
	    "SELECT client, listener, tls, SUM(sessions), SUM(messages), SUM(refused),"
	    " MAX(last_seen) FROM client_tls WHERE day >= ? GROUP BY client, listener, tls"
	    " ORDER BY tls <> 'none', tls <> 'handshake-failed', SUM(sessions) DESC, client",
	    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "report", err, errlen);
	sqlite3_bind_int64(st, 1, since_day);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		col_text(st, 0, c.client, sizeof(c.client));
		col_text(st, 1, c.listener, sizeof(c.listener));
		col_text(st, 2, c.tls, sizeof(c.tls));
		c.sessions = sqlite3_column_int64(st, 3);
		c.messages = sqlite3_column_int64(st, 4);
		c.refused = sqlite3_column_int64(st, 5);
		c.last_seen = sqlite3_column_int64(st, 6);
		if (!fn(&c, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "report", err, errlen);
}

/* Run sql with text parameter a (and b when set); SQLITE_DONE or an error. */
static int
exec_bound(struct registry *r, const char *sql, const char *a, int64_t b)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	if (a)
		bind_text(st, 1, a);
	sqlite3_bind_int64(st, a ? 2 : 1, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

static void
bind_recent(sqlite3_stmt *st, const void *items, size_t i)
{
	const struct recent_session *x = (const struct recent_session *)items + i;

	bind_text(st, 1, x->client);
	sqlite3_bind_int64(st, 2, x->at);
	bind_text(st, 3, x->listener);
	bind_text(st, 4, x->tls);
	bind_text(st, 5, x->result);
}

enum outcome
registry_add_recent(struct registry *r, const struct recent_session *s, size_t n, char *err,
                    size_t errlen)
{
	enum outcome o;
	int rc;

	if ((o = begin(r, err, errlen)) != OUT_OK)
		return o;
	o = run_each(r,
	             "INSERT INTO recent_sessions (client, at, listener, tls, result)"
	             " VALUES (?, ?, ?, ?, ?)",
	             n, bind_recent, s, "recent", err, errlen);
	/* Bound the table: per client, and by age. */
	for (size_t i = 0; i < n && o == OUT_OK; i++) {
		rc = exec_bound(
		    r,
		    "DELETE FROM recent_sessions WHERE client = ?1 AND id <= (SELECT id FROM"
		    " recent_sessions WHERE client = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
		    s[i].client, RECENT_PER_CLIENT);
		if (rc != SQLITE_DONE)
			o = db_error(r, rc, "recent prune", err, errlen);
	}
	if (o == OUT_OK && (rc = exec_bound(r, "DELETE FROM recent_sessions WHERE at < ?", NULL,
	                                    clock_now() - RECENT_MAX_AGE)) != SQLITE_DONE)
		o = db_error(r, rc, "recent prune", err, errlen);
	return finish(r, o, err, errlen);
}

enum outcome
registry_recent(struct registry *r, const char *client,
                bool (*fn)(const struct recent_session *, void *), void *arg, char *err,
                size_t errlen)
{
	sqlite3_stmt *st;
	struct recent_session x;
	int rc = sqlite3_prepare_v2(r->db,
	                            "SELECT at, listener, tls, result FROM recent_sessions"
	                            " WHERE client = ? ORDER BY id DESC",
	                            -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(r, rc, "recent", err, errlen);
	bind_text(st, 1, client);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&x, 0, sizeof(x));
		x.at = sqlite3_column_int64(st, 0);
		str_copy(x.client, sizeof(x.client), client);
		col_text(st, 1, x.listener, sizeof(x.listener));
		col_text(st, 2, x.tls, sizeof(x.tls));
		col_text(st, 3, x.result, sizeof(x.result));
		if (!fn(&x, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? OUT_OK : db_error(r, rc, "recent", err, errlen);
}
