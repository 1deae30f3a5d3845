#include "smtp/message.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics/counters.h"
#include "smtp/smtpauth.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"
#include "util/xmalloc.h"

static bool message_end(struct session *);

/* The Received: header (RFC 5321 4.4), naming listener and TLS state. */
static void
write_received(struct session *s)
{
	char date[64], buf[2048];
	time_t now = (time_t)clock_now();
	bool is_auth = s->auth_user[0] != '\0';
	/* RFC 3848 (and RFC 6531 for UTF8SMTP): S for TLS, A for AUTH (which
	 * needs EHLO, so plain SMTP never gets an A). */
	const char *base = s->env.smtputf8 ? "UTF8SMTP" : s->is_esmtp ? "ESMTP" : "SMTP";
	char with[16];
	str_fmt(with, sizeof(with), "%s%s%s", base, s->is_tls ? "S" : "",
	        is_auth && (s->env.smtputf8 || s->is_esmtp) ? "A" : "");
	char tlsinfo[160 + 300];

	isodate_rfc5322(now, date, sizeof(date));
	if (is_auth && s->cfg->auth_received_user) {
		char user[256];
		spool_sanitize(user, sizeof(user), s->auth_user, strlen(s->auth_user));
		str_fmt(tlsinfo, sizeof(tlsinfo), "%s, authenticated as %s", s->tls, user);
	} else if (s->is_tls)
		str_fmt(tlsinfo, sizeof(tlsinfo), "%s", s->tls);
	else
		str_copy(tlsinfo, sizeof(tlsinfo), "no TLS");
	str_fmt(buf, sizeof(buf),
	        "Received: from %s (%s [%s])\r\n\tby %s (mailout) with %s id %s\r\n"
	        "\t(listener %s, %s)%s%s%s;\r\n\t%s\r\n",
	        s->helo, s->client, s->client, s->cfg->hostname, with, s->env.id, s->l->conf->name,
	        tlsinfo, s->env.n_rcpt == 1 ? "\r\n\tfor <" : "",
	        s->env.n_rcpt == 1 ? s->env.rcpt[0] : "", s->env.n_rcpt == 1 ? ">" : "", date);
	spool_write(s->msg, buf, strlen(buf));
	if (s->is_plain_warned) {
		char warning[768];
		session_plain_warning(s, warning, sizeof(warning));
		str_fmt(buf, sizeof(buf), "X-Mailout-Warning: %s\r\n", warning);
		spool_write(s->msg, buf, strlen(buf));
	}
}

void
message_begin(struct session *s)
{
	int err = 0;

	s->env.arrival = clock_now();
	if ((s->msg = spool_create(s->cfg->spool, &s->env, &err)) == NULL) {
		log_error("event=spool-error " SFMT " op=create error=\"%s\"", SARG(s),
		          strerror(err));
		session_reply(s, err == ENOSPC ? REPLY_SPOOL_FULL : REPLY_SPOOL_TEMPFAIL);
		return;
	}
	write_received(s);
	smtp_data_init(&s->dd, s->cfg->max_text_line);
	hdrscan_init(&s->hs);
	s->data_err = DATA_OK;
	session_set_state(s, SESSION_DATA);
	session_set_timeout(s, s->cfg->data_timeout);
	session_set_deadline(s, s->cfg->max_data_time);
	session_reply(s, REPLY_DATA_GO);
}

static void
data_failed(struct session *s, enum reply_id id, const char *reason)
{
	unsigned long long arg = id == REPLY_TEXT_LINE_TOO_LONG ? s->cfg->max_text_line
	                         : id == REPLY_TOO_MANY_HOPS    ? s->hs.received
	                                                        : s->cfg->max_message_size;

	log_info("event=data-refused " SFMT " reason=%s", SARG(s), reason);
	spool_msg_free(s->msg);
	s->msg = NULL;
	session_txn_reset(s);
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->cfg->idle_timeout);
	session_reply(s, id, arg);
}

