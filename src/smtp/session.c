/*
 * The life of a session (smtp/session.h): made at accept, the connect
 * policy (waiting for a current registry snapshot when it changed), the
 * greeting, TLS, the events of its conn, the loop over pipelined input,
 * the spool commit's return, and its end (one record for the registry's
 * statistics). Commands are smtp/commands.c, DATA smtp/message.c.
 */
#include "smtp/session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics/counters.h"
#include "policy.h"
#include "smtp/commands.h"
#include "smtp/message.h"
#include "smtp/regview.h"
#include "smtp/session_core.h"
#include "smtp/smtpauth.h"
#include "smtp/tlsdiag.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/workq.h"
#include "util/xmalloc.h"

#define CMDS_PER_WAKEUP 64          /* fairness: then yield to other sessions */
#define OUT_HIWAT       (64 * 1024) /* stop reading commands while replies pile up */
#define LINE_MAX_IN     (65536 + 1) /* [gateway] max_command_line at most, and the NUL */
#define REGISTRY_WAIT_S 1           /* then decide on the snapshot there is */

static void session_free(struct session *);
static void session_process(struct session *);
static void session_admit(struct session *);
static void on_read(void *);
static void on_drained(void *);
static void on_event(void *, int);
static void on_resume(evutil_socket_t, short, void *);
static void on_deadline(evutil_socket_t, short, void *);
static void on_auth_delay(evutil_socket_t, short, void *);

static const struct conn_cbs session_conn_cbs = {on_read, on_drained, on_event};

/* ---- callbacks hold the session ---- */

/* Every callback runs between enter and leave: a session closed inside
 * one is freed when the outermost returns. */
static void
enter(struct session *s)
{
	s->in_callback++;
}

static void
leave(struct session *s)
{
	if (--s->in_callback == 0 && s->is_dead)
		session_free(s);
}

/* Mark for freeing; the free happens when the outermost callback returns. */
static void
session_close(struct session *s)
{
	s->is_dead = true;
	if (s->in_callback == 0)
		session_free(s);
}

/* ---- setup ---- */

static void
make_sid(char *dst)
{
	static unsigned long counter;

	str_fmt(dst, SID_LEN + 1, "%08lx%08lx", (unsigned long)clock_now() & 0xffffffffUL,
	        ((unsigned long)getpid() << 20 | (++counter & 0xfffff)) & 0xffffffffUL);
}

struct session *
session_new(const struct session_host *host, struct listener *l, int fd, const struct sockaddr *sa,
            socklen_t salen, const char *client, bool is_probe)
{
	struct session *s = xcalloc(1, sizeof(*s));
	int one = 1;

	/* Small replies must leave at once: no Nagle/delayed-ACK stalls. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->host = host;
	s->cfg = host->cfg;
	s->l = l;
	s->fd = fd;
	s->is_probe = is_probe;
	memcpy(&s->peer, sa, salen < sizeof(s->peer) ? salen : sizeof(s->peer));
	str_copy(s->client, sizeof(s->client), client);
	str_copy(s->tls, sizeof(s->tls), "none");
	make_sid(s->sid);
	s->started = (time_t)clock_now();
	envelope_init(&s->env);
	str_copy(s->env.listener, sizeof(s->env.listener), l->conf->name);
	str_copy(s->env.client, sizeof(s->env.client), client);
	s->ev_resume = event_new(host->base, -1, 0, on_resume, s);
	s->ev_deadline = evtimer_new(host->base, on_deadline, s);
	s->ev_auth_delay = evtimer_new(host->base, on_auth_delay, s);
	senders_init(&s->auth_senders);
	if (!is_probe)
		metrics_session_start(l->conf->name);
	return s;
}

void
session_start(struct session *s)
{
	/* The registry changed since our snapshot: decide on the next one. */
	if (!regview_is_current(s->host->devices)) {
		session_set_state(s, SESSION_REGISTRY);
		session_set_deadline(s, REGISTRY_WAIT_S);
		return;
	}
	session_admit(s);
}

const char *
session_client(const struct session *s)
{
	return s->client;
}

void
session_registry_fresh(struct session *s)
{
	if (s->state != SESSION_REGISTRY || !regview_is_current(s->host->devices))
		return;
	session_clear_deadline(s);
	session_admit(s);
}

