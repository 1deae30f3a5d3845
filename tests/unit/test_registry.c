/* Unit tests: the device registry (registry.c) and expiry dates (isodate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"
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
		{"2019-12-31", true, 1577836800},	    /* through the end of the day */
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
	assert_int_equal(registry_add(r, &a, "t", err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_add(r, &b, "t", err, sizeof(err)), OUT_PERMFAIL);
	assert_non_null(strstr(err, "overlaps"));
	assert_int_equal(registry_add(r, &c, "t", err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_find_by_address(r, "10.1.2.99", &got, err, sizeof(err)), OUT_OK);
	assert_int_equal(got.id, a.id);
	assert_int_equal(registry_decide(r, a.id, DEVICE_REVOKED, NULL, "gone", "t", err,
					 sizeof(err)),
			 OUT_OK);
	/* a revoked registration no longer blocks a new one */
	assert_int_equal(registry_add(r, &b, "t", err, sizeof(err)), OUT_OK);
	assert_int_equal(registry_decide(r, 999, DEVICE_APPROVED, NULL, "", "t", err, sizeof(err)),
			 OUT_PERMFAIL);
	assert_int_equal(registry_decide(r, b.id, DEVICE_APPROVED, "2019-02-30", "", "t", err,
					 sizeof(err)),
			 OUT_PERMFAIL);
	unsigned n = 0;
	assert_int_equal(registry_expire(r, 1700000000, "t", &n, err, sizeof(err)), OUT_OK);
	assert_int_equal(n, 1);
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
	assert_int_equal(registry_add(r, &a, "t", err, sizeof(err)), OUT_OK);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isodate),
		cmocka_unit_test(test_add_overlap_and_decide),
		cmocka_unit_test(test_usage_and_reopen),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
