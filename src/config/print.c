/*
 * print: the config as mailoutctl shows it: every listener's effective
 * policy and the routes (`mailoutctl check`), and the key table as
 * Markdown (`mailoutctl keys`, which makes doc/CONFIG.md).
 */
#include <string.h>

#include "config/config.h"
#include "config/keys.h"
#include "util/str.h"

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
	case CONF_NETS:
	case CONF_PATHS:
		return "list";
	case CONF_CUSTOM:
		return k->count ? "list" : "value";
	}
	return "?";
}

void
config_print_keys(FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < conf_n_keys; i++) {
		const struct conf_key *k = &conf_keys[i];

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

/* Text for roff: `code` in bold, backslashes escaped, no line that starts
 * with a control character. */
static void
roff_text(FILE *out, const char *t)
{
	bool is_bold = false;

	if (*t == '.' || *t == '\'')
		fputs("\\&", out);
	for (; *t; t++) {
		if (*t == '`') {
			fputs(is_bold ? "\\fR" : "\\fB", out);
			is_bold = !is_bold;
		} else if (*t == '\\') {
			fputs("\\e", out);
		} else if (*t == '-') {
			fputs("\\-", out);
		} else {
			fputc(*t, out);
		}
	}
	if (is_bold)
		fputs("\\fR", out);
}

void
config_print_keys_man(FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < conf_n_keys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, ".SS [%s%s]\n", section,
			        strcmp(section, "listener") == 0 ? " NAME" : "");
		}
		fprintf(out, ".TP\n.B %s\n(%s", k->name, type_name(k));
		if (k->dflt) {
			fputs(", default ", out);
			roff_text(out, k->dflt);
		}
		if (k->type == CONF_UINT || k->type == CONF_SIZE || k->type == CONF_DURATION)
			fprintf(out, ", %llu to %llu", (unsigned long long)k->min,
			        (unsigned long long)k->max);
		fputs(")\n", out);
		roff_text(out, k->help);
		fputs("\n", out);
	}
}
