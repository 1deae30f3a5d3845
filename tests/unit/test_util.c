/* Unit tests: num, clock, cidr, buf, log_escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "log.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/cidrtab.h"
#include "util/clock.h"
#include "util/csv.h"
#include "util/num.h"

static void
test_num(void **state)
{
	static const struct {
		const char *s;
		int kind; /* 0 u64, 1 size, 2 duration */
		bool ok;
		uint64_t want;
	} cases[] = {
	    {"0", 0, true, 0},
	    {"18446744073709551615", 0, true, UINT64_MAX},
	    {"18446744073709551616", 0, false, 0},
	    {"-1", 0, false, 0},
	    {" 1", 0, false, 0},
	    {"", 0, false, 0},
	    {"50M", 1, true, 50 << 20},
	    {"2K", 1, true, 2048},
	    {"1G", 1, true, 1 << 30},
	    {"1T", 1, false, 0},
	    {"5m", 2, true, 300},
	    {"2d", 2, true, 172800},
	    {"30", 2, true, 30},
	    {"s", 2, false, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		bool ok = cases[i].kind == 0   ? num_parse_u64(cases[i].s, 0, UINT64_MAX, &v)
		          : cases[i].kind == 1 ? num_parse_size(cases[i].s, 0, UINT64_MAX, &v)
		                               : num_parse_duration(cases[i].s, 0, UINT64_MAX, &v);
		if (ok != cases[i].ok || (ok && v != cases[i].want))
			fail_msg("'%s': got ok=%d v=%llu", cases[i].s, ok, (unsigned long long)v);
	}
}

static void
test_clock_offset(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t want;
	} cases[] = {
	    {"0", true, 0},
	    {"548d", true, 548 * 86400},
	    {"+548d", true, 548 * 86400},
	    {"-30d", true, -30 * 86400},
	    {"3600", true, 3600},
	    {"-90s", true, -90},
	    {"", false, 0},
	    {"+", false, 0},
	    {"1y", false, 0},
	    {"--1", false, 0},
	    {" 1", false, 0},
	    {"99999d", false, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;
		bool ok = clock_parse_offset(cases[i].s, &v);
		if (ok != cases[i].ok || (ok && v != cases[i].want))
			fail_msg("'%s': got ok=%d v=%lld", cases[i].s, ok, (long long)v);
	}
	/* The process's own offset is whatever make check set; now follows it. */
	int64_t real = (int64_t)time(NULL), shifted = clock_now() - clock_offset();
	assert_true(shifted >= real && shifted <= real + 1);
}

static struct sockaddr_storage sa(const char *ip);

/* The most specific containing prefix, earliest on a tie: by brute force. */
static long
slow_lookup(const struct cidr *nets, size_t n, const struct sockaddr *a)
{
	long best = -1;

	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&nets[i], a) && (best < 0 || nets[i].prefix > nets[best].prefix))
			best = (long)i;
	return best;
}

static void
test_cidrtab(void **state)
{
	static const unsigned prefixes[] = {8, 16, 20, 24, 30, 32};
	enum { N = 3000, PROBES = 20000 };
	struct cidr *nets = calloc(N, sizeof(*nets));
	char s[64];

	(void)state;
	srandom(7);
	for (size_t i = 0; i < N; i++) {
		unsigned p = prefixes[random() % 6];
		unsigned a =
		    0x0a000000u | ((unsigned)random() & 0x00030f0fu); /* collisions wanted */
		a &= p == 32 ? 0xffffffffu : ~(0xffffffffu >> p);
		snprintf(s, sizeof(s), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		         a & 255, p);
		assert_true(cidr_parse(s, &nets[i]));
	}
	assert_true(cidr_parse("2001:db8::/32", &nets[N - 2]));
	assert_true(cidr_parse("2001:db8::5", &nets[N - 1]));
	struct cidrtab *t = cidrtab_new(nets, N);
	for (unsigned k = 0; k < PROBES; k++) {
		unsigned a = 0x0a000000u | ((unsigned)random() & 0x00030f0fu);
		snprintf(s, sizeof(s), k % 3 ? "%u.%u.%u.%u" : "::ffff:%u.%u.%u.%u", a >> 24,
		         (a >> 16) & 255, (a >> 8) & 255, a & 255);
		struct sockaddr_storage x = sa(s);
		long want = slow_lookup(nets, N, (struct sockaddr *)&x),
		     got = cidrtab_lookup(t, (struct sockaddr *)&x);
		if (want != got)
			fail_msg("%s: got %ld, want %ld", s, got, want);
	}
	struct sockaddr_storage v6 = sa("2001:db8::5"), other = sa("192.0.2.1");
	assert_int_equal(cidrtab_lookup(t, (struct sockaddr *)&v6), N - 1);
	assert_int_equal(cidrtab_lookup(t, (struct sockaddr *)&other), -1);
	cidrtab_free(t);
	t = cidrtab_new(NULL, 0);
	assert_int_equal(cidrtab_lookup(t, (struct sockaddr *)&other), -1);
	cidrtab_free(t);
	free(nets);
}

