/*
 * mailoutctl report tls [--since 30d] [--json|--csv]: who sends how, and
 * mailoutctl report sessions ADDRESS [--json]: what one client just did. Per
 * client address, listener and TLS state (none, handshake-failed, or the
 * version and cipher) over the last days, with the registered device that
 * covers the client. Unencrypted senders come first.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/commands.h"
#include "ctl/devindex.h"
#include "ctl/out.h"
#include "ctl/privs.h"
#include "db/devices.h"
#include "db/stats.h"
#include "transition.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

struct report {
	struct devindex idx; /* every registration, for the DEVICE column */
	struct out out;
	size_t n_rows, n_clear_clients;
	char last_clear[64];
};

static void
print_text(const struct report *r, const struct client_stat *c, const char *dev, const char *seen)
{
	if (r->n_rows == 0)
		printf("%-16s %-24s %-18s %-40s %8s %8s %7s  %s\n", "CLIENT", "DEVICE", "LISTENER",
		       "TLS", "SESSIONS", "MESSAGES", "REFUSED", "LAST SEEN");
	printf("%-16s %-24.24s %-18s %-40s %8lld %8lld %7lld  %s\n", c->client, dev, c->listener,
	       c->tls, (long long)c->sessions, (long long)c->messages, (long long)c->refused, seen);
}

static bool
print_row(const struct client_stat *c, void *arg)
{
	struct report *r = arg;
	const struct device *d = devindex_find(&r->idx, c->client);
	char seen[32], dev[DEVICE_TEXT_MAX + 32] = "-";

	isodate_format(c->last_seen, seen, sizeof(seen));
	if (d)
		str_fmt(dev, sizeof(dev), "#%lld %s", (long long)d->id, d->name);
	if (strcmp(c->tls, "none") == 0 && strcmp(r->last_clear, c->client) != 0) {
		r->n_clear_clients++;
		str_copy(r->last_clear, sizeof(r->last_clear), c->client);
	}
	if (r->out.format == OUT_TEXT)
		print_text(r, c, dev, seen);
	out_record(&r->out);
	out_str(&r->out, "client", c->client);
	if (r->out.format == OUT_CSV)
		out_str(&r->out, "device", dev);
	else if (d)
		out_int(&r->out, "device", d->id);
	else
		out_null(&r->out, "device");
	out_str(&r->out, "listener", c->listener);
	out_str(&r->out, "tls", c->tls);
	out_int(&r->out, "sessions", c->sessions);
	out_int(&r->out, "messages", c->messages);
	out_int(&r->out, "refused", c->refused);
	out_str(&r->out, "last_seen", seen);
	r->n_rows++;
	return true;
}

static bool
print_recent(const struct recent_session *x, void *arg)
{
	struct out *o = arg;
	char when[32];

	isodate_format(x->at, when, sizeof(when));
	if (o->format == OUT_TEXT)
		printf("%s  %-18s %-40s %s\n", when, x->listener, x->tls, x->result);
	out_record(o);
	out_str(o, "at", when);
	out_str(o, "listener", x->listener);
	out_str(o, "tls", x->tls);
	out_str(o, "result", x->result);
	return true;
}

/* mailoutctl report sessions ADDRESS [--json]: the last sessions of one client. */
static int
report_sessions(struct registry *reg, const char *client, enum out_format format)
{
	char err[512] = "";
	struct out o;
	enum outcome res;

	out_begin(&o, format, true, stdout);
	if (format == OUT_TEXT)
		printf("%-20s  %-18s %-40s %s\n", "TIME (UTC)", "LISTENER", "TLS", "RESULT");
	res = registry_recent(reg, client, print_recent, &o, err, sizeof(err));
	out_end(&o);
	if (res != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	return 0;
}

void
ctl_report_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl report tls [--since 30d|YYYY-MM-DD] [--json|--csv]\n"
	             "       mailoutctl report sessions ADDRESS [--json]\n"
	             "       mailoutctl report auth [--since 24h|YYYY-MM-DD] [--json|--csv]\n"
	             "       mailoutctl report transition [--json|--csv]\n");
}

