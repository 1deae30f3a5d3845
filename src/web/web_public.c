/* The pages every visitor in [web] clients sees: guide, check, register. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "log.h"
#include "util/isodate.h"
#include "util/str.h"
#include "web/web_internal.h"

/* ---- the frame of every page ---- */

static const char style_css[] =
    ":root{--fg:#1d2430;--muted:#5b6575;--line:#d8dde5;--accent:#0b5cad;--bad:#b3261e;"
    "--good:#1e7b34;--bg:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--fg);background:#fff}\n"
    ".wrap{max-width:60rem;margin:0 auto;padding:0 1rem}\n"
    "header{background:var(--bg);border-bottom:1px solid var(--line)}\n"
    "header .wrap{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;"
    "padding-top:.6rem;padding-bottom:.6rem}\n"
    ".brand{font-weight:600;color:var(--fg);text-decoration:none}\n"
    "nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;flex:1}\n"
    "nav a,.lang a{color:var(--accent);text-decoration:none}\n"
    "nav a[aria-current]{font-weight:600;text-decoration:underline}\n"
    ".lang{font-size:.9rem}\n"
    "h1{font-size:1.6rem;margin:1.2rem 0 .6rem}h2{font-size:1.2rem;margin:1.6rem 0 .4rem}\n"
    ".lead{font-size:1.1rem}\n"
    ".table{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}\n"
    "th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;"
    "border-bottom:1px solid var(--line)}\n"
    "th{background:var(--bg)}\n"
    "form.fields{max-width:36rem}\n"
    "label{display:block;font-weight:600;margin-top:.9rem}\n"
    "input,select,textarea{width:100%;font:inherit;padding:.45rem;border:1px solid #9aa4b2;"
    "border-radius:4px}\n"
    "textarea{min-height:5rem}\n"
    "input[aria-invalid=true],select[aria-invalid=true]{border-color:var(--bad)}\n"
    ".hint{color:var(--muted);font-size:.9rem;margin:.1rem 0}\n"
    ".error{color:var(--bad);font-weight:600}\n"
    ".ok{color:var(--good);font-weight:600}\n"
    ".bad{color:var(--bad)}\n"
    "button,.button{display:inline-block;margin-top:1rem;padding:.5rem 1.1rem;font:inherit;"
    "color:#fff;background:var(--accent);border:0;border-radius:4px;text-decoration:none;"
    "cursor:pointer}\n"
    "form.inline{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center;margin:.2rem 0}\n"
    "form.inline input{width:auto;flex:1;min-width:7rem}\n"
    "form.inline button{margin-top:0;padding:.3rem .7rem}\n"
    "form.inline select{width:auto}\n"
    ".wide{max-width:90rem}\n"
    "td.device{min-width:12rem}td.actions{min-width:16rem}\n"
    ".notice{background:var(--bg);border-left:4px solid var(--accent);padding:.6rem 1rem}\n"
    ".ref{font-size:1.4rem;font-weight:700}\n"
    "footer{color:var(--muted);font-size:.85rem;margin-top:3rem;padding-bottom:2rem}\n"
    "@media (max-width:40rem){th,td{padding:.3rem}h1{font-size:1.35rem}}\n";

void
page_style(struct web_req *r)
{
	r->content_type = "text/css; charset=utf-8";
	buf_puts(&r->out, style_css);
}

static void
nav_link(struct web_req *r, const char *path, const char *text)
{
	html(&r->out, "<a href=\"%s\"%R>%s</a>", path,
	     strcmp(r->path, path) == 0 ? " aria-current=\"page\"" : "", text);
}

/* A logged-in admin at an address that may use the admin pages. */
static bool
is_admin_here(struct web_req *r)
{
	return r->admin && req_client_in(r, r->cfg->web_admin_clients, r->cfg->n_web_admin_clients);
}

void
page_begin(struct web_req *r, const char *title)
{
	const struct config *cfg = r->cfg;
	const char *org = cfg->web_organisation[0] ? cfg->web_organisation : cfg->hostname;
	bool admin_ok = cfg->n_web_admin_clients == 0 ||
	                req_client_in(r, cfg->web_admin_clients, cfg->n_web_admin_clients);

	html(&r->out,
	     "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	     "<title>%s · %s</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n"
	     "<body>\n<header><div class=\"wrap\"><a class=\"brand\" href=\"/\">%s</a><nav>",
	     lang_code(r->lang), title, org, org);
	nav_link(r, "/", TR(r, "Guide", "Anleitung"));
	nav_link(r, "/check", TR(r, "Check my device", "Mein Gerät prüfen"));
	nav_link(r, "/register", TR(r, "Register a device", "Gerät registrieren"));
	if (admin_ok)
		nav_link(r, "/admin", TR(r, "Admin", "Verwaltung"));
	html(&r->out,
	     "</nav><span class=\"lang\"><a href=\"%s?lang=en\" hreflang=\"en\" "
	     "lang=\"en\">English</a>"
	     " · <a href=\"%s?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a></span></div>"
	     "</header>\n<main class=\"wrap%R\">\n<h1>%s</h1>\n",
	     r->path, r->path, r->is_wide ? " wide" : "", title);
}

