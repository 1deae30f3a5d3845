/* Unit tests: the device registry (registry.c), a worker's snapshot of it
 * (devsnap.c) and expiry dates (isodate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "smtp/devsnap.h"
#include "db/devices.h"
#include "db/registry.h"
#include "db/stats.h"
#include "util/isodate.h"
#include "util/str.h"

static void
test_isodate(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t until;
	} cases[] = {
	    {"2019-12-31", true, 1577836800},           /* through the end of the day */
	    {"2019-12-31T18:00:00Z", true, 1577815200}, /* until that instant */
	    {"2019-12-31T19:00:00+01:00", true, 1577815200},
	    {"2020-02-29", true, 1583020800},
	    {"2019-02-29", false, 0},
	    {"2019-13-01", false, 0},
	    {"31.12.2019", false, 0},
	    {"2019-12-31T25:00:00Z", false, 0},
	    {"2019-12-31T18:00:00", false, 0}, /* a time needs its zone */
	    {"2019-12-31 ", false, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = 0;
		bool ok = isodate_parse_expiry(cases[i].s, &t);
		if (ok != cases[i].ok || (ok && t != cases[i].until))
			fail_msg("'%s': got ok=%d t=%lld", cases[i].s, ok, (long long)t);
	}
}

static struct registry *
open_tmp(char *path, size_t size)
{
	char err[256];
	struct registry *r;

	str_fmt(path, size, "/tmp/mailout-reg-%d-%ld.sqlite", (int)getpid(), random());
	r = registry_open(path, 1000, err, sizeof(err));
	if (r == NULL)
		fail_msg("open: %s", err);
	return r;
}

