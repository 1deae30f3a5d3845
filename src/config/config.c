#include "config/config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define CONF_LINE_MAX 198 /* libinih reads at most 200 bytes a line */
#define CONF_LIST_MAX 32  /* words in one list value */

enum conf_type { CONF_STR, CONF_PATH, CONF_UINT, CONF_SIZE, CONF_DURATION, CONF_ENUM, CONF_CUSTOM };
enum conf_scope { SCOPE_GLOBAL, SCOPE_LISTENER };

struct load_ctx;
typedef bool conf_parse_fn(struct load_ctx *, void *base, const char *value, char *err,
                           size_t errlen);

struct conf_key {
	const char *section; /* "listener" matches [listener NAME] */
	const char *name;
	enum conf_type type;
	uint64_t min, max;
	const char *dflt;
	size_t offset; /* into struct config or struct listener_conf */
	size_t size;   /* of a CONF_STR / CONF_PATH field */
	const char *const *names;
	conf_parse_fn *parse;
	bool is_list; /* continuation lines append */
	const char *help;
};

struct load_ctx {
	struct config *cfg;
	struct buf *errs;
	unsigned n_errs;
	const char *path;
	char dir[PATH_MAX]; /* of the config file, for relative paths */
	FILE *fp;
	unsigned line;
	bool is_continuation;
	char section[CONF_NAME_MAX + 16];
	bool section_ok;
	struct listener_conf *listener;
	bool is_routes;
	unsigned seen_global[64];
	unsigned seen_listener[CONF_LISTENERS_MAX][64];
};

static conf_parse_fn parse_mx_allow, parse_postmaster, parse_expiry, parse_domains, parse_certs,
    parse_keys, parse_next_hop, parse_addresses, parse_clients, parse_tls_version,
    parse_web_address, parse_web_clients, parse_web_admin_clients, parse_web_register,
    parse_cutover;

static const char *const tls_names[] = {"off", "optional", "required", "implicit", NULL};
static const char *const clients_names[] = {"any", "cidr", "registered", NULL};
static const char *const rcpts_names[] = {"any", "internal", NULL};
static const char *const auth_names[] = {"none", "optional", "required", NULL};
static const char *const relay_tls_names[] = {"none", "opportunistic", "required", "verify", NULL};

#define G(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define L(f) offsetof(struct listener_conf, f), sizeof(((struct listener_conf *)0)->f)
#define DAY  86400
#define GIGA (1024ULL * 1024 * 1024)

