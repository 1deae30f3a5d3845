/*
 * dns: MX and address lookups for delivery, with libunbound. One struct
 * dns per delivery thread; lookups block that thread only (the SMTP
 * workers never resolve). [relay] resolver = host:port forwards every
 * query to that server (tests run one on loopback); otherwise
 * /etc/resolv.conf is used. Errors: OUT_TEMPFAIL (SERVFAIL, timeout),
 * OUT_PERMFAIL (the name does not exist), with a sentence in err.
 */
#ifndef MAILOUT_QUEUE_DNS_H
#define MAILOUT_QUEUE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "outcome.h"

#define DNS_MX_MAX   16
#define DNS_ADDR_MAX 16

struct dns_mx {
	unsigned pref;
	char host[256];
};

struct dns;

struct dns *dns_new(const char *resolver, char *err, size_t errlen);
void dns_free(struct dns *);
/* MX records of domain, sorted by preference. *n = 0 with OUT_OK: the
 * domain exists without MX (use its A/AAAA, RFC 5321 5.1). A null MX
 * (RFC 7505) is OUT_PERMFAIL. */
enum outcome dns_mx(struct dns *, const char *domain, struct dns_mx *out, size_t max, size_t *n,
                    char *err, size_t errlen);
/* A and AAAA of host, with port, into out. */
enum outcome dns_addrs(struct dns *, const char *host, unsigned port, struct sockaddr_storage *out,
                       socklen_t *lens, size_t max, size_t *n, char *err, size_t errlen);

#endif
