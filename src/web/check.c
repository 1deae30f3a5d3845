/* Check my device: what the registry and the last sessions say about an address. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "log.h"
#include "util/isodate.h"
#include "util/str.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"
#include "web/words.h"

static bool
nets_contain(const struct cidr *nets, size_t n, const struct sockaddr_storage *ss)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&nets[i], (const struct sockaddr *)ss))
			return true;
	return false;
}

static void
tls_text(struct web_req *r, const char *tls)
{
	if (strcmp(tls, "none") == 0) {
		html(&r->out, "<span class=\"bad\">%s</span>",
		     TR(r, "unencrypted", "unverschlüsselt"));
		return;
	}
	if (strcmp(tls, "handshake-failed") == 0) {
		html(&r->out, "<span class=\"bad\">%s</span>",
		     TR(r, "TLS handshake failed", "TLS-Aufbau fehlgeschlagen"));
		return;
	}
	const char *slash = strchr(tls, '/');
	char version[32];
	str_copyn(version, sizeof(version), tls, slash ? (size_t)(slash - tls) : strlen(tls));
	if (strncmp(version, "TLSv", 4) == 0)
		version[3] = ' '; /* "TLSv1.3" reads "TLS 1.3" */
	html(&r->out, "<span class=\"ok\">%s</span>%R%s%R", version, slash ? " <small>(" : "",
	     slash ? slash + 1 : "", slash ? ")</small>" : "");
}

struct check_ctx {
	struct web_req *r;
	bool is_full; /* the visitor's own address, or an admin: the whole result */
};

static bool
check_row(const struct recent_session *s, void *arg)
{
	struct check_ctx *c = arg;
	struct web_req *r = c->r;
	char when[40], result[sizeof(s->result) + 256];

	time_text(s->at, when, sizeof(when));
	html(&r->out,
	     "<tr><td data-label=\"%s\">%s</td><td data-label=\"%s\">%s</td><td data-label=\"%s\">",
	     TR(r, "Time", "Zeit"), when, TR(r, "Listener", "Zugang"), s->listener,
	     TR(r, "Encryption", "Verschlüsselung"));
	tls_text(r, s->tls);
	words_result(s->result, r->lang == LANG_DE, c->is_full, result, sizeof(result));
	html(&r->out, "</td><td data-label=\"%s\"%R>%s</td></tr>\n", TR(r, "Result", "Ergebnis"),
	     strncmp(s->result, "accepted", 8) == 0 ? " class=\"ok\"" : " class=\"bad\"", result);
	return true;
}

static void
check_registration(struct web_req *r, const char *addr)
{
	struct device d;
	char err[256];

	enum outcome o = registry_find_by_address(r->w->reg, addr, &d, err, sizeof(err));

	if (o == OUT_TEMPFAIL) {
		log_error("event=web-error page=check client=%s error=\"%s\"", r->client, err);
		r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		html(&r->out, "<p class=\"bad\">%s</p>\n",
		     TR(r,
		        "The device registry cannot be read just now; the gateway goes on as "
		        "before. "
		        "Please look again in a minute.",
		        "Das Geräteregister ist gerade nicht lesbar; das Gateway arbeitet wie "
		        "bisher "
		        "weiter. Bitte sehen Sie in einer Minute noch einmal nach."));
		return;
	}
	if (o != OUT_OK) {
		html(&r->out, "<p>%s</p>\n",
		     TR(r, "This address is not registered as a device that may send unencrypted.",
		        "Diese Adresse ist nicht als Gerät registriert, das unverschlüsselt senden "
		        "darf."));
		return;
	}
	char until[48] = "";
	if (d.expires_at)
		isodate_prose(d.expires_at - 1, r->lang == LANG_DE, until, sizeof(until));
	html(&r->out,
	     TR(r,
	        "<p class=\"notice\" id=\"registration\">Registration <b>%L</b> (%s, %s) covers "
	        "this address: <b>%s</b>%s%s.</p>\n",
	        "<p class=\"notice\" id=\"registration\">Registrierung <b>%L</b> (%s, %s) gilt "
	        "für diese Adresse: <b>%s</b>%s%s.</p>\n"),
	     d.id, d.name, d.address,
	     words_status(device_status_at(&d, r->now), r->lang == LANG_DE),
	     until[0] ? TR(r, ", valid until ", ", gültig bis zum ") : "", until);
	enum device_status st = device_status_at(&d, r->now);
	if ((st != DEVICE_APPROVED && st != DEVICE_EXPIRED) || d.owner_email[0] == '\0')
		return;
	if (d.renewal_request[0]) {
		html(&r->out, "<p>%s %s</p>\n",
		     TR(r, "A renewal was requested:", "Eine Verlängerung wurde beantragt:"),
		     d.renewal_request);
		return;
	}
	html(&r->out,
	     "<form class=\"inline\" method=\"post\" action=\"/check/renew-link\"><span>%s</span>",
	     TR(r, "Needs more time? The owner can ask for a renewal:",
	        "Mehr Zeit nötig? Die verantwortliche Person kann eine Verlängerung beantragen:"));
	form_csrf(r);
	html(&r->out,
	     "<input type=\"hidden\" name=\"id\" value=\"%L\"><button type=\"submit\" "
	     "id=\"renew-link\">%s</button></form>\n",
	     d.id, TR(r, "Mail the owner a link", "Link an die verantwortliche Person senden"));
}

