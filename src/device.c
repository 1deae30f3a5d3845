#include "device.h"

#include <string.h>
#include <strings.h>

#include "address.h"
#include "util/isodate.h"
#include "util/str.h"

#define TEXT(m) .offset = offsetof(struct device, m), .size = sizeof(((struct device *)0)->m)
#define INT(m)  .offset = offsetof(struct device, m), .size = sizeof(int64_t)

/* The order of the registry's SELECT, of JSON keys and CSV columns, and of
 * the registration form. */
const struct device_field device_fields[] = {
    {.name = "id", .column = "id", .kind = DEVICE_KIND_ID, INT(id)},
    {.name = "address",
     .column = "address",
     .kind = DEVICE_KIND_ADDRESS,
     TEXT(address),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_REQUIRED,
     .label_en = "IP address of the device",
     .label_de = "IP-Adresse des Geräts",
     .hint_en = "Filled in with the address you are visiting from; change it if the device "
                "has another.",
     .hint_de = "Vorausgefüllt mit der Adresse, von der Sie diese Seite aufrufen; ändern Sie "
                "sie, wenn das Gerät eine andere hat."},
    {.name = "status",
     .column = "status",
     .kind = DEVICE_KIND_STATUS,
     .offset = offsetof(struct device, status),
     .flags = DEVICE_INSERT},
    {.name = "name",
     .column = "name",
     .kind = DEVICE_KIND_TEXT,
     TEXT(name),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_REQUIRED | DEVICE_ADMIN_DEVICE,
     .option = "--name",
     .label_en = "Device name",
     .label_de = "Gerätename",
     .hint_en = "For example “Copier 3rd floor, room 312”.",
     .hint_de = "Zum Beispiel „Kopierer 3. Stock, Raum 312“."},
    {.name = "manufacturer",
     .column = "manufacturer",
     .kind = DEVICE_KIND_TEXT,
     TEXT(manufacturer),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_FORM_REQUIRED | DEVICE_ADMIN_DEVICE,
     .option = "--manufacturer",
     .label_en = "Manufacturer",
     .label_de = "Hersteller"},
    {.name = "model",
     .column = "model",
     .kind = DEVICE_KIND_TEXT,
     TEXT(model),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_ADMIN_DEVICE | DEVICE_ADMIN_SAME_LINE,
     .option = "--model",
     .label_en = "Model",
     .label_de = "Modell"},
    {.name = "location",
     .column = "location",
     .kind = DEVICE_KIND_TEXT,
     TEXT(location),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_ADMIN_DEVICE,
     .option = "--location",
     .label_en = "Location",
     .label_de = "Standort"},
    {.name = "owner_name",
     .column = "owner_name",
     .kind = DEVICE_KIND_TEXT,
     TEXT(owner_name),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_FORM_REQUIRED | DEVICE_ADMIN_OWNER,
     .option = "--owner-name",
     .label_en = "Responsible person",
     .label_de = "Verantwortliche Person"},
    {.name = "owner_email",
     .column = "owner_email",
     .kind = DEVICE_KIND_TEXT,
     TEXT(owner_email),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_REQUIRED | DEVICE_EMAIL | DEVICE_ADMIN_OWNER,
     .option = "--owner",
     .label_en = "Email of the responsible person",
     .label_de = "E-Mail der verantwortlichen Person",
     .hint_en = "We write to this address about the registration and its end.",
     .hint_de = "An diese Adresse schreiben wir zur Registrierung und zu ihrem Ende."},
    {.name = "org_unit",
     .column = "org_unit",
     .kind = DEVICE_KIND_TEXT,
     TEXT(org_unit),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_ADMIN_OWNER,
     .option = "--org-unit",
     .label_en = "Organisational unit",
     .label_de = "Organisationseinheit"},
    {.name = "reason",
     .column = "reason",
     .kind = DEVICE_KIND_TEXT,
     TEXT(reason),
     .flags =
         DEVICE_INSERT | DEVICE_FORM | DEVICE_FORM_REQUIRED | DEVICE_REASON | DEVICE_ADMIN_DEVICE,
     .option = "--reason",
     .label_en = "Why can the device not encrypt?",
     .label_de = "Warum kann das Gerät nicht verschlüsseln?"},
    {.name = "replacement",
     .column = "replacement",
     .kind = DEVICE_KIND_TEXT,
     TEXT(replacement),
     .flags = DEVICE_INSERT | DEVICE_FORM,
     .option = "--replacement",
     .label_en = "Planned replacement or update",
     .label_de = "Geplanter Ersatz oder geplantes Update",
     .hint_en = "When and how the device will be replaced or updated.",
     .hint_de = "Wann und wie das Gerät ersetzt oder aktualisiert wird."},
    {.name = "sender",
     .column = "sender",
     .kind = DEVICE_KIND_TEXT,
     TEXT(sender),
     .flags = DEVICE_INSERT | DEVICE_FORM | DEVICE_SENDERS | DEVICE_ADMIN_DEVICE,
     .option = "--sender",
     .label_en = "Sender addresses the device uses",
     .label_de = "Absenderadressen des Geräts",
     .hint_en = "The From addresses set on the device, separated by spaces (@domain for a "
                "whole domain). When given, the device may send only as these.",
     .hint_de = "Die im Gerät eingestellten Absenderadressen, durch Leerzeichen getrennt "
                "(@domain für eine ganze Domain). Wenn angegeben, darf das Gerät nur mit "
                "diesen senden."},
    {.name = "language",
     .column = "language",
     .kind = DEVICE_KIND_TEXT,
     TEXT(language),
     .flags = DEVICE_INSERT | DEVICE_LANGUAGE,
     .option = "--language"},
    {.name = "renewal_request",
     .column = "renewal_request",
     .kind = DEVICE_KIND_TEXT,
     TEXT(renewal_request)},
    {.name = "legacy_tls",
     .column = "legacy_tls",
     .kind = DEVICE_KIND_BOOL,
     .offset = offsetof(struct device, legacy_tls),
     .flags = DEVICE_INSERT,
     .option = "--legacy-tls"},
    {.name = "expires",
     .column = "expires",
     .kind = DEVICE_KIND_TEXT,
     TEXT(expires),
     .flags = DEVICE_INSERT},
    {.name = "expires_at",
     .column = "expires_at",
     .kind = DEVICE_KIND_TIME,
     INT(expires_at),
     .flags = DEVICE_INSERT},
    {.name = "created_at",
     .column = "created_at",
     .kind = DEVICE_KIND_TIME,
     INT(created_at),
     .flags = DEVICE_INSERT},
    {.name = "decided_at",
     .column = "decided_at",
     .kind = DEVICE_KIND_TIME,
     INT(decided_at),
     .flags = DEVICE_INSERT},
    {.name = "decided_by",
     .column = "decided_by",
     .kind = DEVICE_KIND_TEXT,
     TEXT(decided_by),
     .flags = DEVICE_INSERT},
    {.name = "note", .column = "note", .kind = DEVICE_KIND_TEXT, TEXT(note)},
    {.name = "first_seen", .column = "first_seen", .kind = DEVICE_KIND_TIME, INT(first_seen)},
    {.name = "last_seen", .column = "last_seen", .kind = DEVICE_KIND_TIME, INT(last_seen)},
    {.name = "sessions", .column = "session_count", .kind = DEVICE_KIND_COUNT, INT(session_count)},
    {.name = "messages", .column = "message_count", .kind = DEVICE_KIND_COUNT, INT(message_count)},
    {.name = "last_tls", .column = "last_tls", .kind = DEVICE_KIND_TEXT, TEXT(last_tls)},
    {.name = "last_listener",
     .column = "last_listener",
     .kind = DEVICE_KIND_TEXT,
     TEXT(last_listener)},
};

