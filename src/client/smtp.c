/* The SMTP client of client/client.h: greeting, EHLO, STARTTLS, one
 * transaction per message (pipelined when the next hop offers it), the
 * body dot-stuffed, QUIT. Bytes go through client/link.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/link.h"
#include "tls.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define READ_CHUNK  (64 * 1024)
#define LINE_MAX_IN 4096 /* longest reply line we accept from the next hop */

struct client_conn {
	struct link link;
	char peer[256]; /* the host name we connected to */
	bool is_broken;
	unsigned n_sent;
	char tls[128];
	/* EHLO extensions */
	bool has_starttls, has_8bitmime, has_smtputf8, has_size, has_pipelining;
};

struct smtp_reply {
	int code;
	char text[CLIENT_REPLY_MAX]; /* the last line, for logs and DSNs */
	char ext[2048];              /* every line of a multi-line reply, '\n' separated */
};

static bool
read_reply(struct client_conn *c, struct smtp_reply *r)
{
	char line[LINE_MAX_IN];
	size_t elen = 0;

	r->ext[0] = '\0';
	for (int lines = 0; lines < 100; lines++) {
		if (!link_read_line(&c->link, line, sizeof(line)) || strlen(line) < 3 ||
		    line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
			return false;
		r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		str_copy(r->text, sizeof(r->text), line);
		if (elen + strlen(line) + 2 < sizeof(r->ext)) {
			elen += (size_t)snprintf(r->ext + elen, sizeof(r->ext) - elen, "%s\n",
			                         line + (line[3] ? 4 : 3));
		}
		if (line[3] != '-')
			return true;
	}
	return false;
}

static bool command(struct client_conn *c, struct smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
command(struct client_conn *c, struct smtp_reply *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return false;
	memcpy(line + n, "\r\n", 2);
	return link_write(&c->link, line, (size_t)n + 2) && read_reply(c, r);
}

static void
parse_ehlo(struct client_conn *c, const char *ext)
{
	c->has_starttls = strstr(ext, "\nSTARTTLS") || strncmp(ext, "STARTTLS", 8) == 0;
	c->has_8bitmime = strstr(ext, "\n8BITMIME") != NULL;
	c->has_smtputf8 = strstr(ext, "\nSMTPUTF8") != NULL;
	c->has_size = strstr(ext, "\nSIZE") != NULL;
	c->has_pipelining = strstr(ext, "\nPIPELINING") != NULL;
}

/* STARTTLS and the second EHLO. */
static enum outcome
start_tls(struct client_conn *c, const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
          const char *name, struct smtp_reply *r, struct client_result *res)
{
	if (!command(c, r, "STARTTLS") || r->code != 220) {
		str_fmt(res->error, sizeof(res->error), "STARTTLS refused: %s", r->text);
		return OUT_TEMPFAIL;
	}
	if (!link_start_tls(&c->link, ctx, name, tls == RTLS_VERIFY ? cfg->relay_ca_file : NULL,
	                    res->error, sizeof(res->error)))
		return OUT_TEMPFAIL;
	tls_describe(c->link.ssl, res->tls, sizeof(res->tls));
	if (!command(c, r, "EHLO %s", cfg->hostname) || r->code != 250) {
		str_fmt(res->error, sizeof(res->error), "EHLO after STARTTLS: %s", r->text);
		return OUT_TEMPFAIL;
	}
	parse_ehlo(c, r->ext);
	return OUT_OK;
}

static enum outcome
outcome_of(int code)
{
	return code < 400 ? OUT_OK : code < 500 ? OUT_TEMPFAIL : OUT_PERMFAIL;
}

/* Send the message with dot-stuffing; the spool holds CRLF lines. Whole
 * lines are copied at once; a line that starts with '.' gets one more.
 * Each chunk is sent when the next one has been read, so the last goes
 * out together with the final dot: one segment fewer per message. */
static bool
send_body(struct client_conn *c, int fd)
{
	char in[READ_CHUNK], out[READ_CHUNK * 2 + 8];
	bool at_line_start = true;
	char last[2] = {'\r', '\n'};
	size_t o = 0; /* bytes of out not sent yet */
	ssize_t n;

	while ((n = read(fd, in, sizeof(in))) > 0) {
		const char *p = in, *end = in + n;

		if (o > 0 && !link_write(&c->link, out, o))
			return false;
		o = 0;
		while (p < end) {
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			size_t run = (size_t)((lf ? lf + 1 : end) - p);

			if (at_line_start && *p == '.')
				out[o++] = '.';
			memcpy(out + o, p, run);
			o += run;
			p += run;
			at_line_start = lf != NULL;
		}
		if (n >= 2) {
			last[0] = in[n - 2];
			last[1] = in[n - 1];
		} else {
			last[0] = last[1];
			last[1] = in[0];
		}
	}
	if (n < 0)
		return false;
	/* out holds at most 2 * READ_CHUNK bytes: the terminator fits. */
	if (last[0] != '\r' || last[1] != '\n') {
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	memcpy(out + o, ".\r\n", 3);
	return link_write(&c->link, out, o + 3);
}

/* With PIPELINING (RFC 2920): RSET (on a reused connection), MAIL, every
 * RCPT and DATA in one write, then the replies in order. One round trip
 * instead of two plus one per recipient. */
static enum outcome
transaction_pipelined(struct client_conn *c, const struct client_batch *b, int fd, bool needs_rset,
                      const char *params, struct smtp_reply *r, struct client_result *res)
{
	const struct envelope *env = b->env;
	struct buf out;
	int mail_code;
	bool ok;

	buf_init(&out, SPOOL_HEADER_MAX);
	ok = (!needs_rset || buf_puts(&out, "RSET\r\n")) &&
	     buf_printf(&out, "MAIL FROM:<%s>%s\r\n", env->sender, params);
	for (size_t i = 0; ok && i < env->n_rcpt; i++)
		if (client_batch_has(b, i))
			ok = buf_printf(&out, "RCPT TO:<%s>\r\n", env->rcpt[i]);
	ok = ok && buf_puts(&out, "DATA\r\n") && link_write(&c->link, out.data, out.len);
	buf_free(&out);
	if (!ok || (needs_rset && (!read_reply(c, r) || r->code != 250)) || !read_reply(c, r)) {
		c->is_broken = true;
		client_fail_all(b, res, OUT_TEMPFAIL, "connection lost after MAIL FROM");
		return OUT_TEMPFAIL;
	}
	mail_code = r->code;
	if (mail_code != 250)
		client_fail_all(b, res, outcome_of(mail_code), r->text);
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (!client_batch_has(b, i))
			continue;
		if (!read_reply(c, r)) {
			c->is_broken = true;
			client_fail_all(b, res, OUT_TEMPFAIL, "connection lost after RCPT TO");
			return OUT_TEMPFAIL;
		}
		if (mail_code != 250)
			continue;
		res->rcpt[i] = outcome_of(r->code);
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, r->text);
		if (r->code < 300)
			res->n_accepted++;
	}
	if (!read_reply(c, r)) {
		c->is_broken = true;
		client_set_accepted(b, res, OUT_TEMPFAIL, "connection lost after DATA");
		return OUT_TEMPFAIL;
	}
	if (r->code == 354 && (mail_code != 250 || res->n_accepted == 0)) {
		/* Nobody to deliver to, but the server wants data: end it empty. */
		if (!link_write(&c->link, ".\r\n", 3) || !read_reply(c, r))
			c->is_broken = true;
		return OUT_PERMFAIL;
	}
	if (mail_code != 250 || res->n_accepted == 0)
		return outcome_of(mail_code != 250 ? mail_code : 550);
	if (r->code != 354) {
		enum outcome o = r->code >= 500 ? OUT_PERMFAIL : OUT_TEMPFAIL;
		client_set_accepted(b, res, o, r->text);
		return o;
	}
	if (!send_body(c, fd) || !read_reply(c, r)) {
		c->is_broken = true;
		client_set_accepted(b, res, OUT_TEMPFAIL, "connection lost during DATA");
		return OUT_TEMPFAIL;
	}
	client_set_accepted(b, res, outcome_of(r->code), r->text);
	return outcome_of(r->code);
}

/* The transaction after EHLO (and TLS): MAIL, RCPT each, DATA. */
static enum outcome
transaction(struct client_conn *c, const struct client_batch *b, int fd, bool needs_rset,
            struct smtp_reply *r, struct client_result *res)
{
	const struct envelope *env = b->env;
	char params[64] = "";

	if (env->smtputf8 && !c->has_smtputf8) {
		client_fail_all(b, res, OUT_PERMFAIL,
		                "554 5.6.7 next hop does not support SMTPUTF8");
		return OUT_PERMFAIL;
	}
	str_fmt(params, sizeof(params), "%s%s",
	        env->body == SMTP_BODY_8BITMIME && c->has_8bitmime ? " BODY=8BITMIME" : "",
	        env->smtputf8 ? " SMTPUTF8" : "");
	if (c->has_pipelining)
		return transaction_pipelined(c, b, fd, needs_rset, params, r, res);
	if (needs_rset && (!command(c, r, "RSET") || r->code != 250)) {
		c->is_broken = true;
		client_fail_all(b, res, OUT_TEMPFAIL,
		                "next hop refused RSET on a reused connection");
		return OUT_TEMPFAIL;
	}
	if (!command(c, r, "MAIL FROM:<%s>%s", env->sender, params)) {
		client_fail_all(b, res, OUT_TEMPFAIL, "connection lost after MAIL FROM");
		return OUT_TEMPFAIL;
	}
	if (r->code != 250) {
		client_fail_all(b, res, outcome_of(r->code), r->text);
		return outcome_of(r->code);
	}
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (!client_batch_has(b, i))
			continue;
		if (!command(c, r, "RCPT TO:<%s>", env->rcpt[i])) {
			client_fail_all(b, res, OUT_TEMPFAIL, "connection lost after RCPT TO");
			return OUT_TEMPFAIL;
		}
		res->rcpt[i] = outcome_of(r->code);
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, r->text);
		if (r->code < 300)
			res->n_accepted++;
	}
	if (res->n_accepted == 0) {
		command(c, r, "RSET");
		return OUT_PERMFAIL; /* per-recipient outcomes say more */
	}
	if (!command(c, r, "DATA") || r->code != 354) {
		enum outcome o = r->code >= 500 ? OUT_PERMFAIL : OUT_TEMPFAIL;
		client_set_accepted(b, res, o, r->code ? r->text : "connection lost after DATA");
		return o;
	}
	if (!send_body(c, fd) || !read_reply(c, r)) {
		client_set_accepted(b, res, OUT_TEMPFAIL, "connection lost during DATA");
		return OUT_TEMPFAIL;
	}
	client_set_accepted(b, res, outcome_of(r->code), r->text);
	return outcome_of(r->code);
}

