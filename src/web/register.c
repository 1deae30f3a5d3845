/* /register: a device operator asks for a registration; it is stored as
 * pending until an admin decides. */
#include <microhttpd.h>
#include <string.h>

#include "address.h"
#include "log.h"
#include "transition.h"
#include "util/str.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"
#include "web/words.h"

/* The form shows the fields of device_fields[] marked DEVICE_FORM, in the
 * table's order; the reason (DEVICE_REASON) is asked with a list of
 * reasons and a text box for details. */
static const char DETAILS[] = "reason_text";

struct reg_form {
	const char *value[DEVICE_FIELDS_MAX]; /* by index into device_fields[] */
	const char *error[DEVICE_FIELDS_MAX]; /* NULL: fine */
	const char *details, *details_error;  /* of the reason */
	char addr_error[512];                 /* a sentence naming the existing registration */
};

static size_t
index_of(const struct device_field *f)
{
	return (size_t)(f - device_fields);
}

/* aria-describedby (hint and error) and aria-invalid of one control. */
static void
field_aria(struct web_req *r, const char *name, bool has_hint, bool has_error)
{
	if (!has_hint && !has_error)
		return;
	html(&r->out, " aria-describedby=\"");
	if (has_hint)
		html(&r->out, "%s-hint", name);
	if (has_error)
		html(&r->out, "%R%s-error", has_hint ? " " : "", name);
	html(&r->out, "\"%R", has_error ? " aria-invalid=\"true\"" : "");
}

static void
label(struct web_req *r, const char *name, const char *text, bool is_required, const char *hint)
{
	html(&r->out, "<label for=\"%s\">%s%R</label>\n", name, text, is_required ? " *" : "");
	if (hint)
		html(&r->out, "<p class=\"hint\" id=\"%s-hint\">%s</p>\n", name, hint);
}

static void
error_line(struct web_req *r, const char *name, const char *err)
{
	if (err)
		html(&r->out, "<p class=\"error\" id=\"%s-error\">%s</p>\n", name, err);
}

static void
reason_input(struct web_req *r, const struct reg_form *f, const struct device_field *d)
{
	const char *value = f->value[index_of(d)], *err = f->error[index_of(d)];
	const char *hint = TR(r, "Required for “Other”.", "Bei „Anderer Grund“ erforderlich.");

	html(&r->out, "<select id=\"%s\" name=\"%s\"", d->name, d->name);
	field_aria(r, d->name, false, err != NULL);
	html(&r->out, ">\n<option value=\"\">%s</option>\n", TR(r, "Choose …", "Bitte wählen …"));
	for (size_t k = 0; k < words_n_reasons; k++)
		html(&r->out, "<option value=\"%s\"%R>%s</option>\n", words_reasons[k].code,
		     strcmp(value, words_reasons[k].code) == 0 ? " selected" : "",
		     TR(r, words_reasons[k].en, words_reasons[k].de));
	html(&r->out, "</select>\n");
	error_line(r, d->name, err);
	label(r, DETAILS, TR(r, "Details", "Einzelheiten"), false, hint);
	html(&r->out, "<textarea id=\"%s\" name=\"%s\" maxlength=\"%d\"", DETAILS, DETAILS,
	     WEB_FIELD_MAX);
	field_aria(r, DETAILS, true, f->details_error != NULL);
	html(&r->out, ">%s</textarea>\n", f->details);
	error_line(r, DETAILS, f->details_error);
}

static void
field_input(struct web_req *r, const struct reg_form *f, const struct device_field *d)
{
	const char *err = f->error[index_of(d)];

	label(r, d->name, TR(r, d->label_en, d->label_de),
	      (d->flags & (DEVICE_REQUIRED | DEVICE_FORM_REQUIRED)) != 0,
	      d->hint_en ? TR(r, d->hint_en, d->hint_de) : NULL);
	if (d->flags & DEVICE_REASON) {
		reason_input(r, f, d);
		return;
	}
	html(&r->out, "<input id=\"%s\" name=\"%s\" value=\"%s\" maxlength=\"%d\"%R", d->name,
	     d->name, f->value[index_of(d)], WEB_FIELD_MAX,
	     d->flags & DEVICE_EMAIL ? " type=\"email\" autocomplete=\"email\"" : "");
	field_aria(r, d->name, d->hint_en != NULL, err != NULL);
	html(&r->out, ">\n");
	error_line(r, d->name, err);
}