const size_t device_n_fields = sizeof(device_fields) / sizeof(device_fields[0]);
_Static_assert(sizeof(device_fields) / sizeof(device_fields[0]) <= DEVICE_FIELDS_MAX,
               "DEVICE_FIELDS_MAX holds every field");

static const char *const status_names[DEVICE_NSTATUS] = {"pending", "approved", "rejected",
                                                         "expired", "revoked"};

const char *
device_status_name(enum device_status s)
{
	return (unsigned)s < DEVICE_NSTATUS ? status_names[s] : "?";
}

bool
device_status_parse(const char *s, enum device_status *out)
{
	for (int i = 0; i < DEVICE_NSTATUS; i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum device_status)i;
			return true;
		}
	}
	return false;
}

enum device_status
device_status_at(const struct device *d, int64_t now)
{
	if (d->status == DEVICE_APPROVED && d->expires_at && now >= d->expires_at)
		return DEVICE_EXPIRED;
	return d->status;
}

int
device_rank(enum device_status st, int64_t expires_at, int64_t now)
{
	switch (st) {
	case DEVICE_APPROVED:
		return expires_at == 0 || now < expires_at ? 0 : 2;
	case DEVICE_PENDING:
		return 1;
	case DEVICE_EXPIRED:
		return 2;
	case DEVICE_REVOKED:
		return 3;
	default:
		return 4;
	}
}

char *
device_text(struct device *d, const struct device_field *f)
{
	if (f->kind != DEVICE_KIND_TEXT && f->kind != DEVICE_KIND_ADDRESS)
		return NULL;
	return (char *)d + f->offset;
}

const char *
device_text_const(const struct device *d, const struct device_field *f)
{
	if (f->kind != DEVICE_KIND_TEXT && f->kind != DEVICE_KIND_ADDRESS)
		return NULL;
	return (const char *)d + f->offset;
}

