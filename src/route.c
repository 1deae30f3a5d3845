#include "route.h"

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

enum outcome
route_targets(const struct config *cfg, const struct route_conf *r, const char *domain,
              struct dns *dns, struct route_target *out, size_t max, size_t *n, char *err,
              size_t errlen)
{
	struct dns_mx mx[DNS_MX_MAX];
	size_t n_mx = 0;
	enum outcome o, last = OUT_OK;

	*n = 0;
	if (r->kind == NEXT_HOP_HOST) {
		memset(&out[0], 0, sizeof(out[0]));
		str_copy(out[0].name, sizeof(out[0].name), r->host);
		out[0].port = r->port;
		*n = 1;
		return OUT_OK;
	}
	if ((o = dns_mx(dns, domain, mx, DNS_MX_MAX, &n_mx, err, errlen)) != OUT_OK)
		return o;
	if (n_mx == 0) { /* no MX: the domain itself, as if MX 0 */
		str_copy(mx[0].host, sizeof(mx[0].host), domain);
		n_mx = 1;
	}
	for (size_t i = 0; i < n_mx && *n < max; i++) {
		struct route_target *t = &out[*n];

		memset(t, 0, sizeof(*t));
		str_copy(t->name, sizeof(t->name), mx[i].host);
		t->port = (unsigned)cfg->mx_port;
		o = dns_addrs(dns, mx[i].host, t->port, t->addr, t->addr_len, DNS_ADDR_MAX,
		              &t->n_addr, err, errlen);
		if (o == OUT_OK)
			(*n)++;
		else
			last = o; /* try the other MX hosts */
	}
	if (*n > 0)
		return OUT_OK;
	return last == OUT_OK ? OUT_TEMPFAIL : last;
}
