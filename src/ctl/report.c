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

#include "ctl/ctl.h"
#include "ctl/format.h"
#include "db/registry.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

struct report {
	struct device *devices;
	size_t n_devices, cap_devices;
	int format; /* 0 text, 1 json, 2 csv */
	bool is_first;
	size_t n_rows, n_clear_clients;
	char last_clear[64];
};

static bool
keep_device(const struct device *d, void *arg)
{
	struct report *r = arg;

	if (r->n_devices == r->cap_devices) {
		r->cap_devices = r->cap_devices ? r->cap_devices * 2 : 32;
		r->devices = realloc(r->devices, r->cap_devices * sizeof(*r->devices));
		if (r->devices == NULL)
			abort();
	}
	r->devices[r->n_devices++] = *d;
	return true;
}

/* The most specific registered device covering client, or NULL. */
static const struct device *
device_of(const struct report *r, const char *client)
{
	const struct device *best = NULL;
	struct cidr host;
	struct sockaddr_storage ss = {0};

	if (!cidr_parse(client, &host))
		return NULL;
	ss.ss_family = (sa_family_t)host.family;
	if (host.family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, host.addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, host.addr, 16);
	for (size_t i = 0; i < r->n_devices; i++)
		if (cidr_contains(&r->devices[i].net, (struct sockaddr *)&ss) &&
		    (best == NULL || r->devices[i].net.prefix > best->net.prefix))
			best = &r->devices[i];
	return best;
}

static bool
print_row(const struct client_stat *c, void *arg)
{
	struct report *r = arg;
	const struct device *d = device_of(r, c->client);
	char seen[32], dev[DEVICE_TEXT_MAX + 32] = "-";

	isodate_format(c->last_seen, seen, sizeof(seen));
	if (d)
		str_fmt(dev, sizeof(dev), "#%lld %s", (long long)d->id, d->name);
	if (strcmp(c->tls, "none") == 0 && strcmp(r->last_clear, c->client) != 0) {
		r->n_clear_clients++;
		str_copy(r->last_clear, sizeof(r->last_clear), c->client);
	}
	if (r->format == 1) {
		printf("%s{\"client\":", r->is_first ? "" : ",\n ");
		ctl_json_str(stdout, c->client);
		printf(",\"device\":");
		if (d)
			printf("%lld", (long long)d->id);
		else
			printf("null");
		printf(",\"listener\":");
		ctl_json_str(stdout, c->listener);
		printf(",\"tls\":");
		ctl_json_str(stdout, c->tls);
		printf(
		    ",\"sessions\":%lld,\"messages\":%lld,\"refused\":%lld,\"last_seen\":\"%s\"}",
		    (long long)c->sessions, (long long)c->messages, (long long)c->refused, seen);
	} else if (r->format == 2) {
		if (r->is_first)
			printf(
			    "client,device,listener,tls,sessions,messages,refused,last_seen\r\n");
		ctl_csv_str(stdout, c->client);
		putchar(',');
		ctl_csv_str(stdout, dev);
		putchar(',');
		ctl_csv_str(stdout, c->listener);
		putchar(',');
		ctl_csv_str(stdout, c->tls);
		printf(",%lld,%lld,%lld,\"%s\"\r\n", (long long)c->sessions, (long long)c->messages,
		       (long long)c->refused, seen);
	} else {
		if (r->is_first)
			printf("%-16s %-24s %-18s %-40s %8s %8s %7s  %s\n", "CLIENT", "DEVICE",
			       "LISTENER", "TLS", "SESSIONS", "MESSAGES", "REFUSED", "LAST SEEN");
		printf("%-16s %-24.24s %-18s %-40s %8lld %8lld %7lld  %s\n", c->client, dev,
		       c->listener, c->tls, (long long)c->sessions, (long long)c->messages,
		       (long long)c->refused, seen);
	}
	r->is_first = false;
	r->n_rows++;
	return true;
}