/* Connect policy, and what the registry says about the client. */
static void
check_device(struct session *s)
{
	const struct sockaddr *sa = (const struct sockaddr *)&s->peer;
	const struct device *d;
	int64_t now = clock_now();

	if (s->is_probe)
		return; /* the balancer's health check: greeted, never given MAIL */
	d = regview_match(s->host->devices, sa);

	if (s->l->conf->clients == LCLIENTS_REGISTERED && !regview_ready(s->host->devices)) {
		/* No snapshot could be read since this worker started: say "later",
		 * never "no", about a device that may well be registered. */
		s->is_refused = s->is_refused_temporarily = true;
		str_copy(s->refuse_why, sizeof(s->refuse_why),
		         "The device registry cannot be read just now; try again in a minute");
		return;
	}
	if (d) {
		s->device_id = d->id;
		s->is_legacy_device = d->legacy_tls && policy_device_is_valid(d, now);
	}
	if (policy_check_connect(s->cfg, s->l->conf, sa, d, now, s->refuse_why,
	                         sizeof(s->refuse_why)) != OUT_OK)
		s->is_refused = true;
}

static void
session_greet(struct session *s)
{
	if (s->is_refused_temporarily) {
		log_info("event=refuse-client " SFMT " code=421 reason=\"%s\"", SARG(s),
		         s->refuse_why);
		session_reply_close(s, REPLY_GREETING_TEMPFAIL, s->refuse_why);
	} else if (s->is_refused) {
		log_info("event=refuse-client " SFMT " code=554 reason=\"%s\"", SARG(s),
		         s->refuse_why);
		session_reply(s, REPLY_GREETING_REFUSED, s->refuse_why);
	} else {
		session_reply(s, REPLY_GREETING, s->cfg->hostname);
	}
}

/* Legacy TLS is a per-device exception, never a listener's weakness. */
static void
start_tls(struct session *s)
{
	session_set_state(s, SESSION_TLS_HANDSHAKE);
	conn_start_tls(s->conn,
	               s->is_legacy_device && s->l->legacy_ctx ? s->l->legacy_ctx : s->l->ctx);
	conn_set_reading(s->conn, true);
	session_set_timeout(s, s->cfg->tls_timeout);
	session_set_deadline(s, s->cfg->tls_timeout);
}

/* Connect policy, then the greeting (or the implicit-TLS handshake). */
static void
session_admit(struct session *s)
{
	check_device(s);
	/* Mail from here may reach internal addresses only, and so may its
	 * bounces (queue/bounce.c). */
	s->env.is_internal_only = s->l->conf->recipients == LRCPTS_INTERNAL || s->is_legacy_device;
	if (s->is_probe)
		log_debug("event=connect " SFMT " probe=yes", SARG(s));
	else
		log_info("event=connect " SFMT " refused=%s device=%lld legacy_tls=%s", SARG(s),
		         s->is_refused ? "yes" : "no", (long long)s->device_id,
		         s->is_legacy_device ? "yes" : "no");
	enter(s);
	s->conn = conn_new(s->host->base, s->fd, &session_conn_cbs, s);
	/* Bound the input buffer: reading pauses while a full window waits. */
	conn_set_input_limit(s->conn, s->cfg->max_command_line + SESSION_DATA_CHUNK);
	conn_set_reading(s->conn, true);
	session_set_timeout(s, s->cfg->idle_timeout);
	if (s->l->conf->tls == LTLS_IMPLICIT) {
		start_tls(s);
	} else {
		session_set_state(s, SESSION_CMD);
		session_greet(s);
	}
	leave(s);
}

/* ---- the end ---- */

/* "none", "handshake-failed", or the version and cipher. */
static const char *
tls_state(const struct session *s)
{
	return s->state == SESSION_TLS_HANDSHAKE || s->tls_diag[0] ? "handshake-failed" : s->tls;
}

/* How the session ended, for "what did my device just do?". */
static void
result_text(const struct session *s, char *dst, size_t size)
{
	if (s->n_msgs > 0)
		str_fmt(dst, size, "accepted %u message%s", s->n_msgs, s->n_msgs == 1 ? "" : "s");
	else if (s->is_refused)
		str_fmt(dst, size, "refused at connect: %s", s->refuse_why);
	else if (s->state == SESSION_TLS_HANDSHAKE)
		str_fmt(dst, size, "TLS handshake failed%s%s", s->tls_diag[0] ? ": " : "",
		        s->tls_diag);
	else if (s->tls_diag[0])
		str_fmt(dst, size, "TLS handshake failed: %s", s->tls_diag);
	else if (s->last_refusal[0])
		str_fmt(dst, size, "refused: %s", s->last_refusal);
	else
		str_copy(dst, size, "no message sent");
}

