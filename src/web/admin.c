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
#include "web/request.h"

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
		if (is_first)
			html(&r->out, "<b>%s</b>", v);
		else
			html(&r->out, "%R<small>%s</small>",
			     f->flags & DEVICE_ADMIN_SAME_LINE ? " " : "<br>", v);
		is_first = false;
	}
}

static bool
list_row(const struct device *d, void *arg)
{
	struct list_ctx *c = arg;
	struct web_req *r = c->r;
	const char *status = device_status_name(device_status_at(d, r->now));
	char seen[40];

	c->n++;
	time_text(d->last_seen, seen, sizeof(seen));
	html(&r->out, "<tr id=\"device-%L\"><td>%L</td><td>%s</td><td class=\"device\">", d->id,
	     d->id, d->address);
	admin_cell(r, d, DEVICE_ADMIN_DEVICE);
	html(&r->out, "</td><td>");
	admin_cell(r, d, DEVICE_ADMIN_OWNER);
	html(&r->out, "</td><td class=\"status-%s\">%s", status, status);
	if (d->legacy_tls)
		html(&r->out, "<br><small>%s</small>", TR(r, "legacy TLS", "altes TLS"));
	if (d->decided_by[0])
		html(&r->out, "<br><small>%s%R%s</small>", d->decided_by, d->note[0] ? ": " : "",
		     d->note);
	html(&r->out, "</td><td>%s</td><td>%s</td><td>%L</td><td>%s</td><td class=\"actions\">",
	     d->expires[0] ? d->expires : "-", seen, d->message_count,
	     d->last_tls[0] ? d->last_tls : "-");
	row_actions(r, d);
	html(&r->out, "</td></tr>\n");
	return true;
}

/* The filter from ?status= and ?expiring=; false if one is malformed. */
static bool
list_filter(struct web_req *r, struct device_filter *f, const char **status, const char **expiring)
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
		     status && strcmp(status, name) == 0 ? " selected" : "", name);
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