static bool
print_recent(const struct recent_session *x, void *arg)
{
	int *json = arg;
	char when[32];

	isodate_format(x->at, when, sizeof(when));
	if (*json >= 1) {
		printf("%s{\"at\":\"%s\",\"listener\":", *json == 1 ? "" : ",\n ", when);
		ctl_json_str(stdout, x->listener);
		printf(",\"tls\":");
		ctl_json_str(stdout, x->tls);
		printf(",\"result\":");
		ctl_json_str(stdout, x->result);
		printf("}");
		*json = 2;
	} else {
		printf("%s  %-18s %-40s %s\n", when, x->listener, x->tls, x->result);
	}
	return true;
}

/* mailoutctl report sessions ADDRESS [--json]: the last sessions of one client. */
static int
report_sessions(struct registry *reg, const char *client, bool json)
{
	char err[512] = "";
	int state = json ? 1 : 0;
	enum outcome o;

	if (json)
		printf("[");
	else
		printf("%-20s  %-18s %-40s %s\n", "TIME (UTC)", "LISTENER", "TLS", "RESULT");
	o = registry_recent(reg, client, print_recent, &state, err, sizeof(err));
	if (o != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (json)
		printf("]\n");
	return 0;
}

void
ctl_report_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl report tls [--since 30d|YYYY-MM-DD] [--json|--csv]\n"
	             "       mailoutctl report sessions ADDRESS [--json]\n");
}

/* --since: a duration back from now ("30d", "12h") or a date. */
static bool
parse_since(const char *s, int64_t *since_day)
{
	uint64_t back;
	int64_t at;

	if (num_parse_duration(s, 1, 3650ULL * 86400, &back)) {
		*since_day = (clock_now() - (int64_t)back) / 86400;
		return true;
	}
	if (strlen(s) == 10 && isodate_parse_expiry(s, &at)) {
		*since_day = at / 86400 - 1; /* the day itself counts */
		return true;
	}
	fprintf(stderr,
	        "mailoutctl: --since takes a duration (30d, 12h) or a date (YYYY-MM-DD), not "
	        "'%s'\n",
	        s);
	return false;
}

static struct registry *
open_registry(const struct config *cfg)
{
	char err[512] = "";
	struct registry *reg;

	if (cfg->registry_db[0] == '\0') {
		fprintf(stderr,
		        "mailoutctl: reports live in the registry: set [registry] database\n");
		return NULL;
	}
	if (!ctl_drop_privileges(cfg) ||
	    (reg = registry_open(cfg->registry_db, 10000, err, sizeof(err))) == NULL) {
		if (err[0])
			fprintf(stderr, "mailoutctl: %s\n", err);
		return NULL;
	}
	return reg;
}

int
ctl_report(const struct config *cfg, int argc, char **argv)
{
	struct report r = {.is_first = true};
	struct device_filter all = {-1, 0, 0};
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
		if ((reg = open_registry(cfg)) == NULL)
			return EXIT_FAIL;
		int rc = report_sessions(reg, argv[2], json);
		registry_close(reg);
		return rc;
	}
	if (argc < 2 || strcmp(argv[1], "tls") != 0) {
		fprintf(stderr, "mailoutctl: unknown report '%s' (tls or sessions)\n",
		        argc < 2 ? "" : argv[1]);
		ctl_report_usage(stderr);
		return EXIT_USAGE;
	}
	int64_t since_day = (clock_now() - 30 * 86400) / 86400;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			r.format = 1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			r.format = 2;
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
	if ((reg = open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	o = registry_list(reg, &all, keep_device, &r, err, sizeof(err));
	if (o == OUT_OK && r.format == 1)
		printf("[");
	if (o == OUT_OK)
		o = registry_tls_report(reg, since_day, print_row, &r, err, sizeof(err));
	registry_close(reg);
	free(r.devices);
	if (o != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (r.format == 1)
		printf("]\n");
	else if (r.format == 0) {
		isodate_format_day(since_day * 86400, day, sizeof(day));
		printf("%s%zu client(s) sent without encryption since %s (UTC).\n",
		       r.n_rows ? "\n" : "", r.n_clear_clients, day);
	}
	return 0;
}