/* Greeting, EHLO and STARTTLS on a connected socket. */
static bool
conn_start(struct client_conn *c, const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
           const char *name, struct client_result *res)
{
	struct smtp_reply r = {0};

	if (!read_reply(c, &r) || r.code != 220) {
		str_fmt(res->error, sizeof(res->error), "%s: %s", name,
		        r.code ? r.text : "no greeting");
		return false;
	}
	if (!command(c, &r, "EHLO %s", cfg->hostname) || r.code != 250) {
		str_fmt(res->error, sizeof(res->error), "%s: %s", name,
		        r.code ? r.text : "EHLO failed");
		return false;
	}
	parse_ehlo(c, r.ext);
	if (tls != RTLS_NONE && c->has_starttls) {
		if (start_tls(c, cfg, ctx, tls, name, &r, res) != OUT_OK)
			return false;
		str_copy(c->tls, sizeof(c->tls), res->tls);
	} else if (tls == RTLS_REQUIRED || tls == RTLS_VERIFY) {
		str_fmt(res->error, sizeof(res->error),
		        "%s does not offer STARTTLS and the route's tls policy requires it", name);
		return false;
	}
	return true;
}

struct client_conn *
client_open(const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
            const struct target *targets, size_t n, struct client_result *res)
{
	for (size_t i = 0; i < n; i++) {
		struct client_conn *c = xcalloc(1, sizeof(*c));

		str_copy(c->tls, sizeof(c->tls), "none");
		str_copy(c->peer, sizeof(c->peer), targets[i].name);
		if (link_connect(&c->link, &targets[i], (unsigned)cfg->relay_timeout, res->error,
		                 sizeof(res->error)) &&
		    conn_start(c, cfg, ctx, tls, targets[i].name, res))
			return c;
		c->is_broken = true; /* the next MX host, if any */
		client_close(c);
	}
	return NULL;
}