/* The final dot: refused with its reason, or to be committed. */
static bool
message_end(struct session *s)
{
	session_clear_deadline(s);
	if (s->data_err == DATA_OK && s->dd.is_line_too_long)
		s->data_err = DATA_LINE_TOO_LONG;
	if (s->data_err == DATA_OK && s->hs.received > HDRSCAN_RECEIVED_MAX)
		s->data_err = DATA_LOOP;
	switch (s->data_err) {
	case DATA_TOO_BIG:
		data_failed(s, REPLY_SIZE_EXCEEDED, "size");
		return false;
	case DATA_LINE_TOO_LONG:
		data_failed(s, REPLY_TEXT_LINE_TOO_LONG, "line-too-long");
		return false;
	case DATA_LOOP:
		data_failed(s, REPLY_TOO_MANY_HOPS, "loop");
		return false;
	case DATA_IO:
		log_error("event=spool-error " SFMT " op=write error=\"%s\"", SARG(s),
		          strerror(spool_error(s->msg)));
		data_failed(s,
		            spool_error(s->msg) == ENOSPC ? REPLY_SPOOL_FULL : REPLY_SPOOL_TEMPFAIL,
		            "spool-write");
		return false;
	case DATA_OK:
		break;
	}
	/* Hold further input until the commit answers: the 250 must come first. */
	session_set_state(s, SESSION_SYNC);
	s->commit = xcalloc(1, sizeof(*s->commit));
	s->commit->host = s->host;
	s->commit->s = s;
	s->commit->msg = s->msg;
	return true;
}

bool
message_input(struct session *s)
{
	char out[SESSION_DATA_CHUNK * SMTP_DATA_EXPANSION];
	const char *p;
	size_t take;

	while (s->state == SESSION_DATA &&
	       (p = conn_input_peek(s->conn, SESSION_DATA_CHUNK, &take))) {
		size_t out_len, used = smtp_data_feed(&s->dd, p, take, out, &out_len);

		if (s->data_err == DATA_OK && s->dd.out_total > s->cfg->max_message_size)
			s->data_err = DATA_TOO_BIG;
		if (s->data_err == DATA_OK && !spool_write(s->msg, out, out_len))
			s->data_err = DATA_IO;
		hdrscan_feed(&s->hs, out, out_len);
		conn_input_drain(s->conn, used);
		if (s->dd.state == SMTP_DATA_DONE)
			return message_end(s);
	}
	return false;
}

void
message_commit_run(void *arg)
{
	struct commit *c = arg;

	c->rc = spool_commit(c->msg);
}

void
message_committed(struct session *s, struct commit *c)
{
	s->commit = NULL;
	s->msg = NULL;
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->cfg->idle_timeout);
	if (c->rc != 0) {
		log_error("event=spool-error " SFMT " op=commit error=\"%s\"", SARG(s),
		          strerror(c->rc));
		session_reply(s, c->rc == ENOSPC || c->rc == EDQUOT ? REPLY_SPOOL_FULL
		                                                    : REPLY_SPOOL_TEMPFAIL);
	} else {
		s->n_msgs++;
		s->n_rcpts += (unsigned)s->env.n_rcpt;
		smtpauth_sent(s, (unsigned)s->env.n_rcpt);
		metrics_accepted(s->l->conf->name);
		log_info("event=queued " SFMT " id=%s from=<%s> rcpts=%zu size=%llu bare_eol=%s",
		         SARG(s), s->env.id, s->env.sender, s->env.n_rcpt,
		         (unsigned long long)spool_body_size(c->msg),
		         s->dd.saw_bare_eol ? "normalised" : "no");
		session_reply_ok(s, REPLY_QUEUED, REPLY_QUEUED_WARN, s->env.id);
		s->host->on_queued(s->host->arg, s->env.id);
	}
	session_txn_reset(s);
}
