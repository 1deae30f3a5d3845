/* /admin: login, the list of registrations with their use, decisions and
 * the CSV export. dispatch() has checked [web] admin_clients already. */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authdb.h"
#include "log.h"
#include "util/clock.h"
#include "util/csv.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/frame.h"
#include "web/pages.h"
#include "transition.h"
#include "web/request.h"
#include "web/words.h"

/* ---- the list ---- */

#define ADMIN_PAGE_ROWS 100 /* registrations on one page of the list */

struct list_ctx {
	struct web_req *r;
	size_t n;
};

/* The legacy TLS box of an approval: ticked when the registration has it
 * already, or when the operator said the device speaks only old TLS. */
static void
legacy_box(struct web_req *r, const struct device *d)
{
	bool is_on =
	    d->legacy_tls || strncmp(d->reason, REASON_OLD_TLS, strlen(REASON_OLD_TLS)) == 0;

	html(&r->out,
	     "<input type=\"hidden\" name=\"legacy_set\" value=\"1\"><label class=\"check\">"
	     "<input type=\"checkbox\" name=\"legacy_tls\" value=\"1\"%R> %s</label>",
	     is_on ? " checked" : "", TR(r, "legacy TLS", "altes TLS"));
}

static void
action_form(struct web_req *r, const struct device *d, const char *op, const char *label,
            const char *input_name, const char *input_value, const char *placeholder)
{
	html(&r->out, "<form class=\"inline\" method=\"post\" action=\"/admin/action\">");
	form_csrf(r);
	html(&r->out,
	     "<input type=\"hidden\" name=\"id\" value=\"%L\"><input type=\"hidden\" name=\"op\" "
	     "value=\"%s\">",
	     d->id, op);
	if (input_name)
		html(&r->out,
		     "<input name=\"%s\" value=\"%s\" placeholder=\"%s\" aria-label=\"%s\" "
		     "maxlength=\"200\">",
		     input_name, input_value, placeholder, placeholder);
	if (strcmp(op, "approve") == 0 || strcmp(op, "renew") == 0)
		legacy_box(r, d);
	html(&r->out, "<button type=\"submit\" name=\"do\" value=\"%s-%L\">%s</button></form>\n",
	     op, d->id, label);
}

static void
row_actions(struct web_req *r, const struct device *d)
{
	const char *dflt = r->cfg->default_expiry;
	const char *date = TR(r, "YYYY-MM-DD", "JJJJ-MM-TT");
	const char *why = TR(r, "reason", "Grund");

	switch (device_status_at(d, r->now)) {
	case DEVICE_PENDING:
		action_form(r, d, "approve", TR(r, "Approve", "Genehmigen"), "expires", dflt, date);
		action_form(r, d, "reject", TR(r, "Reject", "Ablehnen"), "note", "", why);
		break;
	case DEVICE_APPROVED:
		action_form(r, d, "renew", TR(r, "Renew", "Verlängern"), "expires", dflt, date);
		action_form(r, d, "revoke", TR(r, "Revoke", "Widerrufen"), "note", "", why);
		if (strncmp(d->note, "let expire", 10) != 0)
			action_form(r, d, "let-expire", TR(r, "Let expire", "Auslaufen lassen"),
			            "note", "", why);
		break;
	case DEVICE_EXPIRED:
		action_form(r, d, "renew", TR(r, "Renew", "Verlängern"), "expires", dflt, date);
		break;
	default:
		action_form(r, d, "approve", TR(r, "Approve", "Genehmigen"), "expires", dflt, date);
		break;
	}
}

/* The fields of the table with flag, the first in bold, each other one
 * on a line of its own (or beside the one before), empty ones left out. */
static void
admin_cell(struct web_req *r, const struct device *d, unsigned flag)
{
	bool is_first = true;

	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *f = &device_fields[i];
		const char *v = device_text_const(d, f);

		if (!(f->flags & flag) || v == NULL || (v[0] == '\0' && !is_first))
			continue;
		char text[2 * DEVICE_TEXT_MAX];
		if (f->flags & DEVICE_REASON) {
			words_reason(v, r->lang == LANG_DE, text, sizeof(text));
			v = text;
		}
		if (is_first)
			html(&r->out, "<b>%s</b>", v);
		else
			html(&r->out, "%R<small>%s</small>",
			     f->flags & DEVICE_ADMIN_SAME_LINE ? " " : "<br>", v);
		is_first = false;
	}
}