int64_t
device_int_value(const struct device *d, const struct device_field *f)
{
	int64_t v;

	memcpy(&v, (const char *)d + f->offset, sizeof(v));
	return v;
}

int64_t *
device_int(struct device *d, const struct device_field *f)
{
	if (f->kind != DEVICE_KIND_ID && f->kind != DEVICE_KIND_TIME &&
	    f->kind != DEVICE_KIND_COUNT)
		return NULL;
	return (int64_t *)(void *)((char *)d + f->offset);
}

void
device_field_text(const struct device *d, const struct device_field *f, int64_t now, char *dst,
                  size_t size)
{
	switch (f->kind) {
	case DEVICE_KIND_STATUS:
		str_copy(dst, size, device_status_name(device_status_at(d, now)));
		break;
	case DEVICE_KIND_BOOL:
		str_copy(dst, size,
		         *(const bool *)(const void *)((const char *)d + f->offset) ? "yes" : "no");
		break;
	case DEVICE_KIND_TIME:
		if (device_int_value(d, f) == 0)
			str_copy(dst, size, "");
		else
			isodate_format(device_int_value(d, f), dst, size);
		break;
	case DEVICE_KIND_ID:
	case DEVICE_KIND_COUNT:
		str_fmt(dst, size, "%lld", (long long)device_int_value(d, f));
		break;
	default:
		str_copy(dst, size, device_text_const(d, f));
		break;
	}
}

bool *
device_bool(struct device *d, const struct device_field *f)
{
	return f->kind == DEVICE_KIND_BOOL ? (bool *)((char *)d + f->offset) : NULL;
}

enum device_status *
device_status_of(struct device *d, const struct device_field *f)
{
	return f->kind == DEVICE_KIND_STATUS ? (enum device_status *)(void *)((char *)d + f->offset)
	                                     : NULL;
}

static bool
is_email(const char *s)
{
	struct address a;
	size_t used = 0, len = strlen(s);

	return address_parse_path(s, len, true, &a, &used) == ADDRESS_OK && used == len &&
	       !a.is_null && a.domain[0] != '\0';
}

/* One word of a sender list: an address, or "@" and a domain. */
static bool
sender_word_valid(const char *w)
{
	if (w[0] == '@') {
		char addr[DEVICE_TEXT_MAX + 8];
		return w[1] != '\0' && str_fmt(addr, sizeof(addr), "x%s", w) && is_email(addr);
	}
	return is_email(w);
}

static bool
senders_valid(const char *v)
{
	char copy[DEVICE_TEXT_MAX], *save = NULL;

	if (!str_copy(copy, sizeof(copy), v))
		return false;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!sender_word_valid(w))
			return false;
	return true;
}

bool
device_is_german(const struct device *d)
{
	return strcmp(d->language, "de") == 0;
}

bool
device_sender_allowed(const struct device *d, const char *sender)
{
	char copy[DEVICE_TEXT_MAX], *save = NULL;
	const char *at = strrchr(sender, '@');
	bool is_empty = true;

	if (sender[0] == '\0')
		return true; /* the null sender speaks for nobody */
	str_copy(copy, sizeof(copy), d->sender);
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		is_empty = false;
		if (w[0] == '@' ? at && strcasecmp(at + 1, w + 1) == 0 : strcasecmp(w, sender) == 0)
			return true;
	}
	return is_empty;
}

enum device_problem
device_field_check(const struct device_field *f, const char *v, unsigned required)
{
	if ((f->flags & required) && v[strspn(v, " \t\r\n")] == '\0')
		return DEVICE_EMPTY;
	if ((f->flags & DEVICE_EMAIL) && v[0] && !is_email(v))
		return DEVICE_NOT_EMAIL;
	if ((f->flags & DEVICE_SENDERS) && !senders_valid(v))
		return DEVICE_NOT_SENDERS;
	if ((f->flags & DEVICE_LANGUAGE) && v[0] && strcmp(v, "en") != 0 && strcmp(v, "de") != 0)
		return DEVICE_NOT_LANGUAGE;
	return DEVICE_OK;
}

const struct device_field *
device_check(const struct device *d, unsigned required, enum device_problem *problem)
{
	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *f = &device_fields[i];
		const char *v = device_text_const(d, f);

		if (v && (*problem = device_field_check(f, v, required)) != DEVICE_OK)
			return f;
	}
	*problem = DEVICE_OK;
	return NULL;
}

const struct device_field *
device_field_named(const char *name)
{
	for (size_t i = 0; i < device_n_fields; i++)
		if (strcmp(device_fields[i].name, name) == 0)
			return &device_fields[i];
	return NULL;
}

const struct device_field *
device_field_of_option(const char *option)
{
	for (size_t i = 0; i < device_n_fields; i++)
		if (device_fields[i].option && strcmp(device_fields[i].option, option) == 0)
			return &device_fields[i];
	return NULL;
}