static void
cleanup(struct registry *r, const char *path)
{
	char p[300];

	registry_close(r);
	unlink(path);
	str_fmt(p, sizeof(p), "%s-wal", path);
	unlink(p);
	str_fmt(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static struct device
dev(const char *addr, const char *expires)
{
	struct device d = {0};

	cidr_parse(addr, &d.net);
	cidr_format(&d.net, d.address, sizeof(d.address));
	str_copy(d.name, sizeof(d.name), "dev");
	str_copy(d.owner_email, sizeof(d.owner_email), "o@example.edu");
	d.status = DEVICE_APPROVED;
	if (expires) {
		str_copy(d.expires, sizeof(d.expires), expires);
		isodate_parse_expiry(expires, &d.expires_at);
	}
	return d;
}

static void
test_add_overlap_and_decide(void **state)
{
	char path[256], err[256];
	struct registry *r = open_tmp(path, sizeof(path));
	struct device a = dev("10.1.2.0/24", NULL), b = dev("10.1.2.7", NULL),
	              c = dev("10.1.3.7", "2019-01-01"), got;

	(void)state;
	assert_int_equal(registry_add(r, &a, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add(r, &b, "t", false, err, sizeof(err)), OUT_PERMFAIL);
	assert_non_null(strstr(err, "overlaps"));
	/* a wider network around it overlaps too (found through the index) */
	struct device wide = dev("10.1.0.0/16", NULL), v6 = dev("2001:db8::/48", NULL),
	              v6in = dev("2001:db8:0:7::5", NULL), v4exact = dev("10.1.2.0/24", NULL);
	assert_int_equal(registry_add(r, &wide, "t", false, err, sizeof(err)), OUT_PERMFAIL);
	assert_int_equal(registry_add(r, &v4exact, "t", false, err, sizeof(err)), OUT_PERMFAIL);
	assert_non_null(strstr(err, "already registered"));
	assert_int_equal(registry_add(r, &v6, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add(r, &v6in, "t", false, err, sizeof(err)), OUT_PERMFAIL);
	assert_int_equal(registry_find_by_address(r, "2001:db8:0:7::9", &got, err, sizeof(err)),
	                 OUT_OK);
	assert_int_equal(got.id, v6.id);
	assert_int_equal(registry_find_by_address(r, "10.1.3.1", &got, err, sizeof(err)),
	                 OUT_PERMFAIL);
	assert_int_equal(registry_add(r, &c, "t", true, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_find_by_address(r, "10.1.2.99", &got, err, sizeof(err)), OUT_OK);
	assert_int_equal(got.id, a.id);
	struct decision revoke = {DEVICE_REVOKED, NULL, "gone", -1, false, "t", NULL};
	assert_int_equal(registry_decide(r, a.id, &revoke, err, sizeof(err)), OUT_OK);
	/* a revoked registration no longer blocks a new one */
	assert_int_equal(registry_add(r, &b, "t", false, err, sizeof(err)), OUT_OK);
	struct decision approve = {DEVICE_APPROVED, NULL, "", -1, false, "t", NULL};
	assert_int_equal(registry_decide(r, 999, &approve, err, sizeof(err)), OUT_PERMFAIL);
	approve.expires = "2019-02-30";
	assert_int_equal(registry_decide(r, b.id, &approve, err, sizeof(err)), OUT_PERMFAIL);
	/* a date that has passed only with force */
	approve.expires = "2019-02-28";
	assert_int_equal(registry_decide(r, b.id, &approve, err, sizeof(err)), OUT_PERMFAIL);
	assert_non_null(strstr(err, "has passed"));
	approve.force = true;
	assert_int_equal(registry_decide(r, b.id, &approve, err, sizeof(err)), OUT_OK);
	unsigned n = 0;
	assert_int_equal(registry_expire(r, 1700000000, "t", &n, err, sizeof(err)), OUT_OK);
	assert_int_equal(n, 2); /* c, and b approved with a passed date */
	assert_int_equal(registry_get(r, c.id, &got, err, sizeof(err)), OUT_OK);
	assert_int_equal(got.status, DEVICE_EXPIRED);
	cleanup(r, path);
}

static void
test_usage_and_reopen(void **state)
{
	char path[256], err[256];
	struct registry *r = open_tmp(path, sizeof(path));
	struct device a = dev("192.0.2.1", NULL), got;
	struct device_usage u = {0};

	(void)state;
	assert_int_equal(registry_add(r, &a, "t", false, err, sizeof(err)), OUT_OK);
	u.device_id = a.id;
	u.first_seen = 100;
	u.last_seen = 200;
	u.sessions = 3;
	u.messages = 5;
	str_copy(u.last_tls, sizeof(u.last_tls), "TLSv1/AES128-SHA");
	assert_int_equal(registry_add_usage(r, &u, 1, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add_usage(r, &u, 1, err, sizeof(err)), OUT_OK);
	registry_close(r);
	r = registry_open(path, 1000, err, sizeof(err)); /* migrations are idempotent */
	assert_non_null(r);
	assert_int_equal(registry_get(r, a.id, &got, err, sizeof(err)), OUT_OK);
	assert_int_equal(got.message_count, 10);
	assert_int_equal(got.session_count, 6);
	assert_int_equal(got.first_seen, 100);
	assert_string_equal(got.last_tls, "TLSv1/AES128-SHA");
	cleanup(r, path);
}

/* A database written by the first release (schema 1) is upgraded in place. */
static void
test_migrate_v1(void **state)
{
	char path[256], err[256];
	sqlite3 *db;
	struct registry *r;
	struct device got;
	struct client_stat c = {0};

	(void)state;
	str_fmt(path, sizeof(path), "/tmp/mailout-reg-v1-%d.sqlite", (int)getpid());
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(
	        db,
	        "CREATE TABLE devices (id INTEGER PRIMARY KEY, address TEXT NOT NULL,"
	        " name TEXT NOT NULL, manufacturer TEXT NOT NULL DEFAULT '',"
	        " model TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',"
	        " owner_name TEXT NOT NULL DEFAULT '', owner_email TEXT NOT NULL,"
	        " org_unit TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
	        " replacement TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,"
	        " legacy_tls INTEGER NOT NULL DEFAULT 0, expires TEXT NOT NULL DEFAULT '',"
	        " expires_at INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	        " decided_at INTEGER NOT NULL DEFAULT 0, decided_by TEXT NOT NULL DEFAULT '',"
	        " note TEXT NOT NULL DEFAULT '', first_seen INTEGER NOT NULL DEFAULT 0,"
	        " last_seen INTEGER NOT NULL DEFAULT 0,"
	        " session_count INTEGER NOT NULL DEFAULT 0,"
	        " message_count INTEGER NOT NULL DEFAULT 0,"
	        " last_tls TEXT NOT NULL DEFAULT '', last_listener TEXT NOT NULL DEFAULT '');"
	        "CREATE TABLE history (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,"
	        " at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
	        " detail TEXT NOT NULL DEFAULT '');"
	        "INSERT INTO devices (address, name, owner_email, status, created_at)"
	        " VALUES ('10.1.2.3', 'old copier', 'o@example.edu', 'approved', 1);"
	        /* device 7 was removed: only its history is left */
	        "INSERT INTO history (device_id, at, actor, action) VALUES (7, 1, 'x', 'remove');"
	        "PRAGMA user_version = 1;",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	r = registry_open(path, 1000, err, sizeof(err));
	if (r == NULL)
		fail_msg("open: %s", err);
	assert_int_equal(registry_get(r, 1, &got, err, sizeof(err)), OUT_OK);
	assert_string_equal(got.name, "old copier");
	c.day = 20000;
	str_copy(c.client, sizeof(c.client), "10.1.2.3");
	str_copy(c.listener, sizeof(c.listener), "u");
	str_copy(c.tls, sizeof(c.tls), "none");
	c.sessions = 1;
	assert_int_equal(registry_add_client_stats(r, &c, 1, err, sizeof(err)), OUT_OK);
	/* the migration to AUTOINCREMENT counts from the history's highest id */
	struct device n = dev("10.1.9.9", NULL);
	assert_int_equal(registry_add(r, &n, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(n.id, 8);
	cleanup(r, path);
}

static bool
count_recent(const struct recent_session *x, void *arg)
{
	int *n = arg;

	if (*n == 0 && strcmp(x->result, "session 29") != 0)
		fail_msg("newest first: got '%s'", x->result);
	(*n)++;
	return true;
}

static void
test_recent_is_bounded(void **state)
{
	char path[256], err[256];
	struct registry *r = open_tmp(path, sizeof(path));
	struct recent_session x = {0};
	int n = 0;

	(void)state;
	str_copy(x.client, sizeof(x.client), "10.9.9.9");
	str_copy(x.listener, sizeof(x.listener), "u");
	str_copy(x.tls, sizeof(x.tls), "none");
	for (int i = 0; i < 30; i++) {
		x.at = time(NULL);
		str_fmt(x.result, sizeof(x.result), "session %d", i);
		assert_int_equal(registry_add_recent(r, &x, 1, err, sizeof(err)), OUT_OK);
	}
	x.at = 1000; /* older than RECENT_MAX_AGE: pruned at once */
	str_copy(x.client, sizeof(x.client), "10.8.8.8");
	assert_int_equal(registry_add_recent(r, &x, 1, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_recent(r, "10.9.9.9", count_recent, &n, err, sizeof(err)),
	                 OUT_OK);
	assert_int_equal(n, RECENT_PER_CLIENT);
	n = 0;
	assert_int_equal(registry_recent(r, "10.8.8.8", count_recent, &n, err, sizeof(err)),
	                 OUT_OK);
	assert_int_equal(n, 0);
	cleanup(r, path);
}

/* Correctness issue: ids were reused after `device remove` (INTEGER
 * PRIMARY KEY without AUTOINCREMENT), so `history 3` mixed two devices. */
static void
test_ids_unique_forever(void **state)
{
	char path[256], err[256];
	struct registry *r = open_tmp(path, sizeof(path));
	struct device a = dev("10.7.0.1", NULL), b = dev("10.7.0.2", NULL),
	              c = dev("10.7.0.3", NULL);

	(void)state;
	assert_int_equal(registry_add(r, &a, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add(r, &b, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_remove(r, b.id, "t", err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add(r, &c, "t", false, err, sizeof(err)), OUT_OK);
	assert_true(c.id > b.id);
	/* and across a reopen, and after the newest was removed too */
	assert_int_equal(registry_remove(r, c.id, "t", err, sizeof(err)), OUT_OK);
	registry_close(r);
	assert_non_null(r = registry_open(path, 1000, err, sizeof(err)));
	struct device d = dev("10.7.0.4", NULL);
	assert_int_equal(registry_add(r, &d, "t", false, err, sizeof(err)), OUT_OK);
	assert_true(d.id > c.id);
	cleanup(r, path);
}

static bool
count_stat(const struct client_stat *c, void *arg)
{
	(void)c;
	(*(unsigned *)arg)++;
	return true;
}

static struct device_brief
brief(int64_t id, const char *net, enum device_status st, int64_t expires_at, const char *note)
{
	struct device_brief b = {.id = id, .status = st, .expires_at = expires_at};

	assert_true(cidr_parse(net, &b.net));
	str_copy(b.note, sizeof(b.note), note);
	str_copy(b.expires, sizeof(b.expires), expires_at ? "2026-12-31" : "");
	return b;
}

static struct sockaddr_storage
v4(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	s4->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	return ss;
}

/* Which registration speaks for an address: the most specific network,
 * and of several registrations of one network the most relevant. */
static void
test_snapshot_picks_the_relevant_registration(void **state)
{
	const int64_t now = 1800000000;
	static const struct {
		const char *client;
		int64_t want_id; /* 0: none */
		enum device_status want;
	} cases[] = {
	    {"10.1.1.1", 3, DEVICE_PENDING},   /* pending beats the expired one before it */
	    {"10.1.1.2", 5, DEVICE_APPROVED},  /* a valid approval beats a newer rejection */
	    {"10.1.1.3", 7, DEVICE_APPROVED},  /* past its expiry: the policy calls it expired */
	    {"10.1.1.4", 9, DEVICE_REVOKED},   /* revoked beats rejected */
	    {"10.1.2.9", 10, DEVICE_APPROVED}, /* the /24 covers it */
	    {"10.1.2.7", 11, DEVICE_REVOKED},  /* a host inside it: the more specific */
	    {"10.9.9.9", 0, 0},
	};
	struct devsnap_builder *b = devsnap_builder_new();
	struct device_brief in[] = {
	    brief(1, "10.1.1.1", DEVICE_EXPIRED, now - 10, ""),
	    brief(3, "10.1.1.1", DEVICE_PENDING, 0, ""),
	    brief(5, "10.1.1.2", DEVICE_APPROVED, 0, ""),
	    brief(6, "10.1.1.2", DEVICE_REJECTED, 0, "no"),
	    brief(7, "10.1.1.3", DEVICE_APPROVED, now - 1, ""),
	    brief(8, "10.1.1.4", DEVICE_REJECTED, 0, "no"),
	    brief(9, "10.1.1.4", DEVICE_REVOKED, 0, "stolen"),
	    brief(10, "10.1.2.0/24", DEVICE_APPROVED, now + 86400, ""),
	    brief(11, "10.1.2.7", DEVICE_REVOKED, 0, "replaced"),
	};
	struct device d;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		devsnap_add(b, &in[i]);
	struct devsnap *s = devsnap_build(b, now);
	assert_int_equal(devsnap_count(s), 6);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage a = v4(cases[i].client);
		bool found = devsnap_match(s, (struct sockaddr *)&a, &d);
		if (found != (cases[i].want_id != 0) ||
		    (found && (d.id != cases[i].want_id || d.status != cases[i].want)))
			fail_msg("%s: got #%lld %s, want #%lld %s", cases[i].client,
			         found ? (long long)d.id : 0LL,
			         found ? device_status_name(d.status) : "-",
			         (long long)cases[i].want_id, device_status_name(cases[i].want));
	}
	struct sockaddr_storage a = v4("10.1.2.7");
	assert_true(devsnap_match(s, (struct sockaddr *)&a, &d));
	assert_string_equal(d.note, "replaced");
	assert_string_equal(d.address, "10.1.2.7");
	devsnap_free(s);
}

/* Every field the table marks DEVICE_INSERT is written and read back
 * equal: a field added to device_fields[] (and its migration) needs no
 * other change in db/. */
static void
test_every_field_round_trips(void **state)
{
	char path[256], err[256], want[DEVICE_TEXT_MAX], got_text[DEVICE_TEXT_MAX];
	struct registry *r = open_tmp(path, sizeof(path));
	struct device d = dev("10.7.0.0/16", "2099-01-01"), got;

	(void)state;
	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *f = &device_fields[i];
		if ((f->flags & DEVICE_INSERT) && f->kind == DEVICE_KIND_TEXT &&
		    strcmp(f->name, "expires") != 0)
			str_fmt(device_text(&d, f), f->size, "%s of 'x' \"y\" ü", f->name);
	}
	d.legacy_tls = true;
	d.created_at = 1700000000;
	d.decided_at = 1700000100;
	assert_int_equal(registry_add(r, &d, "t", false, err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_get(r, d.id, &got, err, sizeof(err)), OUT_OK);
	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *f = &device_fields[i];
		if (!(f->flags & DEVICE_INSERT) && f->kind != DEVICE_KIND_ID)
			continue;
		device_field_text(&d, f, 0, want, sizeof(want));
		device_field_text(&got, f, 0, got_text, sizeof(got_text));
		assert_string_equal(got_text, want);
	}
	assert_string_equal(got.sender, "sender of 'x' \"y\" ü");
	assert_true(cidr_overlaps(&got.net, &d.net) && got.net.prefix == 16);
	cleanup(r, path);
}

static void
test_client_stats_retention(void **state)
{
	char path[256], err[256];
	struct registry *r = open_tmp(path, sizeof(path));
	struct client_stat c[30];
	unsigned long long n = 0;

	(void)state;
	for (int i = 0; i < 30; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].day = 20000 + i;
		snprintf(c[i].client, sizeof(c[i].client), "10.0.0.%d", i);
		str_copy(c[i].listener, sizeof(c[i].listener), "mailout");
		str_copy(c[i].tls, sizeof(c[i].tls), "none");
		c[i].sessions = 1;
		c[i].last_seen = (20000 + i) * 86400LL;
	}
	assert_int_equal(registry_add_client_stats(r, c, 30, err, sizeof(err)), OUT_OK);
	/* days before 20010 go (10 rows), then the oldest beyond 15 rows (5 more) */
	assert_int_equal(registry_prune_client_stats(r, 20010, 15, &n, err, sizeof(err)), OUT_OK);
	assert_int_equal(n, 15);
	unsigned rows = 0;
	assert_int_equal(registry_tls_report(r, 0, count_stat, &rows, err, sizeof(err)), OUT_OK);
	assert_int_equal(rows, 15);
	rows = 0;
	assert_int_equal(registry_tls_report(r, 20015, count_stat, &rows, err, sizeof(err)),
	                 OUT_OK);
	assert_int_equal(rows, 15); /* what is left is the newest 15 days */
	cleanup(r, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recent_is_bounded),
	    cmocka_unit_test(test_migrate_v1),
	    cmocka_unit_test(test_isodate),
	    cmocka_unit_test(test_add_overlap_and_decide),
	    cmocka_unit_test(test_usage_and_reopen),
	    cmocka_unit_test(test_snapshot_picks_the_relevant_registration),
	    cmocka_unit_test(test_client_stats_retention),
	    cmocka_unit_test(test_ids_unique_forever),
	    cmocka_unit_test(test_every_field_round_trips),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
