#include "config/check.h"

#include <string.h>

#include "config/keys.h"
#include "util/isodate.h"
#include "util/str.h"

/* The line key was set on (0: not set). */
static unsigned
seen(const struct conf_ctx *c, const char *section, const char *key)
{
	return c->seen_global[conf_key_index(conf_key_find(section, key))];
}

static bool
sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char sa[80], sb[80];

	sockaddr_format((const struct sockaddr *)a, sa, sizeof(sa));
	sockaddr_format((const struct sockaddr *)b, sb, sizeof(sb));
	return strcmp(sa, sb) == 0;
}

/* 127.0.0.0/8 or ::1: only this host reaches it. (0.0.0.0 is every
 * address, and so is not.) */
static bool
is_loopback(const struct sockaddr *sa)
{
	struct cidr v4, v6;

	return (cidr_parse("127.0.0.0/8", &v4) && cidr_contains(&v4, sa)) ||
	       (cidr_parse("::1", &v6) && cidr_contains(&v6, sa));
}

static void
check_listener(struct conf_ctx *c, const struct listener_conf *l)
{
	const struct config *cfg = c->cfg;

	if (l->n_addr == 0)
		conf_error(c, l->line, "listener '%s' has no address", l->name);
	if (l->proxy && l->n_proxy_from == 0)
		conf_error(c, l->line,
		           "listener '%s' has proxy = yes but no proxy_from: name the load "
		           "balancers' addresses (anyone else could claim any client address)",
		           l->name);
	if (l->tls != LTLS_OFF && cfg->n_certificate == 0)
		conf_error(c, l->line,
		           "listener '%s' has tls = %s but [tls] names no certificate and key",
		           l->name, listener_tls_name(l->tls));
	if (l->tls == LTLS_OFF && l->auth != LAUTH_NONE)
		conf_error(c, l->line,
		           "listener '%s' has tls = off with auth = %s: passwords are never "
		           "accepted unencrypted",
		           l->name, listener_auth_name(l->auth));
	else if (l->auth != LAUTH_NONE && cfg->auth_backend == AUTHB_NONE)
		conf_error(c, l->line,
		           "listener '%s' has auth = %s but [auth] backend is not set: say where "
		           "passwords are checked (backend = file or ldap)",
		           l->name, listener_auth_name(l->auth));
	if (l->recipients == LRCPTS_ANY && l->clients == LCLIENTS_ANY && l->auth != LAUTH_REQUIRED)
		for (size_t i = 0; i < l->n_addr; i++)
			if (!is_loopback((const struct sockaddr *)&l->addr[i])) {
				char a[80];
				sockaddr_format((const struct sockaddr *)&l->addr[i], a, sizeof(a));
				conf_error(
				    c, l->line,
				    "listener '%s' on %s relays to any recipient for anyone who "
				    "reaches it (an open relay): say who may use it with clients = "
				    "your networks (e.g. 10.0.0.0/8 2001:db8::/32), or write "
				    "clients = 0.0.0.0/0 ::/0 if you mean everyone",
				    l->name, a);
				break;
			}
	if (l->clients == LCLIENTS_REGISTERED && cfg->registry_db[0] == '\0')
		conf_error(c, l->line,
		           "listener '%s' has clients = registered but [registry] database is not "
		           "set",
		           l->name);
	if (l->recipients == LRCPTS_INTERNAL && cfg->n_internal_domains == 0)
		conf_error(c, l->line,
		           "listener '%s' has recipients = internal but [gateway] "
		           "internal_domains is empty",
		           l->name);
	for (size_t i = 0; i < l->n_addr; i++)
		for (const struct listener_conf *o = cfg->listener; o <= l; o++)
			for (size_t j = 0; j < (o == l ? i : o->n_addr); j++)
				if (sockaddr_equal(&l->addr[i], &o->addr[j]))
					conf_error(c, l->line,
					           "listener '%s' address %zu is also used by "
					           "listener '%s'",
					           l->name, i + 1, o->name);
}