static const struct conf_key keys[] = {
    {"gateway", "hostname", CONF_STR, 1, 0, NULL, G(hostname), NULL, NULL, false,
     "name in the greeting, Received: headers and DSNs (default: the host name)"},
    {"gateway", "spool", CONF_PATH, 1, 0, "/var/spool/mailout", G(spool), NULL, NULL, false,
     "spool folder; relative paths are relative to the config file"},
    {"gateway", "pid_file", CONF_PATH, 1, 0, NULL, G(pid_file), NULL, NULL, false,
     "file the master writes its pid to (none by default; systemd needs none)"},
    {"gateway", "user", CONF_STR, 1, 0, "mailout", G(user), NULL, NULL, false,
     "user the workers, the queue runner and the web process run as when started as root; "
     "a user of its own (never `nobody`, which other daemons share): it owns the spool and "
     "the registry"},
    {"gateway", "postmaster", CONF_CUSTOM, 0, 0, NULL, G(postmaster), NULL, parse_postmaster, false,
     "where `RCPT TO:<postmaster>` (no domain, RFC 5321 4.5.1) goes (default: postmaster@ the "
     "first internal domain, else @ hostname)"},
    {"gateway", "internal_domains", CONF_CUSTOM, 0, 0, NULL, G(internal_domains), NULL,
     parse_domains, true,
     "the organisation's domains: `example.edu` exact, `.example.edu` every subdomain"},
    {"gateway", "max_message_size", CONF_SIZE, 1024, 4 * GIGA, "50M", G(max_message_size), NULL,
     NULL, false, "largest message accepted (SIZE and actual), 552 5.3.4 above"},
    {"gateway", "max_recipients", CONF_UINT, 1, 100000, "100", G(max_recipients), NULL, NULL, false,
     "recipients per message, 452 4.5.3 above"},
    {"gateway", "max_command_line", CONF_UINT, 512, 65536, "2048", G(max_command_line), NULL, NULL,
     false, "longest command line in octets with CRLF, 500 5.5.2 above"},
    {"gateway", "max_text_line", CONF_UINT, 1000, 1000000, "1000", G(max_text_line), NULL, NULL,
     false, "longest message line in octets with CRLF (RFC 5321: 1000), 554 5.6.0 above"},
    {"gateway", "max_errors", CONF_UINT, 1, 1000, "10", G(max_errors), NULL, NULL, false,
     "error replies per session before 421 and disconnect"},
    {"gateway", "max_connections", CONF_UINT, 1, 1000000, "10000", G(max_connections), NULL, NULL,
     false, "concurrent sessions per worker, 421 4.7.0 above"},
    {"gateway", "max_client_connections", CONF_UINT, 1, 1000000, "50", G(max_client_connections),
     NULL, NULL, false, "concurrent sessions per client address, 421 4.7.0 above"},
    {"gateway", "idle_timeout", CONF_DURATION, 1, DAY, "5m", G(idle_timeout), NULL, NULL, false,
     "time a client may stay silent between commands, then 421 4.4.2"},
    {"gateway", "data_timeout", CONF_DURATION, 1, DAY, "10m", G(data_timeout), NULL, NULL, false,
     "time a client may stay silent during DATA"},
    {"gateway", "max_data_time", CONF_DURATION, 1, DAY, "30m", G(max_data_time), NULL, NULL, false,
     "total time one DATA may take, however the client trickles, then 421 4.4.2"},
    {"gateway", "max_session_time", CONF_DURATION, 10, 7 * DAY, "1h", G(max_session_time), NULL,
     NULL, false,
     "a session may start no transaction after this long (421 4.4.2 at the next MAIL): a "
     "revoked registration or a reload reaches every client"},
    {"gateway", "max_commands_before_mail", CONF_UINT, 5, 100000, "50", G(max_commands_before_mail),
     NULL, NULL, false,
     "commands without a MAIL (NOOP, RSET, VRFY, EHLO, ...) before 421 4.7.0 and disconnect"},
    {"gateway", "tls_timeout", CONF_DURATION, 1, 3600, "30s", G(tls_timeout), NULL, NULL, false,
     "time for a TLS handshake"},
    {"gateway", "workers", CONF_UINT, 1, 64, "1", G(workers), NULL, NULL, false,
     "SMTP worker processes (one event loop each)"},
    {"tls", "certificate", CONF_CUSTOM, 0, 0, NULL, G(certificate), NULL, parse_certs, true,
     "certificate chain files (PEM), ECDSA first, RSA for old devices"},
    {"tls", "key", CONF_CUSTOM, 0, 0, NULL, G(key), NULL, parse_keys, true,
     "private keys (PEM), in the same order as the certificates"},
    {"relay", "next_hop", CONF_CUSTOM, 0, 0, NULL, G(relay_host), NULL, parse_next_hop, false,
     "`host:port` (SMTP), `mx` (the MX hosts of each recipient's domain, see [routes]) or "
     "`dir:PATH` (one .eml file per message)"},
    {"relay", "tls", CONF_ENUM, 0, 0, "opportunistic", G(relay_tls), relay_tls_names, NULL, false,
     "outbound TLS: none, opportunistic (STARTTLS if offered), required, verify"},
    {"relay", "ca_file", CONF_PATH, 1, 0, NULL, G(relay_ca_file), NULL, NULL, false,
     "CA certificates for `tls = verify`"},
    {"relay", "connections", CONF_UINT, 1, 256, "4", G(relay_connections), NULL, NULL, false,
     "concurrent deliveries"},
    {"relay", "timeout", CONF_DURATION, 1, 3600, "60s", G(relay_timeout), NULL, NULL, false,
     "connect and reply timeout towards the next hop"},
    {"relay", "retry_interval", CONF_DURATION, 1, DAY, "60s", G(retry_interval), NULL, NULL, false,
     "wait before the first retry of a deferred message"},
    {"relay", "retry_factor", CONF_UINT, 1, 100, "2", G(retry_factor), NULL, NULL, false,
     "each further retry of a message waits this many times longer (jittered by 10%)"},
    {"relay", "retry_max", CONF_DURATION, 1, 7 * DAY, "1h", G(retry_max), NULL, NULL, false,
     "the longest wait between two attempts"},
    {"relay", "delay_warning", CONF_DURATION, 0, 100 * DAY, "4h", G(delay_warning), NULL, NULL,
     false, "after this a still-deferred message gets one delay notice to its sender (0: never)"},
    {"relay", "connections_per_host", CONF_UINT, 1, 256, "4", G(connections_per_host), NULL, NULL,
     false, "connections open at once to one next hop (connections is the total, over all hops)"},
    {"relay", "messages_per_connection", CONF_UINT, 1, 100000, "100", G(messages_per_connection),
     NULL, NULL, false, "messages sent over one connection to the next hop before it is closed"},
    {"relay", "resolver", CONF_STR, 1, 0, NULL, G(resolver), NULL, NULL, false,
     "DNS server for MX lookups as `host:port` (default: /etc/resolv.conf)"},
    {"relay", "mx_port", CONF_UINT, 1, 65535, "25", G(mx_port), NULL, NULL, false,
     "port of the hosts found by MX (tests use another)"},
    {"relay", "mx_allow_networks", CONF_CUSTOM, 0, 0, NULL, G(mx_allow), NULL, parse_mx_allow, true,
     "networks an MX target may be in although they are private (RFC 1918, fc00::/7) or "
     "otherwise refused; by default MX delivery never goes to loopback, link-local, private, "
     "multicast or unspecified addresses"},
    {"relay", "max_queue_lifetime", CONF_DURATION, 60, 100 * DAY, "5d", G(max_queue_lifetime), NULL,
     NULL, false, "after this a deferred recipient is bounced"},
    {"registry", "database", CONF_PATH, 1, 0, NULL, G(registry_db), NULL, NULL, false,
     "SQLite file of the device registry; its folder must be writable by `user`"},
    {"registry", "default_expiry", CONF_CUSTOM, 0, 0, NULL, G(default_expiry), NULL, parse_expiry,
     false,
     "expiry of a new registration when none is given: YYYY-MM-DD (end of that day, UTC) or "
     "YYYY-MM-DDTHH:MM:SSZ"},
    {"registry", "registration_url", CONF_STR, 1, 0, NULL, G(registration_url), NULL, NULL, false,
     "where device operators register; named in every refusal of an unregistered device"},
    {"registry", "report_retention", CONF_DURATION, DAY, 3650 * DAY, "400d", G(report_retention),
     NULL, NULL, false, "how long the per-client TLS counters of `mailoutctl report tls` are kept"},
    {"registry", "report_max_rows", CONF_UINT, 1000, 1000000000, "1000000", G(report_max_rows),
     NULL, NULL, false,
     "at most this many rows of those counters (one per client, listener, TLS state and day); "
     "the oldest go first"},
    {"web", "address", CONF_CUSTOM, 0, 0, NULL, G(web_addr), NULL, parse_web_address, false,
     "`address:port` of the registration and admin pages (no [web] address: no web pages)"},
    {"web", "certificate", CONF_PATH, 1, 0, NULL, G(web_certificate), NULL, NULL, false,
     "certificate chain (PEM) for HTTPS; without it the pages are served over plain HTTP"},
    {"web", "key", CONF_PATH, 1, 0, NULL, G(web_key), NULL, NULL, false,
     "private key (PEM) of the web certificate"},
    {"web", "clients", CONF_CUSTOM, 0, 0, "127.0.0.0/8 ::1", G(web_clients), NULL,
     parse_web_clients, true,
     "addresses and CIDR prefixes that may reach the pages (403 otherwise)"},
    {"web", "admin_clients", CONF_CUSTOM, 0, 0, "127.0.0.1 ::1", G(web_admin_clients), NULL,
     parse_web_admin_clients, true,
     "prefixes that may reach /admin, within `clients` (default: this host only; name the "
     "admins' desks)"},
    {"web", "register_networks", CONF_CUSTOM, 0, 0, NULL, G(web_register), NULL, parse_web_register,
     true, "prefixes whose addresses may be registered through the page (default: `clients`)"},
    {"web", "admins", CONF_PATH, 1, 0, NULL, G(web_admins), NULL, NULL, false,
     "file of `user:crypt-hash` lines (yescrypt or bcrypt; `mailoutctl web passwd USER` makes "
     "one); read as root at start and on SIGHUP"},
    {"web", "cutover", CONF_CUSTOM, 0, 0, NULL, G(web_cutover), NULL, parse_cutover, false,
     "YYYY-MM-DD from which only encrypted mail is accepted; shown on the guide"},
    {"web", "organisation", CONF_STR, 1, 0, NULL, G(web_organisation), NULL, NULL, false,
     "name shown in the page titles"},
    {"web", "session_timeout", CONF_DURATION, 60, DAY, "30m", G(web_session_timeout), NULL, NULL,
     false, "an admin login ends after this long without a request"},
    {"web", "max_pending_per_address", CONF_UINT, 1, 100000, "5", G(web_max_pending_per_address),
     NULL, NULL, false,
     "pending registrations one visitor address may have made through the form (429 above)"},
    {"web", "max_pending", CONF_UINT, 1, 1000000, "1000", G(web_max_pending), NULL, NULL, false,
     "pending registrations from the form in all (503 above): a flood cannot bury the real "
     "requests"},
    {"listener", "address", CONF_CUSTOM, 0, 0, NULL, L(addr), NULL, parse_addresses, true,
     "one or more `IPv4:port` or `[IPv6]:port`"},
    {"listener", "tls", CONF_ENUM, 0, 0, "required", L(tls), tls_names, NULL, false,
     "required (STARTTLS before MAIL), implicit (TLS from the first byte), optional, off"},
    {"listener", "min_tls_version", CONF_CUSTOM, 0, 0, "1.2", L(min_tls_version), NULL,
     parse_tls_version, false,
     "1.0, 1.1, 1.2 or 1.3; below 1.2 the listener also allows old RSA ciphers"},
    {"listener", "clients", CONF_CUSTOM, 0, 0, "any", L(clients), NULL, parse_clients, true,
     "any, registered, or a list of addresses and CIDR prefixes allowed to connect (554 5.7.1 "
     "otherwise); `any` only on loopback or with `recipients = internal`: a listener that "
     "relays anywhere says who may use it (`0.0.0.0/0 ::/0` for everyone, with a warning)"},
    {"listener", "recipients", CONF_ENUM, 0, 0, "any", L(recipients), rcpts_names, NULL, false,
     "any, or internal: only `internal_domains` (550 5.7.1 otherwise)"},
    {"listener", "auth", CONF_ENUM, 0, 0, "none", L(auth), auth_names, NULL, false,
     "none (AUTH is not implemented yet)"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static void conf_error(struct load_ctx *, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conf_error(struct load_ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		buf_printf(c->errs, "%s:%u: %s\n", c->path, line, msg);
	else
		buf_printf(c->errs, "%s: %s\n", c->path, msg);
	c->n_errs++;
}

static const char *
enum_name(const char *const *names, unsigned v)
{
	for (unsigned i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

const char *
listener_tls_name(enum listener_tls v)
{
	return enum_name(tls_names, v);
}

const char *
listener_clients_name(enum listener_clients v)
{
	return enum_name(clients_names, v);
}

const char *
listener_rcpts_name(enum listener_rcpts v)
{
	return enum_name(rcpts_names, v);
}

const char *
listener_auth_name(enum listener_auth v)
{
	return enum_name(auth_names, v);
}

const char *
relay_tls_name(enum relay_tls v)
{
	return enum_name(relay_tls_names, v);
}

const char *
tls_version_name(unsigned v)
{
	switch (v) {
	case TLS1_VERSION:
		return "1.0";
	case TLS1_1_VERSION:
		return "1.1";
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	}
	return "?";
}

/* ---- value parsers ---- */

/* Resolve a relative path against the config file's folder. */
static bool
resolve_path(struct load_ctx *c, char *dst, size_t size, const char *value)
{
	if (value[0] == '/' || c->dir[0] == '\0')
		return str_copy(dst, size, value);
	return str_fmt(dst, size, "%s/%s", c->dir, value);
}

/* Split a list value into words; false (with err) if there are too many. */
static size_t
split_list(char *copy, char **words, char *err, size_t errlen)
{
	size_t n = str_split(copy, words, CONF_LIST_MAX);

	if (n > CONF_LIST_MAX) {
		str_fmt(err, errlen, "more than %d values in one line", CONF_LIST_MAX);
		return 0;
	}
	return n;
}

static bool
parse_domains(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	char copy[CONF_LINE_MAX + 1], *w[CONF_LIST_MAX];
	size_t n;

	(void)c;
	str_copy(copy, sizeof(copy), value);
	if ((n = split_list(copy, w, err, errlen)) == 0 && err[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		char norm[CONF_DOMAIN_MAX];
		bool is_suffix = w[i][0] == '.';

		if (cfg->n_internal_domains == CONF_DOMAINS_MAX) {
			str_fmt(err, errlen, "more than %d internal domains", CONF_DOMAINS_MAX);
			return false;
		}
		if (!address_normalize_domain(w[i] + is_suffix, strlen(w[i] + is_suffix), norm,
		                              sizeof(norm))) {
			str_fmt(err, errlen, "'%s' is not a valid domain", w[i]);
			return false;
		}
		str_fmt(cfg->internal_domains[cfg->n_internal_domains++], CONF_DOMAIN_MAX, "%s%s",
		        is_suffix ? "." : "", norm);
	}
	return true;
}

static bool
parse_postmaster(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	struct address a;
	size_t used;

	(void)c;
	if (address_parse_path(value, strlen(value), true, &a, &used) != ADDRESS_OK ||
	    used != strlen(value) || a.is_null) {
		str_fmt(err, errlen, "postmaster = '%s' is not an address (user@domain)", value);
		return false;
	}
	address_format(&a, cfg->postmaster, sizeof(cfg->postmaster));
	return true;
}

static bool
parse_path_list(struct load_ctx *c, char (*dst)[PATH_MAX], size_t *n_dst, const char *value,
                char *err, size_t errlen)
{
	char copy[CONF_LINE_MAX + 1], *w[CONF_LIST_MAX];
	size_t n;

	str_copy(copy, sizeof(copy), value);
	if ((n = split_list(copy, w, err, errlen)) == 0 && err[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		if (*n_dst == CONF_CERTS_MAX) {
			str_fmt(err, errlen, "more than %d files", CONF_CERTS_MAX);
			return false;
		}
		if (!resolve_path(c, dst[(*n_dst)++], PATH_MAX, w[i])) {
			str_fmt(err, errlen, "path too long: %s", w[i]);
			return false;
		}
	}
	return true;
}

static bool
parse_expiry(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
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

static bool
parse_certs(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	return parse_path_list(c, cfg->certificate, &cfg->n_certificate, value, err, errlen);
}

static bool
parse_keys(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	return parse_path_list(c, cfg->key, &cfg->n_key, value, err, errlen);
}

static bool
parse_next_hop(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;
	const char *colon;
	uint64_t port;

	if (strcmp(value, "mx") == 0) {
		cfg->next_hop = NEXT_HOP_MX;
		return true;
	}
	if (strncmp(value, "dir:", 4) == 0) {
		cfg->next_hop = NEXT_HOP_DIR;
		if (value[4] == '\0' || !resolve_path(c, cfg->relay_dir, PATH_MAX, value + 4)) {
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
	cfg->next_hop = NEXT_HOP_HOST;
	cfg->relay_port = (unsigned)port;
	if (value[0] == '[' && colon[-1] == ']')
		return str_copyn(cfg->relay_host, CONF_DOMAIN_MAX, value + 1,
		                 (size_t)(colon - value) - 2);
	return str_copyn(cfg->relay_host, CONF_DOMAIN_MAX, value, (size_t)(colon - value));
}

static bool
parse_addresses(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct listener_conf *l = base;
	char copy[CONF_LINE_MAX + 1], *w[CONF_LIST_MAX];
	size_t n;

	(void)c;
	str_copy(copy, sizeof(copy), value);
	if ((n = split_list(copy, w, err, errlen)) == 0 && err[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		if (l->n_addr == CONF_ADDRS_MAX) {
			str_fmt(err, errlen, "more than %d addresses", CONF_ADDRS_MAX);
			return false;
		}
		if (!sockaddr_parse_hostport(w[i], &l->addr[l->n_addr], &l->addr_len[l->n_addr])) {
			str_fmt(
			    err, errlen,
			    "'%s' is not an address:port (IPv4 as 0.0.0.0:587, IPv6 as [::]:587)",
			    w[i]);
			return false;
		}
		l->n_addr++;
	}
	return true;
}

/* A list of CIDR prefixes appended to nets[*n_nets]. what names them in the
 * "more than" error; also_allowed lists the words the key takes besides
 * prefixes, for the error about a bad word ("" if none). */
static bool
parse_net_list(const char *value, struct cidr *nets, size_t *n_nets, const char *what,
               const char *also_allowed, char *err, size_t errlen)
{
	char copy[CONF_LINE_MAX + 1], *w[CONF_LIST_MAX];
	size_t n;

	str_copy(copy, sizeof(copy), value);
	if ((n = split_list(copy, w, err, errlen)) == 0 && err[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		if (*n_nets == CONF_NETS_MAX) {
			str_fmt(err, errlen, "more than %d %s", CONF_NETS_MAX, what);
			return false;
		}
		if (!cidr_parse(w[i], &nets[*n_nets])) {
			str_fmt(err, errlen,
			        "'%s' is not %san address or CIDR prefix (like 10.0.0.0/8 or "
			        "2001:db8::/32, host bits zero)",
			        w[i], also_allowed);
			return false;
		}
		(*n_nets)++;
	}
	return true;
}

static bool
parse_clients(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
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
	if (!parse_net_list(value, l->nets, &l->n_nets, "client prefixes", "any, registered, or ",
	                    err, errlen))
		return false;
	l->clients = LCLIENTS_NETS;
	return true;
}

static bool
parse_mx_allow(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_net_list(value, cfg->mx_allow, &cfg->n_mx_allow, "networks", "", err, errlen);
}

static bool
parse_web_clients(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_net_list(value, cfg->web_clients, &cfg->n_web_clients, "prefixes", "", err,
	                      errlen);
}

static bool
parse_web_admin_clients(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_net_list(value, cfg->web_admin_clients, &cfg->n_web_admin_clients, "prefixes",
	                      "", err, errlen);
}

static bool
parse_web_register(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
{
	struct config *cfg = base;

	(void)c;
	return parse_net_list(value, cfg->web_register, &cfg->n_web_register, "prefixes", "", err,
	                      errlen);
}

static bool
parse_web_address(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
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

static bool
parse_cutover(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
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

static bool
parse_tls_version(struct load_ctx *c, void *base, const char *value, char *err, size_t errlen)
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

/* Apply one value to one key; false (with err) when the value is bad. */
static bool
key_apply(struct load_ctx *c, const struct conf_key *k, void *base, const char *value, char *err,
          size_t errlen)
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
		if (value[0] == '\0' || !resolve_path(c, field, k->size, value)) {
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
	case CONF_CUSTOM:
		return k->parse(c, base, value, err, errlen);
	}
	return false;
}

/* A list key given again (not as a continuation line) replaces its value. */
static void
list_reset(const struct conf_key *k, void *base)
{
	if (k->parse == parse_domains)
		((struct config *)base)->n_internal_domains = 0;
	else if (k->parse == parse_certs)
		((struct config *)base)->n_certificate = 0;
	else if (k->parse == parse_keys)
		((struct config *)base)->n_key = 0;
	else if (k->parse == parse_addresses)
		((struct listener_conf *)base)->n_addr = 0;
	else if (k->parse == parse_clients)
		((struct listener_conf *)base)->n_nets = 0;
	else if (k->parse == parse_mx_allow)
		((struct config *)base)->n_mx_allow = 0;
	else if (k->parse == parse_web_clients)
		((struct config *)base)->n_web_clients = 0;
	else if (k->parse == parse_web_admin_clients)
		((struct config *)base)->n_web_admin_clients = 0;
	else if (k->parse == parse_web_register)
		((struct config *)base)->n_web_register = 0;
}

static void
apply_defaults(struct load_ctx *c, const char *section, void *base)
{
	char err[256];

	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || keys[i].dflt == NULL)
			continue;
		err[0] = '\0';
		if (!key_apply(c, &keys[i], base, keys[i].dflt, err, sizeof(err)))
			fatal_bug("config default for %s.%s is invalid: %s", section, keys[i].name,
			          err);
	}
}

/* ---- sections ---- */

static void
section_begin(struct load_ctx *c, const char *name)
{
	c->listener = NULL;
	c->is_routes = false;
	c->section_ok = true;
	str_copy(c->section, sizeof(c->section), name);
	if (strcmp(name, "gateway") == 0 || strcmp(name, "tls") == 0 ||
	    strcmp(name, "relay") == 0 || strcmp(name, "registry") == 0 || strcmp(name, "web") == 0)
		return;
	if (strcmp(name, "routes") == 0) {
		c->is_routes = true;
		return;
	}
	if (strncmp(name, "listener ", 9) != 0 || !address_is_atom_name(name + 9)) {
		conf_error(c, c->line,
		           "unknown section [%s]: expected gateway, tls, relay, registry, routes, "
		           "web or listener NAME "
		           "(NAME: 1 to 63 letters, digits, '-', '_' and '.')",
		           name);
		c->section_ok = false;
		return;
	}
	for (size_t i = 0; i < c->cfg->n_listener; i++) {
		if (strcmp(c->cfg->listener[i].name, name + 9) == 0) {
			conf_error(c, c->line, "listener '%s' is already defined on line %u",
			           name + 9, c->cfg->listener[i].line);
			c->section_ok = false;
			return;
		}
	}
	if (c->cfg->n_listener == CONF_LISTENERS_MAX) {
		conf_error(c, c->line, "more than %d listeners", CONF_LISTENERS_MAX);
		c->section_ok = false;
		return;
	}
	c->listener = &c->cfg->listener[c->cfg->n_listener++];
	if (!str_copy(c->listener->name, sizeof(c->listener->name), name + 9)) {
		conf_error(c, c->line, "listener name is longer than %d characters",
		           CONF_NAME_MAX - 1);
	}
	c->listener->line = c->line;
	apply_defaults(c, "listener", c->listener);
}

/* The libinih reader: one physical line per call, so c->line is the line
 * number of the pair the handler sees next. Sections are handled here so
 * that an empty section is still checked. */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	char line[1024];
	size_t len;

	if (fgets(line, sizeof(line), c->fp) == NULL)
		return NULL;
	c->line++;
	len = strlen(line);
	if ((len > 0 && line[len - 1] != '\n' && !feof(c->fp)) || len > CONF_LINE_MAX ||
	    len >= (size_t)num) {
		conf_error(c, c->line,
		           "line is longer than %d characters; continue a list on the "
		           "next line, indented",
		           CONF_LINE_MAX);
		if (line[len - 1] != '\n') {
			int ch;
			while ((ch = fgetc(c->fp)) != EOF && ch != '\n')
				;
		}
		str_copy(str, (size_t)num, "\n");
		return str;
	}
	c->is_continuation = line[0] == ' ' || line[0] == '\t';
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		char *end = strchr(p, ']');
		if (end == NULL) {
			conf_error(c, c->line, "section header without ']'");
		} else {
			*end = '\0';
			section_begin(c, p + 1);
		}
		str_copy(str, (size_t)num, "\n");
		return str;
	}
	if (*p != '\0' && *p != '\n' && *p != '\r' && *p != ';' && *p != '#' &&
	    !c->is_continuation && strchr(p, '=') == NULL)
		conf_error(c, c->line, "expected 'key = value'");
	str_copy(str, (size_t)num, line);
	return str;
}

/* [routes]: DOMAIN = host:port | mx | dir:PATH [tls=POLICY] */
static void
route_line(struct load_ctx *c, const char *domain, const char *value)
{
	struct config *cfg = c->cfg;
	struct route_conf *r;
	char copy[CONF_LINE_MAX + 1], *w[3], err[256] = "", norm[CONF_DOMAIN_MAX];
	bool is_suffix = domain[0] == '.';
	size_t n;

	if (cfg->n_routes == CONF_ROUTES_MAX) {
		conf_error(c, c->line, "more than %d routes", CONF_ROUTES_MAX);
		return;
	}
	if (!address_normalize_domain(domain + is_suffix, strlen(domain + is_suffix), norm,
	                              sizeof(norm))) {
		conf_error(c, c->line, "route '%s': not a domain (example.edu or .example.edu)",
		           domain);
		return;
	}
	r = &cfg->routes[cfg->n_routes];
	memset(r, 0, sizeof(*r));
	str_fmt(r->domain, sizeof(r->domain), "%s%s", is_suffix ? "." : "", norm);
	r->line = c->line;
	r->tls = cfg->relay_tls;
	str_copy(copy, sizeof(copy), value);
	n = str_split(copy, w, 2);
	if (n == 0 || n > 2) {
		conf_error(c, c->line,
		           "route '%s': give host:port, mx or dir:PATH, then optionally "
		           "tls=POLICY",
		           domain);
		return;
	}
	if (n == 2) {
		int i;
		for (i = 0; relay_tls_names[i]; i++)
			if (strncmp(w[1], "tls=", 4) == 0 &&
			    strcmp(w[1] + 4, relay_tls_names[i]) == 0)
				break;
		if (relay_tls_names[i] == NULL) {
			conf_error(c, c->line,
			           "route '%s': '%s' is not tls=none|opportunistic|"
			           "required|verify",
			           domain, w[1]);
			return;
		}
		r->tls = (enum relay_tls)i;
	}
	/* Reuse the next_hop parser on a scratch config. */
	struct config *tmp = xcalloc(1, sizeof(*tmp));
	if (!parse_next_hop(c, tmp, w[0], err, sizeof(err))) {
		conf_error(c, c->line, "route '%s': %s", domain, err);
		free(tmp);
		return;
	}
	r->kind = tmp->next_hop;
	str_copy(r->host, sizeof(r->host), tmp->relay_host);
	r->port = tmp->relay_port;
	str_copy(r->dir, sizeof(r->dir), tmp->relay_dir);
	free(tmp);
	cfg->n_routes++;
}

static const struct conf_key *
key_find(const char *section, const char *name)
{
	const char *s = strncmp(section, "listener ", 9) == 0 ? "listener" : section;

	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, s) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *c = user;
	const struct conf_key *k;
	/* Sections are parsed by conf_reader(), so libinih's is always "". */
	(void)section;
	section = c->section;
	char err[512] = "";
	void *base;
	unsigned *seen;

	if (c->section[0] == '\0') {
		conf_error(c, c->line, "'%s' is outside any section", name);
		return 1;
	}
	if (!c->section_ok)
		return 1; /* the section header was reported already */
	if (c->is_routes) {
		route_line(c, name, value);
		return 1;
	}
	if ((k = key_find(section, name)) == NULL) {
		conf_error(c, c->line, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	base = c->listener ? (void *)c->listener : (void *)c->cfg;
	seen = c->listener ? &c->seen_listener[c->listener - c->cfg->listener][k - keys]
	                   : &c->seen_global[k - keys];
	if (*seen && !(c->is_continuation && k->is_list)) {
		if (!c->is_continuation) {
			conf_error(c, c->line, "'%s' is already set on line %u", name, *seen);
			return 1;
		}
		conf_error(c, c->line, "'%s' takes one value; it cannot continue on a new line",
		           name);
		return 1;
	}
	if (*seen == 0 && k->is_list)
		list_reset(k, base);
	if (*seen == 0)
		*seen = c->line;
	if (!key_apply(c, k, base, value, err, sizeof(err)))
		conf_error(c, c->line, "%s", err);
	return 1;
}

/* ---- cross-checks after the last line ---- */

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
check_listener(struct load_ctx *c, const struct listener_conf *l)
{
	const struct config *cfg = c->cfg;

	if (l->n_addr == 0)
		conf_error(c, l->line, "listener '%s' has no address", l->name);
	if (l->tls != LTLS_OFF && cfg->n_certificate == 0)
		conf_error(c, l->line,
		           "listener '%s' has tls = %s but [tls] names no certificate and key",
		           l->name, listener_tls_name(l->tls));
	if (l->tls == LTLS_OFF && l->auth != LAUTH_NONE)
		conf_error(c, l->line,
		           "listener '%s' has tls = off with auth = %s: passwords are never "
		           "accepted unencrypted",
		           l->name, listener_auth_name(l->auth));
	else if (l->auth != LAUTH_NONE)
		conf_error(c, l->line,
		           "listener '%s': auth = %s is not supported by this version; use auth = "
		           "none",
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
check_web(struct load_ctx *c)
{
	const struct config *cfg = c->cfg;
	unsigned line = c->seen_global[key_find("web", "address") - keys];

	if (!cfg->web_enabled) {
		for (size_t i = 0; i < N_KEYS; i++)
			if (strcmp(keys[i].section, "web") == 0 && c->seen_global[i])
				conf_error(c, c->seen_global[i],
				           "[web] %s is set but [web] address is not: the pages "
				           "are not served without an address",
				           keys[i].name);
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

/* A next hop that is one of our own listeners: every message would loop. */
static void
check_route_loop(struct load_ctx *c, const struct route_conf *r, unsigned line)
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

static void
check_config(struct load_ctx *c)
{
	struct config *cfg = c->cfg;

	if (cfg->n_listener == 0)
		conf_error(c, 0, "no [listener NAME] section: mailout would not accept any mail");
	if (strcmp(cfg->user, "nobody") == 0 || strcmp(cfg->user, "root") == 0)
		conf_error(c, c->seen_global[key_find("gateway", "user") - keys],
		           "[gateway] user = %s: give mailout a user of its own (default mailout); "
		           "it owns the spool and the registry, and %s",
		           cfg->user,
		           cfg->user[0] == 'r' ? "the children must not run as root"
		                               : "nobody is shared by other daemons");
	if (cfg->n_certificate != cfg->n_key)
		conf_error(
		    c, c->seen_global[key_find("tls", "key") - keys],
		    "[tls] has %zu certificate(s) but %zu key(s); give them in pairs, in the "
		    "same order",
		    cfg->n_certificate, cfg->n_key);
	if (cfg->relay_host[0] == '\0' && cfg->next_hop == NEXT_HOP_HOST)
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
	struct route_conf *d = &cfg->default_route;
	d->kind = cfg->next_hop;
	str_copy(d->host, sizeof(d->host), cfg->relay_host);
	d->port = cfg->relay_port;
	str_copy(d->dir, sizeof(d->dir), cfg->relay_dir);
	d->tls = cfg->relay_tls;
	for (size_t i = 0; i < cfg->n_listener; i++)
		check_listener(c, &cfg->listener[i]);
	check_route_loop(c, d, c->seen_global[key_find("relay", "next_hop") - keys]);
	for (size_t i = 0; i < cfg->n_routes; i++)
		check_route_loop(c, &cfg->routes[i], cfg->routes[i].line);
	check_web(c);
}

unsigned
config_load(const char *path, struct config *cfg, struct buf *errs)
{
	struct load_ctx c;
	const char *slash;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.errs = errs;
	c.path = path;
	str_copy(cfg->path, sizeof(cfg->path), path);
	if ((slash = strrchr(path, '/')) != NULL)
		str_copyn(c.dir, sizeof(c.dir), path, (size_t)(slash - path));
	if (slash == path)
		str_copy(c.dir, sizeof(c.dir), "/");
	apply_defaults(&c, "gateway", cfg);
	apply_defaults(&c, "tls", cfg);
	apply_defaults(&c, "relay", cfg);
	apply_defaults(&c, "registry", cfg);
	apply_defaults(&c, "web", cfg);
	if (gethostname(cfg->hostname, sizeof(cfg->hostname)) != 0)
		str_copy(cfg->hostname, sizeof(cfg->hostname), "localhost");
	if ((c.fp = fopen(path, "r")) == NULL) {
		conf_error(&c, 0, "cannot open: %s", strerror(errno));
		return c.n_errs;
	}
	if (ini_parse_stream(conf_reader, &c, conf_handler, &c) < 0)
		conf_error(&c, 0, "cannot read the file");
	fclose(c.fp);
	check_config(&c);
	return c.n_errs;
}

/* ---- the policy table ---- */

/* "10.0.0.0/8 192.168.0.0/16", cut at a whole prefix if it does not fit. */
static void
format_nets(const struct cidr *nets, size_t n, char *dst, size_t size)
{
	dst[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char net[CIDR_STR_MAX];

		cidr_format(&nets[i], net, sizeof(net));
		size_t len = strlen(dst);

		if (!str_fmt(dst + len, size - len, "%s%s", i ? " " : "", net)) {
			dst[len] = '\0';
			return;
		}
	}
}

static void
format_clients(const struct listener_conf *l, char *dst, size_t size)
{
	if (l->clients != LCLIENTS_NETS)
		str_copy(dst, size, listener_clients_name(l->clients));
	else
		format_nets(l->nets, l->n_nets, dst, size);
}

static void
print_web(const struct config *cfg, FILE *out)
{
	char addr[80], clients[512], admin[512];

	if (!cfg->web_enabled) {
		fprintf(out, "web pages: off (no [web] address)\n");
		return;
	}
	sockaddr_format((const struct sockaddr *)&cfg->web_addr, addr, sizeof(addr));
	format_nets(cfg->web_clients, cfg->n_web_clients, clients, sizeof(clients));
	format_nets(cfg->web_admin_clients, cfg->n_web_admin_clients, admin, sizeof(admin));
	fprintf(out, "web pages: %s://%s/ for %s; /admin for %s; admins from %s\n",
	        cfg->web_certificate[0] ? "https" : "http", addr, clients,
	        cfg->n_web_admin_clients ? admin : "the same",
	        cfg->web_admins[0] ? cfg->web_admins : "(none)");
}

void
config_print_policy(const struct config *cfg, FILE *out)
{
	fprintf(out, "%-20s %-22s %-9s %-7s %-20s %-10s %s\n", "LISTENER", "ADDRESS", "TLS",
	        "MIN_TLS", "CLIENTS", "RECIPIENTS", "AUTH");
	for (size_t i = 0; i < cfg->n_listener; i++) {
		const struct listener_conf *l = &cfg->listener[i];
		char clients[256];

		format_clients(l, clients, sizeof(clients));
		for (size_t a = 0; a < l->n_addr; a++) {
			char addr[80];

			sockaddr_format((const struct sockaddr *)&l->addr[a], addr, sizeof(addr));
			fprintf(out, "%-20s %-22s %-9s %-7s %-20s %-10s %s\n", a ? "" : l->name,
			        addr, listener_tls_name(l->tls),
			        l->tls == LTLS_OFF ? "-" : tls_version_name(l->min_tls_version),
			        clients, listener_rcpts_name(l->recipients),
			        listener_auth_name(l->auth));
		}
	}
	fprintf(out, "\ninternal domains:");
	for (size_t i = 0; i < cfg->n_internal_domains; i++)
		fprintf(out, " %s", cfg->internal_domains[i]);
	fprintf(out, "\npostmaster: %s\n", cfg->postmaster);
	for (size_t i = 0; i <= cfg->n_routes; i++) {
		const struct route_conf *r =
		    i < cfg->n_routes ? &cfg->routes[i] : &cfg->default_route;
		const char *who = i < cfg->n_routes ? r->domain : "everything else";
		if (r->kind == NEXT_HOP_DIR)
			fprintf(out, "route %-20s -> dir:%s\n", who, r->dir);
		else if (r->kind == NEXT_HOP_MX)
			fprintf(out, "route %-20s -> MX of the recipient domain (tls %s)\n", who,
			        relay_tls_name(r->tls));
		else
			fprintf(out, "route %-20s -> %s:%u (tls %s)\n", who, r->host, r->port,
			        relay_tls_name(r->tls));
	}
	print_web(cfg, out);
}

static const char *
type_name(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_STR:
		return "text";
	case CONF_PATH:
		return "path";
	case CONF_UINT:
		return "number";
	case CONF_SIZE:
		return "size";
	case CONF_DURATION:
		return "duration";
	case CONF_ENUM:
		return "choice";
	case CONF_CUSTOM:
		return k->is_list ? "list" : "value";
	}
	return "?";
}

void
config_print_keys(FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &keys[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out,
			        "%s### [%s%s]\n\n| key | type | default | meaning "
			        "|\n|---|---|---|---|\n",
			        i ? "\n" : "", section,
			        strcmp(section, "listener") == 0 ? " NAME" : "");
		}
		fprintf(out, "| `%s` | %s | %s%s%s | %s", k->name, type_name(k), k->dflt ? "`" : "",
		        k->dflt ? k->dflt : "-", k->dflt ? "`" : "", k->help);
		if (k->type == CONF_UINT || k->type == CONF_SIZE || k->type == CONF_DURATION)
			fprintf(out, " (%llu to %llu)", (unsigned long long)k->min,
			        (unsigned long long)k->max);
		fprintf(out, " |\n");
	}
}