static struct sockaddr_storage
sa(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	return ss;
}

static void
test_cidr(void **state)
{
	static const struct {
		const char *net, *ip;
		bool want;
	} cases[] = {
	    {"127.0.1.0/24", "127.0.1.7", true},
	    {"127.0.1.0/24", "127.0.2.7", false},
	    {"10.0.0.0/8", "10.255.1.1", true},
	    {"0.0.0.0/0", "8.8.8.8", true},
	    {"192.0.2.1", "192.0.2.1", true},
	    {"192.0.2.1", "192.0.2.2", false},
	    {"::1", "::1", true},
	    {"2001:db8::/32", "2001:db8:1::5", true},
	    {"2001:db8::/32", "2001:db9::5", false},
	    {"10.0.0.0/8", "::ffff:10.1.2.3", true},
	    {"10.0.0.0/8", "::1", false},
	};
	struct cidr c, d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss = sa(cases[i].ip);
		assert_true(cidr_parse(cases[i].net, &c));
		if (cidr_contains(&c, (struct sockaddr *)&ss) != cases[i].want)
			fail_msg("%s in %s: got %d", cases[i].ip, cases[i].net, !cases[i].want);
	}
	assert_false(cidr_parse("10.0.0.1/8", &c));
	assert_false(cidr_parse("10.0.0.0/33", &c));
	assert_false(cidr_parse("example.edu", &c));
	assert_true(cidr_parse("10.0.0.0/8", &c) && cidr_parse("10.1.0.0/16", &d));
	assert_true(cidr_overlaps(&c, &d));
	assert_true(cidr_parse("11.0.0.0/8", &d));
	assert_false(cidr_overlaps(&c, &d));
}

static void
test_buf_bounds(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_true(buf_append(&b, "12345678", 8));
	assert_false(buf_append(&b, "9", 1));
	assert_int_equal(b.len, 8);
	buf_consume(&b, 3);
	assert_string_equal(buf_cstr(&b), "45678");
	assert_false(buf_printf(&b, "%s", "toolong"));
	buf_free(&b);
}

static void
test_log_escape(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(log_escape(out, sizeof(out), "a\r\nb\"", 5), "a\\x0d\\x0ab\\x22");
	log_escape(out, 12, "abcdefghijklmnop", 16);
	assert_string_equal(out, "abcdefgh...");
}

static void
test_csv_field(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "\"plain\""},
	    {"", "\"\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""},
	    {"+1", "\"'+1\""},
	    {"@SUM(A1)", "\"'@SUM(A1)\""},
	    {"-2+3", "\"'-2+3\""},
	    {"-", "\"-\""},
	    {"\tx", "\"'\tx\""},
	    {"a=b", "\"a=b\""},
	};
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		csv_field(&b, cases[i].in);
		assert_string_equal(buf_cstr(&b), cases[i].want);
	}
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_num),        cmocka_unit_test(test_clock_offset),
	    cmocka_unit_test(test_csv_field),  cmocka_unit_test(test_cidrtab),
	    cmocka_unit_test(test_cidr),       cmocka_unit_test(test_buf_bounds),
	    cmocka_unit_test(test_log_escape),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