static void
form_page(struct web_req *r, const struct reg_form *f, bool has_errors)
{
	page_begin(r, TR(r, "Register a device", "Gerät registrieren"));
	html(&r->out, "%R",
	     TR(r,
	        "<p>Only for devices that cannot send encrypted mail. First try the settings in "
	        "the <a href=\"/\">guide</a>. A registration is reviewed by the mail "
	        "administrators; until it is approved, the device cannot send unencrypted.</p>\n",
	        "<p>Nur für Geräte, die nicht verschlüsselt senden können. Versuchen Sie zuerst "
	        "die Einstellungen aus der <a href=\"/\">Anleitung</a>. Eine Registrierung wird "
	        "von den Mail-Administratoren geprüft; bis sie genehmigt ist, kann das Gerät nicht "
	        "unverschlüsselt senden.</p>\n"));
	if (has_errors)
		html(&r->out, "<p class=\"error\" role=\"alert\">%s</p>\n",
		     TR(r, "Please correct the marked fields.",
		        "Bitte korrigieren Sie die markierten Felder."));
	html(&r->out, "<form class=\"fields\" method=\"post\" action=\"/register\" novalidate>\n");
	form_csrf(r);
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].flags & DEVICE_FORM)
			field_input(r, f, &device_fields[i]);
	html(&r->out, "<p class=\"hint\">%s</p>\n<button type=\"submit\">%s</button>\n</form>\n",
	     TR(r, "* required", "* Pflichtfeld"),
	     TR(r, "Send registration", "Registrierung senden"));
	page_end(r);
}

/* ---- validation ---- */

/* Clean text of the right length: the error, or NULL. */
static const char *
text_error(struct web_req *r, const char *v, bool is_multiline)
{
	if (!text_is_clean(v, is_multiline))
		return TR(r,
		          "Contains characters that are not allowed (control characters, or "
		          "invisible ones that change the direction or joining of text).",
		          "Enthält nicht erlaubte Zeichen (Steuerzeichen oder unsichtbare Zeichen, "
		          "die Richtung oder Verbindung des Texts ändern).");
	if (utf8_chars(v) > WEB_FIELD_MAX || strlen(v) >= DEVICE_TEXT_MAX)
		return TR(r, "At most 200 characters.", "Höchstens 200 Zeichen.");
	return NULL;
}

static const char *
field_error(struct web_req *r, const struct device_field *d, const char *v)
{
	const char *err = text_error(r, v, false);

	if (err)
		return err;
	switch (device_field_check(d, v, DEVICE_REQUIRED | DEVICE_FORM_REQUIRED)) {
	case DEVICE_EMPTY:
		return d->flags & DEVICE_REASON
		           ? TR(r, "Choose a reason.", "Wählen Sie einen Grund.")
		           : TR(r, "Required.", "Pflichtfeld.");
	case DEVICE_NOT_EMAIL:
		return TR(r, "Not an email address (name@example.edu).",
		          "Keine E-Mail-Adresse (name@example.edu).");
	case DEVICE_NOT_SENDERS:
		return TR(r,
		          "Addresses (name@example.edu) or domains (@example.edu), separated by "
		          "spaces.",
		          "Adressen (name@example.edu) oder Domains (@example.edu), durch "
		          "Leerzeichen getrennt.");
	default:
		break;
	}
	if ((d->flags & DEVICE_REASON) && words_reason_find(v) == NULL)
		return TR(r, "Choose a reason.", "Wählen Sie einen Grund.");
	return NULL;
}

static void
check_details(struct web_req *r, struct reg_form *f, const char *reason)
{
	const char *v = f->details;

	if ((f->details_error = text_error(r, v, true)) == NULL && strcmp(reason, "other") == 0 &&
	    v[strspn(v, " \t\r\n")] == '\0')
		f->details_error =
		    TR(r, "Please explain the reason.", "Bitte erklären Sie den Grund.");
}

