/* Unit tests: what a ClientHello offered, and the sentence for the operator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hello.h"

static void
test_old_copier(void **state)
{
	/* A TLS 1.0 client: no supported_versions, RC4, 3DES and one CBC suite, no SNI. */
	static const unsigned char ciphers[] = {0x00, 0x05, 0x00, 0x04, 0x00,
	                                        0x0a, 0x00, 0x2f, 0x00, 0xff};
	struct hello h = {0};
	char out[256];

	(void)state;
	hello_versions(&h, 0x0301, NULL, 0);
	hello_ciphers(&h, ciphers, sizeof(ciphers));
	assert_true(h.is_seen);
	assert_int_equal(h.min_version, 0x0301);
	assert_int_equal(h.max_version, 0x0301);
	assert_int_equal(h.n_ciphers, 4); /* the SCSV is no suite */
	assert_true(h.has_rc4 && h.has_3des && h.has_cbc && !h.has_aead);
	hello_diagnose(&h, 0x0303, out, sizeof(out));
	assert_string_equal(out,
	                    "offers only TLS 1.0 (4 cipher suites, CBC, 3DES and RC4; no SNI): "
	                    "a firmware update is needed, or register it with legacy TLS");
}

static void
test_modern_client(void **state)
{
	/* supported_versions: GREASE, TLS 1.3, TLS 1.2; TLS 1.3 suites; SNI. */
	static const unsigned char versions[] = {6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03};
	static const unsigned char ciphers[] = {0x1a, 0x1a, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b};
	static const unsigned char sni[] = {0x00, 0x0f, 0x00, 0x00, 0x0c, 'm', 'a', 'i', 'l',
	                                    'o',  'u',  't',  '.',  't',  'e', 's', 't'};
	static const unsigned char sigalgs[] = {0x00, 0x04, 0x04, 0x03, 0x08, 0x04};
	struct hello h = {0};
	char out[256];

	(void)state;
	hello_versions(&h, 0x0303, versions, sizeof(versions));
	hello_ciphers(&h, ciphers, sizeof(ciphers));
	hello_sni(&h, sni, sizeof(sni));
	hello_sigalgs(&h, sigalgs, sizeof(sigalgs));
	assert_int_equal(h.min_version, 0x0303);
	assert_int_equal(h.max_version, 0x0304);
	assert_int_equal(h.n_ciphers, 3);
	assert_string_equal(h.sni, "mailout.test");
	assert_int_equal(h.n_sigalgs, 2);
	hello_diagnose(&h, 0x0303, out, sizeof(out));
	assert_non_null(
	    strstr(out, "offers TLS 1.2 to TLS 1.3 (3 cipher suites, AEAD; SNI mailout.test)"));
	assert_non_null(strstr(out, "the versions fit"));
}

static void
test_truncated_fields(void **state)
{
	struct hello h = {0};
	char out[256];
	static const unsigned char bad_versions[] = {9, 0x03, 0x04};
	static const unsigned char bad_sni[] = {0x00, 0x30, 0x00, 0x00, 0x20, 'x'};

	(void)state;
	hello_versions(&h, 0x0303, bad_versions, sizeof(bad_versions)); /* falls back */
	assert_int_equal(h.max_version, 0x0303);
	hello_sni(&h, bad_sni, sizeof(bad_sni));
	assert_string_equal(h.sni, "");
	hello_ciphers(&h, (const unsigned char *)"\x00", 1); /* half a suite */
	assert_int_equal(h.n_ciphers, 0);
	hello_diagnose(&h, 0x0303, out, sizeof(out));
	assert_non_null(strstr(out, "cipher suites are all too weak"));
	struct hello none = {0};
	hello_diagnose(&none, 0x0303, out, sizeof(out));
	assert_string_equal(out, "the client sent no TLS ClientHello we could read");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_old_copier),
	                                   cmocka_unit_test(test_modern_client),
	                                   cmocka_unit_test(test_truncated_fields)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
