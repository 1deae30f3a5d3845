/* libFuzzer: a load balancer's PROXY header (v1 text, v2 binary) through
 * proxyproto.c. Properties: the measured length never passes the input
 * and is all of it while more is needed; a parsed header is one measured
 * as done; what is parsed writes back and reads back equal. */
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, back;
	unsigned char out[PROXY_V2_MAX];
	size_t n;

	enum proxy_state st = proxy_header_length(data, size, &n);
	assert(n <= size);
	if (st == PROXY_MORE)
		assert(n == size);
	bool ok = proxy_parse(data, size, &h);
	if (ok)
		assert(st == PROXY_DONE && n == size);
	if (!ok || h.is_local)
		return 0;
	size_t w = proxy_write(h.version, (const struct sockaddr *)&h.src,
	                       (const struct sockaddr *)&h.dst, out, sizeof(out));
	assert(w > 0);
	assert(proxy_parse(out, w, &back));
	assert(back.version == h.version && !back.is_local);
	assert(memcmp(&back.src, &h.src, addr_len(&h.src)) == 0);
	assert(memcmp(&back.dst, &h.dst, addr_len(&h.dst)) == 0);
	return 0;
}
