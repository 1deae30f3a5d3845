/*
 * cidr: IPv4/IPv6 addresses and prefixes, and socket address helpers.
 * Mail-agnostic; no I/O.
 */
#ifndef MAILOUT_UTIL_CIDR_H
#define MAILOUT_UTIL_CIDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_STR_MAX 64 /* "ffff:...:ffff/128" with room */

struct cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order, host bits cleared */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/* "192.0.2.1", "192.0.2.0/24", "2001:db8::/32". A prefix with host bits
 * set ("10.1.2.3/8") is refused: it is almost always a typo. */
bool cidr_parse(const char *s, struct cidr *out);
bool cidr_contains(const struct cidr *, const struct sockaddr *);
/* IPv4-mapped IPv6 addresses match IPv4 prefixes. */
bool cidr_overlaps(const struct cidr *, const struct cidr *);
void cidr_format(const struct cidr *, char *dst, size_t size);
/* The network's first address as a socket address (port 0). */
void cidr_to_sockaddr(const struct cidr *, struct sockaddr_storage *);
/* The address bytes of sa into out, ::ffff:a.b.c.d as IPv4; the family
 * (AF_INET, AF_INET6), or -1 for another kind of address. */
int cidr_sockaddr_bytes(const struct sockaddr *, uint8_t out[16]);

/* "0.0.0.0:587", "[::]:587", "127.0.0.1:0". */
bool sockaddr_parse_hostport(const char *s, struct sockaddr_storage *, socklen_t *);
/* Address without port, e.g. "127.0.0.1" or "::1" (mapped v4 shown as v4). */
void sockaddr_format_addr(const struct sockaddr *, char *dst, size_t size);
/* Address with port, e.g. "127.0.0.1:25" or "[::1]:25". */
void sockaddr_format(const struct sockaddr *, char *dst, size_t size);

#endif
