/*
 * route: which next hop a recipient domain goes to. [routes] lines match a
 * domain exactly ("example.edu") or every subdomain (".example.edu"; the
 * longest match wins); everything else takes [relay] next_hop. For an MX
 * route the targets are the domain's MX hosts in preference order, each
 * with all its addresses, or the domain's own addresses when it has no MX
 * (RFC 5321 section 5.1). Pure, except route_targets() which asks DNS
 * and the system resolver.
 */
#ifndef MAILOUT_QUEUE_ROUTE_H
#define MAILOUT_QUEUE_ROUTE_H

#include "client/target.h"
#include "config/config.h"
#include "queue/dns.h"
#include "queue/mxguard.h"

#define ROUTE_TARGETS_MAX DNS_MX_MAX
#define ROUTE_KEY_MAX     (CONF_DOMAIN_MAX + 16)

const struct route_conf *route_for(const struct config *, const char *domain);
/* Recipients with the same key go in one transaction over one connection. */
void route_key(const struct route_conf *, const char *domain, char *key, size_t size);
/* The hosts to try, in order, with the addresses the guard allows (for an
 * MX route the address classes too, mxguard.h). OUT_PERMFAIL with a
 * sentence when every address was refused. */
enum outcome route_targets(const struct config *, const struct route_conf *, const char *domain,
                           struct dns *, const struct mxguard *, struct target *out, size_t max,
                           size_t *n, char *err, size_t errlen);

#endif