static void
check_web(struct conf_ctx *c)
{
	const struct config *cfg = c->cfg;
	unsigned line = seen(c, "web", "address");

	if (!cfg->web_enabled) {
		for (size_t i = 0; i < conf_n_keys; i++)
			if (strcmp(conf_keys[i].section, "web") == 0 && c->seen_global[i])
				conf_error(c, c->seen_global[i],
				           "[web] %s is set but [web] address is not: the pages "
				           "are not served without an address",
				           conf_keys[i].name);
		return;
	}
	if ((cfg->web_certificate[0] == '\0') != (cfg->web_key[0] == '\0'))
		conf_error(c, line, "[web] needs both certificate and key for HTTPS, or neither");
	if (cfg->registry_db[0] == '\0')
		conf_error(c, line,
		           "[web] needs [registry] database: the pages show and change it");
	for (size_t i = 0; i < cfg->n_listener; i++)
		for (size_t j = 0; j < cfg->listener[i].n_addr; j++)
			if (sockaddr_equal(&cfg->web_addr, &cfg->listener[i].addr[j]))
				conf_error(c, line, "[web] address is also used by listener '%s'",
				           cfg->listener[i].name);
}

/* Whether an LDAP URI list names only this host. */
static bool
ldap_uri_is_loopback(const char *uris)
{
	char one[512];

	while (*uris) {
		size_t n = strcspn(uris, " ");
		if (n >= sizeof(one))
			return false;
		memcpy(one, uris, n);
		one[n] = '\0';
		uris += n + (uris[n] == ' ');
		if (n == 0)
			continue;
		const char *h = strstr(one, "://");
		h = h ? h + 3 : one;
		if (strncmp(h, "127.", 4) != 0 && strncmp(h, "localhost", 9) != 0 &&
		    strncmp(h, "[::1]", 5) != 0 && strncmp(one, "ldapi://", 8) != 0)
			return false;
	}
	return true;
}

static void
check_ldap(struct conf_ctx *c, unsigned line)
{
	const struct config *cfg = c->cfg;

	if (cfg->ldap_uri[0] == '\0') {
		conf_error(c, line,
		           "[auth] backend = ldap needs ldap_uri (ldaps://host or ldap://host)");
		return;
	}
	if (cfg->ldap_bind_dn[0] && strstr(cfg->ldap_bind_dn, "%u") == NULL)
		conf_error(c, seen(c, "auth", "ldap_bind_dn"),
		           "[auth] ldap_bind_dn must hold %%u where the user name goes");
	if (cfg->ldap_bind_dn[0] == '\0' && cfg->ldap_base[0] == '\0')
		conf_error(c, line,
		           "[auth] backend = ldap needs ldap_bind_dn (a template with %%u) or "
		           "ldap_base (search-then-bind)");
	if (strstr(cfg->ldap_filter, "%u") == NULL)
		conf_error(c, seen(c, "auth", "ldap_filter"),
		           "[auth] ldap_filter must hold %%u where the user name goes");
	if ((cfg->ldap_service_dn[0] == '\0') != (cfg->ldap_service_password_file[0] == '\0'))
		conf_error(c, seen(c, "auth", "ldap_service_dn"),
		           "[auth] ldap_service_dn and ldap_service_password_file go together");
	if (strncmp(cfg->ldap_uri, "ldap://", 7) == 0 && !cfg->ldap_starttls &&
	    !ldap_uri_is_loopback(cfg->ldap_uri))
		conf_error(c, seen(c, "auth", "ldap_starttls"),
		           "[auth] ldap_starttls = no would send passwords to %s in clear: use "
		           "ldaps:// or StartTLS",
		           cfg->ldap_uri);
}

