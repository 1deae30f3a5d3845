/* The guide: how to send to the gateway from the cut-over on, per listener. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "log.h"
#include "transition.h"
#include "util/isodate.h"
#include "util/str.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"

static unsigned
listener_port(const struct listener_conf *l)
{
	const struct sockaddr_storage *ss = &l->addr[0];

	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void
internal_domains_text(const struct config *cfg, char *dst, size_t size)
{
	dst[0] = '\0';
	for (size_t i = 0; i < cfg->n_internal_domains; i++) {
		const char *d = cfg->internal_domains[i];
		size_t len = strlen(dst);

		str_fmt(dst + len, size - len, "%s%s%s", i ? ", " : "", d[0] == '.' ? "*" : "", d);
	}
}

static void
guide_listener_row(struct web_req *r, const struct listener_conf *l)
{
	const char *setting, *who;

	switch (l->tls) {
	case LTLS_REQUIRED:
		setting = TR(r, "“TLS” or “STARTTLS”", "„TLS“ oder „STARTTLS“");
		break;
	case LTLS_IMPLICIT:
		setting = TR(r, "“SSL” or “SSL/TLS”", "„SSL“ oder „SSL/TLS“");
		break;
	case LTLS_OPTIONAL:
		setting = TR(r, "“STARTTLS” (optional)", "„STARTTLS“ (optional)");
		break;
	default:
		setting = TR(r, "none (unencrypted)", "keine (unverschlüsselt)");
		break;
	}
	if (l->clients == LCLIENTS_REGISTERED)
		who = TR(r, "registered devices only", "nur registrierte Geräte");
	else if (l->clients == LCLIENTS_NETS)
		who = TR(r, "devices and servers in some networks",
		         "Geräte und Server aus bestimmten Netzen");
	else
		who = TR(r, "every device and server", "alle Geräte und Server");
	html(&r->out, "<tr><td>%s</td><td>%s</td><td>%u</td><td>%s%R</td></tr>\n", setting,
	     r->cfg->hostname, listener_port(l), who,
	     l->recipients == LRCPTS_INTERNAL
	         ? TR(r, "; internal addresses only", "; nur an interne Adressen")
	         : "");
}

static const struct listener_conf *
first_listener(const struct config *cfg, enum listener_tls tls)
{
	for (size_t i = 0; i < cfg->n_listener; i++)
		if (cfg->listener[i].tls == tls)
			return &cfg->listener[i];
	return NULL;
}

static void
guide_intro(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	char today[16], when[48];

	isodate_format_day(r->now, today, sizeof(today));
	const char *cutover = cfg->tr_date[TD_CUTOVER];
	req_date(r, cutover, when, sizeof(when));

	if (cutover[0] == '\0')
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">The mail gateway <b>%s</b> accepts mail only over "
		        "encrypted connections.</p>\n",
		        "<p class=\"lead\">Das Mail-Gateway <b>%s</b> nimmt E-Mail nur über "
		        "verschlüsselte Verbindungen an.</p>\n"),
		     cfg->hostname);
	else if (strcmp(cutover, today) > 0)
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">From <b>%s</b>, the mail gateway <b>%s</b> accepts mail "
		        "only over encrypted connections. Please set up your devices now.</p>\n",
		        "<p class=\"lead\">Ab dem <b>%s</b> nimmt das Mail-Gateway <b>%s</b> "
		        "E-Mail nur noch über verschlüsselte Verbindungen an. Bitte stellen Sie "
		        "Ihre Geräte jetzt um.</p>\n"),
		     when, cfg->hostname);
	else
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">Since <b>%s</b>, the mail gateway <b>%s</b> accepts "
		        "mail only over encrypted connections.</p>\n",
		        "<p class=\"lead\">Seit dem <b>%s</b> nimmt das Mail-Gateway <b>%s</b> "
		        "E-Mail nur noch über verschlüsselte Verbindungen an.</p>\n"),
		     when, cfg->hostname);
}

/* What plaintext gets until the cut-over, by the calendar's phase. */
static void
guide_phase(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	char when[48];

	switch (transition_phase(r->cfg, r->now)) {
	case TP_OPEN:
		html(&r->out,
		     TR(r,
		        "<p>Until then, unencrypted mail is still accepted; from <b>%s</b> with a "
		        "warning.</p>\n",
		        "<p>Bis dahin wird unverschlüsselte E-Mail noch angenommen, ab dem "
		        "<b>%s</b> "
		        "mit einer Warnung.</p>\n"),
		     req_date(r,
		              cfg->tr_date[TD_WARN_FROM][0] ? cfg->tr_date[TD_WARN_FROM]
		                                            : cfg->tr_date[TD_TEMPFAIL_FROM],
		              when, sizeof(when)));
		break;
	case TP_WARN:
		html(&r->out, "%R",
		     TR(r,
		        "<p>Until then, unencrypted mail is still accepted, with a warning in the "
		        "server's reply and in the header X-Mailout-Warning.</p>\n",
		        "<p>Bis dahin wird unverschlüsselte E-Mail noch angenommen, mit einer "
		        "Warnung "
		        "in der Antwort des Servers und im Header X-Mailout-Warning.</p>\n"));
		break;
	case TP_TEMPFAIL:
		html(&r->out, "%R",
		     TR(r,
		        "<p>Unencrypted mail is already answered with a temporary error (450): set "
		        "up your devices now.</p>\n",
		        "<p>Unverschlüsselte E-Mail wird bereits mit einem vorübergehenden Fehler "
		        "(450) beantwortet: stellen Sie Ihre Geräte jetzt um.</p>\n"));
		break;
	default:
		break;
	}
}

