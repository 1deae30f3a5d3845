/*
 * load: reading mailout.conf with libinih, one physical line at a time so
 * that every error names its line: sections (and empty ones), keys through
 * the table (config/keys.h), continuation lines of lists, and the [routes]
 * grammar (DOMAIN = next hop [tls=POLICY]); then the cross-checks
 * (config/check.h).
 */
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config/check.h"
#include "config/config.h"
#include "config/keys.h"
#include "config/names.h"
#include "config/values.h"
#include "util/str.h"

static void
section_begin(struct conf_ctx *c, const char *name)
{
	c->listener = NULL;
	c->is_routes = false;
	c->section_ok = true;
	str_copy(c->section, sizeof(c->section), name);
	if (strcmp(name, "gateway") == 0 || strcmp(name, "tls") == 0 ||
	    strcmp(name, "relay") == 0 || strcmp(name, "registry") == 0 ||
	    strcmp(name, "web") == 0 || strcmp(name, "auth") == 0 ||
	    strcmp(name, "transition") == 0)
		return;
	if (strcmp(name, "routes") == 0) {
		c->is_routes = true;
		return;
	}
	if (strncmp(name, "listener ", 9) != 0 || !address_is_atom_name(name + 9)) {
		conf_error(c, c->line,
		           "unknown section [%s]: expected gateway, tls, relay, registry, routes, "
		           "web, auth, transition or listener NAME "
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
	conf_apply_defaults(c, "listener", c->listener);
}

/* The libinih reader: one physical line per call, so c->line is the line
 * number of the pair the handler sees next. Sections are handled here so
 * that an empty section is still checked. */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_ctx *c = stream;
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
route_line(struct conf_ctx *c, const char *domain, const char *value)
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
		for (i = 0; conf_relay_tls_names[i]; i++)
			if (strncmp(w[1], "tls=", 4) == 0 &&
			    strcmp(w[1] + 4, conf_relay_tls_names[i]) == 0)
				break;
		if (conf_relay_tls_names[i] == NULL) {
			conf_error(c, c->line,
			           "route '%s': '%s' is not tls=none|opportunistic|"
			           "required|verify",
			           domain, w[1]);
			return;
		}
		r->tls = (enum relay_tls)i;
	}
	if (!conf_parse_next_hop(c, r, w[0], err, sizeof(err))) {
		conf_error(c, c->line, "route '%s': %s", domain, err);
		return;
	}
	cfg->n_routes++;
}

static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *c = user;
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
	if ((k = conf_key_find(section, name)) == NULL) {
		conf_error(c, c->line, "unknown key '%s' in [%s]", name, section);
		return 1;
	}
	base = c->listener ? (void *)c->listener : (void *)c->cfg;
	seen = c->listener ? &c->seen_listener[c->listener - c->cfg->listener][conf_key_index(k)]
	                   : &c->seen_global[conf_key_index(k)];
	if (*seen && !(c->is_continuation && k->count)) {
		if (!c->is_continuation) {
			conf_error(c, c->line, "'%s' is already set on line %u", name, *seen);
			return 1;
		}
		conf_error(c, c->line, "'%s' takes one value; it cannot continue on a new line",
		           name);
		return 1;
	}
	if (*seen == 0 && k->count)
		conf_key_clear(k, base);
	if (*seen == 0)
		*seen = c->line;
	if (!conf_key_apply(c, k, base, value, err, sizeof(err)))
		conf_error(c, c->line, "%s", err);
	return 1;
}

unsigned
config_load(const char *path, struct config *cfg, struct buf *errs)
{
	struct conf_ctx c;
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
	conf_apply_defaults(&c, "gateway", cfg);
	conf_apply_defaults(&c, "tls", cfg);
	conf_apply_defaults(&c, "relay", cfg);
	conf_apply_defaults(&c, "registry", cfg);
	conf_apply_defaults(&c, "web", cfg);
	conf_apply_defaults(&c, "auth", cfg);
	conf_apply_defaults(&c, "transition", cfg);
	if (gethostname(cfg->hostname, sizeof(cfg->hostname)) != 0)
		str_copy(cfg->hostname, sizeof(cfg->hostname), "localhost");
	if ((c.fp = fopen(path, "r")) == NULL) {
		conf_error(&c, 0, "cannot open: %s", strerror(errno));
		return c.n_errs;
	}
	if (ini_parse_stream(conf_reader, &c, conf_handler, &c) < 0)
		conf_error(&c, 0, "cannot read the file");
	fclose(c.fp);
	conf_check(&c);
	return c.n_errs;
}
