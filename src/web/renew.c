/* A registration's owner asks for a renewal. On /check, someone at the
 * device's address asks for a link; it goes by mail (through the
 * gateway's queue) to the owner address the registration names, at most
 * once an hour. The link (/check/renew, signed with a key kept in the
 * registry, valid for 3 days, bound to the owner address) opens a form
 * for the reason; the request shows on the admin list until the next
 * decision. */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "db/notices.h"
#include "log.h"
#include "notice.h"
#include "spool/spool.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"
#include "web/words.h"

#define LINK_VALID (3 * 86400)
#define REASON_MAX 200
#define LINK_MAX   1024
#define MAIL_MAX   (64 * 1024)

/* The pages' origin as the admins configured it ([registry]
 * registration_url), never the request's Host header. */
static void
base_url(const struct config *cfg, char *out, size_t size)
{
	const char *u = cfg->registration_url, *p = strstr(u, "://");

	if (p && (p = strchr(p + 3, '/')) != NULL)
		str_copyn(out, size, u, (size_t)(p - u));
	else
		str_copy(out, size, u);
}

static bool
link_key(struct web_req *r, unsigned char key[REGISTRY_KEY_LEN])
{
	char err[256];

	if (registry_key(r->w->reg, "renewal-link", key, err, sizeof(err)) == OUT_OK)
		return true;
	log_error("event=web-error page=renew error=\"%s\"", err);
	return false;
}

static void
link_message(const struct device *d, int64_t until, char *msg, size_t size)
{
	str_fmt(msg, size, "renew|%lld|%lld|%s", (long long)d->id, (long long)until,
	        d->owner_email);
}

/* "l…@example.edu": enough for the owner to recognise it. */
static void
masked(const char *addr, char *out, size_t size)
{
	const char *at = strrchr(addr, '@');

	str_fmt(out, size, "%.1s…%s", addr, at ? at : "");
}

static bool
write_mail(struct buf *b, struct web_req *r, const struct device *d, const char *link,
           const char *key)
{
	bool de = device_is_german(d);
	struct notice_ctx c = {r->cfg->tr_notify_from, r->cfg->hostname, "", r->cfg->web_support,
	                       r->now};
	char subject[160], name[DEVICE_TEXT_MAX];

	notice_clean(name, sizeof(name), d->name);
	str_fmt(subject, sizeof(subject),
	        de ? "Verlängerung der Registrierung %lld beantragen"
	           : "Ask for a renewal of registration %lld",
	        (long long)d->id);
	return notice_header(b, &c, d->owner_email, subject, key) &&
	       buf_printf(b,
	                  de ? "Guten Tag,\r\n\r\nvon der Adresse %s wurde ein Link angefordert, "
	                       "um die Verlängerung der\r\nRegistrierung %lld (%s) zu "
	                       "beantragen. Wenn Sie das waren, öffnen Sie\r\ninnerhalb von 3 "
	                       "Tagen diesen Link und geben Sie einen Grund an:\r\n\r\n%s\r\n\r\n"
	                       "Wenn nicht, beachten Sie diese Nachricht nicht.\r\n"
	                     : "Hello,\r\n\r\nsomeone at the address %s asked for a link to "
	                       "request a renewal of\r\nregistration %lld (%s). If it was you, "
	                       "open this link within 3 days and\r\ngive a reason:\r\n\r\n%s\r\n"
	                       "\r\nIf not, ignore this message.\r\n",
	                  r->client, (long long)d->id, name, link);
}

/* The registration of id, if the visitor may ask for its renewal: from
 * an address it covers (or an admin), approved or expired, with an owner. */
static bool
renewable(struct web_req *r, const char *id_text, struct device *d)
{
	uint64_t id;
	char err[256];

	if (!num_parse_u64(id_text, 1, INT64_MAX, &id) ||
	    registry_get(r->w->reg, (int64_t)id, d, err, sizeof(err)) != OUT_OK)
		return false;
	enum device_status st = device_status_at(d, r->now);
	return (st == DEVICE_APPROVED || st == DEVICE_EXPIRED) && d->owner_email[0];
}

