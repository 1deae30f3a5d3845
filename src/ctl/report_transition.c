/*
 * mailoutctl report transition [--json|--csv]: the re-evaluation at the end
 * of the transition. Every registration with its use over the whole
 * transition (sessions, messages, last seen, the best TLS it ever used and
 * on how many days, the days it sent in clear, its senders) and a
 * suggested action (transition.h): unused for 90 days, let it expire; sent
 * with TLS 1.2 or better, move it to 587 and end the exception; still
 * plaintext, renew or replace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/devindex.h"
#include "ctl/out.h"
#include "ctl/privs.h"
#include "db/stats.h"
#include "metrics/counters.h"
#include "transition.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* What the counters say of one registration. */
struct use {
	enum metrics_tls best;
	int64_t tls_days, plain_days; /* days with TLS 1.2 or better; in clear */
	int64_t tls_day, plain_day;   /* the last day counted of each */
};

struct reeval {
	struct devindex idx;
	struct use *use; /* parallel to idx.devices */
};

static bool
count_day(const struct client_stat *c, void *arg)
{
	struct reeval *r = arg;
	const struct device *d = devindex_find(&r->idx, c->client);
	enum metrics_tls t = metrics_tls_of(c->tls);

	if (d == NULL)
		return true;
	struct use *u = &r->use[d - r->idx.devices];
	if (t != MT_FAILED && t > u->best)
		u->best = t;
	if ((t == MT_TLS12 || t == MT_TLS13) && u->tls_day != c->day + 1) {
		u->tls_days++;
		u->tls_day = c->day + 1;
	}
	if (t == MT_NONE && u->plain_day != c->day + 1) {
		u->plain_days++;
		u->plain_day = c->day + 1;
	}
	return true;
}

static void
advice(enum reeval_action a, const struct use *u, char *out, size_t size)
{
	if (a == RA_LET_EXPIRE)
		str_fmt(out, size, "unused for %d days: let it expire", REEVAL_UNUSED_DAYS);
	else if (a == RA_END_EXCEPTION)
		str_fmt(
		    out, size,
		    "sent with TLS 1.2 or better on %lld day%s: move it to port 587 and end the "
		    "exception",
		    (long long)u->tls_days, u->tls_days == 1 ? "" : "s");
	else
		str_copy(out, size, "still plaintext: renew or replace");
}

static void
row(struct out *o, const struct device *d, const struct use *u, int64_t now)
{
	enum reeval_action a = transition_suggest(d->last_seen, now, u->tls_days);
	char seen[32] = "never", text[160];

	if (d->last_seen)
		isodate_format(d->last_seen, seen, sizeof(seen));
	advice(a, u, text, sizeof(text));
	if (o->format == OUT_TEXT)
		printf("%-5lld %-18s %-24.24s %-9s %-20s %-8s %5lld %5lld  %s\n", (long long)d->id,
		       d->address, d->name, device_status_name(device_status_at(d, now)), seen,
		       metrics_tls_name(u->best), (long long)u->tls_days, (long long)u->plain_days,
		       text);
	out_record(o);
	out_int(o, "id", d->id);
	out_str(o, "address", d->address);
	out_str(o, "name", d->name);
	out_str(o, "owner", d->owner_email);
	out_str(o, "status", device_status_name(device_status_at(d, now)));
	out_str(o, "expires", d->expires);
	out_int(o, "sessions", d->session_count);
	out_int(o, "messages", d->message_count);
	out_str(o, "last_seen", d->last_seen ? seen : "");
	out_str(o, "best_tls", metrics_tls_name(u->best));
	out_int(o, "tls_days", u->tls_days);
	out_int(o, "plaintext_days", u->plain_days);
	out_str(o, "senders", d->sender);
	out_str(o, "action", transition_action_name(a));
	out_str(o, "advice", text);
}

int
ctl_report_transition(const struct config *cfg, int argc, char **argv)
{
	struct reeval r = {0};
	enum out_format format = OUT_TEXT;
	struct registry *reg;
	struct out o;
	char err[512] = "";
	int64_t now = clock_now();

	for (int i = 2; i < argc; i++)
		if (!out_parse_flag(argv[i], &format)) {
			fprintf(stderr,
			        "mailoutctl: unknown option '%s' for report transition\n"
			        "usage: mailoutctl report transition [--json|--csv]\n",
			        argv[i]);
			return EXIT_USAGE;
		}
	if ((reg = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	enum outcome res = devindex_load(reg, &r.idx, err, sizeof(err));
	r.use = xcalloc(r.idx.n + 1, sizeof(*r.use));
	if (res == OUT_OK)
		res = registry_client_days(reg, 0, count_day, &r, err, sizeof(err));
	registry_close(reg);
	if (res == OUT_OK) {
		out_begin(&o, format, true, stdout);
		if (format == OUT_TEXT)
			printf("%-5s %-18s %-24s %-9s %-20s %-8s %5s %5s  %s\n", "ID", "ADDRESS",
			       "NAME", "STATUS", "LAST SEEN", "BEST TLS", "TLS", "PLAIN",
			       "SUGGESTION");
		for (size_t i = 0; i < r.idx.n; i++)
			row(&o, &r.idx.devices[i], &r.use[i], now);
		out_end(&o);
	}
	free(r.use);
	devindex_free(&r.idx);
	if (res != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		return EXIT_FAIL;
	}
	return 0;
}
