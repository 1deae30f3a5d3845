/* Unit tests: where delivery may connect (mxguard.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "queue/mxguard.h"
#include "util/cidr.h"

static struct sockaddr_storage
at(const char *hostport)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!sockaddr_parse_hostport(hostport, &ss, &len))
		fail_msg("bad test address %s", hostport);
	return ss;
}

static void
test_classes_allow_list_and_own_listeners(void **state)
{
	static struct config cfg;
	struct sockaddr_storage local[] = {at("192.0.2.10:0"), at("[2001:db8::10]:0")};
	struct mxguard g;
	static const struct {
		const char *addr;
		bool is_mx;
		enum mxguard_verdict want;
	} cases[] = {
	    {"127.0.0.1:25", true, MXGUARD_LOOPBACK},
	    {"[::1]:25", true, MXGUARD_LOOPBACK},
	    {"[::ffff:127.0.0.1]:25", true, MXGUARD_LOOPBACK},
	    {"0.0.0.0:25", true, MXGUARD_UNSPECIFIED},
	    {"[::]:25", true, MXGUARD_UNSPECIFIED},
	    {"169.254.169.254:25", true, MXGUARD_LINK_LOCAL}, /* cloud metadata */
	    {"[fe80::1]:25", true, MXGUARD_LINK_LOCAL},
	    {"224.0.0.1:25", true, MXGUARD_MULTICAST},
	    {"255.255.255.255:25", true, MXGUARD_MULTICAST},
	    {"10.1.2.3:25", true, MXGUARD_PRIVATE},
	    {"172.20.0.1:25", true, MXGUARD_PRIVATE},
	    {"192.168.1.1:25", true, MXGUARD_PRIVATE},
	    {"100.64.0.1:25", true, MXGUARD_PRIVATE},
	    {"[fd00::1]:25", true, MXGUARD_PRIVATE},
	    {"10.99.0.7:25", true, MXGUARD_OK}, /* in mx_allow_networks */
	    {"198.51.100.7:25", true, MXGUARD_OK},
	    {"[2001:db8:1::7]:25", true, MXGUARD_OK},
	    {"127.0.0.1:25", false, MXGUARD_OK},    /* a [routes] host the admin wrote */
	    {"192.0.2.10:587", true, MXGUARD_OWN},  /* wildcard listener, local address */
	    {"192.0.2.10:587", false, MXGUARD_OWN}, /* a route to ourselves too */
	    {"[2001:db8::10]:587", false, MXGUARD_OWN},
	    {"192.0.2.10:25", true, MXGUARD_OK},   /* another port of ours */
	    {"10.99.0.1:2525", true, MXGUARD_OWN}, /* a specific listener, allowed net */
	    {"[::ffff:10.99.0.1]:2525", false, MXGUARD_OWN},
	};

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_true(cidr_parse("10.99.0.0/16", &cfg.mx_allow[cfg.n_mx_allow++]));
	cfg.n_listener = 2;
	cfg.listener[0].addr[0] = at("0.0.0.0:587");
	cfg.listener[0].addr[1] = at("[::]:587");
	cfg.listener[0].n_addr = 2;
	cfg.listener[1].addr[0] = at("10.99.0.1:2525");
	cfg.listener[1].n_addr = 1;
	mxguard_init(&g, &cfg, local, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage a = at(cases[i].addr);
		enum mxguard_verdict v = mxguard_check(&g, (struct sockaddr *)&a, cases[i].is_mx);
		if (v != cases[i].want)
			fail_msg("%s (mx=%d): got %s, want %s", cases[i].addr, cases[i].is_mx,
			         mxguard_name(v), mxguard_name(cases[i].want));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes_allow_list_and_own_listeners),
	};
	return cmocka_run_group_tests_name("mxguard", tests, NULL, NULL);
}
