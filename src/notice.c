#include "notice.h"

#include <string.h>
#include <time.h>

#include "util/base64.h"
#include "util/isodate.h"
#include "util/str.h"

#define DAY 86400

bool
notice_due(const struct device *d, const uint64_t *remind, size_t n_remind, int64_t now,
           struct notice *out)
{
	char dist[16];

	if ((d->status != DEVICE_APPROVED && d->status != DEVICE_EXPIRED) || d->expires_at == 0 ||
	    d->owner_email[0] == '\0')
		return false;
	memset(out, 0, sizeof(*out));
	if (now >= d->expires_at) {
		if (now >= d->expires_at + NOTICE_EXPIRED_GRACE)
			return false;
		out->kind = NOTICE_EXPIRED;
		str_fmt(out->key, sizeof(out->key), "expired:%lld:%lld", (long long)d->id,
		        (long long)d->expires_at);
		return true;
	}
	if (d->status != DEVICE_APPROVED)
		return false;
	/* remind[] is largest first: the last one reached is the nearest */
	bool found = false;
	for (size_t i = 0; i < n_remind; i++) {
		if (now >= d->expires_at - (int64_t)remind[i]) {
			out->before = remind[i];
			found = true;
		}
	}
	if (!found)
		return false;
	out->kind = NOTICE_REMIND;
	notice_duration(out->before, dist, sizeof(dist));
	str_fmt(out->key, sizeof(out->key), "remind:%lld:%lld:%s", (long long)d->id,
	        (long long)d->expires_at, dist);
	return true;
}

void
notice_week(int64_t t, char *dst, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[16];

	if (gmtime_r(&tt, &tm) == NULL || strftime(s, sizeof(s), "%G-W%V", &tm) == 0)
		str_copy(s, sizeof(s), "?");
	str_copy(dst, size, s);
}

void
notice_duration(uint64_t seconds, char *dst, size_t size)
{
	if (seconds % DAY == 0)
		str_fmt(dst, size, "%llud", (unsigned long long)(seconds / DAY));
	else if (seconds % 3600 == 0)
		str_fmt(dst, size, "%lluh", (unsigned long long)(seconds / 3600));
	else
		str_fmt(dst, size, "%llus", (unsigned long long)seconds);
}