void
page_check_renew_link(struct web_req *r)
{
	struct device d;
	unsigned char key[REGISTRY_KEY_LEN];
	char base[512], msg[600], sig[LINK_HEX + 1], link[LINK_MAX], nkey[96], hour[32], id[40];
	struct notice_row row = {.at = r->now};
	bool is_new = false;
	struct buf b;

	if (!renewable(r, req_field(r, "id"), &d) ||
	    !(cidr_contains(&d.net, (const struct sockaddr *)&r->client_sa) || req_is_admin(r))) {
		page_error(r, MHD_HTTP_FORBIDDEN,
		           "Only from the device's own address, for a registration with an owner.",
		           "Nur von der Adresse des Geräts aus, für eine Registrierung mit "
		           "verantwortlicher Person.");
		return;
	}
	if (!link_key(r, key)) {
		page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Please try again in a minute.",
		           "Bitte versuchen Sie es in einer Minute noch einmal.");
		return;
	}
	int64_t until = r->now + LINK_VALID;
	link_message(&d, until, msg, sizeof(msg));
	link_sign(key, msg, sig);
	base_url(r->cfg, base, sizeof(base));
	str_fmt(link, sizeof(link), "%s/check/renew?id=%lld&t=%lld&sig=%s", base, (long long)d.id,
	        (long long)until, sig);
	isodate_format(r->now, hour, sizeof(hour));
	hour[13] = '\0'; /* "2026-12-02T08": one link an hour */
	str_fmt(nkey, sizeof(nkey), "renew-link:%lld:%s", (long long)d.id, hour);
	str_copy(row.key, sizeof(row.key), nkey);
	str_copy(row.recipient, sizeof(row.recipient), d.owner_email);
	str_fmt(row.what, sizeof(row.what), "renewal link for registration %lld", (long long)d.id);
	char err[256];
	enum outcome o = notices_claim(r->w->reg, &row, &is_new, err, sizeof(err));
	if (o == OUT_OK && is_new) {
		buf_init(&b, MAIL_MAX);
		const char *to = d.owner_email;
		int e = write_mail(&b, r, &d, link, nkey)
		            ? spool_submit(r->cfg->spool, r->cfg->hostname, r->cfg->tr_notify_from,
		                           &to, 1, buf_cstr(&b), b.len, id, sizeof(id))
		            : ENOMEM;
		buf_free(&b);
		(void)notices_commit(r->w->reg, e == 0, err, sizeof(err));
		if (e != 0) {
			log_error("event=web-error page=renew error=\"cannot queue: %s\"",
			          strerror(e));
			o = OUT_TEMPFAIL;
		} else {
			(void)spool_control(r->cfg->spool, "flush");
			log_info("event=web-renewal-link client=%s device=%lld id=%s", r->client,
			         (long long)d.id, id);
		}
	}
	if (o != OUT_OK) {
		page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Please try again in a minute.",
		           "Bitte versuchen Sie es in einer Minute noch einmal.");
		return;
	}
	char who[DEVICE_TEXT_MAX + 8];
	masked(d.owner_email, who, sizeof(who));
	page_begin(r, TR(r, "Ask for a renewal", "Verlängerung beantragen"));
	html(
	    &r->out,
	    TR(r,
	       "<p class=\"notice\" role=\"status\" id=\"done\">A link went to the owner's address "
	       "%s (at most one an hour). Open it within 3 days to give a reason.</p>\n",
	       "<p class=\"notice\" role=\"status\" id=\"done\">Ein Link ging an die Adresse der "
	       "verantwortlichen Person, %s (höchstens einer pro Stunde). Öffnen Sie ihn "
	       "innerhalb von 3 Tagen und geben Sie einen Grund an.</p>\n"),
	    who);
	page_end(r);
}

/* The link's registration, if its signature and time hold. */
static bool
link_ok(struct web_req *r, const char *id, const char *t, const char *sig, struct device *d)
{
	unsigned char key[REGISTRY_KEY_LEN];
	uint64_t until;
	char msg[600];

	if (!renewable(r, id, d) || !num_parse_u64(t, 1, INT64_MAX, &until) ||
	    (int64_t)until < r->now || !link_key(r, key))
		return false;
	link_message(d, (int64_t)until, msg, sizeof(msg));
	return link_valid(key, msg, sig);
}

