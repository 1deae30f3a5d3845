/* /register: a device operator asks for a registration; it is stored as
 * pending until an admin decides. */
#include <microhttpd.h>
#include <string.h>

#include "address.h"
#include "log.h"
#include "util/str.h"
#include "web/web_internal.h"

enum field {
	F_NAME,
	F_MANUFACTURER,
	F_MODEL,
	F_ADDRESS,
	F_LOCATION,
	F_OWNER_NAME,
	F_OWNER_EMAIL,
	F_ORG_UNIT,
	F_REASON,
	F_REASON_TEXT,
	F_REPLACEMENT,
	F_N
};

struct field_def {
	const char *name;
	bool is_required;
	bool is_multiline;
	const char *en, *de;           /* label */
	const char *hint_en, *hint_de; /* NULL: none */
};

static const struct field_def fields[F_N] = {
    [F_NAME] = {"name", true, false, "Device name", "Gerätename",
                "For example “Copier 3rd floor, room 312”.",
                "Zum Beispiel „Kopierer 3. Stock, Raum 312“."},
    [F_MANUFACTURER] = {"manufacturer", true, false, "Manufacturer", "Hersteller", NULL, NULL},
    [F_MODEL] = {"model", false, false, "Model", "Modell", NULL, NULL},
    [F_ADDRESS] =
        {"address", true, false, "IP address of the device", "IP-Adresse des Geräts",
         "Filled in with the address you are visiting from; change it if the device has another.",
         "Vorausgefüllt mit der Adresse, von der Sie diese Seite aufrufen; ändern Sie sie, wenn "
         "das Gerät eine andere hat."},
    [F_LOCATION] = {"location", false, false, "Location", "Standort", NULL, NULL},
    [F_OWNER_NAME] = {"owner_name", true, false, "Responsible person", "Verantwortliche Person",
                      NULL, NULL},
    [F_OWNER_EMAIL] = {"owner_email", true, false, "Email of the responsible person",
                       "E-Mail der verantwortlichen Person",
                       "We write to this address about the registration and its end.",
                       "An diese Adresse schreiben wir zur Registrierung und zu ihrem Ende."},
    [F_ORG_UNIT] = {"org_unit", false, false, "Organisational unit", "Organisationseinheit", NULL,
                    NULL},
    [F_REASON] = {"reason", true, false, "Why can the device not encrypt?",
                  "Warum kann das Gerät nicht verschlüsseln?", NULL, NULL},
    [F_REASON_TEXT] = {"reason_text", false, true, "Details", "Einzelheiten",
                       "Required for “Other”.", "Bei „Anderer Grund“ erforderlich."},
    [F_REPLACEMENT] = {"replacement", false, false, "Planned replacement or update",
                       "Geplanter Ersatz oder geplantes Update",
                       "When and how the device will be replaced or updated.",
                       "Wann und wie das Gerät ersetzt oder aktualisiert wird."},
};

struct reason_def {
	const char *code, *en, *de;
};

