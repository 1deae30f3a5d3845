#include "db/registry.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/pg.h"
#include "db/devrows.h"
#include "util/str.h"
#include "util/xmalloc.h"

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
    /* 4 -> 5: the sender address a device uses (for AUTH; web form and
     * `device add --sender`) */
    "ALTER TABLE devices ADD COLUMN sender TEXT NOT NULL DEFAULT '';",
    /* 5 -> 6: SMTP AUTH per hour, client and user, for `mailoutctl report
     * auth`; a device's sender list is in the workers' snapshot, so its
     * change makes a new one */
    "CREATE TABLE auth_stats ("
    " hour INTEGER NOT NULL, client TEXT NOT NULL, user TEXT NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0, successes INTEGER NOT NULL DEFAULT 0,"
    " messages INTEGER NOT NULL DEFAULT 0, recipients INTEGER NOT NULL DEFAULT 0,"
    " last_seen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (hour, client, user));"
    "DROP TRIGGER devices_changed;"
    "CREATE TRIGGER devices_changed AFTER UPDATE OF address, status, legacy_tls, expires,"
    " expires_at, note, sender ON devices BEGIN UPDATE meta SET"
    " devices_version = devices_version + 1,"
    " admit_version = admit_version + (OLD.status = 'approved' OR NEW.status = 'approved');"
    " END;",
    /* 6 -> 7: the language of a registration's owner (of the reminders),
     * the owner's open request for a renewal, the keys that sign mailed
     * links, and every reminder and digest `mailoutctl notify` sent, once
     * each */
    "ALTER TABLE devices ADD COLUMN language TEXT NOT NULL DEFAULT 'en';"
    "ALTER TABLE devices ADD COLUMN renewal_request TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE keys (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE notices (key TEXT PRIMARY KEY, at INTEGER NOT NULL,"
    " recipient TEXT NOT NULL, what TEXT NOT NULL);",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(N_MIGRATIONS == REGISTRY_SCHEMA_VERSION, "a migration per schema version");

/* PostgreSQL's registry starts at the latest schema of the time it came
 * (version 7): the same tables and columns in its types, identity ids, and
 * the triggers of meta as one function that also sends the change notice
 * (db/pg.h) the workers LISTEN for. Later versions add their entry here and
 * in migrations[] alike. */