void
notice_clean(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	if (size == 0)
		return;
	for (; src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	/* do not leave half of a UTF-8 sequence at the cut */
	while (src[i] && i > 0 && ((unsigned char)dst[i - 1] & 0xc0) == 0x80)
		i--;
	if (src[i] && i > 0 && (unsigned char)dst[i - 1] >= 0xc0)
		i--;
	dst[i] = '\0';
}

/* The subject as RFC 2047 encoded words where it is not ASCII, each of at
 * most 45 bytes of text (60 of base64), never cutting a UTF-8 sequence. */
static bool
put_subject(struct buf *b, const char *s)
{
	size_t len = strlen(s), i = 0;
	bool is_ascii = true;

	for (size_t k = 0; k < len; k++)
		is_ascii &= (unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f;
	if (is_ascii && len <= 900)
		return buf_printf(b, "Subject: %s\r\n", s);
	bool ok = buf_puts(b, "Subject:");
	while (i < len && ok) {
		size_t n = len - i < 45 ? len - i : 45;
		while (i + n < len && n > 1 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		char enc[64];
		ok = base64_encode((const unsigned char *)s + i, n, enc, sizeof(enc)) &&
		     buf_printf(b, " =?UTF-8?B?%s?=\r\n", enc);
		i += n;
	}
	return ok;
}

bool
notice_header(struct buf *b, const struct notice_ctx *c, const char *to, const char *subject,
              const char *key)
{
	char date[64], id[NOTICE_KEY_MAX];
	size_t i;

	isodate_rfc5322(c->now, date, sizeof(date));
	for (i = 0; key[i] && i + 1 < sizeof(id); i++)
		id[i] = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		                (key[i] >= 'A' && key[i] <= 'Z') || key[i] == '-'
		            ? key[i]
		            : '.';
	id[i] = '\0';
	return buf_printf(b, "From: mailout <%s>\r\nTo: <%s>\r\n", c->from, to) &&
	       put_subject(b, subject) &&
	       buf_printf(b,
	                  "Date: %s\r\nMessage-ID: <%s@%s>\r\nAuto-Submitted: auto-generated\r\n"
	                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	                  "Content-Transfer-Encoding: 8bit\r\n\r\n",
	                  date, id, c->hostname);
}

/* "Hello NAME," */
static bool
put_greeting(struct buf *b, const struct device *d, bool de)
{
	char owner[DEVICE_TEXT_MAX];

	notice_clean(owner, sizeof(owner), d->owner_name);
	return buf_printf(b, de ? "Guten Tag%s%s,\r\n\r\n" : "Hello%s%s,\r\n\r\n",
	                  owner[0] ? " " : "", owner);
}

/* The registration's lines. */
static bool
put_device(struct buf *b, const struct device *d, bool de)
{
	char name[DEVICE_TEXT_MAX], make[2 * DEVICE_TEXT_MAX + 2];
	char loc[DEVICE_TEXT_MAX], both[2 * DEVICE_TEXT_MAX + 2];

	notice_clean(name, sizeof(name), d->name);
	str_fmt(both, sizeof(both), "%s %s", d->manufacturer, d->model);
	notice_clean(make, sizeof(make), both);
	notice_clean(loc, sizeof(loc), d->location);
	bool ok = buf_printf(b, de ? "  Registrierung: %lld\r\n" : "  Registration: %lld\r\n",
	                     (long long)d->id);
	ok &= buf_printf(b, de ? "  Gerät:         %s%s%s%s\r\n" : "  Device:       %s%s%s%s\r\n",
	                 name, make[1] ? " (" : "", make[1] ? make : "", make[1] ? ")" : "");
	ok &= buf_printf(b, de ? "  Adresse:       %s\r\n" : "  Address:      %s\r\n", d->address);
	if (loc[0])
		ok &= buf_printf(b, de ? "  Standort:      %s\r\n" : "  Location:     %s\r\n", loc);
	return ok && buf_puts(b, "\r\n");
}

/* What to do, where to ask, and who sent it. */
static bool
put_footer(struct buf *b, const struct notice_ctx *c, bool de)
{
	bool ok = buf_puts(b, de ? "Bitte stellen Sie das Gerät auf verschlüsselten Versand um "
	                           "(STARTTLS auf Port 587\r\noder TLS auf Port 465). Ist das "
	                           "nicht möglich, beantragen Sie eine Verlängerung.\r\n"
	                         : "Please set the device up to send with encryption (STARTTLS on "
	                           "port 587\r\nor TLS on port 465). If it cannot, ask for a "
	                           "renewal.\r\n");
	if (c->help_url[0])
		ok &= buf_printf(b,
		                 de ? "Anleitung und Verlängerung: %s\r\n"
		                    : "Instructions and renewal: %s\r\n",
		                 c->help_url);
	if (c->support[0])
		ok &= buf_printf(
		    b, de ? "Hilfe bei der Einrichtung: %s\r\n" : "Help with the set-up: %s\r\n",
		    c->support);
	return ok &&
	       buf_printf(b,
	                  de ? "\r\n-- \r\nDiese Nachricht hat das Mail-Gateway %s automatisch "
	                       "versandt.\r\n"
	                     : "\r\n-- \r\nThe mail gateway %s sent this message "
	                       "automatically.\r\n",
	                  c->hostname);
}

bool
notice_write_expiry(struct buf *b, const struct notice_ctx *c, const struct notice *n,
                    const struct device *d)
{
	bool de = device_is_german(d);
	char when[64], subject[256];
	int64_t days = (d->expires_at - c->now + DAY - 1) / DAY;

	isodate_prose(d->expires_at - 1, de, when, sizeof(when));
	if (n->kind == NOTICE_EXPIRED)
		str_fmt(subject, sizeof(subject),
		        de ? "Die Registrierung %lld Ihres Geräts ist abgelaufen"
		           : "The registration %lld of your device has expired",
		        (long long)d->id);
	else
		str_fmt(subject, sizeof(subject),
		        de ? "Die Registrierung %lld Ihres Geräts gilt nur noch bis zum %s"
		           : "The registration %lld of your device is valid until %s",
		        (long long)d->id, when);
	bool ok = notice_header(b, c, d->owner_email, subject, n->key) && put_greeting(b, d, de);
	if (n->kind == NOTICE_EXPIRED)
		ok &= buf_printf(
		    b,
		    de ? "die Registrierung Ihres Geräts am Mail-Gateway %s galt bis zum "
		         "%s und ist abgelaufen.\r\nDas Gerät kann keine unverschlüsselten "
		         "E-Mails mehr senden.\r\n\r\n"
		       : "the registration of your device at the mail gateway %s was valid "
		         "until %s and has expired.\r\nThe device can no longer send mail without "
		         "encryption.\r\n\r\n",
		    c->hostname, when);
	else
		ok &= buf_printf(
		    b,
		    de ? "die Registrierung Ihres Geräts am Mail-Gateway %s gilt bis zum "
		         "%s (noch %lld %s).\r\nDanach kann das Gerät keine "
		         "unverschlüsselten E-Mails mehr senden.\r\n\r\n"
		       : "the registration of your device at the mail gateway %s is valid "
		         "until %s (%lld %s left).\r\nAfter that the device can no longer "
		         "send mail without encryption.\r\n\r\n",
		    c->hostname, when, (long long)days,
		    de ? (days == 1 ? "Tag" : "Tage") : (days == 1 ? "day" : "days"));
	return ok && put_device(b, d, de) && put_footer(b, c, de);
}

bool
notice_write_plaintext(struct buf *b, const struct notice_ctx *c, const struct notice *n,
                       const struct device *d, const struct plain_use *u)
{
	bool de = device_is_german(d);
	char subject[256], when[64];

	str_fmt(subject, sizeof(subject),
	        de ? "Ihr Gerät %s sendet unverschlüsselt"
	           : "Your device %s sends mail unencrypted",
	        u->client);
	bool ok = notice_header(b, c, d->owner_email, subject, n->key) && put_greeting(b, d, de);
	ok &= buf_printf(b,
	                 de ? "in den letzten 7 Tagen hat das Gerät %s %lld E-Mails in %lld "
	                      "Verbindungen\r\nohne Verschlüsselung an das Mail-Gateway %s "
	                      "gesendet (Schnittstelle %s).\r\n"
	                    : "in the last 7 days the device %s sent %lld messages in %lld "
	                      "sessions\r\nwithout encryption to the mail gateway %s (interface "
	                      "%s).\r\n",
	                 u->client, (long long)u->messages, (long long)u->sessions, c->hostname,
	                 u->listener);
	if (u->cutover) {
		isodate_prose(u->cutover, de, when, sizeof(when));
		ok &= buf_printf(b,
		                 de ? "Ab dem %s werden solche E-Mails abgewiesen.\r\n"
		                    : "From %s such mail is refused.\r\n",
		                 when);
	}
	return ok && buf_puts(b, "\r\n") && put_device(b, d, de) && put_footer(b, c, de);
}
