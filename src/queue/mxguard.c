#include "queue/mxguard.h"

#include <netinet/in.h>
#include <string.h>

#include "util/cidr.h"

static const struct {
	const char *net;
	enum mxguard_verdict v;
} classes[] = {
    {"127.0.0.0/8", MXGUARD_LOOPBACK},      {"::1/128", MXGUARD_LOOPBACK},
    {"0.0.0.0/8", MXGUARD_UNSPECIFIED},     {"::/128", MXGUARD_UNSPECIFIED},
    {"169.254.0.0/16", MXGUARD_LINK_LOCAL}, {"fe80::/10", MXGUARD_LINK_LOCAL},
    {"224.0.0.0/4", MXGUARD_MULTICAST},     {"255.255.255.255", MXGUARD_MULTICAST},
    {"ff00::/8", MXGUARD_MULTICAST},        {"10.0.0.0/8", MXGUARD_PRIVATE},
    {"172.16.0.0/12", MXGUARD_PRIVATE},     {"192.168.0.0/16", MXGUARD_PRIVATE},
    {"100.64.0.0/10", MXGUARD_PRIVATE},     {"fc00::/7", MXGUARD_PRIVATE},
    {"fec0::/10", MXGUARD_PRIVATE},         {"240.0.0.0/4", MXGUARD_UNSPECIFIED},
};

static unsigned
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

static bool
is_wildcard(const struct sockaddr *sa)
{
	uint8_t b[16] = {0}, zero[16] = {0};
	int fam = cidr_sockaddr_bytes(sa, b);

	return fam >= 0 && memcmp(b, zero, fam == AF_INET ? 4 : 16) == 0;
}

static void
add_own(struct mxguard *g, const struct sockaddr_storage *ss, unsigned port)
{
	struct sockaddr_storage a = *ss;

	if (g->n_own == MXGUARD_OWN_MAX)
		return;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
	else if (a.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
	g->own[g->n_own++] = a;
}

void
mxguard_init(struct mxguard *g, const struct config *cfg, const struct sockaddr_storage *local,
             size_t n_local)
{
	memset(g, 0, sizeof(*g));
	g->allow = cfg->mx_allow;
	g->n_allow = cfg->n_mx_allow;
	for (size_t i = 0; i < cfg->n_listener; i++) {
		const struct listener_conf *l = &cfg->listener[i];

		for (size_t a = 0; a < l->n_addr; a++) {
			const struct sockaddr *sa = (const struct sockaddr *)&l->addr[a];
			unsigned port = port_of(sa);

			if (!is_wildcard(sa)) {
				add_own(g, &l->addr[a], port);
				continue;
			}
			for (size_t k = 0; k < n_local; k++)
				add_own(g, &local[k], port);
		}
	}
}

static bool
same_endpoint(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[16] = {0}, y[16] = {0};
	int fa = cidr_sockaddr_bytes(a, x), fb = cidr_sockaddr_bytes(b, y);

	return fa >= 0 && fa == fb && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0 &&
	       port_of(a) == port_of(b);
}

enum mxguard_verdict
mxguard_check(const struct mxguard *g, const struct sockaddr *sa, bool is_mx)
{
	for (size_t i = 0; i < g->n_own; i++)
		if (same_endpoint((const struct sockaddr *)&g->own[i], sa))
			return MXGUARD_OWN;
	if (!is_mx)
		return MXGUARD_OK;
	for (size_t i = 0; i < g->n_allow; i++)
		if (cidr_contains(&g->allow[i], sa))
			return MXGUARD_OK;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		struct cidr c;

		if (cidr_parse(classes[i].net, &c) && cidr_contains(&c, sa))
			return classes[i].v;
	}
	return MXGUARD_OK;
}

const char *
mxguard_name(enum mxguard_verdict v)
{
	switch (v) {
	case MXGUARD_OK:
		return "allowed";
	case MXGUARD_LOOPBACK:
		return "a loopback address";
	case MXGUARD_UNSPECIFIED:
		return "an unspecified or reserved address";
	case MXGUARD_LINK_LOCAL:
		return "a link-local address";
	case MXGUARD_MULTICAST:
		return "a multicast or broadcast address";
	case MXGUARD_PRIVATE:
		return "a private address ([relay] mx_allow_networks does not list it)";
	case MXGUARD_OWN:
		return "one of this gateway's own listening addresses (a mail loop)";
	}
	return "?";
}
