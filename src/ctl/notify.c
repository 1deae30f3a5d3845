/*
 * mailoutctl notify [--dry-run]: the reminders and the digest of the
 * migration calendar, put into the gateway's own queue (so they are
 * delivered, retried and logged like any mail). Each goes out at most
 * once: its key is claimed in the registry's notices table in the same
 * transaction that puts it into the spool. --dry-run lists what would go
 * out and changes nothing; --sent lists what went out. Run daily by mailout-expire.timer.
 *
 *   owner of a registration  remind ([transition] remind) days before it
 *                            expires, and once when it has expired
 *   owner of a client that   weekly, in the warn and tempfail phases
 *   sends in clear to a
 *   `tls = required` listener
 *   [transition] admins      the weekly digest (ctl/digest.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/devindex.h"
#include "ctl/digest.h"
#include "ctl/privs.h"
#include "db/notices.h"
#include "notice.h"
#include "spool/spool.h"
#include "transition.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2
#define MAIL_MAX   (256 * 1024)

struct notify {
	const struct config *cfg;
	struct registry *reg;
	struct notice_ctx ctx;
	bool is_dry;
	unsigned sent, due, failed;
	char err[512];
};

/* Claim n's key, queue text to rcpt[], commit the claim; or in a dry run
 * say what would go out. what: "remind 7d registration 6". */
static void
send_notice(struct notify *n, const char *key, const char *const *rcpt, size_t n_rcpt,
            const struct buf *text, const char *what)
{
	struct notice_row row = {.at = n->ctx.now};
	char id[SPOOL_ID_MAX] = "";
	bool is_new = false, sent;

	if (n->is_dry) {
		if (notices_was_sent(n->reg, key, &sent, n->err, sizeof(n->err)) != OUT_OK) {
			n->failed++;
			fprintf(stderr, "mailoutctl: %s\n", n->err);
		} else if (!sent) {
			n->due++;
			printf("would send %s to %s\n", what, rcpt[0]);
		}
		return;
	}
	str_copy(row.key, sizeof(row.key), key);
	str_copy(row.recipient, sizeof(row.recipient), rcpt[0]);
	str_copy(row.what, sizeof(row.what), what);
	if (notices_claim(n->reg, &row, &is_new, n->err, sizeof(n->err)) != OUT_OK) {
		n->failed++;
		fprintf(stderr, "mailoutctl: %s: %s\n", what, n->err);
		return;
	}
	if (!is_new)
		return;
	int e = spool_submit(n->cfg->spool, n->cfg->hostname, n->ctx.from, rcpt, n_rcpt,
	                     buf_cstr(text), text->len, id, sizeof(id));
	if (notices_commit(n->reg, e == 0, n->err, sizeof(n->err)) != OUT_OK && e == 0)
		fprintf(stderr, "mailoutctl: %s queued as %s but not recorded: %s\n", what, id,
		        n->err);
	if (e != 0) {
		n->failed++;
		fprintf(stderr, "mailoutctl: %s: cannot queue in %s: %s\n", what, n->cfg->spool,
		        strerror(e));
		return;
	}
	n->sent++;
	printf("sent %s to %s (queue id %s)\n", what, rcpt[0], id);
}

static void
reminders(struct notify *n, const struct devindex *idx)
{
	struct buf b;

	buf_init(&b, MAIL_MAX);
	for (size_t i = 0; i < idx->n; i++) {
		const struct device *d = &idx->devices[i];
		struct notice no;
		char what[96], dist[16];

		if (!notice_due(d, n->cfg->tr_remind, n->cfg->n_tr_remind, n->ctx.now, &no))
			continue;
		notice_duration(no.before, dist, sizeof(dist));
		if (no.kind == NOTICE_EXPIRED)
			str_fmt(what, sizeof(what), "expired registration %lld", (long long)d->id);
		else
			str_fmt(what, sizeof(what), "remind %s registration %lld", dist,
			        (long long)d->id);
		buf_reset(&b);
		const char *to = d->owner_email;
		if (notice_write_expiry(&b, &n->ctx, &no, d))
			send_notice(n, no.key, &to, 1, &b, what);
	}
	buf_free(&b);
}

/* In the warn and tempfail phases: the owners of clients that sent in
 * clear to a `tls = required` listener, once a week per client. */