static const struct reason_def reasons[] = {
    {"no-tls", "The device has no encryption setting",
     "Das Gerät hat keine Einstellung für Verschlüsselung"},
    {"old-tls", REASON_OLD_TLS, "Es bietet nur SSL 3.0 oder TLS 1.0/1.1"},
    {"certificate", "It rejects the server certificate", "Es lehnt das Server-Zertifikat ab"},
    {"no-update", "The manufacturer offers no firmware update",
     "Der Hersteller bietet kein Firmware-Update an"},
    {"other", "Other (explain below)", "Anderer Grund (bitte unten erklären)"},
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

struct reg_form {
	const char *value[F_N];
	const char *error[F_N]; /* NULL: fine */
	char addr_error[512];   /* a sentence naming the existing registration */
};

static const struct reason_def *
reason_find(const char *code)
{
	for (size_t i = 0; i < N_REASONS; i++)
		if (strcmp(reasons[i].code, code) == 0)
			return &reasons[i];
	return NULL;
}

/* aria-describedby (hint and error) and aria-invalid of one control. */
static void
field_aria(struct web_req *r, const struct field_def *d, bool has_error)
{
	if (d->hint_en == NULL && !has_error)
		return;
	html(&r->out, " aria-describedby=\"");
	if (d->hint_en)
		html(&r->out, "%s-hint", d->name);
	if (has_error)
		html(&r->out, "%R%s-error", d->hint_en ? " " : "", d->name);
	html(&r->out, "\"%R", has_error ? " aria-invalid=\"true\"" : "");
}

static void
field_input(struct web_req *r, const struct reg_form *f, enum field i)
{
	const struct field_def *d = &fields[i];
	const char *err = f->error[i];

	html(&r->out, "<label for=\"%s\">%s%R</label>\n", d->name, TR(r, d->en, d->de),
	     d->is_required ? " *" : "");
	if (d->hint_en)
		html(&r->out, "<p class=\"hint\" id=\"%s-hint\">%s</p>\n", d->name,
		     TR(r, d->hint_en, d->hint_de));
	if (i == F_REASON) {
		html(&r->out, "<select id=\"reason\" name=\"reason\"");
		field_aria(r, d, err != NULL);
		html(&r->out, ">\n<option value=\"\">%s</option>\n",
		     TR(r, "Choose …", "Bitte wählen …"));
		for (size_t k = 0; k < N_REASONS; k++)
			html(&r->out, "<option value=\"%s\"%R>%s</option>\n", reasons[k].code,
			     strcmp(f->value[i], reasons[k].code) == 0 ? " selected" : "",
			     TR(r, reasons[k].en, reasons[k].de));
		html(&r->out, "</select>\n");
	} else if (d->is_multiline) {
		html(&r->out, "<textarea id=\"%s\" name=\"%s\" maxlength=\"%d\"", d->name, d->name,
		     WEB_FIELD_MAX);
		field_aria(r, d, err != NULL);
		html(&r->out, ">%s</textarea>\n", f->value[i]);
	} else {
		html(&r->out, "<input id=\"%s\" name=\"%s\" value=\"%s\" maxlength=\"%d\"%R",
		     d->name, d->name, f->value[i], WEB_FIELD_MAX,
		     i == F_OWNER_EMAIL ? " type=\"email\" autocomplete=\"email\"" : "");
		field_aria(r, d, err != NULL);
		html(&r->out, ">\n");
	}
	if (err)
		html(&r->out, "<p class=\"error\" id=\"%s-error\">%s</p>\n", d->name, err);
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
	for (enum field i = 0; i < F_N; i++)
		field_input(r, f, i);
	html(&r->out, "<p class=\"hint\">%s</p>\n<button type=\"submit\">%s</button>\n</form>\n",
	     TR(r, "* required", "* Pflichtfeld"),
	     TR(r, "Send registration", "Registrierung senden"));
	page_end(r);
}

/* ---- validation ---- */

static void
check_text(struct web_req *r, struct reg_form *f, enum field i)
{
	const char *v = f->value[i];

	if (!text_is_clean(v, fields[i].is_multiline))
		f->error[i] = TR(r,
		                 "Contains characters that are not allowed (control characters, "
		                 "or invisible ones that change the direction or joining of text).",
		                 "Enthält nicht erlaubte Zeichen (Steuerzeichen oder unsichtbare "
		                 "Zeichen, die Richtung oder Verbindung des Texts ändern).");
	else if (utf8_chars(v) > WEB_FIELD_MAX || strlen(v) >= DEVICE_TEXT_MAX)
		f->error[i] = TR(r, "At most 200 characters.", "Höchstens 200 Zeichen.");
	else if (fields[i].is_required && v[strspn(v, " \t")] == '\0')
		f->error[i] = TR(r, "Required.", "Pflichtfeld.");
}

static void
check_email(struct web_req *r, struct reg_form *f)
{
	const char *v = f->value[F_OWNER_EMAIL];
	struct address a;
	size_t used = 0;

	if (f->error[F_OWNER_EMAIL])
		return;
	if (address_parse_path(v, strlen(v), true, &a, &used) != ADDRESS_OK || used != strlen(v) ||
	    a.is_null || a.domain[0] == '\0')
		f->error[F_OWNER_EMAIL] = TR(r, "Not an email address (name@example.edu).",
		                             "Keine E-Mail-Adresse (name@example.edu).");
}

static void
check_address(struct web_req *r, struct reg_form *f, struct device *d)
{
	const struct config *cfg = r->cfg;
	const struct cidr *nets = cfg->n_web_register ? cfg->web_register : cfg->web_clients;
	size_t n = cfg->n_web_register ? cfg->n_web_register : cfg->n_web_clients;
	const char *v = f->value[F_ADDRESS];
	struct device old;
	char err[256];
	bool inside = false;

	if (f->error[F_ADDRESS])
		return;
	if (strchr(v, '/') || !cidr_parse(v, &d->net)) {
		f->error[F_ADDRESS] = TR(r, "Not an IP address (like 192.0.2.10 or 2001:db8::10).",
		                         "Keine IP-Adresse (wie 192.0.2.10 oder 2001:db8::10).");
		return;
	}
	cidr_format(&d->net, d->address, sizeof(d->address));
	for (size_t i = 0; i < n; i++)
		inside |= cidr_overlaps(&nets[i], &d->net) && nets[i].prefix <= d->net.prefix;
	if (!inside) {
		f->error[F_ADDRESS] = TR(
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
		f->error[F_ADDRESS] = f->addr_error;
	}
}

static bool
validate(struct web_req *r, struct reg_form *f, struct device *d)
{
	for (enum field i = 0; i < F_N; i++)
		check_text(r, f, i);
	if (!f->error[F_REASON] && reason_find(f->value[F_REASON]) == NULL)
		f->error[F_REASON] = TR(r, "Choose a reason.", "Wählen Sie einen Grund.");
	if (!f->error[F_REASON_TEXT] && strcmp(f->value[F_REASON], "other") == 0 &&
	    f->value[F_REASON_TEXT][strspn(f->value[F_REASON_TEXT], " \t\r\n")] == '\0')
		f->error[F_REASON_TEXT] =
		    TR(r, "Please explain the reason.", "Bitte erklären Sie den Grund.");
	check_email(r, f);
	check_address(r, f, d);
	for (enum field i = 0; i < F_N; i++)
		if (f->error[i])
			return false;
	return true;
}

/* ---- storing ---- */

static void
fill_device(const struct reg_form *f, struct device *d, int64_t now)
{
	const struct reason_def *why = reason_find(f->value[F_REASON]);
	const char *text = f->value[F_REASON_TEXT];

	str_copy(d->name, sizeof(d->name), f->value[F_NAME]);
	str_copy(d->manufacturer, sizeof(d->manufacturer), f->value[F_MANUFACTURER]);
	str_copy(d->model, sizeof(d->model), f->value[F_MODEL]);
	str_copy(d->location, sizeof(d->location), f->value[F_LOCATION]);
	str_copy(d->owner_name, sizeof(d->owner_name), f->value[F_OWNER_NAME]);
	str_copy(d->owner_email, sizeof(d->owner_email), f->value[F_OWNER_EMAIL]);
	str_copy(d->org_unit, sizeof(d->org_unit), f->value[F_ORG_UNIT]);
	str_copy(d->replacement, sizeof(d->replacement), f->value[F_REPLACEMENT]);
	/* The reason as the admin reads it; the text may be cut at 255 bytes. */
	str_fmt(d->reason, sizeof(d->reason), "%s%s%s", why->en, text[0] ? ": " : "", text);
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

	for (enum field i = 0; i < F_N; i++)
		f.value[i] = r->is_post ? req_field(r, fields[i].name) : "";
	if (!r->is_post) {
		f.value[F_ADDRESS] = r->client;
		form_page(r, &f, false);
		return;
	}
	if (!validate(r, &f, &d)) {
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		form_page(r, &f, true);
		return;
	}
	fill_device(&f, &d, r->now);
	str_fmt(actor, sizeof(actor), "web form (%s)", r->client);
	if (!under_pending_limits(r, actor))
		return;
	enum outcome o = registry_add(r->w->reg, &d, actor, false, err, sizeof(err));
	if (o == OUT_PERMFAIL) { /* an overlap found inside the transaction */
		str_copy(f.addr_error, sizeof(f.addr_error), err);
		f.error[F_ADDRESS] = f.addr_error;
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
