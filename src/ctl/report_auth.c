/*
 * mailoutctl report auth [--since 24h|YYYY-MM-DD] [--json|--csv]: SMTP
 * AUTH as the workers counted it in the registry (db/authstats.h): failed
 * logins by client address and by user name, and the accounts sending in
 * the current hour against their limits ([auth] messages_per_hour and
 * recipients_per_hour), the busiest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/out.h"
#include "ctl/privs.h"
#include "db/authstats.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2
#define NEAR_LIMIT 80 /* percent: marked as near its limit */

struct auth_report {
	const struct config *cfg;
	struct out out;
	const char *section;
	size_t n_rows;
};

/* Every record has the same keys, so that the CSV has one header. */
static void
record(struct auth_report *r, const struct auth_stat *a, int64_t pct, const char *seen)
{
	out_record(&r->out);
	out_str(&r->out, "section", r->section);
	out_str(&r->out, "client", a->client);
	out_str(&r->out, "user", a->user);
	out_int(&r->out, "failures", a->failures);
	out_int(&r->out, "successes", a->successes);
	out_int(&r->out, "messages", a->messages);
	out_int(&r->out, "recipients", a->recipients);
	out_int(&r->out, "percent_of_limit", pct);
	out_bool(&r->out, "near_limit", pct >= NEAR_LIMIT);
	out_str(&r->out, "last_seen", seen);
}

static bool
print_failures(const struct auth_stat *a, void *arg)
{
	struct auth_report *r = arg;
	bool by_client = strcmp(r->section, "clients") == 0;
	const char *who = by_client ? a->client : a->user;
	char seen[32];

	isodate_format(a->last_seen, seen, sizeof(seen));
	if (r->out.format == OUT_TEXT) {
		if (r->n_rows++ == 0)
			printf("%-40s %8s %9s  %s\n", by_client ? "CLIENT" : "USER", "FAILURES",
			       "SUCCESSES", "LAST SEEN");
		printf("%-40s %8lld %9lld  %s\n", who, (long long)a->failures,
		       (long long)a->successes, seen);
	}
	record(r, a, 0, seen);
	return true;
}

static int64_t
percent(int64_t used, uint64_t limit)
{
	return limit ? used * 100 / (int64_t)limit : 0;
}

static bool
print_sending(const struct auth_stat *a, void *arg)
{
	struct auth_report *r = arg;
	int64_t pm = percent(a->messages, r->cfg->auth_messages_per_hour);
	int64_t pr = percent(a->recipients, r->cfg->auth_recipients_per_hour);
	int64_t p = pm > pr ? pm : pr;
	char seen[32];

	if (a->messages == 0)
		return true;
	isodate_format(a->last_seen, seen, sizeof(seen));
	if (r->out.format == OUT_TEXT) {
		if (r->n_rows++ == 0)
			printf("%-40s %8s %10s %9s\n", "USER", "MESSAGES", "RECIPIENTS",
			       "OF LIMIT");
		printf("%-40s %8lld %10lld %8lld%%%s\n", a->user, (long long)a->messages,
		       (long long)a->recipients, (long long)p,
		       p >= NEAR_LIMIT ? "  near its limit" : "");
	}
	record(r, a, p, seen);
	return true;
}

/* One part of the report, with its heading in text. */
static enum outcome
section(struct registry *reg, struct auth_report *r, const char *name, const char *heading,
        int64_t since_hour, enum authstat_by by, bool only_failed,
        bool (*fn)(const struct auth_stat *, void *), char *err, size_t errlen)
{
	enum outcome o;

	r->section = name;
	r->n_rows = 0;
	if (r->out.format == OUT_TEXT)
		printf("%s\n", heading);
	o = registry_auth_report(reg, since_hour, by, only_failed, fn, r, err, errlen);
	if (r->out.format == OUT_TEXT)
		printf("%s\n", r->n_rows ? "" : "(none)\n");
	return o;
}

static bool
parse_since_hour(const char *s, int64_t *since_hour)
{
	int64_t at;

	if (isodate_parse_since(s, clock_now(), &at)) {
		*since_hour = at / 3600;
		return true;
	}
	fprintf(stderr,
	        "mailoutctl: --since takes a duration (24h, 7d) or a date (YYYY-MM-DD), not '%s'\n",
	        s);
	return false;
}

int
ctl_report_auth(const struct config *cfg, int argc, char **argv)
{
	struct auth_report r = {.cfg = cfg};
	enum out_format format = OUT_TEXT;
	int64_t since_hour = (clock_now() - 86400) / 3600, hour = clock_now() / 3600;
	char err[512] = "", heading[160], since[32];
	struct registry *reg;
	enum outcome o;

	for (int i = 2; i < argc; i++) {
		if (out_parse_flag(argv[i], &format))
			continue;
		if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (!parse_since_hour(argv[++i], &since_hour))
				return EXIT_USAGE;
			continue;
		}
		fprintf(stderr,
		        "mailoutctl: unknown option '%s' for report auth\n"
		        "usage: mailoutctl report auth [--since 24h|YYYY-MM-DD] [--json|--csv]\n",
		        argv[i]);
		return EXIT_USAGE;
	}
	if ((reg = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	isodate_format(since_hour * 3600, since, sizeof(since));
	out_begin(&r.out, format, true, stdout);
	str_fmt(heading, sizeof(heading), "Failed AUTH by client since %s:", since);
	o = section(reg, &r, "clients", heading, since_hour, AUTHSTAT_BY_CLIENT, true,
	            print_failures, err, sizeof(err));
	str_fmt(heading, sizeof(heading), "Failed AUTH by user since %s:", since);
	if (o == OUT_OK)
		o = section(reg, &r, "users", heading, since_hour, AUTHSTAT_BY_USER, true,
		            print_failures, err, sizeof(err));
	str_fmt(heading, sizeof(heading),
	        "Accounts sending this hour (limits: %llu messages, %llu recipients):",
	        (unsigned long long)cfg->auth_messages_per_hour,
	        (unsigned long long)cfg->auth_recipients_per_hour);
	if (o == OUT_OK)
		o = section(reg, &r, "sending", heading, hour, AUTHSTAT_BY_USER, false,
		            print_sending, err, sizeof(err));
	out_end(&r.out);
	registry_close(reg);
	if (o != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	return 0;
}