static void
plaintext_owners(struct notify *n, const struct devindex *idx, const struct senders *s)
{
	enum transition_phase ph = transition_phase(n->cfg, n->ctx.now);
	char week[16];
	struct buf b;

	if (ph != TP_WARN && ph != TP_TEMPFAIL)
		return;
	notice_week(n->ctx.now, week, sizeof(week));
	buf_init(&b, MAIL_MAX);
	for (size_t i = 0; i < s->n_plain; i++) {
		const struct client_stat *c = &s->plain[i];
		const struct device *d = devindex_find(idx, c->client);
		if (!digest_is_warned(n->cfg, c) || d == NULL || d->owner_email[0] == '\0')
			continue;
		struct notice no = {.kind = NOTICE_PLAINTEXT};
		struct plain_use u = {c->client, c->listener, c->sessions, c->messages,
		                      n->cfg->tr_at[TD_CUTOVER]};
		char what[128];
		str_fmt(no.key, sizeof(no.key), "plaintext:%s:%s:%s", c->client, c->listener, week);
		str_fmt(what, sizeof(what), "plaintext warning for %s (registration %lld)",
		        c->client, (long long)d->id);
		buf_reset(&b);
		const char *to = d->owner_email;
		if (notice_write_plaintext(&b, &n->ctx, &no, d, &u))
			send_notice(n, no.key, &to, 1, &b, what);
	}
	buf_free(&b);
}

static void
digest(struct notify *n, const struct devindex *idx, const struct senders *s)
{
	const char *to[CONF_ADMINS_MAX];
	char key[NOTICE_KEY_MAX], week[16], what[64];
	struct buf b;

	if (n->cfg->n_tr_admins == 0)
		return;
	notice_week(n->ctx.now, week, sizeof(week));
	str_fmt(key, sizeof(key), "digest:%s", week);
	str_fmt(what, sizeof(what), "the digest of %s", week);
	for (size_t i = 0; i < n->cfg->n_tr_admins; i++)
		to[i] = n->cfg->tr_admins[i];
	buf_init(&b, MAIL_MAX);
	if (digest_write(&b, n->cfg, &n->ctx, key, idx, s))
		send_notice(n, key, to, n->cfg->n_tr_admins, &b, what);
	buf_free(&b);
}

void
ctl_notify_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl [-c config] notify [--dry-run]\n"
	             "       mailoutctl [-c config] notify --sent [--since 30d]\n"
	             "  mail the reminders and the weekly digest that are due ([transition]),\n"
	             "  each once; --dry-run lists them and sends nothing; --sent lists what\n"
	             "  went out\n");
}

static bool
print_sent(const struct notice_row *r, void *arg)
{
	char at[32];

	(void)arg;
	isodate_format(r->at, at, sizeof(at));
	printf("%s  %-32s %s\n", at, r->recipient, r->what);
	return true;
}

/* notify --sent [--since WHEN] */
static int
list_sent(const struct config *cfg, int argc, char **argv)
{
	int64_t since = 0, now = clock_now();
	struct registry *reg;
	char err[512];

	if (argc == 4 && strcmp(argv[2], "--since") == 0) {
		if (!isodate_parse_since(argv[3], now, &since)) {
			fprintf(stderr,
			        "mailoutctl: --since needs 30d, 12h or YYYY-MM-DD, not '%s'\n",
			        argv[3]);
			return EXIT_USAGE;
		}
	} else if (argc != 2) {
		ctl_notify_usage(stderr);
		return EXIT_USAGE;
	}
	if ((reg = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	enum outcome o = notices_list(reg, since, print_sent, NULL, err, sizeof(err));
	registry_close(reg);
	if (o != OUT_OK)
		fprintf(stderr, "mailoutctl: %s\n", err);
	return o == OUT_OK ? 0 : EXIT_FAIL;
}

int
ctl_notify(const struct config *cfg, int argc, char **argv)
{
	struct notify n = {.cfg = cfg};
	struct devindex idx = {0};
	struct senders s = {0};

	if (argc >= 2 && strcmp(argv[1], "--sent") == 0)
		return list_sent(cfg, argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			n.is_dry = true;
		} else {
			fprintf(stderr, "mailoutctl: unknown option '%s' for notify\n", argv[i]);
			ctl_notify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	n.ctx = (struct notice_ctx){cfg->tr_notify_from, cfg->hostname, cfg->tr_help_url,
	                            cfg->web_support, clock_now()};
	if ((n.reg = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	enum outcome o = devindex_load(n.reg, &idx, n.err, sizeof(n.err));
	if (o == OUT_OK)
		o = digest_senders(n.reg, n.ctx.now, &s, n.err, sizeof(n.err));
	if (o == OUT_OK) {
		reminders(&n, &idx);
		plaintext_owners(&n, &idx, &s);
		digest(&n, &idx, &s);
	} else {
		fprintf(stderr, "mailoutctl: %s\n", n.err);
	}
	digest_senders_free(&s);
	devindex_free(&idx);
	registry_close(n.reg);
	if (n.sent && spool_control(cfg->spool, "flush") != 0)
		printf("the queue runner is not running: the mail goes out when it starts\n");
	if (o == OUT_OK && !n.is_dry)
		printf("%u sent\n", n.sent);
	else if (o == OUT_OK)
		printf("%u due\n", n.due);
	return o != OUT_OK || n.failed ? EXIT_FAIL : 0;
}