void
page_check(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	const char *typed = req_arg(r, "address");
	struct sockaddr_storage ss;
	char addr[64], err[256];
	bool ok = true;

	str_copy(addr, sizeof(addr), r->client);
	page_begin(r, TR(r, "Check my device", "Mein Gerät prüfen"));
	if (typed && typed[0]) {
		ok = req_parse_host(typed, &ss, addr, sizeof(addr)) &&
		     nets_contain(cfg->web_clients, cfg->n_web_clients, &ss);
		if (!ok)
			str_copy(addr, sizeof(addr), typed);
	}
	html(&r->out, "%R",
	     TR(r,
	        "<p>The sessions of one address with the gateway in the last 30 days, newest "
	        "first. A session shows here a few seconds after it ends.</p>\n",
	        "<p>Die Sitzungen einer Adresse mit dem Gateway in den letzten 30 Tagen, die "
	        "neueste zuerst. Eine Sitzung erscheint hier wenige Sekunden nach ihrem "
	        "Ende.</p>\n"));
	html(&r->out,
	     "<form class=\"fields\" method=\"get\" action=\"/check\"><label "
	     "for=\"address\">%s</label>"
	     "<input id=\"address\" name=\"address\" value=\"%s\" maxlength=\"64\"%R>",
	     TR(r, "IP address of the device", "IP-Adresse des Geräts"), addr,
	     ok ? "" : " aria-invalid=\"true\" aria-describedby=\"address-error\"");
	if (!ok)
		html(&r->out, "<p class=\"error\" id=\"address-error\">%s</p>",
		     TR(r, "Give one IP address of a network these pages serve.",
		        "Geben Sie eine IP-Adresse aus einem Netz an, für das diese Seiten "
		        "zuständig sind."));
	html(&r->out, "<button type=\"submit\">%s</button></form>\n",
	     TR(r, "Show sessions", "Sitzungen zeigen"));
	if (!ok) {
		page_end(r);
		return;
	}
	html(&r->out, "<h2>%s %s</h2>\n", TR(r, "Address", "Adresse"), addr);
	/* Someone else's device: times, listeners, TLS states and SMTP codes,
	 * not its registration or the addresses and reasons of its refusals. */
	struct check_ctx cc = {r, strcmp(addr, r->client) == 0 || req_is_admin(r)};
	if (cc.is_full)
		check_registration(r, addr);
	else
		html(&r->out, "<p>%s</p>\n",
		     TR(r,
		        "This is not your address: the results show only what happened, without "
		        "addresses or reasons.",
		        "Das ist nicht Ihre Adresse: die Ergebnisse zeigen nur, was geschah, ohne "
		        "Adressen oder Gründe."));
	html(&r->out,
	     "<div class=\"table\"><table class=\"stack\" "
	     "id=\"sessions\">\n<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	     TR(r, "Time", "Zeit"), TR(r, "Listener", "Zugang"),
	     TR(r, "Encryption", "Verschlüsselung"), TR(r, "Result", "Ergebnis"));
	size_t mark = r->out.len;
	if (registry_recent(r->w->reg, addr, check_row, &cc, err, sizeof(err)) != OUT_OK) {
		log_error("event=web-error page=check error=\"%s\"", err);
		html(&r->out, "</table></div><p class=\"error\">%s</p>\n",
		     TR(r, "The record cannot be read just now; try again in a minute.",
		        "Die Aufzeichnung kann gerade nicht gelesen werden; versuchen Sie es in "
		        "einer Minute noch einmal."));
		page_end(r);
		return;
	}
	bool empty = r->out.len == mark;
	html(&r->out, "</table></div>\n");
	if (empty)
		html(&r->out, "<p>%s</p>\n",
		     TR(r,
		        "No sessions from this address in the last 30 days. Send a test mail from "
		        "the device, then reload this page.",
		        "Keine Sitzungen von dieser Adresse in den letzten 30 Tagen. Senden Sie "
		        "eine Test-Mail vom Gerät und laden Sie diese Seite dann neu."));
	page_support(r);
	page_end(r);
}