/* The diagnosis of the device's last failed handshake, from its recent
 * sessions (a single address only). */
static bool
last_failure(const struct recent_session *x, void *arg)
{
	char *out = arg;

	if (strncmp(x->result, "TLS handshake failed", 20) != 0)
		return true;
	str_copy(out, RECENT_RESULT_MAX, x->result);
	return false;
}

static void
diagnosis(struct web_req *r, const struct device *d)
{
	char result[RECENT_RESULT_MAX] = "", text[RECENT_RESULT_MAX + 256], err[256];

	if (strcmp(d->last_tls, "handshake-failed") != 0 || strchr(d->address, '/'))
		return;
	if (registry_recent(r->w->reg, d->address, last_failure, result, err, sizeof(err)) !=
	        OUT_OK ||
	    result[0] == '\0')
		return;
	words_result(result, r->lang == LANG_DE, true, text, sizeof(text));
	html(&r->out, "<br><small class=\"bad diagnosis\">%s</small>", text);
}

static void
status_cell(struct web_req *r, const struct device *d)
{
	enum device_status st = device_status_at(d, r->now);

	html(&r->out, "<td class=\"status-%s\"><b>%s</b>", device_status_name(st),
	     words_status(st, r->lang == LANG_DE));
	if (d->legacy_tls)
		html(&r->out, "<br><small>%s</small>", TR(r, "legacy TLS", "altes TLS"));
	if (d->decided_by[0])
		html(&r->out, "<br><small>%s%R%s</small>", d->decided_by, d->note[0] ? ": " : "",
		     d->note);
	if (d->renewal_request[0])
		html(&r->out, "<br><span class=\"request\">%s %s</span>",
		     TR(r, "Renewal requested:", "Verlängerung beantragt:"), d->renewal_request);
	diagnosis(r, d);
	html(&r->out, "</td>");
}

/* The re-evaluation's suggestion (transition.h) for a registration in force. */
static void
suggestion(struct web_req *r, const struct device *d, int64_t days)
{
	enum device_status st = device_status_at(d, r->now);

	if (st != DEVICE_APPROVED && st != DEVICE_EXPIRED)
		return;
	switch (transition_suggest(d->last_seen, r->now, days)) {
	case RA_LET_EXPIRE:
		html(&r->out, "<br><small class=\"suggest\">%s</small>",
		     TR(r, "Unused for 90 days: let it expire.",
		        "Seit 90 Tagen unbenutzt: auslaufen lassen."));
		break;
	case RA_END_EXCEPTION:
		html(&r->out,
		     TR(r,
		        "<br><small class=\"suggest\">Sent with TLS 1.2 or better on %L day(s): "
		        "move it to port 587 and end the exception.</small>",
		        "<br><small class=\"suggest\">An %L Tag(en) mit TLS 1.2 oder besser "
		        "gesendet: auf Port 587 umstellen und die Ausnahme beenden.</small>"),
		     days);
		break;
	default:
		html(&r->out, "<br><small class=\"suggest\">%s</small>",
		     TR(r, "Still plaintext: renew or replace.",
		        "Noch unverschlüsselt: verlängern oder ersetzen."));
		break;
	}
}

/* Its use over the whole transition, from the kept counters: the best TLS
 * it ever sent with and the days with TLS 1.2 or better (a prefix
 * registration: its last TLS only). */
static void
client_use(struct web_req *r, const struct device *d, struct client_use *u)
{
	char err[256];

	u->best = -1;
	u->tls_days = 0;
	if (strchr(d->address, '/') == NULL)
		(void)registry_client_use(r->w->reg, d->address, u, err, sizeof(err));
	else if (strncmp(d->last_tls, "TLSv1.2", 7) == 0 || strncmp(d->last_tls, "TLSv1.3", 7) == 0)
		u->tls_days = 1;
}

/* Valid until, last seen, sessions and messages, the best and the last
 * TLS, and the suggestion. */