/* One record of the session for the registry's statistics. */
static void
note_end(const struct session *s)
{
	struct session_record r = {
	    .client = s->client,
	    .listener = s->l->conf->name,
	    .tls = tls_state(s),
	    .device_id = s->device_id,
	    .started = s->started,
	    .messages = s->n_msgs,
	    .is_refused = s->is_refused || s->was_refused,
	};
	char result[256];

	if (s->host->devices == NULL)
		return;
	result_text(s, result, sizeof(result));
	r.result = result;
	regview_note_end(s->host->devices, &r);
}

static void
session_free(struct session *s)
{
	if (s->is_probe)
		log_debug("event=disconnect " SFMT " probe=yes", SARG(s));
	else
		log_info("event=disconnect " SFMT " state=%s messages=%u recipients=%u errors=%u "
		         "duration=%lds",
		         SARG(s), session_state_name(s->state), s->n_msgs, s->n_rcpts, s->n_errors,
		         (long)((time_t)clock_now() - s->started));
	if (s->commit)
		s->commit->s = NULL; /* the commit finishes without us */
	else if (s->msg) {
		log_info("event=data-aborted " SFMT " reason=connection-lost", SARG(s));
		spool_msg_free(s->msg);
	}
	smtpauth_session_gone(s);
	if (!s->is_probe) {
		metrics_session_end(s->l->conf->name, tls_state(s));
		note_end(s);
	}
	conn_free(s->conn);
	close(s->fd);
	event_free(s->ev_resume);
	event_free(s->ev_deadline);
	event_free(s->ev_auth_delay);
	envelope_free(&s->env);
	s->host->on_gone(s->host->arg, s);
	free(s);
}

void
session_shutdown(struct session *s)
{
	s->is_shutting_down = true;
	if (s->state == SESSION_CMD && s->conn && conn_input_length(s->conn) == 0)
		session_reply_close(s, REPLY_SHUTDOWN, s->cfg->hostname);
}

void
session_abort(struct session *s)
{
	session_close(s);
}