static void
done_notice(struct web_req *r)
{
	const char *done = req_arg(r, "done"), *id = req_arg(r, "id");

	if (done && id)
		html(&r->out, "<p class=\"notice\" role=\"status\" id=\"done\">%s %s: %s</p>\n",
		     TR(r, "Registration", "Registrierung"), id, done);
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
	     TR(r, "registrations, newest first", "Registrierungen, die neuesten zuerst"),
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
	     "<div class=\"table\"><table "
	     "id=\"devices\">\n<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</"
	     "th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
	     TR(r, "Ref.", "Ref."), TR(r, "Address", "Adresse"), TR(r, "Device", "Gerät"),
	     TR(r, "Owner", "Verantwortlich"), TR(r, "Status", "Status"),
	     TR(r, "Expires", "Läuft ab"), TR(r, "Last seen", "Zuletzt gesehen"),
	     TR(r, "Messages", "Nachrichten"), TR(r, "Last TLS", "Letztes TLS"),
	     TR(r, "Decide", "Entscheiden"));
	if (registry_page(r->w->reg, f, &p, list_row, &c, err, sizeof(err)) != OUT_OK)
		goto fail;
	html(&r->out, "</table></div>\n");
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
	if (!list_filter(r, &f, &status, &expiring)) {
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

/* ---- decisions ---- */

static enum outcome
apply_action(struct web_req *r, int64_t id, const char *op, char *err, size_t errlen)
{
	const char *expires = req_field(r, "expires"), *note = req_field(r, "note");
	char actor[96];
	struct decision dc = {DEVICE_APPROVED, "", "", -1, false, actor};

	str_fmt(actor, sizeof(actor), "%s (web)", r->admin);
	if (!text_is_clean(note, false) || strlen(note) >= DEVICE_TEXT_MAX) {
		str_copy(err, errlen, "the reason is too long or holds control characters");
		return OUT_PERMFAIL;
	}
	if (strcmp(op, "approve") == 0 || strcmp(op, "renew") == 0) {
		dc.expires = expires[0] ? expires : r->cfg->default_expiry;
		if (dc.expires[0] == '\0') {
			str_copy(err, errlen, "give an expiry date (YYYY-MM-DD)");
			return OUT_PERMFAIL;
		}
		if (req_field(r, "legacy_set")[0])
			dc.legacy_tls = req_field(r, "legacy_tls")[0] == '1';
		if (op[0] == 'r')
			return registry_renew(r->w->reg, id, &dc, err, errlen);
		return registry_decide(r->w->reg, id, &dc, err, errlen);
	}
	if (strcmp(op, "reject") == 0 || strcmp(op, "revoke") == 0) {
		if (note[strspn(note, " ")] == '\0') {
			str_copy(err, errlen, "give a reason");
			return OUT_PERMFAIL;
		}
		dc.to = op[2] == 'j' ? DEVICE_REJECTED : DEVICE_REVOKED;
		dc.note = note;
		return registry_decide(r->w->reg, id, &dc, err, errlen);
	}
	str_copy(err, errlen, "unknown action");
	return OUT_PERMFAIL;
}

void
page_admin_action(struct web_req *r)
{
	const char *op = req_field(r, "op");
	char err[512], loc[128], esc[600];
	uint64_t id;

	if (r->admin == NULL) {
		page_error(r, MHD_HTTP_FORBIDDEN, "Please log in first.",
		           "Bitte melden Sie sich zuerst an.");
		return;
	}
	err[0] = '\0';
	if (!num_parse_u64(req_field(r, "id"), 1, INT64_MAX, &id)) {
		page_error(r, MHD_HTTP_BAD_REQUEST, "Unknown registration.",
		           "Unbekannte Registrierung.");
		return;
	}
	enum outcome o = apply_action(r, (int64_t)id, op, err, sizeof(err));
	log_escape(esc, sizeof(esc), err, strlen(err));
	if (o != OUT_OK) {
		log_warn("event=web-admin-action user=\"%s\" client=%s device=%llu action=%s "
		         "result=refused error=\"%s\"",
		         r->admin, r->client, (unsigned long long)id, strlen(op) < 16 ? op : "?",
		         esc);
		r->status = o == OUT_TEMPFAIL ? MHD_HTTP_SERVICE_UNAVAILABLE
		                              : MHD_HTTP_UNPROCESSABLE_CONTENT;
		page_begin(r, TR(r, "Not done", "Nicht ausgeführt"));
		html(&r->out,
		     "<p class=\"error\" role=\"alert\">%s</p>\n<p><a href=\"/admin\">%s</a></p>\n",
		     err, TR(r, "Back to the list", "Zurück zur Liste"));
		page_end(r);
		return;
	}
	log_info("event=web-admin-action user=\"%s\" client=%s device=%llu action=%s result=done",
	         r->admin, r->client, (unsigned long long)id, op);
	str_fmt(loc, sizeof(loc), "/admin?done=%s&id=%llu#device-%llu", op, (unsigned long long)id,
	        (unsigned long long)id);
	req_redirect(r, loc);
}

/* ---- CSV export, streamed ---- */

#define EXPORT_ROWS 500 /* rows read from the registry at a time */

struct export
{
	struct web *w;
	struct device_filter f;
	int64_t last_id; /* keyset: the next rows come after it */
	struct buf chunk;
	size_t pos;
	bool is_done;
	int64_t now;
};

/* The CSV header: every field's name, in the table's order. */
static void
csv_head(struct buf *b)
{
	for (size_t i = 0; i < device_n_fields; i++)
		buf_printf(b, "%s%s", device_fields[i].name,
		           i + 1 == device_n_fields ? "\r\n" : ",");
}

static bool
csv_row(const struct device *d, void *arg)
{
	struct export *x = arg;
	char v[DEVICE_TEXT_MAX];

	x->last_id = d->id;
	for (size_t i = 0; i < device_n_fields; i++) {
		device_field_text(d, &device_fields[i], x->now, v, sizeof(v));
		csv_field(&x->chunk, v);
		buf_puts(&x->chunk, i + 1 == device_n_fields ? "\r\n" : ",");
	}
	return true;
}

/* The next rows into x->chunk; false when the registry failed. */
static bool
export_fill(struct export *x)
{
	struct device_page p = {false, x->last_id, EXPORT_ROWS, 0};
	int64_t before = x->last_id;
	char err[256];

	buf_reset(&x->chunk);
	x->pos = 0;
	if (registry_page(x->w->reg, &x->f, &p, csv_row, x, err, sizeof(err)) != OUT_OK) {
		log_error("event=web-error page=export error=\"%s\"", err);
		return false;
	}
	x->is_done = x->last_id == before;
	return true;
}

/* libmicrohttpd asks for the next bytes of the export; the registry is
 * read EXPORT_ROWS rows at a time, so 100,000 registrations never sit in
 * memory at once. */
static ssize_t
export_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct export *x = cls;

	(void)pos;
	if (x->pos == x->chunk.len) {
		if (x->is_done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!export_fill(x))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (x->chunk.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	size_t n = x->chunk.len - x->pos < max ? x->chunk.len - x->pos : max;
	memcpy(out, x->chunk.data + x->pos, n);
	x->pos += n;
	return (ssize_t)n;
}

static void
export_free(void *cls)
{
	struct export *x = cls;

	buf_free(&x->chunk);
	free(x);
}

void
page_admin_export(struct web_req *r)
{
	struct export *x;
	const char *status, *expiring;
	char disp[128], day[16];

	if (r->admin == NULL) {
		page_error(r, MHD_HTTP_FORBIDDEN, "Please log in first.",
		           "Bitte melden Sie sich zuerst an.");
		return;
	}
	x = xcalloc(1, sizeof(*x));
	if (!list_filter(r, &x->f, &status, &expiring)) {
		free(x);
		page_error(r, MHD_HTTP_BAD_REQUEST, "Unknown status or date.",
		           "Unbekannter Status oder Datum.");
		return;
	}
	x->w = r->w;
	x->now = r->now;
	buf_init(&x->chunk, WEB_PAGE_MAX);
	csv_head(&x->chunk);
	isodate_format_day(r->now, day, sizeof(day));
	str_fmt(disp, sizeof(disp), "attachment; filename=\"mailout-devices-%s.csv\"", day);
	str_copy(r->disposition, sizeof(r->disposition), disp);
	r->content_type = "text/csv; charset=utf-8";
	r->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, x,
	                                              export_free);
	if (r->stream == NULL) {
		export_free(x);
		page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The export cannot start just now.",
		           "Der Export kann gerade nicht beginnen.");
		return;
	}
	log_info("event=web-export user=\"%s\" client=%s", r->admin, r->client);
}
