/* Unit tests: the PROXY protocol header (proxyproto.h): lengths as the
 * bytes come in, v1 and v2, what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "proxyproto.h"

#define U(s) ((const unsigned char *)(s))

static const char *
src_text(const struct proxy_hdr *h, char *buf, size_t size)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&h->src;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&h->src;

	return inet_ntop(h->src.ss_family,
	                 h->src.ss_family == AF_INET6 ? (const void *)&in6->sin6_addr
	                                              : (const void *)&in->sin_addr,
	                 buf, (socklen_t)size);
}

static void
test_v1(void **state)
{
	const char *hdr = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 25\r\nEHLO x\r\n";
	struct proxy_hdr h;
	char a[64];
	size_t n;

	(void)state;
	assert_int_equal(proxy_header_length(U(hdr), 10, &n), PROXY_MORE);
	assert_int_equal(n, 10);
	assert_int_equal(proxy_header_length(U(hdr), strlen(hdr), &n), PROXY_DONE);
	assert_int_equal(n, 46); /* never the client's EHLO */
	assert_true(proxy_parse(U(hdr), n, &h));
	assert_int_equal(h.version, 1);
	assert_string_equal(src_text(&h, a, sizeof(a)), "192.168.0.1");
	assert_int_equal(ntohs(((struct sockaddr_in *)&h.src)->sin_port), 56324);
	const char *six = "PROXY TCP6 2001:db8::1 2001:db8::2 1 25\r\n";
	assert_true(proxy_parse(U(six), strlen(six), &h));
	assert_string_equal(src_text(&h, a, sizeof(a)), "2001:db8::1");
	assert_true(proxy_parse(U("PROXY UNKNOWN\r\n"), 15, &h));
	assert_true(h.is_local);
	/* refused */
	static const char *const bad[] = {
	    "PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n",     "PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n",
	    "PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n",  "PROXY TCP4 ::1 ::1 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",  "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(proxy_parse(U(bad[i]), strlen(bad[i]), &h));
	assert_int_equal(proxy_header_length(U("EHLO x\r\n"), 8, &n), PROXY_BAD);
	char longer[200];
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "PROXY ", 6);
	assert_int_equal(proxy_header_length(U(longer), sizeof(longer), &n), PROXY_BAD);
}

static void
test_v2(void **state)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(4000)};
	struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(25)};
	unsigned char out[PROXY_V2_MAX + 8];
	struct proxy_hdr h;
	char a[64];
	size_t n;

	(void)state;
	inet_pton(AF_INET, "127.0.0.5", &s.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
	size_t w = proxy_write(2, (struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof(out));
	assert_int_equal(w, 28);
	out[w] = 0x16; /* a ClientHello follows */
	for (size_t k = 0; k < w; k++) {
		assert_int_equal(proxy_header_length(out, k, &n), PROXY_MORE);
		assert_int_equal(n, k);
	}
	assert_int_equal(proxy_header_length(out, w + 1, &n), PROXY_DONE);
	assert_int_equal(n, w);
	assert_true(proxy_parse(out, w, &h));
	assert_string_equal(src_text(&h, a, sizeof(a)), "127.0.0.5");
	assert_false(h.is_local);
	/* LOCAL: a health check */
	memcpy(out + 12, "\x20\x00\x00\x00", 4);
	assert_true(proxy_parse(out, 16, &h));
	assert_true(h.is_local);
	/* version 1 in the binary form, a UNIX family, a length past the limit */
	out[12] = 0x11;
	assert_int_equal(proxy_header_length(out, 16, &n), PROXY_BAD);
	memcpy(out + 12, "\x21\x31\x00\x0c", 4);
	assert_false(proxy_parse(out, 28, &h));
	memcpy(out + 12, "\x21\x11\xff\xff", 4);
	assert_int_equal(proxy_header_length(out, 16, &n), PROXY_BAD);
	memcpy(out + 12, "\x21\x11\x00\x04", 4); /* too short for IPv4 */
	assert_false(proxy_parse(out, 20, &h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_v1), cmocka_unit_test(test_v2)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