/* --since: a duration back from now ("30d", "12h") or a date. */
static bool
parse_since(const char *s, int64_t *since_day)
{
	int64_t at;

	if (isodate_parse_since(s, clock_now(), &at)) {
		*since_day = at / 86400;
		return true;
	}
	fprintf(stderr,
	        "mailoutctl: --since takes a duration (30d, 12h) or a date (YYYY-MM-DD), not "
	        "'%s'\n",
	        s);
	return false;
}

int
ctl_report(const struct config *cfg, int argc, char **argv)
{
	struct report r = {0};
	enum out_format format = OUT_TEXT;
	struct registry *reg;
	char err[512] = "", day[16];
	enum outcome o;

	if (argc >= 2 && strcmp(argv[1], "sessions") == 0) {
		struct cidr host;
		bool json = argc == 4 && strcmp(argv[3], "--json") == 0;
		if (argc < 3 || argc > 4 || (argc == 4 && !json)) {
			fprintf(stderr, "mailoutctl: report sessions takes one ADDRESS%s%s%s\n",
			        argc == 4 ? " and --json, not '" : "", argc == 4 ? argv[3] : "",
			        argc == 4 ? "'" : "");
			ctl_report_usage(stderr);
			return EXIT_USAGE;
		}
		if (!cidr_parse(argv[2], &host) ||
		    host.prefix != (host.family == AF_INET ? 32u : 128u)) {
			fprintf(stderr, "mailoutctl: '%s' is not an IP address\n", argv[2]);
			return EXIT_USAGE;
		}
		if ((reg = ctl_open_registry(cfg)) == NULL)
			return EXIT_FAIL;
		int rc = report_sessions(reg, argv[2], json ? OUT_JSON : OUT_TEXT);
		registry_close(reg);
		return rc;
	}
	if (argc >= 2 && strcmp(argv[1], "auth") == 0)
		return ctl_report_auth(cfg, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "transition") == 0)
		return ctl_report_transition(cfg, argc, argv);
	if (argc < 2 || strcmp(argv[1], "tls") != 0) {
		fprintf(stderr,
		        "mailoutctl: unknown report '%s' (tls, sessions, auth or transition)\n",
		        argc < 2 ? "" : argv[1]);
		ctl_report_usage(stderr);
		return EXIT_USAGE;
	}
	int64_t since_day = (clock_now() - 30 * 86400) / 86400;
	for (int i = 2; i < argc; i++) {
		if (out_parse_flag(argv[i], &format)) {
			continue;
		} else if (strcmp(argv[i], "--since") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr,
				        "mailoutctl: --since needs a value (30d or YYYY-MM-DD)\n");
				return EXIT_USAGE;
			}
			if (!parse_since(argv[++i], &since_day))
				return EXIT_USAGE;
		} else {
			fprintf(stderr, "mailoutctl: unknown option '%s' for report tls\n",
			        argv[i]);
			ctl_report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((reg = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	out_begin(&r.out, format, true, stdout);
	o = devindex_load(reg, &r.idx, err, sizeof(err));
	if (o == OUT_OK)
		o = registry_tls_report(reg, since_day, print_row, &r, err, sizeof(err));
	out_end(&r.out);
	registry_close(reg);
	devindex_free(&r.idx);
	if (o != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (format == OUT_TEXT) {
		isodate_format_day(since_day * 86400, day, sizeof(day));
		printf("%s%zu client(s) sent without encryption since %s (UTC).\n",
		       r.n_rows ? "\n" : "", r.n_clear_clients, day);
		if (cfg->tr_date[TD_CUTOVER][0]) {
			char tr[160];
			transition_describe(cfg, clock_now(), tr, sizeof(tr));
			printf("Transition: %s.\n", tr);
		}
	}
	return 0;
}
