/*
 * config: mailout.conf (INI) as struct config, and config_load() that
 * reads it. The rooms of config/: keys (one table of every key: section,
 * type, bounds, default, where it lands, help), values (the parsers of
 * values beyond strings and numbers), load (the file, line by line, with
 * libinih), check (what the config must satisfy as a whole), print (the
 * policy table and doc/CONFIG.md). Errors are collected, never printed
 * here: each is one line "file:line: what is wrong" in the caller's
 * buffer. No sockets.
 */
#ifndef MAILOUT_CONFIG_CONFIG_H
#define MAILOUT_CONFIG_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/cidr.h"

#define CONF_LISTENERS_MAX 16
#define CONF_ADDRS_MAX     8
#define CONF_NETS_MAX      64
#define CONF_DOMAINS_MAX   64
#define CONF_CERTS_MAX     4
#define CONF_NAME_MAX      64
#define CONF_DOMAIN_MAX    256
#define CONF_ROUTES_MAX    64
#define CONF_REMIND_MAX    8
#define CONF_ADMINS_MAX    16

enum listener_tls { LTLS_OFF, LTLS_OPTIONAL, LTLS_REQUIRED, LTLS_IMPLICIT };
enum listener_clients { LCLIENTS_ANY, LCLIENTS_NETS, LCLIENTS_REGISTERED };
enum listener_rcpts { LRCPTS_ANY, LRCPTS_INTERNAL };
enum listener_auth { LAUTH_NONE, LAUTH_OPTIONAL, LAUTH_REQUIRED };
enum auth_backend { AUTHB_NONE, AUTHB_FILE, AUTHB_LDAP };
/* The migration calendar's dates, in order ([transition]). */
enum transition_date {
	TD_REGISTER_FROM,
	TD_WARN_FROM,
	TD_TEMPFAIL_FROM,
	TD_CUTOVER,
	TD_END,
	TD_COUNT
};
enum auth_senders { AUTHS_ANY, AUTHS_OWN, AUTHS_MAP };
enum relay_tls { RTLS_NONE, RTLS_OPPORTUNISTIC, RTLS_REQUIRED, RTLS_VERIFY };
enum next_hop_kind { NEXT_HOP_HOST, NEXT_HOP_DIR, NEXT_HOP_MX };

/* Where mail for some domains goes: a [routes] line, or for every other
 * domain [relay] next_hop (config.default_route). */
struct route_conf {
	char domain[CONF_DOMAIN_MAX]; /* "example.edu", ".example.edu"; "" for the default */
	enum next_hop_kind kind;
	char host[CONF_DOMAIN_MAX];
	unsigned port;
	char dir[PATH_MAX];
	enum relay_tls tls;
	unsigned line;
};

struct listener_conf {
	char name[CONF_NAME_MAX];
	unsigned line; /* of the [listener NAME] header */
	struct sockaddr_storage addr[CONF_ADDRS_MAX];
	socklen_t addr_len[CONF_ADDRS_MAX];
	size_t n_addr;
	enum listener_tls tls;
	unsigned min_tls_version; /* TLS1_VERSION .. TLS1_3_VERSION */
	enum listener_clients clients;
	struct cidr nets[CONF_NETS_MAX];
	size_t n_nets;
	enum listener_rcpts recipients;
	enum listener_auth auth;
	unsigned proxy; /* 1: every connection starts with a PROXY header (v1 or v2) */
	struct cidr proxy_from[CONF_NETS_MAX]; /* the balancers that may send one */
	size_t n_proxy_from;
};

