#include "web/words.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"

const struct reason_def words_reasons[] = {
    {"no-tls", "The device has no encryption setting",
     "Das Gerät hat keine Einstellung für Verschlüsselung"},
    {"old-tls", REASON_OLD_TLS, "Es bietet nur SSL 3.0 oder TLS 1.0/1.1"},
    {"certificate", "It rejects the server certificate", "Es lehnt das Server-Zertifikat ab"},
    {"no-update", "The manufacturer offers no firmware update",
     "Der Hersteller bietet kein Firmware-Update an"},
    {"other", "Other (explain below)", "Anderer Grund (bitte unten erklären)"},
};
const size_t words_n_reasons = sizeof(words_reasons) / sizeof(words_reasons[0]);

const struct reason_def *
words_reason_find(const char *code)
{
	for (size_t i = 0; i < words_n_reasons; i++)
		if (strcmp(words_reasons[i].code, code) == 0)
			return &words_reasons[i];
	return NULL;
}

const char *
words_status(enum device_status s, bool de)
{
	static const char *const en[DEVICE_NSTATUS] = {"pending", "approved", "rejected", "expired",
	                                               "revoked"};
	static const char *const ger[DEVICE_NSTATUS] = {"wartet", "genehmigt", "abgelehnt",
	                                                "abgelaufen", "widerrufen"};

	if ((unsigned)s >= DEVICE_NSTATUS)
		return "?";
	return de ? ger[s] : en[s];
}

void
words_reason(const char *stored, bool de, char *out, size_t size)
{
	for (size_t i = 0; de && i < words_n_reasons; i++) {
		size_t n = strlen(words_reasons[i].en);
		if (strncmp(stored, words_reasons[i].en, n) == 0 &&
		    (stored[n] == '\0' || stored[n] == ':')) {
			str_fmt(out, size, "%s%s", words_reasons[i].de, stored + n);
			return;
		}
	}
	str_copy(out, size, stored);
}

/* ---- the handshake diagnosis ---- */

struct phrase {
	const char *en, *de;
};

static const struct phrase whole[] = {
    {"plaintext on the implicit-TLS port",
     "unverschlüsselt am Port mit implizitem TLS: stellen Sie das Gerät für diesen Port auf "
     "„SSL“ (SSL/TLS) oder auf STARTTLS („TLS“) am Port für STARTTLS"},
    {"a TLS ClientHello on a port without implicit TLS",
     "ein TLS-ClientHello an einem Port ohne implizites TLS: stellen Sie das Gerät hier auf "
     "STARTTLS („TLS“) oder auf „SSL“ am Port mit implizitem TLS"},
    {"the client sent no TLS ClientHello we could read",
     "der Client hat kein lesbares TLS-ClientHello gesendet"},
};

static const struct phrase advice[] = {
    {"a firmware update is needed, or register it with legacy TLS",
     "ein Firmware-Update ist nötig, oder registrieren Sie es mit altem TLS"},
    {"its cipher suites are all too weak: a firmware update is needed",
     "alle Verfahren sind zu schwach: ein Firmware-Update ist nötig"},
    {"the versions fit: check the device's certificate settings and clock",
     "die Versionen passen: prüfen Sie die Zertifikatseinstellungen und die Uhr des Geräts"},
};

/* dst = src with every "from" replaced by "to". */
static void
replace(char *dst, size_t size, const char *src, const char *from, const char *to)
{
	size_t n = 0, flen = strlen(from);

	dst[0] = '\0';
	while (*src && n + 1 < size) {
		if (strncmp(src, from, flen) == 0) {
			str_copy(dst + n, size - n, to);
			n = strlen(dst);
			src += flen;
		} else {
			dst[n++] = *src++;
			dst[n] = '\0';
		}
	}
}

/* "offers only TLS 1.0" -> "bietet nur TLS 1.0" */
static void
offered_de(const char *en, size_t len, char *out, size_t size)
{
	char part[128], tmp[160];

	str_copyn(part, sizeof(part), en, len);
	replace(tmp, sizeof(tmp), part, "an unknown version", "eine unbekannte Version");
	if (strncmp(tmp, "offers up to ", 13) == 0)
		str_fmt(out, size, "bietet bis zu %s", tmp + 13);
	else if (strncmp(tmp, "offers only ", 12) == 0)
		str_fmt(out, size, "bietet nur %s", tmp + 12);
	else if (strncmp(tmp, "offers ", 7) == 0) {
		replace(part, sizeof(part), tmp + 7, " to ", " bis ");
		str_fmt(out, size, "bietet %s", part);
	} else
		str_copy(out, size, tmp);
}