#define PG_BASE_VERSION 7
static const char *const pg_migrations[] = {
    /* an empty database -> 7 */
    "CREATE TABLE devices ("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " address TEXT NOT NULL, name TEXT NOT NULL, manufacturer TEXT NOT NULL DEFAULT '',"
    " model TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',"
    " owner_name TEXT NOT NULL DEFAULT '', owner_email TEXT NOT NULL,"
    " org_unit TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
    " replacement TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('pending','approved','rejected','expired','revoked')),"
    " legacy_tls BIGINT NOT NULL DEFAULT 0,"
    " expires TEXT NOT NULL DEFAULT '', expires_at BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL, decided_at BIGINT NOT NULL DEFAULT 0,"
    " decided_by TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',"
    " first_seen BIGINT NOT NULL DEFAULT 0, last_seen BIGINT NOT NULL DEFAULT 0,"
    " session_count BIGINT NOT NULL DEFAULT 0, message_count BIGINT NOT NULL DEFAULT 0,"
    " last_tls TEXT NOT NULL DEFAULT '', last_listener TEXT NOT NULL DEFAULT '',"
    " net BYTEA, prefix BIGINT NOT NULL DEFAULT -1, sender TEXT NOT NULL DEFAULT '',"
    " language TEXT NOT NULL DEFAULT 'en', renewal_request TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX devices_status ON devices(status);"
    "CREATE INDEX devices_net ON devices(net, prefix);"
    "CREATE INDEX devices_address ON devices(address);"
    "CREATE TABLE history ("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, device_id BIGINT NOT NULL,"
    " at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX history_device ON history(device_id);"
    "CREATE TABLE client_tls ("
    " day BIGINT NOT NULL, client TEXT NOT NULL, listener TEXT NOT NULL, tls TEXT NOT NULL,"
    " sessions BIGINT NOT NULL DEFAULT 0, messages BIGINT NOT NULL DEFAULT 0,"
    " refused BIGINT NOT NULL DEFAULT 0, last_seen BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (day, client, listener, tls));"
    "CREATE TABLE recent_sessions ("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, client TEXT NOT NULL,"
    " at BIGINT NOT NULL, listener TEXT NOT NULL, tls TEXT NOT NULL, result TEXT NOT NULL);"
    "CREATE INDEX recent_client ON recent_sessions(client, id);"
    "CREATE INDEX recent_at ON recent_sessions(at);"
    "CREATE TABLE meta (devices_version BIGINT NOT NULL, admit_version BIGINT NOT NULL);"
    "INSERT INTO meta VALUES (0, 0);"
    "CREATE TABLE auth_stats ("
    " hour BIGINT NOT NULL, client TEXT NOT NULL, \"user\" TEXT NOT NULL,"
    " failures BIGINT NOT NULL DEFAULT 0, successes BIGINT NOT NULL DEFAULT 0,"
    " messages BIGINT NOT NULL DEFAULT 0, recipients BIGINT NOT NULL DEFAULT 0,"
    " last_seen BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (hour, client, \"user\"));"
    "CREATE TABLE keys (name TEXT PRIMARY KEY, value BYTEA NOT NULL);"
    "CREATE TABLE notices (key TEXT PRIMARY KEY, at BIGINT NOT NULL,"
    " recipient TEXT NOT NULL, what TEXT NOT NULL);"
    "CREATE FUNCTION mailout_devices_changed() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " DECLARE admit BOOLEAN; BEGIN"
    "  IF TG_OP = 'INSERT' THEN admit := NEW.status = 'approved';"
    "  ELSIF TG_OP = 'DELETE' THEN admit := OLD.status = 'approved';"
    "  ELSE admit := OLD.status = 'approved' OR NEW.status = 'approved'; END IF;"
    "  UPDATE meta SET devices_version = devices_version + 1,"
    "   admit_version = admit_version + admit::int;"
    "  PERFORM pg_notify('" PG_CHANNEL "', '');"
    "  RETURN NULL; END $f$;"
    "CREATE TRIGGER devices_added_removed AFTER INSERT OR DELETE ON devices"
    " FOR EACH ROW EXECUTE FUNCTION mailout_devices_changed();"
    "CREATE TRIGGER devices_changed AFTER UPDATE OF address, status, legacy_tls, expires,"
    " expires_at, note, sender ON devices"
    " FOR EACH ROW EXECUTE FUNCTION mailout_devices_changed();",
};
static const struct pg_schema pg_schema = {
    pg_migrations, sizeof(pg_migrations) / sizeof(pg_migrations[0]), PG_BASE_VERSION};
_Static_assert(PG_BASE_VERSION + sizeof(pg_migrations) / sizeof(pg_migrations[0]) - 1 ==
                   REGISTRY_SCHEMA_VERSION,
               "PostgreSQL's schema is the latest too");

static int
user_version(struct registry *r, int *v)
{
	struct dbst *st;
	int rc = db_prepare(r, "PRAGMA user_version", &st);

	if (rc != DB_OK)
		return rc;
	rc = db_step(st);
	*v = rc == DB_ROW ? (int)db_col_int(st, 0) : 0;
	db_finalize(st);
	return rc == DB_ROW ? DB_OK : rc;
}