enum outcome
client_send(struct client_conn *c, const struct client_batch *b, int fd, struct client_result *res)
{
	struct smtp_reply r = {0};
	enum outcome o;

	str_copy(res->tls, sizeof(res->tls), c->tls);
	res->n_accepted = 0;
	for (size_t i = 0; i < b->env->n_rcpt; i++)
		if (client_batch_has(b, i))
			res->rcpt[i] = OUT_TEMPFAIL; /* until the next hop says otherwise */
	o = transaction(c, b, fd, c->n_sent > 0, &r, res);
	c->n_sent++;
	if (r.code == 421 || (o == OUT_TEMPFAIL && res->n_accepted == 0 && r.code == 0))
		c->is_broken = true;
	return o;
}

bool
client_is_usable(const struct client_conn *cc)
{
	return cc && !cc->is_broken;
}

unsigned
client_messages_sent(const struct client_conn *cc)
{
	return cc->n_sent;
}

const char *
client_tls(const struct client_conn *cc)
{
	return cc->tls;
}

const char *
client_peer(const struct client_conn *cc)
{
	return cc->peer;
}

void
client_close(struct client_conn *c)
{
	struct smtp_reply r;

	if (c == NULL)
		return;
	if (!c->is_broken && c->link.fd >= 0)
		command(c, &r, "QUIT");
	link_close(&c->link, !c->is_broken);
	free(c);
}