static void
check_auth(struct conf_ctx *c)
{
	const struct config *cfg = c->cfg;
	unsigned line = seen(c, "auth", "backend");

	if (cfg->auth_backend == AUTHB_NONE) {
		for (size_t i = 0; i < conf_n_keys; i++)
			if (strcmp(conf_keys[i].section, "auth") == 0 && c->seen_global[i] &&
			    strcmp(conf_keys[i].name, "backend") != 0)
				conf_error(
				    c, c->seen_global[i],
				    "[auth] %s is set but [auth] backend is not (file or ldap)",
				    conf_keys[i].name);
		if (cfg->web_admin_group[0])
			conf_error(c, seen(c, "web", "admin_group"),
			           "[web] admin_group needs [auth] backend = ldap: the group is "
			           "looked up in the directory");
		return;
	}
	if (cfg->auth_backend == AUTHB_FILE && cfg->auth_passwd[0] == '\0')
		conf_error(c, line, "[auth] backend = file needs passwd = PATH");
	if (cfg->auth_backend == AUTHB_LDAP)
		check_ldap(c, line);
	if (cfg->web_admin_group[0] && cfg->auth_backend != AUTHB_LDAP)
		conf_error(
		    c, seen(c, "web", "admin_group"),
		    "[web] admin_group needs [auth] backend = ldap: the group is looked up in "
		    "the directory");
	if (cfg->auth_senders == AUTHS_MAP && cfg->auth_sender_map[0] == '\0')
		conf_error(c, seen(c, "auth", "senders"),
		           "[auth] senders = map needs sender_map = PATH");
	if (cfg->auth_senders == AUTHS_OWN && cfg->auth_backend == AUTHB_FILE &&
	    cfg->auth_sender_map[0] == '\0')
		conf_error(
		    c, seen(c, "auth", "senders") ? seen(c, "auth", "senders") : line,
		    "[auth] senders = own (the default) needs a directory that lists each "
		    "user's addresses, and a password file lists none: give sender_map = PATH "
		    "(lines `user: address @domain`), or senders = any");
}

/* [transition]: every date a date, in order; [web] cutover read as its
 * cutover; its end the default expiry; its help URL the registration page. */
static void
check_transition(struct conf_ctx *c)
{
	struct config *cfg = c->cfg;
	int64_t end, last = 0;
	enum transition_date last_d = TD_REGISTER_FROM;

	if (cfg->tr_date[TD_CUTOVER][0] == '\0' && cfg->web_cutover[0])
		str_copy(cfg->tr_date[TD_CUTOVER], sizeof(cfg->tr_date[0]), cfg->web_cutover);
	for (int d = 0; d < TD_COUNT; d++) {
		const char *v = cfg->tr_date[d];
		unsigned line =
		    seen(c, "transition", transition_date_name((enum transition_date)d));
		if (v[0] == '\0')
			continue;
		if (strlen(v) != 10 || !isodate_parse_expiry(v, &end)) {
			conf_error(c, line, "[transition] %s = '%s': use YYYY-MM-DD",
			           transition_date_name((enum transition_date)d), v);
			continue;
		}
		cfg->tr_at[d] = end - 86400;
		if (last && cfg->tr_at[d] < last)
			conf_error(c, line, "[transition] %s (%s) is before %s (%s)",
			           transition_date_name((enum transition_date)d), v,
			           transition_date_name(last_d), cfg->tr_date[last_d]);
		last = cfg->tr_at[d];
		last_d = (enum transition_date)d;
	}
	if ((cfg->tr_at[TD_WARN_FROM] || cfg->tr_at[TD_TEMPFAIL_FROM]) && !cfg->tr_at[TD_CUTOVER])
		conf_error(c, seen(c, "transition", "warn_from"),
		           "[transition] warn_from and tempfail_from need a cutover: until when is "
		           "plaintext accepted?");
	if (cfg->default_expiry[0] == '\0' && cfg->tr_date[TD_END][0])
		str_copy(cfg->default_expiry, sizeof(cfg->default_expiry), cfg->tr_date[TD_END]);
	if (cfg->tr_help_url[0] == '\0')
		str_copy(cfg->tr_help_url, sizeof(cfg->tr_help_url), cfg->registration_url);
}

