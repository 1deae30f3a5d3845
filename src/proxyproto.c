#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum proxy_state
proxy_header_length(const unsigned char *p, size_t len, size_t *n)
{
	*n = 0;
	if (len == 0)
		return PROXY_MORE;
	if (p[0] == 'P') {
		size_t k = len < 6 ? len : 6;
		if (memcmp(p, "PROXY ", k) != 0)
			return PROXY_BAD;
		for (size_t i = 0; i < len && i < PROXY_V1_MAX; i++) {
			if (p[i] == '\n') {
				if (i == 0 || p[i - 1] != '\r')
					return PROXY_BAD;
				*n = i + 1;
				return PROXY_DONE;
			}
		}
		if (len >= PROXY_V1_MAX)
			return PROXY_BAD;
		*n = len;
		return PROXY_MORE;
	}
	size_t k = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (memcmp(p, v2_sig, k) != 0 || (len > 12 && (p[12] >> 4) != 2))
		return PROXY_BAD;
	if (len < 16) {
		*n = len;
		return PROXY_MORE;
	}
	size_t total = 16 + ((size_t)p[14] << 8 | p[15]);
	if (total > PROXY_V2_MAX)
		return PROXY_BAD;
	*n = len < total ? len : total;
	return len < total ? PROXY_MORE : PROXY_DONE;
}

/* "1.2.3.4" or "::1" and a port into ss. */
static bool
v1_address(const char *addr, const char *port, int family, struct sockaddr_storage *ss)
{
	unsigned long v = 0;
	size_t digits = strspn(port, "0123456789");

	if (digits == 0 || digits > 5 || port[digits] != '\0' || (port[0] == '0' && digits > 1))
		return false;
	sscanf(port, "%lu", &v);
	if (v > 65535)
		return false;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)v);
		return inet_pton(AF_INET, addr, &in->sin_addr) == 1;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)v);
	return inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1;
}

static bool
parse_v1(const unsigned char *p, size_t len, struct proxy_hdr *h)
{
	char line[PROXY_V1_MAX + 1], *w[6], *save = NULL;
	size_t n = 0;

	if (len < 8 || len > PROXY_V1_MAX || p[len - 2] != '\r' || p[len - 1] != '\n')
		return false;
	memcpy(line, p, len - 2);
	line[len - 2] = '\0';
	if (memchr(line, '\0', len - 2) != NULL)
		return false;
	h->version = 1;
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 && (line[13] == '\0' || line[13] == ' ')) {
		h->is_local = true;
		return true;
	}
	/* exactly single spaces between six words */
	for (size_t i = 0; line[i]; i++)
		if (line[i] == ' ' && (i == 0 || line[i + 1] == ' ' || line[i + 1] == '\0'))
			return false;
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 6)
			return false;
		w[n++] = t;
	}
	if (n != 6 || strcmp(w[0], "PROXY") != 0)
		return false;
	int family = strcmp(w[1], "TCP4") == 0 ? AF_INET : strcmp(w[1], "TCP6") == 0 ? AF_INET6 : 0;
	return family && v1_address(w[2], w[4], family, &h->src) &&
	       v1_address(w[3], w[5], family, &h->dst);
}

static bool
parse_v2(const unsigned char *p, size_t len, struct proxy_hdr *h)
{
	size_t body = (size_t)p[14] << 8 | p[15];
	unsigned cmd = p[12] & 0x0f, fam = p[13];

	if (len != 16 + body || (p[12] >> 4) != 2 || cmd > 1)
		return false;
	h->version = 2;
	if (cmd == 0 || fam == 0x00) { /* LOCAL, or PROXY of an unspecified family */
		h->is_local = true;
		return true;
	}
	const unsigned char *a = p + 16;
	if (fam == 0x11 && body >= 12) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src,
		                   *d = (struct sockaddr_in *)&h->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
		return true;
	}
	if (fam == 0x21 && body >= 36) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
		return true;
	}
	return false; /* UNIX sockets, datagrams, short address blocks */
}

bool
proxy_parse(const unsigned char *p, size_t len, struct proxy_hdr *h)
{
	size_t n;

	memset(h, 0, sizeof(*h));
	if (proxy_header_length(p, len, &n) != PROXY_DONE || n != len)
		return false;
	return p[0] == 'P' ? parse_v1(p, len, h) : parse_v2(p, len, h);
}

size_t
proxy_write(int version, const struct sockaddr *src, const struct sockaddr *dst, unsigned char *out,
            size_t size)
{
	bool v6 = src->sa_family == AF_INET6;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
	const struct sockaddr_in *d4 = (const struct sockaddr_in *)dst;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
	const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)dst;

	if (src->sa_family != dst->sa_family)
		return 0;
	if (version == 1) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		inet_ntop(src->sa_family, v6 ? (const void *)&s6->sin6_addr : &s4->sin_addr, a,
		          sizeof(a));
		inet_ntop(dst->sa_family, v6 ? (const void *)&d6->sin6_addr : &d4->sin_addr, b,
		          sizeof(b));
		int n =
		    snprintf((char *)out, size, "PROXY %s %s %s %u %u\r\n", v6 ? "TCP6" : "TCP4", a,
		             b, ntohs(v6 ? s6->sin6_port : s4->sin_port),
		             ntohs(v6 ? d6->sin6_port : d4->sin_port));
		return n > 0 && (size_t)n < size ? (size_t)n : 0;
	}
	size_t body = v6 ? 36 : 12;
	if (size < 16 + body)
		return 0;
	memcpy(out, v2_sig, 12);
	out[12] = 0x21;
	out[13] = v6 ? 0x21 : 0x11;
	out[14] = 0;
	out[15] = (unsigned char)body;
	if (v6) {
		memcpy(out + 16, &s6->sin6_addr, 16);
		memcpy(out + 32, &d6->sin6_addr, 16);
		memcpy(out + 48, &s6->sin6_port, 2);
		memcpy(out + 50, &d6->sin6_port, 2);
	} else {
		memcpy(out + 16, &s4->sin_addr, 4);
		memcpy(out + 20, &d4->sin_addr, 4);
		memcpy(out + 24, &s4->sin_port, 2);
		memcpy(out + 26, &d4->sin_port, 2);
	}
	return 16 + body;
}