static void
guide_setup(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	const struct listener_conf *st = first_listener(cfg, LTLS_REQUIRED);
	const struct listener_conf *imp = first_listener(cfg, LTLS_IMPLICIT);

	html(&r->out, "<h2>%s</h2>\n<ol>\n",
	     TR(r, "How to set up a scanner or copier",
	        "So richten Sie einen Scanner oder Kopierer ein"));
	html(&r->out,
	     TR(r, "<li>SMTP server (outgoing mail server): <b>%s</b></li>\n",
	        "<li>SMTP-Server (Postausgangsserver): <b>%s</b></li>\n"),
	     cfg->hostname);
	if (st)
		html(&r->out,
		     TR(r,
		        "<li>Port <b>%u</b> with the encryption setting <b>“TLS”</b> (some devices "
		        "call it “STARTTLS”)",
		        "<li>Port <b>%u</b> mit der Verschlüsselung <b>„TLS“</b> (manche Geräte "
		        "nennen es „STARTTLS“)"),
		     listener_port(st));
	if (st && imp)
		html(&r->out,
		     TR(r, ", or port <b>%u</b> with <b>“SSL”</b> (also called “SSL/TLS”)",
		        ", oder Port <b>%u</b> mit <b>„SSL“</b> (auch „SSL/TLS“ genannt)"),
		     listener_port(imp));
	if (st)
		html(&r->out, "</li>\n");
	html(&r->out, "%R",
	     TR(r,
	        "<li>Authentication: none. The gateway needs no user name or password.</li>\n"
	        "<li>Sender address: an address of your unit, so that replies and error reports "
	        "reach someone.</li>\n"
	        "<li>Send a test scan to yourself, then <a href=\"/check\">check your device</a>: "
	        "it should show TLS 1.2 or TLS 1.3.</li>\n",
	        "<li>Anmeldung: keine. Das Gateway braucht weder Benutzername noch Passwort.</li>\n"
	        "<li>Absenderadresse: eine Adresse Ihrer Einheit, damit Antworten und "
	        "Fehlermeldungen jemanden erreichen.</li>\n"
	        "<li>Senden Sie einen Test-Scan an sich selbst und <a href=\"/check\">prüfen Sie "
	        "dann Ihr Gerät</a>: es sollte TLS 1.2 oder TLS 1.3 zeigen.</li>\n"));
	html(&r->out, "</ol>\n");
}

static void
guide_transition(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	const struct listener_conf *plain = first_listener(cfg, LTLS_OFF);
	char domains[512], until[48];

	internal_domains_text(cfg, domains, sizeof(domains));
	html(&r->out, "<h2>%s</h2>\n",
	     TR(r, "Devices that cannot encrypt", "Geräte, die nicht verschlüsseln können"));
	if (plain)
		html(&r->out,
		     TR(r,
		        "<p>A device that cannot encrypt can be registered for a transition "
		        "period%s%s. A registered device may send without encryption to port "
		        "<b>%u</b>, but only to addresses at <b>%s</b>.</p>\n",
		        "<p>Ein Gerät, das nicht verschlüsseln kann, kann für eine "
		        "Übergangszeit%s%s registriert werden. Ein registriertes Gerät darf "
		        "unverschlüsselt an Port <b>%u</b> senden, aber nur an Adressen unter "
		        "<b>%s</b>.</p>\n"),
		     cfg->default_expiry[0] ? TR(r, " until ", " bis zum ") : "",
		     req_date(r, cfg->default_expiry, until, sizeof(until)), listener_port(plain),
		     domains);
	html(&r->out, "%R",
	     TR(r,
	        "<p>At the end of the transition period every registered device is reviewed with "
	        "its real use. Plan to update or replace it before then.</p>\n"
	        "<p><a class=\"button\" href=\"/register\">Register a device</a></p>\n",
	        "<p>Am Ende der Übergangszeit wird jedes registrierte Gerät anhand seiner "
	        "tatsächlichen Nutzung überprüft. Planen Sie bis dahin ein Update oder einen "
	        "Ersatz.</p>\n"
	        "<p><a class=\"button\" href=\"/register\">Gerät registrieren</a></p>\n"));
}

void
page_guide(struct web_req *r)
{
	const struct config *cfg = r->cfg;

	page_begin(r, TR(r, "Sending mail from devices and servers",
	                 "E-Mail von Geräten und Servern senden"));
	guide_intro(r);
	guide_phase(r);
	html(&r->out,
	     "<h2>%s</h2>\n<div "
	     "class=\"table\"><table>\n<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	     TR(r, "Which setting to use", "Welche Einstellung Sie brauchen"),
	     TR(r, "Encryption setting on the device", "Verschlüsselung am Gerät"),
	     TR(r, "Server", "Server"), TR(r, "Port", "Port"), TR(r, "For", "Für"));
	for (size_t i = 0; i < cfg->n_listener; i++)
		guide_listener_row(r, &cfg->listener[i]);
	html(&r->out, "</table></div>\n");
	guide_setup(r);
	guide_transition(r);
	page_support(r);
	page_end(r);
}