/* A next hop that is one of our own listeners: every message would loop. */
static void
check_route_loop(struct conf_ctx *c, const struct route_conf *r, unsigned line)
{
	char hp[CONF_DOMAIN_MAX + 16], a[80], b[80];
	struct sockaddr_storage ss;
	socklen_t len;

	if (r->kind != NEXT_HOP_HOST ||
	    !str_fmt(hp, sizeof(hp), strchr(r->host, ':') ? "[%s]:%u" : "%s:%u", r->host,
	             r->port) ||
	    !sockaddr_parse_hostport(hp, &ss, &len))
		return; /* a host name: the queue runner checks its addresses */
	sockaddr_format((const struct sockaddr *)&ss, a, sizeof(a));
	for (size_t i = 0; i < c->cfg->n_listener; i++) {
		const struct listener_conf *l = &c->cfg->listener[i];
		for (size_t k = 0; k < l->n_addr; k++) {
			sockaddr_format((const struct sockaddr *)&l->addr[k], b, sizeof(b));
			if (strcmp(a, b) == 0)
				conf_error(
				    c, line,
				    "next hop %s is listener '%s' of this gateway: every message "
				    "would loop",
				    a, l->name);
		}
	}
}

void
conf_check(struct conf_ctx *c)
{
	struct config *cfg = c->cfg;

	if (cfg->n_listener == 0)
		conf_error(c, 0, "no [listener NAME] section: mailout would not accept any mail");
	if (strcmp(cfg->user, "nobody") == 0 || strcmp(cfg->user, "root") == 0)
		conf_error(c, seen(c, "gateway", "user"),
		           "[gateway] user = %s: give mailout a user of its own (default mailout); "
		           "it owns the spool and the registry, and %s",
		           cfg->user,
		           cfg->user[0] == 'r' ? "the children must not run as root"
		                               : "nobody is shared by other daemons");
	if (cfg->n_certificate != cfg->n_key)
		conf_error(
		    c, seen(c, "tls", "key"),
		    "[tls] has %zu certificate(s) but %zu key(s); give them in pairs, in the "
		    "same order",
		    cfg->n_certificate, cfg->n_key);
	if (cfg->default_route.kind == NEXT_HOP_HOST && cfg->default_route.host[0] == '\0')
		conf_error(c, 0, "[relay] next_hop is missing: where should accepted mail go?");
	bool any_verify = cfg->relay_tls == RTLS_VERIFY;
	for (size_t i = 0; i < cfg->n_routes; i++)
		any_verify |= cfg->routes[i].tls == RTLS_VERIFY;
	if (any_verify && cfg->relay_ca_file[0] == '\0')
		conf_error(c, 0, "tls = verify (in [relay] or a route) needs [relay] ca_file");
	if (cfg->postmaster[0] == '\0')
		str_fmt(cfg->postmaster, sizeof(cfg->postmaster), "postmaster@%s",
		        cfg->n_internal_domains
		            ? cfg->internal_domains[0] + (cfg->internal_domains[0][0] == '.')
		            : cfg->hostname);
	if (cfg->tr_notify_from[0] == '\0')
		str_copy(cfg->tr_notify_from, sizeof(cfg->tr_notify_from), cfg->postmaster);
	struct route_conf *d = &cfg->default_route;
	d->tls = cfg->relay_tls;
	for (size_t i = 0; i < cfg->n_listener; i++)
		check_listener(c, &cfg->listener[i]);
	check_route_loop(c, d, seen(c, "relay", "next_hop"));
	for (size_t i = 0; i < cfg->n_routes; i++)
		check_route_loop(c, &cfg->routes[i], cfg->routes[i].line);
	check_web(c);
	check_auth(c);
	check_transition(c);
}
