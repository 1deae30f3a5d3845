#include "smtp/session_core.h"

#include <stdarg.h>

#include "log.h"
#include "metrics/counters.h"
#include "util/str.h"

static const char *const state_names[SESSION_NSTATES] = {
    "tls-handshake", "cmd", "data", "sync", "starttls", "closing", "registry", "auth", "auth-check",
};

const char *
session_state_name(enum session_state st)
{
	return (unsigned)st < SESSION_NSTATES ? state_names[st] : "?";
}

void
session_set_state(struct session *s, enum session_state new)
{
	if ((unsigned)new >= SESSION_NSTATES)
		fatal_bug("session_set_state: bad state %d", (int)new);
	log_debug("event=state sid=%s from=%s to=%s", s->sid, state_names[s->state],
	          state_names[new]);
	s->state = new;
	if (new == SESSION_CLOSING && s->is_tls)
		conn_close_notify(s->conn); /* after the last reply */
}

static bool
is_policy_refusal(enum reply_id id)
{
	return id == REPLY_GREETING_REFUSED || id == REPLY_TLS_REQUIRED ||
	       id == REPLY_REGISTRATION_ENDED || id == REPLY_RCPT_NOT_INTERNAL ||
	       id == REPLY_RCPT_ROUTING || id == REPLY_RCPT_LEGACY_INTERNAL;
}

/* The metrics' reason for a refusal, or -1 for a reply that is none
 * (syntax, sequence, a cancelled AUTH). */
static int
refusal_of(enum reply_id id)
{
	switch (id) {
	case REPLY_GREETING_REFUSED:
	case REPLY_GREETING_TEMPFAIL:
	case REPLY_REGISTRATION_ENDED:
		return MR_CLIENT; /* (the 503s to a refused client's commands are not counted) */
	case REPLY_TLS_REQUIRED:
	case REPLY_TLS_TEMPFAIL: /* the calendar's tempfail phase */
	case REPLY_AUTH_NEEDS_TLS:
		return MR_TLS_REQUIRED;
	case REPLY_AUTH_REQUIRED:
		return MR_AUTH_REQUIRED;
	case REPLY_SENDER_NOT_OWNED:
	case REPLY_DEVICE_SENDER:
		return MR_SENDER;
	case REPLY_RCPT_NOT_INTERNAL:
	case REPLY_RCPT_ROUTING:
	case REPLY_RCPT_LEGACY_INTERNAL:
		return MR_RECIPIENT;
	case REPLY_USER_RATE:
		return MR_RATE;
	case REPLY_SIZE_DECLARED:
	case REPLY_SIZE_EXCEEDED:
		return MR_SIZE;
	case REPLY_TEXT_LINE_TOO_LONG:
		return MR_LINE;
	case REPLY_TOO_MANY_HOPS:
		return MR_LOOP;
	case REPLY_SPOOL_TEMPFAIL:
	case REPLY_SPOOL_FULL:
		return MR_SPOOL;
	case REPLY_TOO_MANY_CONNECTIONS:
	case REPLY_TOO_MANY_CLIENT_CONNECTIONS:
	case REPLY_TOO_MANY_ERRORS:
	case REPLY_TOO_MANY_COMMANDS:
	case REPLY_SESSION_TOO_LONG:
	case REPLY_TOO_MANY_RCPTS:
	case REPLY_AUTH_TOO_MANY:
		return MR_LIMIT;
	default:
		return -1;
	}
}

/* An error reply: remembered, logged, counted; too many end the session. */
static void
note_error(struct session *s, enum reply_id id, int code, struct buf *b)
{
	char esc[256];
	size_t len = b->len >= 2 ? b->len - 2 : b->len;

	str_copyn(s->last_refusal, sizeof(s->last_refusal), b->data, len);
	log_info("event=reply " SFMT " code=%d reply=\"%s\"", SARG(s), code,
	         log_escape(esc, sizeof(esc), b->data, len));
	if (++s->n_errors < s->cfg->max_errors || s->state == SESSION_CLOSING || code == 421 ||
	    id == REPLY_TIMEOUT || id == REPLY_SHUTDOWN || id == REPLY_TOO_MANY_ERRORS)
		return;
	buf_reset(b);
	reply_append(b, REPLY_TOO_MANY_ERRORS, s->cfg->hostname);
	conn_write(s->conn, b->data, b->len);
	log_info("event=too-many-errors " SFMT " errors=%u", SARG(s), s->n_errors);
	session_set_state(s, SESSION_CLOSING);
	conn_set_reading(s->conn, false);
}

static void
vreply(struct session *s, enum reply_id id, va_list ap)
{
	struct buf b;
	int code = reply_code(id);

	buf_init(&b, 2048);
	reply_vappend(&b, id, ap);
	if (s->conn)
		conn_write(s->conn, b.data, b.len);
	if (is_policy_refusal(id))
		s->was_refused = true; /* for `report tls`: every refusal counts */
	int why = code >= 400 ? refusal_of(id) : -1;
	if (why >= 0)
		metrics_refused((enum metrics_refusal)why);
	if (code >= 400 && id != REPLY_GREETING_REFUSED)
		note_error(s, id, code, &b);
	buf_free(&b);
}

void
session_reply(struct session *s, enum reply_id id, ...)
{
	va_list ap;

	va_start(ap, id);
	vreply(s, id, ap);
	va_end(ap);
}

void
session_reply_close(struct session *s, enum reply_id id, ...)
{
	va_list ap;

	va_start(ap, id);
	vreply(s, id, ap);
	va_end(ap);
	session_set_state(s, SESSION_CLOSING);
	conn_set_reading(s->conn, false);
}

void
session_set_timeout(struct session *s, uint64_t seconds)
{
	conn_set_timeout(s->conn, (unsigned)seconds);
}

void
session_set_deadline(struct session *s, uint64_t seconds)
{
	struct timeval tv = {(time_t)seconds, 0};

	evtimer_add(s->ev_deadline, &tv);
	s->has_deadline = true;
}

void
session_clear_deadline(struct session *s)
{
	evtimer_del(s->ev_deadline);
	s->has_deadline = false;
}

void
session_txn_reset(struct session *s)
{
	s->has_mail = false;
	envelope_reset(&s->env);
}

void
session_plain_warning(const struct session *s, char *out, size_t size)
{
	const struct config *cfg = s->cfg;

	str_fmt(out, size,
	        "unencrypted; from %s this gateway accepts mail only over encrypted "
	        "connections (STARTTLS)%s%s",
	        cfg->tr_date[TD_CUTOVER], cfg->tr_help_url[0] ? ", see " : "", cfg->tr_help_url);
}

void
session_reply_ok(struct session *s, enum reply_id plain, enum reply_id warned, const char *arg)
{
	char warning[768];

	if (!s->is_plain_warned) {
		session_reply(s, plain, arg);
		return;
	}
	session_plain_warning(s, warning, sizeof(warning));
	session_reply(s, warned, arg, warning);
}
