/* /admin/action and /admin/bulk: an admin's decisions, one registration
 * or the ticked ones of a page, each recorded with the admin's name and
 * reason; the list then confirms it in a sentence. */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"
#include "web/words.h"

/* ---- decisions ---- */

/* One decision as the forms ask it: op, the date (approve, renew), the
 * reason (reject, revoke, let-expire; for a renewal recorded in the
 * history only), legacy TLS (-1 unchanged). */
struct ask {
	const char *op, *expires, *reason;
	int legacy_tls;
};

static enum outcome
apply_action(struct web_req *r, int64_t id, const struct ask *a, char *err, size_t errlen)
{
	char actor[96];
	struct decision dc = {DEVICE_APPROVED, "", "", a->legacy_tls, false, actor, NULL};
	bool has_reason = a->reason[strspn(a->reason, " ")] != '\0';

	str_fmt(actor, sizeof(actor), "%s (web)", r->admin);
	if (!text_is_clean(a->reason, false) || strlen(a->reason) >= DEVICE_TEXT_MAX - 16) {
		str_copy(err, errlen, "The reason is too long or holds control characters.");
		return OUT_PERMFAIL;
	}
	if (strcmp(a->op, "approve") == 0 || strcmp(a->op, "renew") == 0) {
		dc.expires = a->expires[0] ? a->expires : r->cfg->default_expiry;
		if (dc.expires[0] == '\0') {
			str_copy(err, errlen, "Give an expiry date (YYYY-MM-DD).");
			return OUT_PERMFAIL;
		}
		dc.reason = has_reason ? a->reason : NULL;
		if (a->op[0] == 'r')
			return registry_renew(r->w->reg, id, &dc, err, errlen);
		return registry_decide(r->w->reg, id, &dc, err, errlen);
	}
	bool is_known = strcmp(a->op, "reject") == 0 || strcmp(a->op, "revoke") == 0 ||
	                strcmp(a->op, "let-expire") == 0;
	if (is_known && !has_reason) {
		str_copy(err, errlen, "Give a reason.");
		return OUT_PERMFAIL;
	}
	if (strcmp(a->op, "let-expire") == 0)
		return registry_let_expire(r->w->reg, id, actor, a->reason, err, errlen);
	if (is_known) {
		dc.to = a->op[2] == 'j' ? DEVICE_REJECTED : DEVICE_REVOKED;
		dc.note = a->reason;
		return registry_decide(r->w->reg, id, &dc, err, errlen);
	}
	str_copy(err, errlen, "Unknown action.");
	return OUT_PERMFAIL;
}

/* The page that says why nothing (or not everything) was done: text as
 * shown. */
static void
show_not_done(struct web_req *r, enum outcome o, const char *err)
{
	r->status =
	    o == OUT_TEMPFAIL ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_UNPROCESSABLE_CONTENT;
	page_begin(r, TR(r, "Not done", "Nicht ausgeführt"));
	html(&r->out,
	     "<p class=\"error\" role=\"alert\">%s</p>\n<p><a href=\"/admin\">%s</a></p>\n", err,
	     TR(r, "Back to the list", "Zurück zur Liste"));
	page_end(r);
}

/* The same for a refusal as apply_action() words it (English, as logged). */
static void
not_done(struct web_req *r, enum outcome o, const char *err)
{
	char text[1024];

	words_error(err, r->lang == LANG_DE, text, sizeof(text));
	show_not_done(r, o, text);
}

static void
log_action(struct web_req *r, uint64_t id, const char *op, enum outcome o, const char *err)
{
	char esc[600];

	log_escape(esc, sizeof(esc), err, strlen(err));
	if (o == OUT_OK)
		log_info("event=web-admin-action user=\"%s\" client=%s device=%llu action=%s "
		         "result=done",
		         r->admin, r->client, (unsigned long long)id, strlen(op) < 16 ? op : "?");
	else
		log_warn("event=web-admin-action user=\"%s\" client=%s device=%llu action=%s "
		         "result=refused error=\"%s\"",
		         r->admin, r->client, (unsigned long long)id, strlen(op) < 16 ? op : "?",
		         esc);
}

void
page_admin_action(struct web_req *r)
{
	struct ask a = {req_field(r, "op"), req_field(r, "expires"), req_field(r, "note"), -1};
	char err[512], loc[160];
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
	if (req_field(r, "legacy_set")[0])
		a.legacy_tls = req_field(r, "legacy_tls")[0] == '1';
	enum outcome o = apply_action(r, (int64_t)id, &a, err, sizeof(err));
	log_action(r, id, a.op, o, err);
	if (o != OUT_OK) {
		not_done(r, o, err);
		return;
	}
	str_fmt(loc, sizeof(loc), "/admin?done=%s&ids=%llu#device-%llu", a.op,
	        (unsigned long long)id, (unsigned long long)id);
	req_redirect(r, loc);
}

#define BULK_MAX 100 /* one page of the list */

/* /admin/bulk: renew or let expire every ticked registration, with one
 * reason; a confirmation names them, or a page lists what failed. */
void
page_admin_bulk(struct web_req *r)
{
	struct ask a = {req_field(r, "op"), req_field(r, "expires"), req_field(r, "reason"), -1};
	char err[512], failed[4096] = "", done[BULK_MAX * 21 + 1] = "", loc[BULK_MAX * 21 + 64];
	size_t n = 0, n_failed = 0;

	if (r->admin == NULL) {
		page_error(r, MHD_HTTP_FORBIDDEN, "Please log in first.",
		           "Bitte melden Sie sich zuerst an.");
		return;
	}
	if (strcmp(a.op, "renew") != 0 && strcmp(a.op, "let-expire") != 0) {
		page_error(r, MHD_HTTP_BAD_REQUEST, "Unknown action.", "Unbekannte Aktion.");
		return;
	}
	if (a.reason[strspn(a.reason, " ")] == '\0') {
		not_done(r, OUT_PERMFAIL, "Give a reason.");
		return;
	}
	for (size_t i = 0; i < r->form.n && n + n_failed < BULK_MAX; i++) {
		uint64_t id;
		if (strcmp(r->form.f[i].name, "ids") != 0 ||
		    !num_parse_u64(r->form.f[i].value, 1, INT64_MAX, &id))
			continue;
		err[0] = '\0';
		enum outcome o = apply_action(r, (int64_t)id, &a, err, sizeof(err));
		log_action(r, id, a.op, o, err);
		size_t len = strlen(o == OUT_OK ? done : failed);
		if (o == OUT_OK && ++n)
			str_fmt(done + len, sizeof(done) - len, "%s%llu", len ? "," : "",
			        (unsigned long long)id);
		else if (o != OUT_OK && ++n_failed) {
			char shown[600];
			words_error(err, r->lang == LANG_DE, shown, sizeof(shown));
			str_fmt(failed + len, sizeof(failed) - len, "%s%llu: %s", len ? "; " : "",
			        (unsigned long long)id, shown);
		}
	}
	if (n == 0 && n_failed == 0) {
		not_done(r, OUT_PERMFAIL, "Tick at least one registration.");
		return;
	}
	if (n_failed) {
		char text[sizeof(failed) + sizeof(done) + 64];
		str_fmt(text, sizeof(text),
		        TR(r, "Done: %s. Not done: %s", "Ausgeführt: %s. Nicht ausgeführt: %s"),
		        n ? done : "-", failed);
		show_not_done(r, OUT_PERMFAIL, text);
		return;
	}
	str_fmt(loc, sizeof(loc), "/admin?done=%s&ids=%s", a.op, done);
	req_redirect(r, loc);
}