static void
renew_form(struct web_req *r, const struct device *d, const char *id, const char *t,
           const char *sig, bool bad)
{
	page_begin(r, TR(r, "Ask for a renewal", "Verlängerung beantragen"));
	html(&r->out,
	     TR(r, "<p>Registration <b>%L</b> (%s, %s), valid until %s.</p>\n",
	        "<p>Registrierung <b>%L</b> (%s, %s), gültig bis %s.</p>\n"),
	     d->id, d->name, d->address, d->expires[0] ? d->expires : "-");
	html(&r->out, "<form class=\"fields\" method=\"post\" action=\"/check/renew\">");
	form_csrf(r);
	html(&r->out,
	     "<input type=\"hidden\" name=\"id\" value=\"%s\"><input type=\"hidden\" name=\"t\" "
	     "value=\"%s\"><input type=\"hidden\" name=\"sig\" value=\"%s\"><label "
	     "for=\"reason\">%s</label><textarea id=\"reason\" name=\"reason\" maxlength=\"200\" "
	     "required%R></textarea>%R<button type=\"submit\">%s</button></form>\n",
	     id, t, sig,
	     TR(r, "Why does the device need more time?", "Warum braucht das Gerät mehr Zeit?"),
	     bad ? " aria-invalid=\"true\"" : "",
	     bad ? TR(r, "<p class=\"error\">Give a reason (at most 200 characters).</p>",
	              "<p class=\"error\">Geben Sie einen Grund an (höchstens 200 Zeichen).</p>")
	         : "",
	     TR(r, "Ask for the renewal", "Verlängerung beantragen"));
	page_end(r);
}

void
page_check_renew(struct web_req *r)
{
	const char *id = r->is_post ? req_field(r, "id") : req_arg(r, "id");
	const char *t = r->is_post ? req_field(r, "t") : req_arg(r, "t");
	const char *sig = r->is_post ? req_field(r, "sig") : req_arg(r, "sig");
	struct device d;
	char text[DEVICE_TEXT_MAX], day[16], actor[DEVICE_TEXT_MAX + 16], err[256];

	if (!id || !t || !sig || !link_ok(r, id, t, sig, &d)) {
		page_error(
		    r, MHD_HTTP_FORBIDDEN,
		    "This link is not valid (any more). Ask for a new one on the check page.",
		    "Dieser Link ist nicht (mehr) gültig. Fordern Sie auf der Prüfseite einen "
		    "neuen an.");
		return;
	}
	const char *reason = r->is_post ? req_field(r, "reason") : "";
	bool bad = r->is_post && (reason[strspn(reason, " \r\n\t")] == '\0' ||
	                          !text_is_clean(reason, false) || utf8_chars(reason) > REASON_MAX);
	if (!r->is_post || bad) {
		if (bad)
			r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		renew_form(r, &d, id, t, sig, bad);
		return;
	}
	isodate_format_day(r->now, day, sizeof(day));
	str_fmt(text, sizeof(text), "%s by %s: %s", day, d.owner_email, reason);
	str_fmt(actor, sizeof(actor), "%s (owner, web)", d.owner_email);
	if (registry_request_renewal(r->w->reg, d.id, text, actor, err, sizeof(err)) != OUT_OK) {
		log_error("event=web-error page=renew error=\"%s\"", err);
		page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Please try again in a minute.",
		           "Bitte versuchen Sie es in einer Minute noch einmal.");
		return;
	}
	log_info("event=web-renewal-request device=%lld client=%s", (long long)d.id, r->client);
	page_begin(r, TR(r, "Ask for a renewal", "Verlängerung beantragen"));
	html(&r->out,
	     TR(r,
	        "<p class=\"notice\" role=\"status\" id=\"done\">Your request for registration %L "
	        "(%s) is recorded. The mail administrators decide; the check page shows the "
	        "result.</p>\n",
	        "<p class=\"notice\" role=\"status\" id=\"done\">Ihr Antrag für die Registrierung "
	        "%L (%s) ist festgehalten. Die Mail-Administratoren entscheiden; die Prüfseite "
	        "zeigt das Ergebnis.</p>\n"),
	     d.id, d.name);
	page_end(r);
}
