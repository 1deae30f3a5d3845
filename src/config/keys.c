#include "config/keys.h"

#include <openssl/ssl.h>
#include <string.h>

#include "config/names.h"
#include "config/values.h"
#include "log.h"
#include "util/num.h"
#include "util/str.h"

#define G(f)  offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define GC(f) offsetof(struct config, f)
#define LC(f) offsetof(struct listener_conf, f)
#define L(f)  offsetof(struct listener_conf, f), sizeof(((struct listener_conf *)0)->f)
#define DAY   86400
#define GIGA  (1024ULL * 1024 * 1024)

const struct conf_key conf_keys[] = {
    {"gateway", "hostname", CONF_STR, 1, 0, NULL, G(hostname), NULL, NULL, 0,
     "name in the greeting, Received: headers and DSNs (default: the host name)"},
    {"gateway", "spool", CONF_PATH, 1, 0, "/var/spool/mailout", G(spool), NULL, NULL, 0,
     "spool folder; relative paths are relative to the config file"},
    {"gateway", "pid_file", CONF_PATH, 1, 0, NULL, G(pid_file), NULL, NULL, 0,
     "file the master writes its pid to (none by default; systemd needs none)"},
    {"gateway", "user", CONF_STR, 1, 0, "mailout", G(user), NULL, NULL, 0,
     "user the workers, the queue runner and the web process run as when started as root; "
     "a user of its own (never `nobody`, which other daemons share): it owns the spool and "
     "the registry"},
    {"gateway", "postmaster", CONF_CUSTOM, 0, 0, NULL, G(postmaster), NULL, conf_parse_postmaster,
     0,
     "where `RCPT TO:<postmaster>` (no domain, RFC 5321 4.5.1) goes (default: postmaster@ the "
     "first internal domain, else @ hostname)"},
    {"gateway", "internal_domains", CONF_CUSTOM, 0, 0, NULL, G(internal_domains), NULL,
     conf_parse_domains, GC(n_internal_domains),
     "the organisation's domains: `example.edu` exact, `.example.edu` every subdomain"},
    {"gateway", "max_message_size", CONF_SIZE, 1024, 4 * GIGA, "50M", G(max_message_size), NULL,
     NULL, 0, "largest message accepted (SIZE and actual), 552 5.3.4 above"},
    {"gateway", "max_recipients", CONF_UINT, 1, 100000, "100", G(max_recipients), NULL, NULL, 0,
     "recipients per message, 452 4.5.3 above"},
    {"gateway", "max_command_line", CONF_UINT, 512, 65536, "2048", G(max_command_line), NULL, NULL,
     0, "longest command line in octets with CRLF, 500 5.5.2 above"},
    {"gateway", "max_text_line", CONF_UINT, 1000, 1000000, "1000", G(max_text_line), NULL, NULL, 0,
     "longest message line in octets with CRLF (RFC 5321: 1000), 554 5.6.0 above"},
    {"gateway", "max_errors", CONF_UINT, 1, 1000, "10", G(max_errors), NULL, NULL, 0,
     "error replies per session before 421 and disconnect"},
    {"gateway", "max_connections", CONF_UINT, 1, 1000000, "10000", G(max_connections), NULL, NULL,
     0, "concurrent sessions per worker, 421 4.7.0 above"},
    {"gateway", "max_client_connections", CONF_UINT, 1, 1000000, "50", G(max_client_connections),
     NULL, NULL, 0, "concurrent sessions per client address, 421 4.7.0 above"},
    {"gateway", "idle_timeout", CONF_DURATION, 1, DAY, "5m", G(idle_timeout), NULL, NULL, 0,
     "time a client may stay silent between commands, then 421 4.4.2"},
    {"gateway", "data_timeout", CONF_DURATION, 1, DAY, "10m", G(data_timeout), NULL, NULL, 0,
     "time a client may stay silent during DATA"},
    {"gateway", "max_data_time", CONF_DURATION, 1, DAY, "30m", G(max_data_time), NULL, NULL, 0,
     "total time one DATA may take, however the client trickles, then 421 4.4.2"},
    {"gateway", "max_session_time", CONF_DURATION, 10, 7 * DAY, "1h", G(max_session_time), NULL,
     NULL, 0,
     "a session may start no transaction after this long (421 4.4.2 at the next MAIL): a "
     "revoked registration or a reload reaches every client"},
    {"gateway", "max_commands_before_mail", CONF_UINT, 5, 100000, "50", G(max_commands_before_mail),
     NULL, NULL, 0,
     "commands without a MAIL (NOOP, RSET, VRFY, EHLO, ...) before 421 4.7.0 and disconnect"},
    {"gateway", "tls_timeout", CONF_DURATION, 1, 3600, "30s", G(tls_timeout), NULL, NULL, 0,
     "time for a TLS handshake"},
    {"gateway", "workers", CONF_UINT, 1, 64, "1", G(workers), NULL, NULL, 0,
     "SMTP worker processes (one event loop each)"},
    {"tls", "certificate", CONF_PATHS, 0, 0, NULL, G(certificate), NULL, NULL, GC(n_certificate),
     "certificate chain files (PEM), ECDSA first, RSA for old devices"},
    {"tls", "key", CONF_PATHS, 0, 0, NULL, G(key), NULL, NULL, GC(n_key),
     "private keys (PEM), in the same order as the certificates"},
    {"relay", "next_hop", CONF_CUSTOM, 0, 0, NULL, G(default_route), NULL, conf_parse_default_route,
     0,
     "`host:port` (SMTP), `mx` (the MX hosts of each recipient's domain, see [routes]) or "
     "`dir:PATH` (one .eml file per message)"},
    {"relay", "tls", CONF_ENUM, 0, 0, "opportunistic", G(relay_tls), conf_relay_tls_names, NULL, 0,
     "outbound TLS: none, opportunistic (STARTTLS if offered), required, verify"},
    {"relay", "ca_file", CONF_PATH, 1, 0, NULL, G(relay_ca_file), NULL, NULL, 0,
     "CA certificates for `tls = verify`"},
    {"relay", "connections", CONF_UINT, 1, 256, "4", G(relay_connections), NULL, NULL, 0,
     "concurrent deliveries"},
    {"relay", "timeout", CONF_DURATION, 1, 3600, "60s", G(relay_timeout), NULL, NULL, 0,
     "connect and reply timeout towards the next hop"},
    {"relay", "retry_interval", CONF_DURATION, 1, DAY, "60s", G(retry_interval), NULL, NULL, 0,
     "wait before the first retry of a deferred message"},
    {"relay", "retry_factor", CONF_UINT, 1, 100, "2", G(retry_factor), NULL, NULL, 0,
     "each further retry of a message waits this many times longer (jittered by 10%)"},
    {"relay", "retry_max", CONF_DURATION, 1, 7 * DAY, "1h", G(retry_max), NULL, NULL, 0,
     "the longest wait between two attempts"},
    {"relay", "delay_warning", CONF_DURATION, 0, 100 * DAY, "4h", G(delay_warning), NULL, NULL, 0,
     "after this a still-deferred message gets one delay notice to its sender (0: never)"},
    {"relay", "connections_per_host", CONF_UINT, 1, 256, "4", G(connections_per_host), NULL, NULL,
     0, "connections open at once to one next hop (connections is the total, over all hops)"},
    {"relay", "messages_per_connection", CONF_UINT, 1, 100000, "100", G(messages_per_connection),
     NULL, NULL, 0, "messages sent over one connection to the next hop before it is closed"},
    {"relay", "resolver", CONF_STR, 1, 0, NULL, G(resolver), NULL, NULL, 0,
     "DNS server for MX lookups as `host:port` (default: /etc/resolv.conf)"},
    {"relay", "mx_port", CONF_UINT, 1, 65535, "25", G(mx_port), NULL, NULL, 0,
     "port of the hosts found by MX (tests use another)"},
    {"relay", "mx_allow_networks", CONF_NETS, 0, 0, NULL, G(mx_allow), NULL, NULL, GC(n_mx_allow),
     "networks an MX target may be in although they are private (RFC 1918, fc00::/7) or "
     "otherwise refused; by default MX delivery never goes to loopback, link-local, private, "
     "multicast or unspecified addresses"},
    {"relay", "max_queue_lifetime", CONF_DURATION, 60, 100 * DAY, "5d", G(max_queue_lifetime), NULL,
     NULL, 0, "after this a deferred recipient is bounced"},
    {"registry", "database", CONF_CUSTOM, 0, 0, NULL, G(registry_db), NULL, conf_parse_database, 0,
     "the device registry: a SQLite file (its folder must be writable by `user`), or for a fleet "
     "of gateways one PostgreSQL database, `postgresql://user@host:port/dbname` (libpq's URL; "
     "keep a password out of it: `passfile=` or ~/.pgpass), doc/SCALING.md"},
    {"registry", "default_expiry", CONF_CUSTOM, 0, 0, NULL, G(default_expiry), NULL,
     conf_parse_expiry, 0,
     "expiry of a new registration when none is given: YYYY-MM-DD (end of that day, UTC) or "
     "YYYY-MM-DDTHH:MM:SSZ"},
    {"registry", "registration_url", CONF_STR, 1, 0, NULL, G(registration_url), NULL, NULL, 0,
     "where device operators register; named in every refusal of an unregistered device"},
    {"registry", "report_retention", CONF_DURATION, DAY, 3650 * DAY, "400d", G(report_retention),
     NULL, NULL, 0, "how long the per-client TLS counters of `mailoutctl report tls` are kept"},
    {"registry", "report_max_rows", CONF_UINT, 1000, 1000000000, "1000000", G(report_max_rows),
     NULL, NULL, 0,
     "at most this many rows of those counters (one per client, listener, TLS state and day); "
     "the oldest go first"},
    {"web", "address", CONF_CUSTOM, 0, 0, NULL, G(web_addr), NULL, conf_parse_web_address, 0,
     "`address:port` of the registration and admin pages (no [web] address: no web pages)"},
    {"web", "certificate", CONF_PATH, 1, 0, NULL, G(web_certificate), NULL, NULL, 0,
     "certificate chain (PEM) for HTTPS; without it the pages are served over plain HTTP"},
    {"web", "key", CONF_PATH, 1, 0, NULL, G(web_key), NULL, NULL, 0,
     "private key (PEM) of the web certificate"},
    {"web", "clients", CONF_NETS, 0, 0, "127.0.0.0/8 ::1", G(web_clients), NULL, NULL,
     GC(n_web_clients), "addresses and CIDR prefixes that may reach the pages (403 otherwise)"},
    {"web", "admin_clients", CONF_NETS, 0, 0, "127.0.0.1 ::1", G(web_admin_clients), NULL, NULL,
     GC(n_web_admin_clients),
     "prefixes that may reach /admin, within `clients` (default: this host only; name the "
     "admins' desks)"},
    {"web", "register_networks", CONF_NETS, 0, 0, NULL, G(web_register), NULL, NULL,
     GC(n_web_register),
     "prefixes whose addresses may be registered through the page (default: `clients`)"},
    {"web", "admins", CONF_PATH, 1, 0, NULL, G(web_admins), NULL, NULL, 0,
     "file of `user:crypt-hash` lines (yescrypt or bcrypt; `mailoutctl web passwd USER` makes "
     "one); read as root at start and on SIGHUP"},
    {"web", "admin_group", CONF_STR, 1, 0, NULL, G(web_admin_group), NULL, NULL, 0,
     "DN of an LDAP group (member, uniqueMember or memberUid) whose members may log in to "
     "/admin with their directory password, beside the admins file; needs [auth] backend = "
     "ldap"},
    {"web", "metrics_clients", CONF_NETS, 0, 0, "127.0.0.1 ::1", G(web_metrics_clients), NULL, NULL,
     GC(n_web_metrics_clients),
     "prefixes that may read `/metrics` (Prometheus text format), whether or not they are in "
     "`clients`"},
    {"web", "cutover", CONF_CUSTOM, 0, 0, NULL, G(web_cutover), NULL, conf_parse_cutover, 0,
     "deprecated: read as [transition] cutover"},
    {"web", "organisation", CONF_STR, 1, 0, NULL, G(web_organisation), NULL, NULL, 0,
     "name shown in the page titles"},
    {"web", "proxy_from", CONF_NETS, 0, 0, NULL, G(web_proxy_from), NULL, NULL,
     GC(n_web_proxy_from),
     "reverse proxies (load balancers) in front of the pages: from these, the last address of "
     "`X-Forwarded-For` is the visitor's; from anyone else the header is ignored"},
    {"web", "support", CONF_STR, 1, 0, NULL, G(web_support), NULL, NULL, 0,
     "who helps device operators set up encryption, as text with a URL or address (`IT "
     "service desk, https://help.example.edu/ or +49 89 1234-5678`): shown on the guide and "
     "check pages and in the reminders"},
    {"web", "session_timeout", CONF_DURATION, 60, DAY, "30m", G(web_session_timeout), NULL, NULL, 0,
     "an admin login ends after this long without a request"},
    {"web", "max_pending_per_address", CONF_UINT, 1, 100000, "5", G(web_max_pending_per_address),
     NULL, NULL, 0,
     "pending registrations one visitor address may have made through the form (429 above)"},
    {"web", "max_pending", CONF_UINT, 1, 1000000, "1000", G(web_max_pending), NULL, NULL, 0,
     "pending registrations from the form in all (503 above): a flood cannot bury the real "
     "requests"},
    {"listener", "address", CONF_CUSTOM, 0, 0, NULL, L(addr), NULL, conf_parse_addresses,
     LC(n_addr), "one or more `IPv4:port` or `[IPv6]:port`"},
    {"listener", "tls", CONF_ENUM, 0, 0, "required", L(tls), conf_tls_names, NULL, 0,
     "required (STARTTLS before MAIL), implicit (TLS from the first byte), optional, off"},
    {"listener", "min_tls_version", CONF_CUSTOM, 0, 0, "1.2", L(min_tls_version), NULL,
     conf_parse_tls_version, 0,
     "1.0, 1.1, 1.2 or 1.3; below 1.2 the listener also allows old RSA ciphers"},
    {"listener", "clients", CONF_CUSTOM, 0, 0, "any", L(clients), NULL, conf_parse_clients,
     LC(n_nets),
     "any, registered, or a list of addresses and CIDR prefixes allowed to connect (554 5.7.1 "
     "otherwise); `any` only on loopback or with `recipients = internal`: a listener that "
     "relays anywhere says who may use it (`0.0.0.0/0 ::/0` for everyone, with a warning)"},
    {"listener", "recipients", CONF_ENUM, 0, 0, "any", L(recipients), conf_rcpts_names, NULL, 0,
     "any, or internal: only `internal_domains` (550 5.7.1 otherwise)"},
    {"listener", "auth", CONF_ENUM, 0, 0, "none", L(auth), conf_auth_names, NULL, 0,
     "none, optional (AUTH offered after TLS), or required (530 5.7.0 to MAIL before AUTH); "
     "needs [auth] and TLS: never on `tls = off`"},
    {"listener", "proxy", CONF_ENUM, 0, 0, "no", L(proxy), conf_yesno_names, NULL, 0,
     "yes: every connection comes from a load balancer in `proxy_from` and starts with a "
     "PROXY protocol header (v1 or v2, HAProxy's `send-proxy`/`send-proxy-v2`); the client "
     "address in it is used everywhere (policy, registry, limits, logs, Received:). Others, "
     "and connections without a header, are closed"},
    {"listener", "proxy_from", CONF_NETS, 0, 0, NULL, L(proxy_from), NULL, NULL, LC(n_proxy_from),
     "addresses and CIDR prefixes of the load balancers (needed with `proxy = yes`)"},
    {"transition", "register_from", CONF_STR, 1, 0, NULL, G(tr_date[TD_REGISTER_FROM]), NULL, NULL,
     0, "YYYY-MM-DD: the registration form opens (before: a page that says when)"},
    {"transition", "warn_from", CONF_STR, 1, 0, NULL, G(tr_date[TD_WARN_FROM]), NULL, NULL, 0,
     "YYYY-MM-DD: from then, plaintext on a `tls = required` listener is accepted with a "
     "warning (in the replies to MAIL and DATA, and an `X-Mailout-Warning` header); before "
     "it, silently"},
    {"transition", "tempfail_from", CONF_STR, 1, 0, NULL, G(tr_date[TD_TEMPFAIL_FROM]), NULL, NULL,
     0,
     "YYYY-MM-DD: from then, plaintext there is answered `450 4.7.0` with the date and "
     "the help URL"},
    {"transition", "cutover", CONF_STR, 1, 0, NULL, G(tr_date[TD_CUTOVER]), NULL, NULL, 0,
     "YYYY-MM-DD: from then plaintext is refused (`530 5.7.0`). Without warn_from and "
     "tempfail_from it is refused at any date and this date is only shown"},
    {"transition", "end", CONF_STR, 1, 0, NULL, G(tr_date[TD_END]), NULL, NULL, 0,
     "YYYY-MM-DD: the transition ends: registrations expire (the default of [registry] "
     "default_expiry) and are re-evaluated"},
    {"transition", "help_url", CONF_STR, 1, 0, NULL, G(tr_help_url), NULL, NULL, 0,
     "the page the warnings name (default: [registry] registration_url)"},
    {"transition", "remind", CONF_CUSTOM, 0, 0, "30d 7d 1d", G(tr_remind), NULL, conf_parse_remind,
     0,
     "how long before a registration expires `mailoutctl notify` mails its owner, largest "
     "first (`none`: never); one more mail on the day it expires"},
    {"transition", "admins", CONF_CUSTOM, 0, 0, NULL, G(tr_admins), NULL, conf_parse_admins, 0,
     "addresses that get the weekly digest of `mailoutctl notify` (pending requests, "
     "registrations expiring within 30 days, the top plaintext and legacy-TLS senders)"},
    {"transition", "notify_from", CONF_CUSTOM, 0, 0, NULL, G(tr_notify_from), NULL,
     conf_parse_notify_from, 0,
     "sender of the reminders and the digest (default: [gateway] postmaster)"},
    {"auth", "backend", CONF_ENUM, 0, 0, "none", G(auth_backend), conf_auth_backend_names, NULL, 0,
     "none, file (`passwd`) or ldap (`ldap_uri`): where SMTP AUTH checks passwords"},
    {"auth", "passwd", CONF_PATH, 1, 0, NULL, G(auth_passwd), NULL, NULL, 0,
     "file of `user:crypt-hash` lines (yescrypt or bcrypt; `mailoutctl auth passwd USER` makes "
     "one); read as root at start and on SIGHUP"},
    {"auth", "senders", CONF_ENUM, 0, 0, "own", G(auth_senders), conf_auth_senders_names, NULL, 0,
     "which MAIL FROM an account may use: any; own (the addresses the directory lists for it, "
     "`ldap_mail_attributes`); map (`sender_map`); 553 5.7.1 otherwise"},
    {"auth", "sender_map", CONF_PATH, 1, 0, NULL, G(auth_sender_map), NULL, NULL, 0,
     "lines `user: address address @domain` (an `@domain` allows the whole domain); with "
     "`senders = own` it adds to what the directory lists"},
    {"auth", "max_failures", CONF_UINT, 1, 1000000, "5", G(auth_max_failures), NULL, NULL, 0,
     "failed AUTH per client address and per user name within `failure_window`; above, "
     "the session gets 421 4.7.0 after a delay"},
    {"auth", "failure_window", CONF_DURATION, 10, DAY, "10m", G(auth_failure_window), NULL, NULL, 0,
     "the time over which failed AUTH are counted"},
    {"auth", "messages_per_hour", CONF_UINT, 1, 100000000, "500", G(auth_messages_per_hour), NULL,
     NULL, 0, "messages one account may send per hour (450 4.7.1 above)"},
    {"auth", "recipients_per_hour", CONF_UINT, 1, 100000000, "2000", G(auth_recipients_per_hour),
     NULL, NULL, 0, "recipients one account may send to per hour (450 4.7.1 above)"},
    {"auth", "received_user", CONF_ENUM, 0, 0, "no", G(auth_received_user), conf_yesno_names, NULL,
     0,
     "yes: the Received: field names the authenticated user (RFC 3848 ESMTPSA is always "
     "said)"},
    {"auth", "threads", CONF_UINT, 1, 64, "4", G(auth_threads), NULL, NULL, 0,
     "password checks run on this many threads per worker, off the event loop (a session "
     "waiting for its answer costs no thread); also the LDAP connections per worker"},
    {"auth", "ldap_uri", CONF_STR, 1, 0, NULL, G(ldap_uri), NULL, NULL, 0,
     "`ldaps://host` or `ldap://host` (then `ldap_starttls = yes`); several separated by "
     "spaces are tried in turn"},
    {"auth", "ldap_starttls", CONF_ENUM, 0, 0, "yes", G(ldap_starttls), conf_yesno_names, NULL, 0,
     "StartTLS on an `ldap://` URI; `no` sends passwords in clear and needs a loopback URI"},
    {"auth", "ldap_ca_file", CONF_PATH, 1, 0, NULL, G(ldap_ca_file), NULL, NULL, 0,
     "CA certificates (PEM) the directory's certificate is verified against (default: the "
     "system's)"},
    {"auth", "ldap_bind_dn", CONF_STR, 1, 0, NULL, G(ldap_bind_dn), NULL, NULL, 0,
     "bind DN template, `%u` the user name (`uid=%u,ou=people,dc=example,dc=edu`); without "
     "it: search-then-bind with `ldap_base` and `ldap_filter`"},
    {"auth", "ldap_base", CONF_STR, 1, 0, NULL, G(ldap_base), NULL, NULL, 0,
     "where users are searched (subtree); also for their addresses"},
    {"auth", "ldap_filter", CONF_STR, 1, 0, "(uid=%u)", G(ldap_filter), NULL, NULL, 0,
     "search filter, `%u` the user name (escaped per RFC 4515)"},
    {"auth", "ldap_service_dn", CONF_STR, 1, 0, NULL, G(ldap_service_dn), NULL, NULL, 0,
     "DN the search binds as (default: anonymous)"},
    {"auth", "ldap_service_password_file", CONF_PATH, 1, 0, NULL, G(ldap_service_password_file),
     NULL, NULL, 0,
     "file holding that DN's password (first line); read as root at start and on SIGHUP"},
    {"auth", "ldap_mail_attributes", CONF_STR, 1, 0, "mail", G(ldap_mail_attributes), NULL, NULL, 0,
     "attributes that list a user's own addresses for `senders = own`, separated by spaces"},
    {"auth", "ldap_timeout", CONF_DURATION, 1, 300, "5s", G(ldap_timeout), NULL, NULL, 0,
     "longest wait for the directory per operation; then 454 4.7.0"},
};