static bool
migrate(struct registry *r, char *err, size_t errlen)
{
	int v, rc;
	char sql[64];

	/* Current already (the usual case): no write lock, so processes
	 * opening the registry at the same moment do not collide. */
	if (user_version(r, &v) == DB_OK && v == (int)N_MIGRATIONS)
		return true;
	if ((rc = db_exec(r, "BEGIN IMMEDIATE")) != DB_OK) {
		db_error(r, rc, "begin migration", err, errlen);
		return false;
	}
	if ((rc = user_version(r, &v)) != DB_OK)
		goto fail;
	if (v > (int)N_MIGRATIONS) {
		str_fmt(err, errlen, "registry: schema version %d is newer than this mailout (%zu)",
		        v, N_MIGRATIONS);
		db_exec(r, "ROLLBACK");
		return false;
	}
	for (; v < (int)N_MIGRATIONS; v++)
		if ((rc = db_exec(r, migrations[v])) != DB_OK ||
		    (v == 3 && (rc = devrows_fill_nets(r)) != DB_OK))
			goto fail;
	str_fmt(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	if ((rc = db_exec(r, sql)) != DB_OK || (rc = db_exec(r, "COMMIT")) != DB_OK)
		goto fail;
	return true;
fail:
	db_error(r, rc, "migration", err, errlen);
	db_exec(r, "ROLLBACK");
	return false;
}

static struct registry *
open_sqlite(struct registry *r, const char *path, int busy_ms, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(
	    path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		str_fmt(err, errlen, "registry %s: %s", path,
		        r->db ? sqlite3_errmsg(r->db) : "cannot open");
		registry_close(r);
		return NULL;
	}
	sqlite3_busy_timeout(r->db, busy_ms);
	if ((rc = db_exec(r, "PRAGMA journal_mode = WAL")) != SQLITE_OK ||
	    (rc = db_exec(r, "PRAGMA synchronous = NORMAL")) != SQLITE_OK) {
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

bool
registry_is_shared(const char *database)
{
	return pg_is_url(database);
}

struct registry *
registry_open(const char *database, int busy_ms, char *err, size_t errlen)
{
	struct registry *r = xcalloc(1, sizeof(*r));

	r->select = devrows_select();
	if (!pg_is_url(database))
		return open_sqlite(r, database, busy_ms, err, errlen);
	if ((r->pg = pg_open(database, &pg_schema, err, errlen)) == NULL) {
		registry_close(r);
		return NULL;
	}
	pg_set_lock_timeout(r->pg, busy_ms);
	return r;
}

bool
registry_is_up(struct registry *r, char *err, size_t errlen)
{
	if (r->pg == NULL || pg_ready(r->pg, r->in_tx))
		return true;
	str_fmt(err, errlen, "registry: %s", pg_errmsg(r->pg));
	return false;
}

enum outcome
registry_key(struct registry *r, const char *name, unsigned char out[REGISTRY_KEY_LEN], char *err,
             size_t errlen)
{
	unsigned char fresh[REGISTRY_KEY_LEN];
	struct dbst *st;
	int rc;

	if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
		str_copy(err, errlen, "registry: no random bytes for a key");
		return OUT_TEMPFAIL;
	}
	rc = db_prepare(r, "INSERT INTO keys (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
	                &st);
	if (rc == DB_OK) {
		db_bind_text(st, 1, name);
		db_bind_blob(st, 2, fresh, sizeof(fresh));
		rc = db_step(st);
		db_finalize(st);
	}
	if (rc != DB_DONE)
		return db_error(r, rc, "key", err, errlen);
	rc = db_prepare(r, "SELECT value FROM keys WHERE name = ?", &st);
	if (rc != DB_OK)
		return db_error(r, rc, "key", err, errlen);
	db_bind_text(st, 1, name);
	rc = db_step(st);
	bool ok = rc == DB_ROW && db_col_blob(st, 0, out, REGISTRY_KEY_LEN);
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return db_error(r, rc, "key", err, errlen);
	if (!ok)
		str_copy(err, errlen, "registry: a key of the wrong length");
	return ok ? OUT_OK : OUT_PERMFAIL;
}

void
registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	pg_close(r->pg);
	free(r->select);
	free(r);
}

void
registry_watch(struct registry *r)
{
	if (r->pg)
		pg_listen(r->pg);
}

enum outcome
registry_data_version(struct registry *r, int64_t *version)
{
	struct dbst *st;
	int rc;

	if (r->pg)
		return pg_notices(r->pg, version) ? OUT_OK : OUT_TEMPFAIL;
	if ((rc = db_prepare(r, "PRAGMA data_version", &st)) != DB_OK)
		return OUT_TEMPFAIL;
	rc = db_step(st);
	if (rc == DB_ROW)
		*version = db_col_int(st, 0);
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : OUT_TEMPFAIL;
}

enum outcome
registry_devices_version(struct registry *r, int64_t *devices, int64_t *admit)
{
	struct dbst *st;
	int rc = db_prepare(r, "SELECT devices_version, admit_version FROM meta", &st);

	if (rc != DB_OK)
		return OUT_TEMPFAIL;
	rc = db_step(st);
	if (rc == DB_ROW) {
		*devices = db_col_int(st, 0);
		*admit = db_col_int(st, 1);
	}
	db_finalize(st);
	return rc == DB_ROW ? OUT_OK : OUT_TEMPFAIL;
}

void
registry_set_busy(struct registry *r, int busy_ms)
{
	if (r->pg)
		pg_set_lock_timeout(r->pg, busy_ms);
	else
		sqlite3_busy_timeout(r->db, busy_ms);
}

bool
registry_prepare_dir(const char *db, const struct safedir_owner *o, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(db, '/');
	int fd;

	if (pg_is_url(db))
		return true; /* nothing on this machine */
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