void
session_link(struct session **head, struct session *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

void
session_unlink(struct session **head, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

struct session *
session_next(const struct session *s)
{
	return s->next;
}

/* ---- events ---- */

/* A timeout while reading a command: 421 and close; during a handshake,
 * or while our output is stuck, just close. */
static void
timed_out(struct session *s, bool is_writing)
{
	if (s->state == SESSION_TLS_HANDSHAKE || s->state == SESSION_STARTTLS || is_writing)
		session_close(s);
	else if (s->state != SESSION_CLOSING)
		session_reply_close(s, REPLY_TIMEOUT, s->cfg->hostname);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	s->has_deadline = false;
	if (s->state == SESSION_REGISTRY) {
		log_warn("event=registry-slow " SFMT " note=\"deciding on the last snapshot\"",
		         SARG(s));
		session_admit(s);
		return;
	}
	enter(s);
	log_info("event=timeout " SFMT " state=%s kind=deadline", SARG(s),
	         session_state_name(s->state));
	timed_out(s, false);
	leave(s);
}

static void
on_auth_delay(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	enter(s);
	smtpauth_delay_over(s);
	leave(s);
}

static void
on_read(void *arg)
{
	struct session *s = arg;
	int one = 1;

	/* A client with Nagle on sends the final ".\r\n" only once its last
	 * body segment is acknowledged; our delayed ACK would stall it 40 ms.
	 * Quick ACKs during DATA (the kernel clears the flag, so set it again). */
	if (s->state == SESSION_DATA)
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	enter(s);
	session_process(s);
	leave(s);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	on_read(arg);
}

static void
on_drained(void *arg)
{
	struct session *s = arg;

	enter(s);
	if (s->state == SESSION_CLOSING)
		session_close(s);
	else if (s->state == SESSION_STARTTLS)
		start_tls(s);
	else if (s->state == SESSION_CMD && conn_input_length(s->conn) > 0)
		session_process(s); /* resume after backpressure */
	leave(s);
}

static void
tls_established(struct session *s)
{
	s->is_tls = true;
	session_clear_deadline(s);
	conn_tls_describe(s->conn, s->tls, sizeof(s->tls));
	str_copy(s->env.tls, sizeof(s->env.tls), s->tls);
	log_info("event=tls " SFMT " resumed=%s", SARG(s),
	         conn_tls_resumed(s->conn) ? "yes" : "no");
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->cfg->idle_timeout);
	if (s->l->conf->tls == LTLS_IMPLICIT)
		session_greet(s);
}

static void
on_event(void *arg, int what)
{
	struct session *s = arg;
	char why[256];

	enter(s);
	if (what & CONN_CONNECTED) {
		tls_established(s);
	} else if (what & CONN_TIMEOUT) {
		log_info("event=timeout " SFMT " state=%s", SARG(s), session_state_name(s->state));
		timed_out(s, (what & CONN_WRITING) != 0);
	} else if (what & (CONN_EOF | CONN_ERROR)) {
		if (s->state == SESSION_TLS_HANDSHAKE) {
			conn_tls_error_text(s->conn, why, sizeof(why));
			tlsdiag_handshake_failed(s);
			log_info("event=tls-failed " SFMT " reason=\"%s\" offered=\"%s\"", SARG(s),
			         why, s->tls_diag);
		} else if (s->state == SESSION_DATA) {
			log_info("event=lost-connection " SFMT " state=data", SARG(s));
		}
		session_close(s);
	}
	leave(s);
}

/* ---- input ---- */

/* The spool commit is done: reply, then the commands pipelined after the dot. */
static void
on_committed(void *arg)
{
	struct commit *c = arg;
	struct session *s = c->s;

	if (s == NULL && c->rc == 0) {
		/* Delivered anyway: a duplicate is better than a loss. */
		log_info("event=queued id=%s note=client-gone-before-reply", spool_id(c->msg));
		c->host->on_queued(c->host->arg, spool_id(c->msg));
	}
	if (s) {
		enter(s);
		message_committed(s, c);
		if (s->is_shutting_down)
			session_shutdown(s);
		else
			session_process(s);
	}
	spool_msg_free(c->msg);
	free(c);
	if (s)
		leave(s);
}

/* A password check is done: reply, then what the client sent since. */
static void
on_auth_checked(void *arg)
{
	struct authjob *j = arg;
	struct session *s = smtpauth_job_session(j);

	if (s == NULL) {
		smtpauth_job_free(j);
		return;
	}
	enter(s);
	smtpauth_checked(s, j);
	if (s->is_shutting_down)
		session_shutdown(s);
	else
		session_process(s);
	leave(s);
}

/* The message's bytes; false while it goes on. */
static bool
take_message(struct session *s)
{
	if (message_input(s))
		workq_submit(s->host->commits, message_commit_run, on_committed, s->commit);
	return s->state != SESSION_DATA;
}

/* One command line, or false when there is none (yet) or the session
 * should wait (output piling up, its share of this turn used). */
static bool
take_command(struct session *s, char *line, unsigned *budget)
{
	size_t max = s->cfg->max_command_line, len;

	if (conn_output_length(s->conn) > OUT_HIWAT)
		return false; /* on_drained resumes */
	if ((*budget)-- == 0) {
		event_active(s->ev_resume, 0, 0);
		return false;
	}
	if (!s->has_helo && tlsdiag_tls_on_plaintext_port(s)) {
		session_close(s); /* it waits for a ServerHello: no SMTP reply can help */
		return false;
	}
	switch (conn_read_line(s->conn, line, max - 1, &len)) { /* max counts the CRLF */
	case CONN_LINE_NONE:
		/* A partial line may not take longer than idle_timeout in all. */
		if (!s->has_deadline &&
		    (conn_is_skipping_line(s->conn) || conn_input_length(s->conn) > 0))
			session_set_deadline(s, s->cfg->idle_timeout);
		return false;
	case CONN_LINE_TOO_LONG:
		if (s->has_deadline)
			session_clear_deadline(s);
		if (s->state == SESSION_AUTH)
			smtpauth_cancel(s);
		session_reply(s, REPLY_LINE_TOO_LONG, (unsigned long long)max);
		return true;
	case CONN_LINE_OK:
		if (s->has_deadline)
			session_clear_deadline(s);
		if (s->state == SESSION_AUTH)
			smtpauth_line(s, line, len);
		else
			commands_run(s, line, len);
		smtpauth_submit(s, on_auth_checked);
		return true;
	}
	return false;
}

static void
session_process(struct session *s)
{
	char line[LINE_MAX_IN];
	unsigned budget = CMDS_PER_WAKEUP;

	while (!s->is_dead && s->conn) {
		if (s->state == SESSION_DATA) {
			if (!take_message(s))
				return; /* wait for more */
		} else if ((s->state != SESSION_CMD && s->state != SESSION_AUTH) ||
		           !take_command(s, line, &budget)) {
			return;
		}
	}
}
