#include "queue/route.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "util/str.h"

const struct route_conf *
route_for(const struct config *cfg, const char *domain)
{
	const struct route_conf *best = NULL;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route_conf *r = &cfg->routes[i];

		if (!address_domain_matches(domain, r->domain))
			continue;
		if (r->domain[0] != '.')
			return r; /* an exact match beats any suffix */
		if (best == NULL || strlen(r->domain) > strlen(best->domain))
			best = r;
	}
	return best ? best : &cfg->default_route;
}

void
route_key(const struct route_conf *r, const char *domain, char *key, size_t size)
{
	switch (r->kind) {
	case NEXT_HOP_DIR:
		str_fmt(key, size, "dir:%s", r->dir);
		break;
	case NEXT_HOP_MX:
		str_fmt(key, size, "mx:%s", domain);
		break;
	case NEXT_HOP_HOST:
		str_fmt(key, size, "smtp:%s:%u", r->host, r->port);
		break;
	}
}

/* Keep the addresses of t the guard allows; remember why one was not. */
static void
guard_addrs(const struct mxguard *g, bool is_mx, struct target *t, enum mxguard_verdict *why,
            char *why_addr, size_t why_size)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n_addr; i++) {
		enum mxguard_verdict v =
		    mxguard_check(g, (const struct sockaddr *)&t->addr[i], is_mx);

		if (v == MXGUARD_OK) {
			t->addr[k] = t->addr[i];
			t->addr_len[k++] = t->addr_len[i];
		} else if (*why == MXGUARD_OK) {
			*why = v;
			sockaddr_format_addr((const struct sockaddr *)&t->addr[i], why_addr,
			                     why_size);
		}
	}
	t->n_addr = k;
}

/* A [routes] or next_hop host: its addresses from the system resolver. */
static enum outcome
host_target(const struct route_conf *r, struct target *t, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char port[8];
	int rc;

	memset(t, 0, sizeof(*t));
	str_copy(t->name, sizeof(t->name), r->host);
	t->port = r->port;
	snprintf(port, sizeof(port), "%u", r->port);
	if ((rc = getaddrinfo(r->host, port, &hints, &res)) != 0) {
		str_fmt(err, errlen, "cannot resolve %s: %s", r->host, gai_strerror(rc));
		return rc == EAI_NONAME ? OUT_PERMFAIL : OUT_TEMPFAIL;
	}
	for (ai = res; ai && t->n_addr < TARGET_ADDRS_MAX; ai = ai->ai_next) {
		memcpy(&t->addr[t->n_addr], ai->ai_addr, ai->ai_addrlen);
		t->addr_len[t->n_addr++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return OUT_OK;
}

static enum outcome
mx_targets(const struct config *cfg, const char *domain, struct dns *dns, const struct mxguard *g,
           struct target *out, size_t max, size_t *n, enum mxguard_verdict *why, char *why_addr,
           size_t why_size, char *err, size_t errlen)
{
	struct dns_mx mx[DNS_MX_MAX];
	size_t n_mx = 0;
	enum outcome o, last = OUT_OK;

	if ((o = dns_mx(dns, domain, mx, DNS_MX_MAX, &n_mx, err, errlen)) != OUT_OK)
		return o;
	if (n_mx == 0) { /* no MX: the domain itself, as if MX 0 */
		str_copy(mx[0].host, sizeof(mx[0].host), domain);
		n_mx = 1;
	}
	for (size_t i = 0; i < n_mx && *n < max; i++) {
		struct target *t = &out[*n];

		memset(t, 0, sizeof(*t));
		str_copy(t->name, sizeof(t->name), mx[i].host);
		t->port = (unsigned)cfg->mx_port;
		o = dns_addrs(dns, mx[i].host, t->port, t->addr, t->addr_len, TARGET_ADDRS_MAX,
		              &t->n_addr, err, errlen);
		if (o == OUT_OK)
			guard_addrs(g, true, t, why, why_addr, why_size);
		if (o == OUT_OK && t->n_addr > 0)
			(*n)++;
		else if (o != OUT_OK)
			last = o; /* try the other MX hosts */
	}
	if (*n > 0)
		return OUT_OK;
	return last == OUT_OK ? OUT_TEMPFAIL : last;
}

enum outcome
route_targets(const struct config *cfg, const struct route_conf *r, const char *domain,
              struct dns *dns, const struct mxguard *g, struct target *out, size_t max, size_t *n,
              char *err, size_t errlen)
{
	enum mxguard_verdict why = MXGUARD_OK;
	char why_addr[64] = "";
	enum outcome o;

	*n = 0;
	if (r->kind == NEXT_HOP_HOST) {
		if ((o = host_target(r, &out[0], err, errlen)) != OUT_OK)
			return o;
		guard_addrs(g, false, &out[0], &why, why_addr, sizeof(why_addr));
		*n = out[0].n_addr > 0;
	} else {
		o = mx_targets(cfg, domain, dns, g, out, max, n, &why, why_addr, sizeof(why_addr),
		               err, errlen);
		if (*n == 0 && why == MXGUARD_OK)
			return o;
	}
	if (*n > 0)
		return OUT_OK;
	/* Every address was refused: DNS (or the admin) points at something
	 * mailout must not connect to. That will not change by waiting. */
	str_fmt(err, errlen, "%s %s leads only to %s, %s; mailout does not deliver there",
	        r->kind == NEXT_HOP_HOST ? "the route to" : "the MX of",
	        r->kind == NEXT_HOP_HOST ? r->host : domain, why_addr, mxguard_name(why));
	return OUT_PERMFAIL;
}