static void
check_address(struct web_req *r, struct reg_form *f, struct device *d)
{
	const struct config *cfg = r->cfg;
	const struct cidr *nets = cfg->n_web_register ? cfg->web_register : cfg->web_clients;
	size_t n = cfg->n_web_register ? cfg->n_web_register : cfg->n_web_clients;
	size_t at = index_of(device_field_named("address"));
	const char *v = f->value[at];
	struct device old;
	char err[256];
	bool inside = false;

	if (f->error[at])
		return;
	if (strchr(v, '/') || !cidr_parse(v, &d->net)) {
		f->error[at] = TR(r, "Not an IP address (like 192.0.2.10 or 2001:db8::10).",
		                  "Keine IP-Adresse (wie 192.0.2.10 oder 2001:db8::10).");
		return;
	}
	cidr_format(&d->net, d->address, sizeof(d->address));
	for (size_t i = 0; i < n; i++)
		inside |= cidr_overlaps(&nets[i], &d->net) && nets[i].prefix <= d->net.prefix;
	if (!inside) {
		f->error[at] = TR(
		    r, "This address is outside the networks whose devices may be registered here.",
		    "Diese Adresse liegt außerhalb der Netze, deren Geräte hier registriert werden "
		    "können.");
		return;
	}
	enum device_status st;
	if (registry_find_by_address(r->w->reg, d->address, &old, err, sizeof(err)) == OUT_OK &&
	    ((st = device_status_at(&old, r->now)) == DEVICE_PENDING || st == DEVICE_APPROVED)) {
		str_fmt(f->addr_error, sizeof(f->addr_error),
		        TR(r, "This address is already registered (reference %lld, %s).",
		           "Diese Adresse ist bereits registriert (Referenz %lld, %s)."),
		        (long long)old.id, device_status_name(st));
		f->error[at] = f->addr_error;
	}
}

static bool
validate(struct web_req *r, struct reg_form *f, struct device *d)
{
	bool ok = true;

	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *df = &device_fields[i];

		if (!(df->flags & DEVICE_FORM))
			continue;
		f->error[i] = field_error(r, df, f->value[i]);
		if (df->flags & DEVICE_REASON)
			check_details(r, f, f->value[i]);
	}
	check_address(r, f, d);
	for (size_t i = 0; i < device_n_fields; i++)
		ok &= f->error[i] == NULL;
	return ok && f->details_error == NULL;
}

/* ---- storing ---- */

static void
fill_device(const struct reg_form *f, struct device *d, int64_t now)
{
	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *df = &device_fields[i];
		const struct reason_def *why;

		if (!(df->flags & DEVICE_FORM) || df->kind != DEVICE_KIND_TEXT)
			continue;
		if (df->flags & DEVICE_REASON && (why = words_reason_find(f->value[i])) != NULL)
			/* as the admin reads it; the details may be cut at 255 bytes */
			str_fmt(device_text(d, df), df->size, "%s%s%s", why->en,
			        f->details[0] ? ": " : "", f->details);
		else
			str_copy(device_text(d, df), df->size, f->value[i]);
	}
	d->status = DEVICE_PENDING;
	d->created_at = now;
}

static void
done_page(struct web_req *r, const struct device *d)
{
	page_begin(r, TR(r, "Registration received", "Registrierung eingegangen"));
	html(&r->out, "<p>%s</p>\n<p class=\"ref\" id=\"reference\">%L</p>\n",
	     TR(r, "Your reference number:", "Ihre Referenznummer:"), d->id);
	html(&r->out,
	     TR(r,
	        "<h2>What happens next</h2>\n<ol>\n<li>The mail administrators review the "
	        "registration of <b>%s</b> (%s).</li>\n"
	        "<li>Once it is approved, the device may send unencrypted mail to internal "
	        "addresses until the end of the transition period.</li>\n"
	        "<li>Until then, and after a rejection, the gateway refuses its unencrypted "
	        "mail.</li>\n</ol>\n"
	        "<p>You can follow the status on <a href=\"/check?address=%s\">Check my "
	        "device</a>. Please quote the reference number in questions.</p>\n",
	        "<h2>Wie es weitergeht</h2>\n<ol>\n<li>Die Mail-Administratoren prüfen die "
	        "Registrierung von <b>%s</b> (%s).</li>\n"
	        "<li>Nach der Genehmigung darf das Gerät bis zum Ende der Übergangszeit "
	        "unverschlüsselt an interne Adressen senden.</li>\n"
	        "<li>Bis dahin und nach einer Ablehnung weist das Gateway seine unverschlüsselte "
	        "E-Mail ab.</li>\n</ol>\n"
	        "<p>Den Stand sehen Sie unter <a href=\"/check?address=%s\">Mein Gerät prüfen</a>. "
	        "Bitte nennen Sie bei Fragen die Referenznummer.</p>\n"),
	     d->name, d->address, d->address);
	page_end(r);
}

/* A registration flood: at most max_pending_per_address pending
 * registrations from one visitor, max_pending in all. False with the page
 * made when the limit is reached (or the registry cannot say). */
