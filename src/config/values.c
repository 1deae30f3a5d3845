#include "config/values.h"

#include <openssl/ssl.h>
#include <string.h>

#include "address.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"

typedef bool word_fn(const char *word, size_t i, void *arg, char *err, size_t errlen);

/* Each word of a list value added as item *n (at most max, "more than max
 * what" beyond) by add(word, *n, arg); false with err at the first bad one. */
static bool
each_word(const char *value, size_t *n, size_t max, const char *what, word_fn *add, void *arg,
          char *err, size_t errlen)
{
	char copy[CONF_LINE_MAX + 1], *w[CONF_LIST_MAX];
	size_t k;

	str_copy(copy, sizeof(copy), value);
	if ((k = str_split(copy, w, CONF_LIST_MAX)) > CONF_LIST_MAX) {
		str_fmt(err, errlen, "more than %d values in one line", CONF_LIST_MAX);
		return false;
	}
	for (size_t i = 0; i < k; i++, (*n)++) {
		if (*n == max) {
			str_fmt(err, errlen, "more than %zu %s", max, what);
			return false;
		}
		if (!add(w[i], *n, arg, err, errlen))
			return false;
	}
	return true;
}

static bool
add_domain(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct config *cfg = arg;
	char norm[CONF_DOMAIN_MAX];
	bool is_suffix = w[0] == '.';

	if (!address_normalize_domain(w + is_suffix, strlen(w + is_suffix), norm, sizeof(norm))) {
		str_fmt(err, errlen, "'%s' is not a valid domain", w);
		return false;
	}
	return str_fmt(cfg->internal_domains[i], CONF_DOMAIN_MAX, "%s%s", is_suffix ? "." : "",
	               norm);
}

bool
conf_parse_domains(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return each_word(value, &cfg->n_internal_domains, CONF_DOMAINS_MAX, "internal domains",
	                 add_domain, cfg, err, errlen);
}

/* One address (user@domain) in normal form into dst. */
static bool
parse_address(const char *key, const char *value, char *dst, size_t size, char *err, size_t errlen)
{
	struct address a;
	size_t used;

	if (address_parse_path(value, strlen(value), true, &a, &used) != ADDRESS_OK ||
	    used != strlen(value) || a.is_null || a.domain[0] == '\0') {
		str_fmt(err, errlen, "%s = '%s' is not an address (user@domain)", key, value);
		return false;
	}
	address_format(&a, dst, size);
	return true;
}

bool
conf_parse_postmaster(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_address("postmaster", value, cfg->postmaster, sizeof(cfg->postmaster), err,
	                     errlen);
}

bool
conf_parse_notify_from(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_address("notify_from", value, cfg->tr_notify_from, sizeof(cfg->tr_notify_from),
	                     err, errlen);
}

static bool
add_admin(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct config *cfg = arg;

	return parse_address("admins", w, cfg->tr_admins[i], sizeof(cfg->tr_admins[i]), err,
	                     errlen);
}

bool
conf_parse_admins(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	cfg->n_tr_admins = 0;
	return each_word(value, &cfg->n_tr_admins, CONF_ADMINS_MAX, "admins", add_admin, cfg, err,
	                 errlen);
}

static bool
add_remind(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct config *cfg = arg;
	uint64_t v;

	if (!num_parse_duration(w, 3600, 366 * 86400, &v)) {
		str_fmt(err, errlen, "remind: '%s' is not a duration between 1h and 366d", w);
		return false;
	}
	for (size_t k = 0; k < i; k++) {
		if (cfg->tr_remind[k] <= v) {
			str_fmt(err, errlen,
			        "remind: give the durations largest first, each once "
			        "(30d 7d 1d)");
			return false;
		}
	}
	cfg->tr_remind[i] = v;
	return true;
}

bool
conf_parse_remind(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	cfg->n_tr_remind = 0;
	if (strcmp(value, "none") == 0)
		return true;
	return each_word(value, &cfg->n_tr_remind, CONF_REMIND_MAX, "reminders", add_remind, cfg,
	                 err, errlen);
}

struct path_list {
	struct conf_ctx *c;
	char (*dst)[PATH_MAX];
};

static bool
add_path(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct path_list *p = arg;

	if (!conf_resolve_path(p->c, p->dst[i], PATH_MAX, w)) {
		str_fmt(err, errlen, "path too long: %s", w);
		return false;
	}
	return true;
}

bool
conf_parse_paths(struct conf_ctx *c, char (*dst)[PATH_MAX], size_t *n_dst, const char *value,
                 char *err, size_t errlen)
{
	struct path_list p = {c, dst};

	return each_word(value, n_dst, CONF_CERTS_MAX, "files", add_path, &p, err, errlen);
}

bool
conf_parse_database(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	bool is_url =
	    strncmp(value, "postgresql://", 13) == 0 || strncmp(value, "postgres://", 11) == 0;

	if (value[0] == '\0' ||
	    !(is_url ? str_copy(cfg->registry_db, sizeof(cfg->registry_db), value)
	             : conf_resolve_path(c, cfg->registry_db, sizeof(cfg->registry_db), value))) {
		str_copy(err, errlen, "database: empty or too long"); /* a URL may hold a password */
		return false;
	}
	return true;
}

