#include "ctl/digest.h"

#include <stdlib.h>
#include <string.h>

#include "metrics/counters.h"
#include "transition.h"
#include "util/isodate.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define DAY 86400

static bool
keep(const struct client_stat *c, void *arg)
{
	struct senders *s = arg;
	enum metrics_tls t = metrics_tls_of(c->tls);
	struct client_stat **list = t == MT_NONE ? &s->plain : &s->legacy;
	size_t *n = t == MT_NONE ? &s->n_plain : &s->n_legacy;

	if ((t != MT_NONE && t != MT_TLS10 && t != MT_TLS11) || c->messages == 0)
		return true; /* senders: who only connected is not one */
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = *c;
	return true;
}

static int
by_messages(const void *a, const void *b)
{
	const struct client_stat *x = a, *y = b;

	if (x->messages != y->messages)
		return x->messages < y->messages ? 1 : -1;
	if (x->sessions != y->sessions)
		return x->sessions < y->sessions ? 1 : -1;
	return strcmp(x->client, y->client);
}

enum outcome
digest_senders(struct registry *r, int64_t now, struct senders *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	enum outcome o =
	    registry_tls_report(r, now / DAY - (DIGEST_DAYS - 1), keep, s, err, errlen);
	if (s->n_plain)
		qsort(s->plain, s->n_plain, sizeof(*s->plain), by_messages);
	if (s->n_legacy)
		qsort(s->legacy, s->n_legacy, sizeof(*s->legacy), by_messages);
	return o;
}

void
digest_senders_free(struct senders *s)
{
	free(s->plain);
	free(s->legacy);
	memset(s, 0, sizeof(*s));
}

bool
digest_is_warned(const struct config *cfg, const struct client_stat *c)
{
	if (metrics_tls_of(c->tls) != MT_NONE)
		return false;
	for (size_t i = 0; i < cfg->n_listener; i++)
		if (strcmp(cfg->listener[i].name, c->listener) == 0)
			return cfg->listener[i].tls == LTLS_REQUIRED;
	return false;
}

/* "  #6  10.1.2.3  Kopierer 3. OG  it@example.edu  until 2027-12-31" */
static bool
put_device(struct buf *b, const struct device *d, bool with_expiry)
{
	char name[DEVICE_TEXT_MAX], owner[DEVICE_TEXT_MAX];

	notice_clean(name, sizeof(name), d->name);
	notice_clean(owner, sizeof(owner), d->owner_email);
	return buf_printf(b, "  #%-5lld %-18s %-28.28s %s%s%s\r\n", (long long)d->id, d->address,
	                  name, owner, with_expiry ? "  until " : "",
	                  with_expiry ? d->expires : "");
}

static bool
put_devices(struct buf *b, const struct devindex *idx, int64_t now)
{
	size_t pending = 0, expiring = 0;
	bool ok = true;

	for (size_t i = 0; i < idx->n; i++) {
		const struct device *d = &idx->devices[i];
		enum device_status st = device_status_at(d, now);
		pending += st == DEVICE_PENDING;
		expiring += st == DEVICE_APPROVED && d->expires_at &&
		            d->expires_at - now <= DIGEST_EXPIRING;
	}
	ok &= buf_printf(b, "Requests waiting for a decision: %zu\r\n", pending);
	for (size_t i = 0; i < idx->n; i++)
		if (device_status_at(&idx->devices[i], now) == DEVICE_PENDING)
			ok &= put_device(b, &idx->devices[i], false);
	ok &= buf_printf(b, "\r\nRegistrations that expire within 30 days: %zu\r\n", expiring);
	for (size_t i = 0; i < idx->n; i++) {
		const struct device *d = &idx->devices[i];
		if (device_status_at(d, now) == DEVICE_APPROVED && d->expires_at &&
		    d->expires_at - now <= DIGEST_EXPIRING)
			ok &= put_device(b, d, true);
	}
	return ok;
}

static bool
put_senders(struct buf *b, const char *title, const struct client_stat *c, size_t n,
            const struct devindex *idx)
{
	bool ok = buf_printf(b, "\r\n%s, the last %d days: %zu\r\n", title, DIGEST_DAYS, n);

	for (size_t i = 0; i < n && i < DIGEST_TOP; i++) {
		const struct device *d = devindex_find(idx, c[i].client);
		char reg[DEVICE_TEXT_MAX + 48] = "not registered";
		if (d) {
			char owner[DEVICE_TEXT_MAX];
			notice_clean(owner, sizeof(owner), d->owner_email);
			str_fmt(reg, sizeof(reg), "registration %lld, %s", (long long)d->id,
			        owner[0] ? owner : "no owner");
		}
		ok &= buf_printf(b, "  %-18s %-16.16s %6lld messages %6lld sessions  %s%s%s\r\n",
		                 c[i].client, c[i].listener, (long long)c[i].messages,
		                 (long long)c[i].sessions,
		                 metrics_tls_of(c[i].tls) == MT_NONE ? "" : c[i].tls,
		                 metrics_tls_of(c[i].tls) == MT_NONE ? "" : "  ", reg);
	}
	if (n > DIGEST_TOP)
		ok &=
		    buf_printf(b, "  ... and %zu more (mailoutctl report tls)\r\n", n - DIGEST_TOP);
	return ok;
}

bool
digest_write(struct buf *b, const struct config *cfg, const struct notice_ctx *c, const char *key,
             const struct devindex *idx, const struct senders *s)
{
	char subject[256], phase[256], week[16];
	char to[CONF_ADMINS_MAX * (CONF_DOMAIN_MAX + 76)] = "";

	notice_week(c->now, week, sizeof(week));
	for (size_t i = 0; i < cfg->n_tr_admins; i++)
		str_fmt(to + strlen(to), sizeof(to) - strlen(to), "%s%s", i ? ">, <" : "",
		        cfg->tr_admins[i]);
	str_fmt(subject, sizeof(subject), "mailout %s: the week %s", cfg->hostname, week);
	transition_describe(cfg, c->now, phase, sizeof(phase));
	bool ok = notice_header(b, c, to, subject, key);
	ok &= buf_printf(b, "The mail gateway %s, week %s.\r\nThe transition: %s.\r\n\r\n",
	                 cfg->hostname, week, phase);
	ok &= put_devices(b, idx, c->now);
	ok &= put_senders(b, "Senders without encryption", s->plain, s->n_plain, idx);
	ok &= put_senders(b, "Senders with TLS 1.0 or 1.1", s->legacy, s->n_legacy, idx);
	if (c->help_url[0])
		ok &= buf_printf(b, "\r\nThe pages for device operators: %s\r\n", c->help_url);
	return ok && buf_printf(b, "\r\n-- \r\nmailoutctl notify on %s\r\n", cfg->hostname);
}
