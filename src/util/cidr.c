#include "util/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util/num.h"
#include "util/str.h"

bool
cidr_parse(const char *s, struct cidr *out)
{
	char host[CIDR_STR_MAX];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned maxbits;
	uint64_t bits;

	if (!str_copyn(host, sizeof(host), s, hlen))
		return false;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		return false;
	}
	bits = maxbits;
	if (slash && !num_parse_u64(slash + 1, 0, maxbits, &bits))
		return false;
	out->prefix = (unsigned)bits;
	for (unsigned i = out->prefix; i < maxbits; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool
prefix_match(const uint8_t *net, const uint8_t *addr, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(net, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net[full] & mask) == (addr[full] & mask);
}

int
cidr_sockaddr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, a->s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(out, a->s6_addr, 16);
		return AF_INET6;
	}
	return -1;
}

bool
cidr_contains(const struct cidr *c, const struct sockaddr *sa)
{
	uint8_t addr[16];

	if (cidr_sockaddr_bytes(sa, addr) != c->family)
		return false;
	return prefix_match(c->addr, addr, c->prefix);
}

void
cidr_to_sockaddr(const struct cidr *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)c->family;
	if (c->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, c->addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, c->addr, 16);
}

bool
cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	if (a->family != b->family)
		return false;
	return prefix_match(a->addr, b->addr, a->prefix < b->prefix ? a->prefix : b->prefix);
}

void
cidr_format(const struct cidr *c, char *dst, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	unsigned maxbits = c->family == AF_INET ? 32 : 128;

	inet_ntop(c->family, c->addr, host, sizeof(host));
	if (c->prefix == maxbits)
		str_copy(dst, size, host);
	else
		str_fmt(dst, size, "%s/%u", host, c->prefix);
}

bool
sockaddr_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *hstart = s;
	size_t hlen;
	uint64_t port;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return false;
		hstart = s + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - s);
	}
	if (!str_copyn(host, sizeof(host), hstart, hlen) ||
	    !num_parse_u64(colon + 1, 0, 65535, &port))
		return false;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (*s != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return true;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

void
sockaddr_format_addr(const struct sockaddr *sa, char *dst, size_t size)
{
	uint8_t addr[16];
	char host[INET6_ADDRSTRLEN];
	int family = cidr_sockaddr_bytes(sa, addr);

	if (family < 0 || inet_ntop(family, addr, host, sizeof(host)) == NULL) {
		str_copy(dst, size, "unknown");
		return;
	}
	str_copy(dst, size, host);
}

void
sockaddr_format(const struct sockaddr *sa, char *dst, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;

	sockaddr_format_addr(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	if (strchr(host, ':'))
		str_fmt(dst, size, "[%s]:%u", host, port);
	else
		str_fmt(dst, size, "%s:%u", host, port);
}