/* "4 cipher suites, CBC and RC4; no SNI" */
static void
inner_de(const char *en, size_t len, char *out, size_t size)
{
	char a[256], b[256];

	str_copyn(a, sizeof(a), en, len);
	replace(b, sizeof(b), a, " cipher suites", " Verfahren");
	replace(a, sizeof(a), b, " and ", " und ");
	replace(out, size, a, "no SNI", "kein SNI");
}

void
words_diagnosis(const char *diag, bool de, char *out, size_t size)
{
	char off[160], in[256];

	if (!de) {
		str_copy(out, size, diag);
		return;
	}
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (strncmp(diag, whole[i].en, strlen(whole[i].en)) == 0) {
			str_copy(out, size, whole[i].de);
			return;
		}
	const char *open = strstr(diag, " ("), *close = strstr(diag, "): ");
	if (open == NULL || close == NULL || close < open) {
		str_copy(out, size, diag);
		return;
	}
	offered_de(diag, (size_t)(open - diag), off, sizeof(off));
	inner_de(open + 2, (size_t)(close - open - 2), in, sizeof(in));
	const char *adv = close + 3;
	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		if (strcmp(adv, advice[i].en) == 0)
			adv = advice[i].de;
	str_fmt(out, size, "%s (%s): %s", off, in, adv);
}

/* ---- refusals ---- */

struct reply_de {
	const char *code, *enhanced, *contains; /* NULL: any */
	const char *de;
};

static const struct reply_de replies[] = {
    {"530", "5.7.0", "STARTTLS", "das Gerät muss zuerst verschlüsseln (STARTTLS)"},
    {"530", "5.7.0", "Authentication", "eine Anmeldung ist nötig"},
    {"450", "4.7.0", NULL,
     "unverschlüsselt: vorübergehend abgewiesen, bald endgültig; stellen Sie das Gerät um"},
    {"550", "5.7.1", "legacy TLS", "mit altem TLS nur an interne Adressen"},
    {"550", "5.7.1", "internal", "diese Schnittstelle stellt nur an interne Adressen zu"},
    {"550", "5.7.1", NULL, "dieser Empfänger ist hier nicht erlaubt"},
    {"553", "5.7.1", "registered to send as",
     "das Gerät darf nur mit seinen registrierten Absenderadressen senden"},
    {"553", "5.7.1", NULL, "diese Absenderadresse ist nicht erlaubt"},
    {"553", "5.6.7", NULL, "die Adresse braucht SMTPUTF8"},
    {"535", NULL, NULL, "die Anmeldung ist fehlgeschlagen"},
    {"454", NULL, NULL, "die Anmeldung ist vorübergehend nicht möglich"},
    {"552", NULL, NULL, "die Nachricht ist zu groß"},
    {"452", "4.5.3", NULL, "zu viele Empfänger"},
    {"452", NULL, NULL, "der Speicher des Gateways ist voll; später erneut versuchen"},
    {"451", NULL, NULL, "ein vorübergehender Fehler des Gateways; später erneut versuchen"},
    {"450", "4.7.1", NULL, "das Limit des Kontos für diese Stunde ist erreicht"},
    {"554", "5.6.0", NULL, "eine Zeile der Nachricht ist zu lang"},
    {"554", "5.4.6", NULL, "zu viele Received-Zeilen (eine Mail-Schleife?)"},
    {"554", NULL, NULL, "nicht zugelassen"},
    {"421", NULL, NULL, "das Gateway hat die Verbindung beendet; später erneut versuchen"},
    {"503", "5.7.1", NULL, "kein Dienst für dieses Gerät"},
    {"50", NULL, NULL, "ein Protokollfehler des Geräts"},
};

static const char *
reply_sentence(const char *code, const char *enhanced, const char *text)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		const struct reply_de *x = &replies[i];
		if (strncmp(code, x->code, strlen(x->code)) == 0 &&
		    (x->enhanced == NULL || strcmp(enhanced, x->enhanced) == 0) &&
		    (x->contains == NULL || strstr(text, x->contains)))
			return x->de;
	}
	return NULL;
}

static const struct phrase connect_why[] = {
    {"is not registered for unencrypted mail",
     "das Gerät ist nicht für unverschlüsselte E-Mail registriert; senden Sie verschlüsselt "
     "(STARTTLS) oder registrieren Sie das Gerät"},
    {") expired on ", "die Registrierung des Geräts ist abgelaufen; lassen Sie sie verlängern"},
    {"is waiting for approval",
     "die Registrierung des Geräts wartet auf die Freigabe durch die Mail-Administratoren"},
    {") was rejected", "die Registrierung des Geräts wurde abgelehnt"},
    {") was revoked", "die Registrierung des Geräts wurde widerrufen"},
    {"is not allowed to send mail through interface",
     "diese Adresse darf über diese Schnittstelle nicht senden; nutzen Sie die Schnittstelle "
     "für Ihr Netz oder fragen Sie die Mail-Administratoren"},
    {"registry cannot be read",
     "die Registrierungen können gerade nicht gelesen werden; versuchen Sie es in einer "
     "Minute erneut"},
    {"too many connections", "zu viele gleichzeitige Verbindungen; später erneut versuchen"},
};

