/* Unit tests: address parsing and normalisation (address.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"

struct path_case {
	const char *name;
	const char *input;
	bool utf8;
	enum address_err want_err;
	const char *want; /* normal form, when OK */
	bool route, routing_chars, literal;
};

static const struct path_case path_cases[] = {
    {"plain", "<bob@example.edu>", false, ADDRESS_OK, "bob@example.edu", 0, 0, 0},
    {"domain case folded", "<Bob@EXAMPLE.Edu>", false, ADDRESS_OK, "Bob@example.edu", 0, 0, 0},
    {"trailing dot", "<bob@example.edu.>", false, ADDRESS_OK, "bob@example.edu", 0, 0, 0},
    {"no brackets", "bob@example.edu", false, ADDRESS_OK, "bob@example.edu", 0, 0, 0},
    {"null", "<>", false, ADDRESS_OK, "", 0, 0, 0},
    {"source route dropped", "<@a.example,@b.example:u@ext.com>", false, ADDRESS_OK, "u@ext.com", 1,
     0, 0},
    {"percent hack", "<user%ext.com@example.edu>", false, ADDRESS_OK, "user%ext.com@example.edu", 0,
     1, 0},
    {"bang path", "<ext.com!user@example.edu>", false, ADDRESS_OK, "ext.com!user@example.edu", 0, 1,
     0},
    {"quoted at", "<\"user@ext.com\"@example.edu>", false, ADDRESS_OK,
     "\"user@ext.com\"@example.edu", 0, 1, 0},
    {"needless quotes removed", "<\"bob\"@example.edu>", false, ADDRESS_OK, "bob@example.edu", 0, 0,
     0},
    {"quoted space kept", "<\"b o b\"@example.edu>", false, ADDRESS_OK, "\"b o b\"@example.edu", 0,
     0, 0},
    {"ipv4 literal", "<u@[127.0.0.1]>", false, ADDRESS_OK, "u@[127.0.0.1]", 0, 0, 1},
    {"ipv6 literal", "<u@[IPv6:::1]>", false, ADDRESS_OK, "u@[ipv6:::1]", 0, 0, 1},
    {"bad literal", "<u@[999.1.1.1]>", false, ADDRESS_ERR_DOMAIN, NULL, 0, 0, 0},
    {"no domain", "<bob>", false, ADDRESS_ERR_NO_DOMAIN, NULL, 0, 0, 0},
    {"empty label", "<u@example..edu>", false, ADDRESS_ERR_DOMAIN, NULL, 0, 0, 0},
    {"leading hyphen", "<u@-example.edu>", false, ADDRESS_ERR_DOMAIN, NULL, 0, 0, 0},
    {"double dot local", "<a..b@example.edu>", false, ADDRESS_ERR_LOCAL, NULL, 0, 0, 0},
    {"unclosed", "<bob@example.edu", false, ADDRESS_ERR_SYNTAX, NULL, 0, 0, 0},
    {"space inside", "<bob @example.edu>", false, ADDRESS_ERR_LOCAL, NULL, 0, 0, 0},
    {"utf8 without smtputf8", "<j\xc3\xbcrgen@example.org>", false, ADDRESS_ERR_UTF8, NULL, 0, 0,
     0},
    {"utf8 local", "<j\xc3\xbcrgen@example.org>", true, ADDRESS_OK, "j\xc3\xbcrgen@example.org", 0,
     0, 0},
    {"idn domain to a-label",
     "<a@b\xc3\xbc"
     "cher.example>",
     true, ADDRESS_OK, "a@xn--bcher-kva.example", 0, 0, 0},
    {"bad utf8", "<a\xc3@example.org>", true, ADDRESS_ERR_UTF8, NULL, 0, 0, 0},
    {"overlong local",
     "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example>", false,
     ADDRESS_ERR_TOO_LONG, NULL, 0, 0, 0},
    {"nul byte", "<a\0b@example.edu>", false, ADDRESS_ERR_SYNTAX, NULL, 0, 0, 0},
};

static void
test_paths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct address a;
		size_t used = 0;
		size_t len = strcmp(c->name, "nul byte") == 0 ? 17 : strlen(c->input);
		enum address_err e = address_parse_path(c->input, len, c->utf8, &a, &used);
		char got[ADDRESS_MAX];

		if (e != c->want_err) {
			fail_msg("%s: got error %d (%s), want %d", c->name, e, address_strerror(e),
			         c->want_err);
		}
		if (e != ADDRESS_OK)
			continue;
		address_format(&a, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->name, got, c->want);
		if (a.has_route != c->route || a.has_routing_chars != c->routing_chars ||
		    a.is_literal != c->literal)
			fail_msg("%s: flags route=%d routing=%d literal=%d", c->name, a.has_route,
			         a.has_routing_chars, a.is_literal);
		if (used != len)
			fail_msg("%s: consumed %zu of %zu", c->name, used, len);
	}
}

static void
test_domain_matches(void **state)
{
	static const struct {
		const char *domain, *pattern;
		bool want;
	} cases[] = {
	    {"example.edu", "example.edu", true},
	    {"sub.example.edu", "example.edu", false},
	    {"sub.example.edu", ".example.edu", true},
	    {"a.b.example.edu", ".example.edu", true},
	    {"example.edu", ".example.edu", false},
	    {"evilexample.edu", ".example.edu", false},
	    {"example.edu.evil.com", "example.edu", false},
	    {"example.edu.evil.com", ".example.edu", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (address_domain_matches(cases[i].domain, cases[i].pattern) != cases[i].want)
			fail_msg("%s vs %s: got %d", cases[i].domain, cases[i].pattern,
			         !cases[i].want);
}

static void
test_normalize_domain(void **state)
{
	char out[ADDRESS_DOMAIN_MAX];

	(void)state;
	assert_true(address_normalize_domain("Example.EDU.", 12, out, sizeof(out)));
	assert_string_equal(out, "example.edu");
	assert_false(address_normalize_domain("", 0, out, sizeof(out)));
	assert_false(address_normalize_domain("a b.example", 11, out, sizeof(out)));
	assert_false(address_normalize_domain(".example", 8, out, sizeof(out)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_domain_matches),
	    cmocka_unit_test(test_normalize_domain),
	};
	return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