const size_t conf_n_keys = sizeof(conf_keys) / sizeof(conf_keys[0]);
_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= CONF_KEYS_MAX, "CONF_KEYS_MAX");

/* Apply one value to one key; false (with err) when the value is bad. */
bool
conf_key_apply(struct conf_ctx *c, const struct conf_key *k, void *base, const char *value,
               char *err, size_t errlen)
{
	char *field = (char *)base + k->offset;
	uint64_t v;

	switch (k->type) {
	case CONF_STR:
		if (value[0] == '\0' || !str_copy(field, k->size, value)) {
			str_fmt(err, errlen, "%s must be 1 to %zu characters", k->name,
			        k->size - 1);
			return false;
		}
		return true;
	case CONF_PATH:
		if (value[0] == '\0' || !conf_resolve_path(c, field, k->size, value)) {
			str_fmt(err, errlen, "%s must be a path", k->name);
			return false;
		}
		return true;
	case CONF_UINT:
	case CONF_SIZE:
	case CONF_DURATION: {
		bool ok = k->type == CONF_UINT   ? num_parse_u64(value, k->min, k->max, &v)
		          : k->type == CONF_SIZE ? num_parse_size(value, k->min, k->max, &v)
		                                 : num_parse_duration(value, k->min, k->max, &v);
		if (!ok) {
			const char *unit = k->type == CONF_SIZE ? " bytes (K, M, G allowed)"
			                   : k->type == CONF_DURATION
			                       ? " seconds (s, m, h, d allowed)"
			                       : "";
			str_fmt(err, errlen, "%s = '%s': must be a number from %llu to %llu%s",
			        k->name, value, (unsigned long long)k->min,
			        (unsigned long long)k->max, unit);
			return false;
		}
		memcpy(field, &v, sizeof(v));
		return true;
	}
	case CONF_ENUM:
		for (int i = 0; k->names[i]; i++) {
			if (strcmp(value, k->names[i]) == 0) {
				memcpy(field, &i, sizeof(i));
				return true;
			}
		}
		{
			char choices[128] = "";
			for (int i = 0; k->names[i]; i++) {
				size_t len = strlen(choices);

				str_fmt(choices + len, sizeof(choices) - len, "%s%s",
				        i ? " | " : "", k->names[i]);
			}
			str_fmt(err, errlen, "%s = '%s': must be one of %s", k->name, value,
			        choices);
		}
		return false;
	case CONF_NETS:
		return conf_parse_nets(value, (struct cidr *)(void *)field,
		                       (size_t *)(void *)((char *)base + k->count), "", err,
		                       errlen);
	case CONF_PATHS:
		return conf_parse_paths(c, (char(*)[PATH_MAX])(void *)field,
		                        (size_t *)(void *)((char *)base + k->count), value, err,
		                        errlen);
	case CONF_CUSTOM:
		return k->parse(c, base, value, err, errlen);
	}
	return false;
}

void
conf_key_clear(const struct conf_key *k, void *base)
{
	size_t zero = 0;

	if (k->count)
		memcpy((char *)base + k->count, &zero, sizeof(zero));
}

void
conf_apply_defaults(struct conf_ctx *c, const char *section, void *base)
{
	char err[256];

	for (size_t i = 0; i < conf_n_keys; i++) {
		if (strcmp(conf_keys[i].section, section) != 0 || conf_keys[i].dflt == NULL)
			continue;
		err[0] = '\0';
		if (!conf_key_apply(c, &conf_keys[i], base, conf_keys[i].dflt, err, sizeof(err)))
			fatal_bug("config default for %s.%s is invalid: %s", section,
			          conf_keys[i].name, err);
	}
}

const struct conf_key *
conf_key_find(const char *section, const char *name)
{
	const char *s = strncmp(section, "listener ", 9) == 0 ? "listener" : section;

	for (size_t i = 0; i < conf_n_keys; i++)
		if (strcmp(conf_keys[i].section, s) == 0 && strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

size_t
conf_key_index(const struct conf_key *k)
{
	return (size_t)(k - conf_keys);
}