static void
connect_de(const char *why, char *out, size_t size)
{
	str_copy(out, size, "bei der Verbindung abgewiesen");
	for (size_t i = 0; i < sizeof(connect_why) / sizeof(connect_why[0]); i++)
		if (strstr(why, connect_why[i].en)) {
			str_fmt(out, size, "bei der Verbindung abgewiesen: %s", connect_why[i].de);
			return;
		}
}

/* "refused: 550 5.7.1 <x@gmail.com>: ..." -> code, enhanced code, the rest */
static void
split_reply(const char *p, char *code, char *enhanced, const char **rest)
{
	size_t n = strcspn(p, " ");

	str_copyn(code, 8, p, n < 7 ? n : 7);
	p += n;
	p += strspn(p, " ");
	n = strcspn(p, " ");
	if (n && n < 12 && (p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] == '.') {
		str_copyn(enhanced, 12, p, n);
		p += n;
		p += strspn(p, " ");
	} else {
		enhanced[0] = '\0';
	}
	*rest = p;
}

static void
refused(const char *reply, bool de, bool is_full, char *out, size_t size)
{
	char code[8], enhanced[12];
	const char *rest;

	split_reply(reply, code, enhanced, &rest);
	if (!de) {
		if (is_full)
			str_fmt(out, size, "refused: %s", reply);
		else
			str_fmt(out, size, "refused: %s%s%s", code, enhanced[0] ? " " : "",
			        enhanced);
		return;
	}
	const char *s = is_full ? reply_sentence(code, enhanced, rest) : NULL;
	str_fmt(out, size, "abgewiesen: %s%s%s%s%s", code, enhanced[0] ? " " : "", enhanced,
	        s ? ", " : "", s ? s : "");
}

void
words_result(const char *result, bool de, bool is_full, char *out, size_t size)
{
	unsigned n;
	char diag[512];

	if (strncmp(result, "refused: ", 9) == 0) {
		refused(result + 9, de, is_full, out, size);
	} else if (strncmp(result, "refused at connect", 18) == 0) {
		if (!de)
			str_copy(out, size, is_full ? result : "refused at connect");
		else if (is_full && result[18] == ':')
			connect_de(result + 19, out, size);
		else
			str_copy(out, size, "bei der Verbindung abgewiesen");
	} else if (!de) {
		str_copy(out, size, result); /* "accepted 2 messages", "no message sent", ... */
	} else if (strncmp(result, "accepted ", 9) == 0) {
		n = (unsigned)strtoul(result + 9, NULL, 10);
		str_fmt(out, size, "%u %s angenommen", n, n == 1 ? "Nachricht" : "Nachrichten");
	} else if (strcmp(result, "no message sent") == 0) {
		str_copy(out, size, "keine Nachricht gesendet");
	} else if (strncmp(result, "TLS handshake failed", 20) == 0) {
		diag[0] = '\0';
		if (result[20] == ':')
			words_diagnosis(result + 22, true, diag, sizeof(diag));
		str_fmt(out, size, "TLS-Aufbau fehlgeschlagen%s%s", diag[0] ? ": " : "", diag);
	} else {
		str_copy(out, size, result);
	}
}

static const struct phrase errors[] = {
    {"The reason is too long", "Der Grund ist zu lang oder enthält Steuerzeichen."},
    {"Give an expiry date", "Geben Sie ein Ablaufdatum an (JJJJ-MM-TT)."},
    {"Give a reason.", "Geben Sie einen Grund an."},
    {"Unknown action.", "Unbekannte Aktion."},
    {"Tick at least one registration.", "Wählen Sie mindestens eine Registrierung aus."},
    {"has passed; give a later date",
     "Das Datum liegt in der Vergangenheit; geben Sie ein späteres an."},
    {"is not a date", "Das ist kein Datum: geben Sie JJJJ-MM-TT an."},
    {"only approved or expired devices can be renewed",
     "Nur genehmigte oder abgelaufene Registrierungen können verlängert werden."},
    {"no registration", "Diese Registrierung gibt es nicht, oder sie erlaubt diese Aktion nicht."},
    {"no device with id", "Diese Registrierung gibt es nicht."},
    {"registry: ",
     "Das Register kann gerade nicht geschrieben werden; versuchen Sie es in einer Minute "
     "noch einmal."},
};

void
words_error(const char *err, bool de, char *out, size_t size)
{
	if (!de) {
		str_copy(out, size, err);
		return;
	}
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strstr(err, errors[i].en)) {
			str_copy(out, size, errors[i].de);
			return;
		}
	str_copy(out, size, "Die Aktion war so nicht möglich.");
}