bool
conf_parse_expiry(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	int64_t at;

	(void)c;
	if (!isodate_parse_expiry(value, &at)) {
		str_fmt(err, errlen,
		        "default_expiry = '%s': use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)",
		        value);
		return false;
	}
	return str_copy(cfg->default_expiry, sizeof(cfg->default_expiry), value);
}

bool
conf_parse_next_hop(struct conf_ctx *c, struct route_conf *r, const char *value, char *err,
                    size_t errlen)
{
	const char *colon;
	uint64_t port;

	if (strcmp(value, "mx") == 0) {
		r->kind = NEXT_HOP_MX;
		return true;
	}
	if (strncmp(value, "dir:", 4) == 0) {
		r->kind = NEXT_HOP_DIR;
		if (value[4] == '\0' || !conf_resolve_path(c, r->dir, sizeof(r->dir), value + 4)) {
			str_fmt(err, errlen, "dir: needs a folder path");
			return false;
		}
		return true;
	}
	colon = strrchr(value, ':');
	if (colon == NULL || colon == value || !num_parse_u64(colon + 1, 1, 65535, &port)) {
		str_fmt(err, errlen, "'%s' is not host:port, mx or dir:PATH", value);
		return false;
	}
	r->kind = NEXT_HOP_HOST;
	r->port = (unsigned)port;
	if (value[0] == '[' && colon[-1] == ']')
		return str_copyn(r->host, sizeof(r->host), value + 1, (size_t)(colon - value) - 2);
	return str_copyn(r->host, sizeof(r->host), value, (size_t)(colon - value));
}

bool
conf_parse_default_route(struct conf_ctx *c, void *base, const char *value, char *err,
                         size_t errlen)
{
	return conf_parse_next_hop(c, &((struct config *)base)->default_route, value, err, errlen);
}

static bool
add_address(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct listener_conf *l = arg;

	if (!sockaddr_parse_hostport(w, &l->addr[i], &l->addr_len[i])) {
		str_fmt(err, errlen,
		        "'%s' is not an address:port (IPv4 as 0.0.0.0:587, IPv6 as [::]:587)", w);
		return false;
	}
	return true;
}

bool
conf_parse_addresses(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct listener_conf *l = base;

	(void)c;
	return each_word(value, &l->n_addr, CONF_ADDRS_MAX, "addresses", add_address, l, err,
	                 errlen);
}

struct net_list {
	struct cidr *nets;
	const char *also_allowed;
};

static bool
add_net(const char *w, size_t i, void *arg, char *err, size_t errlen)
{
	struct net_list *l = arg;

	if (!cidr_parse(w, &l->nets[i])) {
		str_fmt(
		    err, errlen,
		    "'%s' is not %san address or CIDR prefix (like 10.0.0.0/8 or 2001:db8::/32, "
		    "host bits zero)",
		    w, l->also_allowed);
		return false;
	}
	return true;
}

bool
conf_parse_nets(const char *value, struct cidr *nets, size_t *n_nets, const char *also_allowed,
                char *err, size_t errlen)
{
	struct net_list l = {nets, also_allowed};

	return each_word(value, n_nets, CONF_NETS_MAX, "prefixes", add_net, &l, err, errlen);
}

bool
conf_parse_clients(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct listener_conf *l = base;

	(void)c;
	if (strcmp(value, "any") == 0 || strcmp(value, "registered") == 0) {
		if (l->n_nets > 0) {
			str_fmt(err, errlen, "'%s' cannot be mixed with CIDR prefixes", value);
			return false;
		}
		l->clients = value[0] == 'a' ? LCLIENTS_ANY : LCLIENTS_REGISTERED;
		return true;
	}
	if (!conf_parse_nets(value, l->nets, &l->n_nets, "any, registered, or ", err, errlen))
		return false;
	l->clients = LCLIENTS_NETS;
	return true;
}

bool
conf_parse_web_address(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	if (!sockaddr_parse_hostport(value, &cfg->web_addr, &cfg->web_addr_len)) {
		str_fmt(err, errlen,
		        "'%s' is not an address:port (IPv4 as 127.0.0.1:8025, IPv6 as [::1]:8025)",
		        value);
		return false;
	}
	cfg->web_enabled = true;
	return true;
}

bool
conf_parse_cutover(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	int64_t at;

	(void)c;
	if (strlen(value) != 10 || !isodate_parse_expiry(value, &at)) {
		str_fmt(err, errlen, "cutover = '%s': use YYYY-MM-DD", value);
		return false;
	}
	return str_copy(cfg->web_cutover, sizeof(cfg->web_cutover), value);
}

bool
conf_parse_tls_version(struct conf_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	static const unsigned versions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
	                                    TLS1_3_VERSION};
	struct listener_conf *l = base;

	(void)c;
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, tls_version_name(versions[i])) == 0) {
			l->min_tls_version = versions[i];
			return true;
		}
	}
	str_fmt(err, errlen, "'%s' is not a TLS version: use 1.0, 1.1, 1.2 or 1.3", value);
	return false;
}
