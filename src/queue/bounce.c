#include "queue/bounce.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"

/* RFC 3464 lets a DSN return the headers alone: we never quote a body,
 * and of the headers at most this much, cut at a line end. */
#define QUOTED_HEADERS_MAX (16 * 1024)

/* "550 5.1.1 no such user" -> "5.1.1"; else "5.0.0". */
static void
status_of(const char *reply, char *dst, size_t size)
{
	const char *p = reply;
	size_t n = 0;

	str_copy(dst, size, "5.0.0");
	if (strlen(p) < 4)
		return;
	p += 4;
	while (p[n] && (isdigit((unsigned char)p[n]) || p[n] == '.'))
		n++;
	if (n >= 5 && n < 12 && (p[0] == '4' || p[0] == '5') && p[1] == '.')
		str_copyn(dst, size, p, n);
	if (dst[0] == '4')
		dst[0] = '5'; /* a 4xx that expired is final now */
}

/* The original message's header section up to the blank line, at most
 * QUOTED_HEADERS_MAX, cut after the last whole line that fits. */
static void
quote_headers(struct spool_msg *m, int fd)
{
	static const char cut[] = "X-Mailout-Note: the headers were cut here\r\n";
	char *h = malloc(QUOTED_HEADERS_MAX + 1);
	size_t len = 0, keep;
	ssize_t n;
	char *end;

	if (h == NULL)
		return;
	while (len < QUOTED_HEADERS_MAX && (n = read(fd, h + len, QUOTED_HEADERS_MAX - len)) > 0)
		len += (size_t)n;
	h[len] = '\0';
	if ((end = memmem(h, len, "\r\n\r\n", 4)) != NULL) {
		spool_write(m, h, (size_t)(end - h) + 2);
	} else {
		for (keep = len; keep >= 2 && memcmp(h + keep - 2, "\r\n", 2) != 0; keep--)
			;
		spool_write(m, h, keep >= 2 ? keep : 0);
		spool_write(m, cut, strlen(cut));
	}
	free(h);
}

static void
write_report(struct spool_msg *m, const struct config *cfg, const struct envelope *env, int fd,
             const struct bounce_rcpt *failed, size_t n, bool is_delay, const char *boundary)
{
	char line[2048], date[64], status[16];
	const char *subject =
	    is_delay ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender";
	char intro_text[512];

	if (is_delay)
		str_fmt(intro_text, sizeof(intro_text),
		        "Your message (queue id %s) has not been delivered yet to the\r\n"
		        "recipients below. The gateway keeps trying; you need not send it\r\n"
		        "again. The last reason is given after each address.\r\n\r\n",
		        env->id);
	else
		str_fmt(intro_text, sizeof(intro_text),
		        "Your message (queue id %s) could not be delivered to the following\r\n"
		        "recipients. The reason is given after each address.\r\n\r\n",
		        env->id);

	isodate_rfc5322(clock_now(), date, sizeof(date));
	str_fmt(line, sizeof(line),
	        "From: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <%s>\r\n"
	        "Subject: %s\r\nDate: %s\r\n"
	        "Message-ID: <%s.dsn@%s>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	        "\tboundary=\"%s\"\r\n\r\n"
	        "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	        "This is the mail gateway at %s.\r\n\r\n%s",
	        cfg->hostname, env->sender, subject, date, env->id, cfg->hostname, boundary,
	        boundary, cfg->hostname, intro_text);
	spool_write(m, line, strlen(line));
	for (size_t i = 0; i < n; i++) {
		str_fmt(line, sizeof(line), "<%s>: %s\r\n", failed[i].rcpt, failed[i].reply);
		spool_write(m, line, strlen(line));
	}
	isodate_rfc5322(env->arrival, date, sizeof(date));
	str_fmt(line, sizeof(line),
	        "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n"
	        "Reporting-MTA: dns; %s\r\nX-Mailout-Queue-ID: %s\r\nArrival-Date: %s\r\n",
	        boundary, cfg->hostname, env->id, date);
	spool_write(m, line, strlen(line));
	for (size_t i = 0; i < n; i++) {
		status_of(failed[i].reply, status, sizeof(status));
		if (is_delay)
			status[0] = '4';
		str_fmt(line, sizeof(line),
		        "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n"
		        "Diagnostic-Code: smtp; %s\r\n",
		        failed[i].rcpt, is_delay ? "delayed" : "failed", status, failed[i].reply);
		spool_write(m, line, strlen(line));
	}
	str_fmt(line, sizeof(line), "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
	        boundary);
	spool_write(m, line, strlen(line));
	quote_headers(m, fd);
	str_fmt(line, sizeof(line), "\r\n--%s--\r\n", boundary);
	spool_write(m, line, strlen(line));
}

int
bounce_queue(const struct config *cfg, const struct envelope *env, int fd,
             const struct bounce_rcpt *failed, size_t n, bool is_delay, char *id_out,
             size_t id_size)
{
	struct envelope b;
	struct spool_msg *m;
	char boundary[96];
	int err = 0;

	if (env->sender[0] == '\0')
		return EINVAL; /* never bounce a bounce */
	const char *at = strrchr(env->sender, '@');
	if (env->is_internal_only && (at == NULL || !policy_is_internal(cfg, at + 1)))
		return EPERM; /* an internal-only listener never makes mail leave */
	spool_local_envelope(&b, cfg->hostname);
	b.smtputf8 = env->smtputf8;
	envelope_add_rcpt(&b, env->sender);
	if ((m = spool_create(cfg->spool, &b, &err)) == NULL) {
		envelope_free(&b);
		return err;
	}
	str_fmt(boundary, sizeof(boundary), "%s/%s", b.id, cfg->hostname);
	write_report(m, cfg, env, fd, failed, n, is_delay, boundary);
	err = spool_error(m) ? spool_error(m) : spool_commit(m);
	str_copy(id_out, id_size, b.id);
	spool_msg_free(m);
	envelope_free(&b);
	return err;
}