void
page_end(struct web_req *r)
{
	html(&r->out, "</main>\n<footer class=\"wrap\">mailout · %s</footer>\n</body>\n</html>\n",
	     r->cfg->hostname);
}

/* ---- the guide ---- */

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
	char today[16];

	isodate_format_day(r->now, today, sizeof(today));
	if (cfg->web_cutover[0] == '\0')
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">The mail gateway <b>%s</b> accepts mail only over "
		        "encrypted connections.</p>\n",
		        "<p class=\"lead\">Das Mail-Gateway <b>%s</b> nimmt E-Mail nur über "
		        "verschlüsselte Verbindungen an.</p>\n"),
		     cfg->hostname);
	else if (strcmp(cfg->web_cutover, today) > 0)
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">From <b>%s</b>, the mail gateway <b>%s</b> accepts mail "
		        "only over encrypted connections. Please set up your devices now.</p>\n",
		        "<p class=\"lead\">Ab dem <b>%s</b> nimmt das Mail-Gateway <b>%s</b> "
		        "E-Mail nur noch über verschlüsselte Verbindungen an. Bitte stellen Sie "
		        "Ihre Geräte jetzt um.</p>\n"),
		     cfg->web_cutover, cfg->hostname);
	else
		html(&r->out,
		     TR(r,
		        "<p class=\"lead\">Since <b>%s</b>, the mail gateway <b>%s</b> accepts "
		        "mail only over encrypted connections.</p>\n",
		        "<p class=\"lead\">Seit dem <b>%s</b> nimmt das Mail-Gateway <b>%s</b> "
		        "E-Mail nur noch über verschlüsselte Verbindungen an.</p>\n"),
		     cfg->web_cutover, cfg->hostname);
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
	char domains[512];

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
		     cfg->default_expiry, listener_port(plain), domains);
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
	page_end(r);
}

/* ---- check my device ---- */

/* A single address typed by a visitor, normalised; false if it is not one. */
static bool
parse_host(const char *s, struct sockaddr_storage *ss, char *norm, size_t size)
{
	struct cidr c;

	memset(ss, 0, sizeof(*ss));
	if (strchr(s, '/') || !cidr_parse(s, &c))
		return false;
	if (c.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c.addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c.addr, 16);
	}
	sockaddr_format_addr((const struct sockaddr *)ss, norm, size);
	return true;
}

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

/* A session's result as anyone may see it: what happened and the SMTP
 * codes, without the addresses, names and reasons in the full text
 * ("refused: 550 5.7.1 <x@gmail.com>: ..." -> "refused: 550 5.7.1"). */
static void
result_in_public(const char *result, char *out, size_t size)
{
	const char *p = result;
	size_t n = 0;

	if (strncmp(result, "refused at connect", 18) == 0) {
		str_copy(out, size, "refused at connect");
		return;
	}
	if (strncmp(result, "refused: ", 9) != 0) {
		str_copy(out, size, result); /* "accepted 2 messages", "no message sent", ... */
		return;
	}
	p += 9;
	for (int words = 0; words < 2 && p[n]; words++) {
		while (p[n] && p[n] != ' ')
			n++;
		if (words == 0 && p[n] == ' ')
			n++;
	}
	str_fmt(out, size, "refused: %.*s", (int)n, p);
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
	char when[40], result[sizeof(s->result)];

	time_text(s->at, when, sizeof(when));
	html(&r->out, "<tr><td>%s</td><td>%s</td><td>", when, s->listener);
	tls_text(r, s->tls);
	if (c->is_full)
		str_copy(result, sizeof(result), s->result);
	else
		result_in_public(s->result, result, sizeof(result));
	html(&r->out, "</td><td%R>%s</td></tr>\n",
	     strncmp(s->result, "accepted", 8) == 0 ? " class=\"ok\"" : " class=\"bad\"", result);
	return true;
}

static void
check_registration(struct web_req *r, const char *addr)
{
	struct device d;
	char err[256];

	if (registry_find_by_address(r->w->reg, addr, &d, err, sizeof(err)) != OUT_OK) {
		html(&r->out, "<p>%s</p>\n",
		     TR(r, "This address is not registered as a device that may send unencrypted.",
		        "Diese Adresse ist nicht als Gerät registriert, das unverschlüsselt senden "
		        "darf."));
		return;
	}
	html(&r->out,
	     TR(r,
	        "<p class=\"notice\">Registration <b>%L</b> (%s, %s) covers this address: status "
	        "<b>%s</b>, expires %s.</p>\n",
	        "<p class=\"notice\">Registrierung <b>%L</b> (%s, %s) gilt für diese Adresse: "
	        "Status <b>%s</b>, läuft ab am %s.</p>\n"),
	     d.id, d.name, d.address, device_status_name(d.status), d.expires[0] ? d.expires : "-");
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
		ok = parse_host(typed, &ss, addr, sizeof(addr)) &&
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
	struct check_ctx cc = {r, strcmp(addr, r->client) == 0 || is_admin_here(r)};
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
	     "<div class=\"table\"><table "
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
	page_end(r);
}