static void
use_cell(struct web_req *r, const struct device *d)
{
	static const char *const best_name[] = {"", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
	const char *tls = d->last_tls;
	struct client_use u;
	char seen[40];

	client_use(r, d, &u);
	if (tls[0] == '\0')
		tls = TR(r, "not seen yet", "noch nicht gesehen");
	else if (strcmp(tls, "handshake-failed") == 0)
		tls = TR(r, "TLS handshake failed", "TLS-Aufbau fehlgeschlagen");
	else if (strcmp(tls, "none") == 0)
		tls = TR(r, "unencrypted", "unverschlüsselt");
	time_text(d->last_seen, seen, sizeof(seen));
	html(&r->out, "<td class=\"use\">%s <b>%s</b><br><small>%s %s<br>%L %s, %L %s<br>%s: %s",
	     TR(r, "until", "bis"), d->expires[0] ? d->expires : "-", TR(r, "last seen", "zuletzt"),
	     seen, d->session_count, TR(r, "sessions", "Sitzungen"), d->message_count,
	     d->message_count == 1 ? TR(r, "message", "Nachricht")
	                           : TR(r, "messages", "Nachrichten"),
	     TR(r, "last", "zuletzt"), tls);
	if (u.best >= 0)
		html(&r->out, "<br>%s: %s", TR(r, "best", "am besten"),
		     u.best == 0 ? TR(r, "unencrypted", "unverschlüsselt")
		                 : best_name[u.best > 4 ? 4 : u.best]);
	html(&r->out, "</small>");
	suggestion(r, d, u.tls_days);
	html(&r->out, "</td>");
}

static bool
list_row(const struct device *d, void *arg)
{
	struct list_ctx *c = arg;
	struct web_req *r = c->r;

	c->n++;
	html(&r->out,
	     "<tr id=\"device-%L\"><td><input type=\"checkbox\" name=\"ids\" value=\"%L\" "
	     "form=\"bulk\" aria-label=\"%s %L\"></td><td>%L</td><td class=\"device\">",
	     d->id, d->id, TR(r, "Select registration", "Registrierung auswählen"), d->id, d->id);
	html(&r->out, "<small>%s</small><br>", d->address);
	admin_cell(r, d, DEVICE_ADMIN_DEVICE);
	html(&r->out, "</td><td>");
	admin_cell(r, d, DEVICE_ADMIN_OWNER);
	html(&r->out, "</td>");
	status_cell(r, d);
	use_cell(r, d);
	html(&r->out, "<td class=\"actions\">");
	row_actions(r, d);
	html(&r->out, "</td></tr>\n");
	return true;
}

/* What to do with the ticked registrations of the page. */
static void
bulk_form(struct web_req *r)
{
	html(&r->out, "<form id=\"bulk\" class=\"bulk\" method=\"post\" action=\"/admin/bulk\">");
	form_csrf(r);
	html(&r->out,
	     "<fieldset><legend>%s</legend><label class=\"check\"><input type=\"radio\" "
	     "name=\"op\" value=\"renew\" checked> %s</label><input name=\"expires\" "
	     "value=\"%s\" placeholder=\"%s\" aria-label=\"%s\" maxlength=\"40\"><label "
	     "class=\"check\"><input type=\"radio\" name=\"op\" value=\"let-expire\"> "
	     "%s</label><label for=\"bulk-reason\">%s</label><input id=\"bulk-reason\" "
	     "name=\"reason\" maxlength=\"200\" required><button type=\"submit\">%s</button>"
	     "</fieldset></form>\n",
	     TR(r, "With the ticked registrations", "Mit den ausgewählten Registrierungen"),
	     TR(r, "Renew until", "Verlängern bis zum"), r->cfg->default_expiry,
	     TR(r, "YYYY-MM-DD", "JJJJ-MM-TT"), TR(r, "Renew until", "Verlängern bis zum"),
	     TR(r, "Let them expire (no renewal)", "Auslaufen lassen (keine Verlängerung)"),
	     TR(r, "Reason (recorded in the history)", "Grund (wird im Verlauf festgehalten)"),
	     TR(r, "Apply", "Ausführen"));
}

bool
admin_list_filter(struct web_req *r, struct device_filter *f, const char **status,
                  const char **expiring)
{
	enum device_status st;
	int64_t until;

	*status = req_arg(r, "status");
	*expiring = req_arg(r, "expiring");
	f->status = -1;
	f->expiring_before = 0;
	f->now = r->now;
	if (*status && (*status)[0]) {
		if (!device_status_parse(*status, &st))
			return false;
		f->status = (int)st;
	}
	if (*expiring && (*expiring)[0]) {
		if (!isodate_parse_expiry(*expiring, &until))
			return false;
		f->expiring_before = until;
	}
	return true;
}

static void
filter_form(struct web_req *r, const char *status, const char *expiring)
{
	html(&r->out,
	     "<form class=\"inline\" method=\"get\" action=\"/admin\"><select name=\"status\" "
	     "aria-label=\"%s\"><option value=\"\">%s</option>",
	     TR(r, "Status", "Status"), TR(r, "every status", "jeder Status"));
	for (int s = 0; s < DEVICE_NSTATUS; s++) {
		const char *name = device_status_name((enum device_status)s);
		html(&r->out, "<option value=\"%s\"%R>%s</option>", name,
		     status && strcmp(status, name) == 0 ? " selected" : "",
		     words_status((enum device_status)s, r->lang == LANG_DE));
	}
	html(&r->out,
	     "</select><input name=\"expiring\" value=\"%s\" placeholder=\"%s\" aria-label=\"%s\">"
	     "<button type=\"submit\">%s</button></form>\n",
	     expiring ? expiring : "",
	     TR(r, "expiring before YYYY-MM-DD", "läuft ab vor JJJJ-MM-TT"),
	     TR(r, "expiring before", "läuft ab vor"), TR(r, "Filter", "Filtern"));
	html(&r->out, "<p><a href=\"/admin/export.csv?status=%s&amp;expiring=%s\">%s</a></p>\n",
	     status ? status : "", expiring ? expiring : "",
	     TR(r, "Export as CSV", "Als CSV exportieren"));
}

#define DONE_MAX 100 /* registrations named in one confirmation */

/* "6 (Kopierer 3. OG)" of each id in "6,9,12", joined as a list. */
static size_t
done_names(struct web_req *r, const char *ids, char *names, size_t size, struct device *first)
{
	size_t n = 0;
	char err[256], item[DEVICE_TEXT_MAX + 32];
	const char *p = ids;

	names[0] = '\0';
	while (*p && n < DONE_MAX) {
		struct device d;
		int64_t id = strtoll(p, NULL, 10);
		p += strspn(p, "0123456789");
		p += *p == ',';
		if (id <= 0 || registry_get(r->w->reg, id, &d, err, sizeof(err)) != OUT_OK)
			continue;
		if (n == 0)
			*first = d;
		str_fmt(item, sizeof(item), "%s%lld (%s)",
		        n == 0 ? ""
		        : *p   ? ", "
		               : TR(r, " and ", " und "),
		        (long long)d.id, d.name);
		size_t len = strlen(names);
		str_copy(names + len, size - len, item);
		n++;
	}
	return n;
}

/* The confirmation of a decision in a sentence: "Registration 6
 * (Kopierer 3. OG) approved until 31 December 2027." */
static void
done_notice(struct web_req *r)
{
	const char *done = req_arg(r, "done"), *ids = req_arg(r, "ids");
	char names[4096], until[48] = "";
	struct device first = {0};
	size_t n;

	if (done == NULL || ids == NULL ||
	    (n = done_names(r, ids, names, sizeof(names), &first)) == 0)
		return;
	if (first.expires_at)
		isodate_prose(first.expires_at - 1, r->lang == LANG_DE, until, sizeof(until));
	const char *en = "%s %s %s.", *de = "%s %s %s.";
	if (strcmp(done, "approve") == 0)
		en = "%s %s approved until %s.", de = "%s %s bis zum %s genehmigt.";
	else if (strcmp(done, "renew") == 0)
		en = "%s %s renewed until %s.", de = "%s %s bis zum %s verlängert.";
	else if (strcmp(done, "reject") == 0)
		en = "%s %s rejected.", de = "%s %s abgelehnt.";
	else if (strcmp(done, "revoke") == 0)
		en = "%s %s revoked.", de = "%s %s widerrufen.";
	else if (strcmp(done, "let-expire") == 0)
		en = "%s %s will run out on %s: not renewed.",
		de = "%s %s läuft am %s aus: keine Verlängerung.";
	html(&r->out, "<p class=\"notice\" role=\"status\" id=\"done\">");
	html(&r->out, TR(r, en, de),
	     n == 1 ? TR(r, "Registration", "Registrierung")
	            : TR(r, "Registrations", "Registrierungen"),
	     names, until);
	html(&r->out, "</p>\n");
}

static void
logout_form(struct web_req *r)
{
	html(&r->out,
	     "<form class=\"inline\" method=\"post\" action=\"/admin/logout\"><span>%s "
	     "<b>%s</b></span>",
	     TR(r, "Logged in as", "Angemeldet als"), r->admin);
	form_csrf(r);
	html(&r->out, "<button type=\"submit\">%s</button></form>\n", TR(r, "Log out", "Abmelden"));
}

/* "page 2 of 7" with the links to the neighbours, keeping the filter. */
static void
page_nav(struct web_req *r, uint64_t page, uint64_t pages, int64_t total, const char *status,
         const char *expiring)
{
	html(&r->out, "<p class=\"pages\" id=\"pages\">%L %s, %s %L/%L", total,
	     total == 1
	         ? TR(r, "registration", "Registrierung")
	         : TR(r, "registrations, newest first", "Registrierungen, die neuesten zuerst"),
	     TR(r, "page", "Seite"), (int64_t)page, (int64_t)pages);
	if (page > 1)
		html(&r->out, " <a href=\"/admin?status=%s&amp;expiring=%s&amp;page=%L\">%s</a>",
		     status ? status : "", expiring ? expiring : "", (int64_t)page - 1,
		     TR(r, "newer", "neuere"));
	if (page < pages)
		html(&r->out,
		     " <a id=\"next\" href=\"/admin?status=%s&amp;expiring=%s&amp;page=%L\">%s</a>",
		     status ? status : "", expiring ? expiring : "", (int64_t)page + 1,
		     TR(r, "older", "ältere"));
	html(&r->out, "</p>\n");
}

static void
list_table(struct web_req *r, const struct device_filter *f, const char *status,
           const char *expiring)
{
	struct list_ctx c = {r, 0};
	const char *arg = req_arg(r, "page");
	uint64_t page = 1, pages;
	int64_t total = 0;
	char err[256];

	if (arg && arg[0] && !num_parse_u64(arg, 1, UINT32_MAX, &page))
		page = 1;
	if (registry_count(r->w->reg, f, &total, err, sizeof(err)) != OUT_OK)
		goto fail;
	pages = total ? ((uint64_t)total + ADMIN_PAGE_ROWS - 1) / ADMIN_PAGE_ROWS : 1;
	if (page > pages)
		page = pages;
	struct device_page p = {true, 0, ADMIN_PAGE_ROWS, (size_t)(page - 1) * ADMIN_PAGE_ROWS};
	page_nav(r, page, pages, total, status, expiring);
	html(&r->out,
	     "<div class=\"table\"><table id=\"devices\">\n<tr><th></th><th>%s</th><th>%s</th>"
	     "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	     TR(r, "Ref.", "Ref."), TR(r, "Device", "Gerät"), TR(r, "Owner", "Verantwortlich"),
	     TR(r, "Status", "Status"), TR(r, "Use", "Nutzung"), TR(r, "Decide", "Entscheiden"));
	if (registry_page(r->w->reg, f, &p, list_row, &c, err, sizeof(err)) != OUT_OK)
		goto fail;
	html(&r->out, "</table></div>\n");
	bulk_form(r);
	page_nav(r, page, pages, total, status, expiring);
	return;
fail:
	log_error("event=web-error page=admin error=\"%s\"", err);
	html(&r->out, "<p class=\"error\">%s</p>\n",
	     TR(r, "The registry cannot be read just now.",
	        "Das Register kann gerade nicht gelesen werden."));
}

void
page_admin(struct web_req *r)
{
	struct device_filter f;
	const char *status, *expiring;

	if (r->admin == NULL) {
		/* /admin/login shows the form; any other admin page needs a login first. */
		if (strcmp(r->path, "/admin/login") != 0)
			r->status = MHD_HTTP_FORBIDDEN;
		login_form(r, NULL);
		return;
	}
	if (!admin_list_filter(r, &f, &status, &expiring)) {
		page_error(r, MHD_HTTP_BAD_REQUEST, "Unknown status or date (use YYYY-MM-DD).",
		           "Unbekannter Status oder unbekanntes Datum (JJJJ-MM-TT).");
		return;
	}
	r->is_wide = true;
	page_begin(r, TR(r, "Device registrations", "Geräte-Registrierungen"));
	logout_form(r);
	done_notice(r);
	filter_form(r, status, expiring);
	list_table(r, &f, status, expiring);
	page_end(r);
}