struct config {
	char path[PATH_MAX];
	/* [gateway] */
	char hostname[CONF_DOMAIN_MAX];
	char spool[PATH_MAX];
	char pid_file[PATH_MAX]; /* "": none */
	char user[CONF_NAME_MAX];
	char postmaster[CONF_DOMAIN_MAX + 72]; /* normal form; where RCPT TO:<postmaster> goes */
	char internal_domains[CONF_DOMAINS_MAX][CONF_DOMAIN_MAX];
	size_t n_internal_domains;
	uint64_t max_message_size;
	uint64_t max_recipients;
	uint64_t max_command_line;
	uint64_t max_text_line;
	uint64_t max_errors;
	uint64_t max_connections;
	uint64_t max_client_connections;
	uint64_t idle_timeout;
	uint64_t data_timeout;
	uint64_t max_data_time;
	uint64_t max_session_time;
	uint64_t max_commands_before_mail;
	uint64_t tls_timeout;
	uint64_t workers;
	/* [tls] */
	char certificate[CONF_CERTS_MAX][PATH_MAX];
	size_t n_certificate;
	char key[CONF_CERTS_MAX][PATH_MAX];
	size_t n_key;
	/* [relay] */
	struct route_conf default_route; /* next_hop; its tls is relay_tls */
	enum relay_tls relay_tls;
	char relay_ca_file[PATH_MAX];
	uint64_t relay_connections;
	uint64_t relay_timeout;
	uint64_t retry_interval;
	uint64_t max_queue_lifetime;
	uint64_t retry_factor;
	uint64_t retry_max;
	uint64_t delay_warning;
	uint64_t messages_per_connection;
	uint64_t connections_per_host;
	char resolver[CONF_DOMAIN_MAX];
	uint64_t mx_port;
	struct cidr mx_allow[CONF_NETS_MAX]; /* networks MX targets may be in despite their class */
	size_t n_mx_allow;
	struct route_conf routes[CONF_ROUTES_MAX];
	size_t n_routes;
	/* [registry] */
	char registry_db[PATH_MAX];
	char default_expiry[40];
	char registration_url[512];
	uint64_t report_retention; /* seconds of client_tls kept */
	uint64_t report_max_rows;
	/* [web] */
	bool web_enabled;
	struct sockaddr_storage web_addr;
	socklen_t web_addr_len;
	char web_certificate[PATH_MAX];
	char web_key[PATH_MAX];
	struct cidr web_clients[CONF_NETS_MAX];
	size_t n_web_clients;
	struct cidr web_admin_clients[CONF_NETS_MAX]; /* none: same as web_clients */
	size_t n_web_admin_clients;
	struct cidr web_register[CONF_NETS_MAX]; /* none: same as web_clients */
	size_t n_web_register;
	char web_admins[PATH_MAX];
	char web_admin_group[512]; /* LDAP group whose members may log in; "" none */
	struct cidr web_metrics_clients[CONF_NETS_MAX]; /* who may read /metrics */
	size_t n_web_metrics_clients;
	char web_cutover[40];
	char web_organisation[CONF_DOMAIN_MAX];
	char web_support[512]; /* who helps operators set up a device: text and URL */
	struct cidr
	    web_proxy_from[CONF_NETS_MAX]; /* reverse proxies whose X-Forwarded-For counts */
	size_t n_web_proxy_from;
	uint64_t web_session_timeout;
	uint64_t web_max_pending_per_address; /* pending registrations one visitor may make */
	uint64_t web_max_pending;             /* and all visitors together */
	/* [auth] */
	enum auth_backend auth_backend; /* AUTHB_NONE: no [auth] */
	char auth_passwd[PATH_MAX];
	enum auth_senders auth_senders;
	char auth_sender_map[PATH_MAX];
	uint64_t auth_max_failures;
	uint64_t auth_failure_window;
	uint64_t auth_messages_per_hour;
	uint64_t auth_recipients_per_hour;
	unsigned auth_received_user; /* 1: Received: names the user */
	uint64_t auth_threads;
	char ldap_uri[512];
	unsigned ldap_starttls; /* 1: StartTLS on an ldap:// URI */
	char ldap_ca_file[PATH_MAX];
	char ldap_bind_dn[512]; /* template with %u, or "" for search-then-bind */
	char ldap_base[512];
	char ldap_filter[512];
	char ldap_service_dn[512];
	char ldap_service_password_file[PATH_MAX];
	char ldap_mail_attributes[256];
	uint64_t ldap_timeout;
	/* [transition] */
	char tr_date[TD_COUNT][16]; /* YYYY-MM-DD as written; "" unset */
	int64_t tr_at[TD_COUNT];    /* the start of that day (UTC); 0 unset */
	char tr_help_url[512];      /* in the warnings; default [registry] registration_url */
	uint64_t tr_remind[CONF_REMIND_MAX]; /* seconds before an expiry, largest first */
	size_t n_tr_remind;
	char tr_admins[CONF_ADMINS_MAX][CONF_DOMAIN_MAX + 72]; /* the weekly digest's readers */
	size_t n_tr_admins;
	char tr_notify_from[CONF_DOMAIN_MAX + 72]; /* From: of reminders; default postmaster */
	/* [listener NAME] ... */
	struct listener_conf listener[CONF_LISTENERS_MAX];
	size_t n_listener;
};

/* Read and validate path into *cfg (which this initialises). Every error
 * is appended to errs as "path:line: sentence\n". Returns the number of
 * errors (0: cfg is usable). */
unsigned config_load(const char *path, struct config *cfg, struct buf *errs);

/* Print the key table as Markdown (doc/CONFIG.md is made from it). */
void config_print_keys(FILE *);
/* The same table as roff (.SS per section, .TP per key), for mailout.conf(5). */
void config_print_keys_man(FILE *);
/* Print every listener's effective policy as a table. */
void config_print_policy(const struct config *, FILE *);

const char *listener_tls_name(enum listener_tls);
const char *listener_clients_name(enum listener_clients);
const char *listener_rcpts_name(enum listener_rcpts);
const char *listener_auth_name(enum listener_auth);
const char *auth_backend_name(enum auth_backend);
/* "register_from", "warn_from", ... as the keys are named. */
const char *transition_date_name(enum transition_date);
const char *auth_senders_name(enum auth_senders);
const char *relay_tls_name(enum relay_tls);
/* "1.0" .. "1.3" for a TLS1_*_VERSION. */
const char *tls_version_name(unsigned);

#endif