static bool
under_pending_limits(struct web_req *r, const char *actor)
{
	int64_t mine = 0, all = 0;
	char err[256];

	if (registry_count_pending(r->w->reg, actor, &mine, err, sizeof(err)) != OUT_OK ||
	    registry_count_pending(r->w->reg, NULL, &all, err, sizeof(err)) != OUT_OK) {
		log_error("event=web-error page=register error=\"%s\"", err);
		page_error(
		    r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "The registry cannot be read just now. Please try again in a minute.",
		    "Das Register kann gerade nicht gelesen werden. Bitte versuchen Sie es in "
		    "einer Minute noch einmal.");
		return false;
	}
	if (mine >= (int64_t)r->cfg->web_max_pending_per_address) {
		log_warn("event=web-register-limited client=%s pending=%lld limit=per-address",
		         r->client, (long long)mine);
		r->status = MHD_HTTP_TOO_MANY_REQUESTS;
		page_begin(r, TR(r, "Too many registrations", "Zu viele Registrierungen"));
		html(&r->out,
		     TR(r,
		        "<p class=\"error\" role=\"alert\">%L registrations from your address are "
		        "waiting for approval. Please wait for the mail administrators' decision "
		        "before you register more devices.</p>\n",
		        "<p class=\"error\" role=\"alert\">%L Registrierungen von Ihrer Adresse "
		        "warten auf Genehmigung. Bitte warten Sie die Entscheidung der "
		        "Mail-Administratoren ab, bevor Sie weitere Geräte registrieren.</p>\n"),
		     mine);
		page_end(r);
		return false;
	}
	if (all >= (int64_t)r->cfg->web_max_pending) {
		log_warn("event=web-register-limited client=%s pending=%lld limit=total", r->client,
		         (long long)all);
		page_error(
		    r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "Too many registrations are waiting for approval just now. Please try "
		    "again later, or ask the mail administrators.",
		    "Gerade warten zu viele Registrierungen auf Genehmigung. Bitte versuchen "
		    "Sie es später noch einmal oder fragen Sie die Mail-Administratoren.");
		return false;
	}
	return true;
}

void
page_register(struct web_req *r)
{
	struct reg_form f = {0};
	struct device d = {0};
	char err[512], actor[96], esc[300];

	if (!transition_registration_open(r->cfg, r->now)) {
		char en[160], de[160];
		str_fmt(en, sizeof(en), "The registration opens on %s.",
		        r->cfg->tr_date[TD_REGISTER_FROM]);
		str_fmt(de, sizeof(de), "Die Registrierung beginnt am %s.",
		        r->cfg->tr_date[TD_REGISTER_FROM]);
		page_error(r, MHD_HTTP_FORBIDDEN, en, de);
		return;
	}
	for (size_t i = 0; i < device_n_fields; i++)
		f.value[i] = r->is_post ? req_field(r, device_fields[i].name) : "";
	f.details = r->is_post ? req_field(r, DETAILS) : "";
	if (!r->is_post) {
		f.value[index_of(device_field_named("address"))] = r->client;
		form_page(r, &f, false);
		return;
	}
	if (!validate(r, &f, &d)) {
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		form_page(r, &f, true);
		return;
	}
	fill_device(&f, &d, r->now);
	str_copy(d.language, sizeof(d.language), r->lang == LANG_DE ? "de" : "en");
	str_fmt(actor, sizeof(actor), "web form (%s)", r->client);
	if (!under_pending_limits(r, actor))
		return;
	enum outcome o = registry_add(r->w->reg, &d, actor, false, err, sizeof(err));
	if (o == OUT_PERMFAIL) { /* an overlap found inside the transaction */
		str_copy(f.addr_error, sizeof(f.addr_error), err);
		f.error[index_of(device_field_named("address"))] = f.addr_error;
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		form_page(r, &f, true);
		return;
	}
	if (o != OUT_OK) {
		log_error("event=web-error page=register client=%s error=\"%s\"", r->client, err);
		page_error(
		    r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "The registration could not be stored just now. Please try again in a minute.",
		    "Die Registrierung konnte gerade nicht gespeichert werden. Bitte versuchen Sie "
		    "es in einer Minute noch einmal.");
		return;
	}
	log_info("event=web-registered client=%s device=%lld address=%s name=\"%s\"", r->client,
	         (long long)d.id, d.address, log_escape(esc, sizeof(esc), d.name, strlen(d.name)));
	done_page(r, &d);
}
