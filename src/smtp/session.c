#include "smtp/session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smtp/conn.h"
#include "smtp/regview.h"
#include "hdrscan.h"
#include "log.h"
#include "policy.h"
#include "reply.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "spool/spool.h"
#include "tls.h"
#include "util/clock.h"
#include "util/countmap.h"
#include "util/str.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "smtp/worker.h"

#define CMDS_PER_WAKEUP 64          /* fairness: then yield to other sessions */
#define OUT_HIWAT       (64 * 1024) /* stop reading commands while replies pile up */
#define DATA_CHUNK      (16 * 1024) /* decode DATA in pieces of this size */
#define SID_LEN         16
#define REGISTRY_WAIT_S 1 /* then decide on the snapshot there is */

enum session_state {
	SESSION_TLS_HANDSHAKE, /* implicit TLS, or after STARTTLS: handshake running */
	SESSION_CMD,           /* reading commands */
	SESSION_DATA,          /* reading the message */
	SESSION_SYNC,          /* message written; waiting for the spool commit */
	SESSION_STARTTLS,      /* 220 queued; handshake starts once it is sent */
	SESSION_CLOSING,       /* last reply queued; close once it is sent */
	SESSION_REGISTRY, /* accepted; waiting for a registry snapshot with the latest changes */
	SESSION_NSTATES
};

enum data_error { DATA_OK, DATA_TOO_BIG, DATA_LINE_TOO_LONG, DATA_IO, DATA_LOOP };

struct session {
	char sid[SID_LEN + 1];
	struct worker *w;
	struct listener *l;
	int fd;
	struct conn *conn;
	struct sockaddr_storage peer;
	char client[64];
	enum session_state state;
	bool is_tls;
	char tls[128];
	bool is_refused;
	bool is_refused_temporarily; /* 421 instead of 554 */
	bool was_refused;            /* some policy refusal (554, 530, 550 5.7.1) */
	char refuse_why[512];
	int64_t device_id;     /* registered device covering the client, or 0 */
	bool is_legacy_device; /* gets legacy TLS; internal recipients only */
	bool has_helo;
	bool is_esmtp;
	char helo[256];
	bool has_mail;
	struct envelope env;
	struct smtp_data dd;
	struct hdrscan hs; /* Received: fields of the message, for loops */
	struct spool_msg *msg;
	enum data_error data_err;
	struct commit *commit; /* pending spool commit, if any */
	bool is_skipping_line; /* discarding the rest of an over-long line */
	bool is_shutting_down;
	unsigned n_errors, n_msgs, n_rcpts;
	time_t started;
	struct event *ev_resume;
	struct event *ev_deadline; /* total time of a handshake, a DATA, a command line */
	bool has_deadline;
	unsigned n_cmds_before_mail;
	char last_refusal[160]; /* the last 4xx/5xx reply, for the session record */
	int in_callback;
	bool is_dead;
	struct session *prev, *next;
};

struct commit {
	struct worker *w;
	struct session *s; /* NULL once the session is gone */
	struct spool_msg *msg;
	int rc;
};

typedef void cmd_fn(struct session *, struct smtp_cmd *);

/* phase: setup and teardown */
static void session_free(struct session *);
static void session_note_recent(const struct session *);
static void session_close(struct session *);
static void session_set_state(struct session *, enum session_state);
static void session_set_timeout(struct session *, uint64_t seconds);
static void session_install_conn(struct session *);
static void session_admit(struct session *);
/* phase: I/O events */
static void on_read(void *);
static void on_drained(void *);
static void on_event(void *, int);
static void on_resume(evutil_socket_t, short, void *);
static void on_deadline(evutil_socket_t, short, void *);
static void session_set_deadline(struct session *, uint64_t seconds);
static void session_clear_deadline(struct session *);
static void session_process(struct session *);
/* phase: replies */
static void session_reply(struct session *, enum reply_id, ...);
static void session_greet(struct session *);
/* phase: commands */
static void session_command(struct session *, const char *, size_t);
static cmd_fn cmd_helo, cmd_ehlo, cmd_mail, cmd_rcpt, cmd_data, cmd_rset, cmd_noop, cmd_quit,
    cmd_vrfy, cmd_help, cmd_starttls, cmd_auth, cmd_not_implemented;
/* phase: data and commit */
static void session_data_input(struct session *);
static void session_data_end(struct session *);
static void commit_run(void *);
static void commit_done(void *);
static void session_txn_reset(struct session *);

#define SFMT    "sid=%s listener=%s client=%s tls=%s"
#define SARG(s) (s)->sid, (s)->l->conf->name, (s)->client, (s)->tls

static const char *const state_names[SESSION_NSTATES] = {
    "tls-handshake", "cmd", "data", "sync", "starttls", "closing", "registry",
};

/* flags of the command table */
#define CMD_NEEDS_TLS  0x01 /* 530 on a tls = required listener until TLS is up */
#define CMD_NEEDS_HELO 0x02

static const struct {
	enum smtp_verb verb;
	unsigned flags;
	cmd_fn *run;
} commands[] = {
    {SMTP_HELO, 0, cmd_helo},
    {SMTP_EHLO, 0, cmd_ehlo},
    {SMTP_MAIL, CMD_NEEDS_TLS | CMD_NEEDS_HELO, cmd_mail},
    {SMTP_RCPT, CMD_NEEDS_TLS, cmd_rcpt},
    {SMTP_DATA, CMD_NEEDS_TLS, cmd_data},
    {SMTP_BDAT, CMD_NEEDS_TLS, cmd_not_implemented},
    {SMTP_AUTH, CMD_NEEDS_TLS, cmd_auth},
    {SMTP_RSET, 0, cmd_rset},
    {SMTP_NOOP, 0, cmd_noop},
    {SMTP_QUIT, 0, cmd_quit},
    {SMTP_VRFY, 0, cmd_vrfy},
    {SMTP_EXPN, 0, cmd_not_implemented},
    {SMTP_HELP, 0, cmd_help},
    {SMTP_STARTTLS, 0, cmd_starttls},
};

/* ---- setup and teardown ---- */

static void
make_sid(char *dst)
{
	static unsigned long counter;

	str_fmt(dst, SID_LEN + 1, "%08lx%08lx", (unsigned long)clock_now() & 0xffffffffUL,
	        ((unsigned long)getpid() << 20 | (++counter & 0xfffff)) & 0xffffffffUL);
}

/* Refuse before any session state exists: one line, then close. */
static void
refuse_early(int fd, struct worker *w, enum reply_id id, const char *client)
{
	struct buf b;

	buf_init(&b, 1024);
	reply_append(&b, id, w->cfg->hostname, client,
	             (unsigned long long)w->cfg->max_client_connections);
	(void)!write(fd, b.data, b.len);
	buf_free(&b);
	close(fd);
}

/* Connect policy, and what the registry says about the client. */
static void
session_check_device(struct session *s, const struct sockaddr *sa)
{
	int64_t now = clock_now();
	const struct device *d = regview_match(s->w->devices, sa);

	if (s->l->conf->clients == LCLIENTS_REGISTERED && !regview_ready(s->w->devices)) {
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
	if (policy_check_connect(s->w->cfg, s->l->conf, sa, d, now, s->refuse_why,
	                         sizeof(s->refuse_why)) != OUT_OK)
		s->is_refused = true;
}

/* Legacy TLS is a per-device exception, never a listener's weakness. */
static SSL_CTX *
session_tls_ctx(const struct session *s)
{
	return s->is_legacy_device && s->l->legacy_ctx ? s->l->legacy_ctx : s->l->ctx;
}

void
session_accept(struct worker *w, struct listener *l, int fd, const struct sockaddr *sa,
               socklen_t salen)
{
	struct session *s;
	char client[64];
	int one = 1;

	sockaddr_format_addr(sa, client, sizeof(client));
	if (w->n_sessions >= w->cfg->max_connections || w->is_stopping) {
		log_warn("event=refuse-connection listener=%s client=%s reason=%s", l->conf->name,
		         client, w->is_stopping ? "shutting-down" : "max-connections");
		refuse_early(fd, w, w->is_stopping ? REPLY_SHUTDOWN : REPLY_TOO_MANY_CONNECTIONS,
		             client);
		return;
	}
	if (countmap_incr(w->per_client, client) > w->cfg->max_client_connections) {
		countmap_decr(w->per_client, client);
		log_warn("event=refuse-connection listener=%s client=%s "
		         "reason=max-client-connections limit=%llu",
		         l->conf->name, client, (unsigned long long)w->cfg->max_client_connections);
		refuse_early(fd, w, REPLY_TOO_MANY_CLIENT_CONNECTIONS, client);
		return;
	}
	/* Small replies must leave at once: no Nagle/delayed-ACK stalls. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->l = l;
	s->fd = fd;
	memcpy(&s->peer, sa, salen < sizeof(s->peer) ? salen : sizeof(s->peer));
	str_copy(s->client, sizeof(s->client), client);
	str_copy(s->tls, sizeof(s->tls), "none");
	make_sid(s->sid);
	s->started = (time_t)clock_now();
	envelope_init(&s->env);
	str_copy(s->env.listener, sizeof(s->env.listener), l->conf->name);
	str_copy(s->env.client, sizeof(s->env.client), client);
	s->ev_resume = event_new(w->base, -1, 0, on_resume, s);
	s->ev_deadline = evtimer_new(w->base, on_deadline, s);
	session_link(&w->sessions, s);
	w->n_sessions++;
	/* The registry changed since our snapshot: decide on the next one. */
	if (!regview_is_current(w->devices)) {
		session_set_state(s, SESSION_REGISTRY);
		session_set_deadline(s, REGISTRY_WAIT_S);
		return;
	}
	session_admit(s);
}

void
session_registry_fresh(struct session *s)
{
	if (s->state != SESSION_REGISTRY || !regview_is_current(s->w->devices))
		return;
	session_clear_deadline(s);
	session_admit(s);
}

/* Connect policy, then the greeting (or the implicit-TLS handshake). */
static void
session_admit(struct session *s)
{
	struct worker *w = s->w;
	struct listener *l = s->l;

	session_check_device(s, (const struct sockaddr *)&s->peer);
	/* Mail from here may reach internal addresses only, and so may its
	 * bounces (bounce.c). */
	s->env.is_internal_only = l->conf->recipients == LRCPTS_INTERNAL || s->is_legacy_device;
	log_info("event=connect " SFMT " refused=%s device=%lld legacy_tls=%s", SARG(s),
	         s->is_refused ? "yes" : "no", (long long)s->device_id,
	         s->is_legacy_device ? "yes" : "no");
	s->in_callback++;
	if (l->conf->tls == LTLS_IMPLICIT) {
		session_install_conn(s);
		conn_start_tls(s->conn, SSL_new(session_tls_ctx(s)));
		session_set_state(s, SESSION_TLS_HANDSHAKE);
		session_set_timeout(s, w->cfg->tls_timeout);
		session_set_deadline(s, w->cfg->tls_timeout);
	} else {
		session_install_conn(s);
		session_set_state(s, SESSION_CMD);
		session_greet(s);
	}
	s->in_callback--;
	if (s->is_dead)
		session_free(s);
}

static const struct conn_cbs session_conn_cbs = {on_read, on_drained, on_event};

static void
session_install_conn(struct session *s)
{
	s->conn = conn_new(s->w->base, s->fd, &session_conn_cbs, s);
	/* Bound the input buffer: reading pauses while a full window waits. */
	conn_set_input_limit(s->conn, s->w->cfg->max_command_line + DATA_CHUNK);
	conn_set_reading(s->conn, true);
	session_set_timeout(s, s->w->cfg->idle_timeout);
}

static void
session_set_timeout(struct session *s, uint64_t seconds)
{
	conn_set_timeout(s->conn, (unsigned)seconds);
}

/* Per-read timeouts do not stop a client that trickles a byte at a time;
 * a deadline bounds the whole handshake, DATA or command line. */
static void
session_set_deadline(struct session *s, uint64_t seconds)
{
	struct timeval tv = {(time_t)seconds, 0};

	evtimer_add(s->ev_deadline, &tv);
	s->has_deadline = true;
}

static void
session_clear_deadline(struct session *s)
{
	evtimer_del(s->ev_deadline);
	s->has_deadline = false;
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
	s->in_callback++;
	log_info("event=timeout " SFMT " state=%s kind=deadline", SARG(s), state_names[s->state]);
	if (s->state == SESSION_TLS_HANDSHAKE || s->state == SESSION_STARTTLS) {
		session_close(s);
	} else if (s->state != SESSION_CLOSING) {
		session_reply(s, REPLY_TIMEOUT, s->w->cfg->hostname);
		session_set_state(s, SESSION_CLOSING);
		conn_set_reading(s->conn, false);
	}
	s->in_callback--;
	if (s->is_dead)
		session_free(s);
}

static void
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

/* Mark for freeing; the free happens when the outermost callback returns. */
static void
session_close(struct session *s)
{
	s->is_dead = true;
	if (s->in_callback == 0)
		session_free(s);
}

/* One line on how the session ended, for "what did my device just do?". */
static void
session_note_recent(const struct session *s)
{
	char result[256];

	if (s->w->devices == NULL)
		return;
	if (s->n_msgs > 0)
		str_fmt(result, sizeof(result), "accepted %u message%s", s->n_msgs,
		        s->n_msgs == 1 ? "" : "s");
	else if (s->is_refused)
		str_fmt(result, sizeof(result), "refused at connect: %s", s->refuse_why);
	else if (s->state == SESSION_TLS_HANDSHAKE)
		str_copy(result, sizeof(result), "TLS handshake failed");
	else if (s->last_refusal[0])
		str_fmt(result, sizeof(result), "refused: %s", s->last_refusal);
	else
		str_copy(result, sizeof(result), "no message sent");
	regview_note_recent(s->w->devices, s->client, s->l->conf->name,
	                    s->state == SESSION_TLS_HANDSHAKE ? "handshake-failed" : s->tls,
	                    result);
}

static void
session_free(struct session *s)
{
	log_info("event=disconnect " SFMT " state=%s messages=%u recipients=%u errors=%u "
	         "duration=%lds",
	         SARG(s), state_names[s->state], s->n_msgs, s->n_rcpts, s->n_errors,
	         (long)((time_t)clock_now() - s->started));
	if (s->commit)
		s->commit->s = NULL; /* the commit finishes without us */
	else if (s->msg) {
		log_info("event=data-aborted " SFMT " reason=connection-lost", SARG(s));
		spool_msg_free(s->msg);
	}
	if (s->device_id)
		regview_note_session(s->w->devices, s->device_id, s->started, s->tls,
		                     s->l->conf->name, s->n_msgs);
	regview_note_client(s->w->devices, s->client, s->l->conf->name,
	                    s->state == SESSION_TLS_HANDSHAKE ? "handshake-failed" : s->tls,
	                    s->n_msgs, s->is_refused || s->was_refused);
	session_note_recent(s);
	conn_free(s->conn);
	close(s->fd);
	event_free(s->ev_resume);
	event_free(s->ev_deadline);
	envelope_free(&s->env);
	countmap_decr(s->w->per_client, s->client);
	session_unlink(&s->w->sessions, s);
	worker_session_gone(s->w, s);
	free(s);
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

void
session_shutdown(struct session *s)
{
	s->is_shutting_down = true;
	if (s->state == SESSION_CMD && s->conn && evbuffer_get_length(conn_input(s->conn)) == 0) {
		session_reply(s, REPLY_SHUTDOWN, s->w->cfg->hostname);
		session_set_state(s, SESSION_CLOSING);
	}
}

void
session_abort(struct session *s)
{
	session_close(s);
}

/* ---- I/O events ---- */

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
	s->in_callback++;
	session_process(s);
	s->in_callback--;
	if (s->is_dead)
		session_free(s);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	on_read(arg);
}

static void
session_start_tls(struct session *s)
{
	session_set_state(s, SESSION_TLS_HANDSHAKE);
	conn_start_tls(s->conn, SSL_new(session_tls_ctx(s)));
	conn_set_reading(s->conn, true);
	session_set_timeout(s, s->w->cfg->tls_timeout);
	session_set_deadline(s, s->w->cfg->tls_timeout);
}

static void
on_drained(void *arg)
{
	struct session *s = arg;

	s->in_callback++;
	if (s->state == SESSION_CLOSING)
		session_close(s);
	else if (s->state == SESSION_STARTTLS)
		session_start_tls(s);
	else if (s->state == SESSION_CMD && evbuffer_get_length(conn_input(s->conn)) > 0)
		session_process(s); /* resume after backpressure */
	s->in_callback--;
	if (s->is_dead)
		session_free(s);
}

static void
tls_established(struct session *s)
{
	SSL *ssl = conn_ssl(s->conn);

	s->is_tls = true;
	session_clear_deadline(s);
	tls_describe(ssl, s->tls, sizeof(s->tls));
	str_copy(s->env.tls, sizeof(s->env.tls), s->tls);
	log_info("event=tls " SFMT " resumed=%s", SARG(s), SSL_session_reused(ssl) ? "yes" : "no");
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->w->cfg->idle_timeout);
	if (s->l->conf->tls == LTLS_IMPLICIT)
		session_greet(s);
}

static void
tls_failed(struct session *s)
{
	unsigned long e = conn_tls_error(s->conn);
	char why[256] = "connection closed during handshake";

	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	log_info("event=tls-failed " SFMT " reason=\"%s\"", SARG(s), why);
}

static void
on_event(void *arg, int what)
{
	struct session *s = arg;

	s->in_callback++;
	if (what & CONN_CONNECTED) {
		tls_established(s);
	} else if (what & CONN_TIMEOUT) {
		log_info("event=timeout " SFMT " state=%s", SARG(s), state_names[s->state]);
		if (s->state == SESSION_TLS_HANDSHAKE || (what & CONN_WRITING)) {
			session_close(s);
		} else {
			session_reply(s, REPLY_TIMEOUT, s->w->cfg->hostname);
			session_set_state(s, SESSION_CLOSING);
			conn_set_reading(s->conn, false);
		}
	} else if (what & (CONN_EOF | CONN_ERROR)) {
		if (s->state == SESSION_TLS_HANDSHAKE)
			tls_failed(s);
		else if (s->state == SESSION_DATA)
			log_info("event=lost-connection " SFMT " state=data", SARG(s));
		session_close(s);
	}
	s->in_callback--;
	if (s->is_dead)
		session_free(s);
}

/* The next complete line of input, copied to line[]; 0 when none yet,
 * -1 when the line was too long (and is being skipped). */
static int
next_line(struct session *s, char *line, size_t size, size_t *len)
{
	struct evbuffer *in = conn_input(s->conn);
	size_t eol_len = 0;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);

	if (p.pos < 0) {
		if (evbuffer_get_length(in) < size)
			return 0;
		evbuffer_drain(in, evbuffer_get_length(in)); /* no CRLF within the limit */
		if (s->is_skipping_line)
			return 0;
		s->is_skipping_line = true;
		return -1;
	}
	if (s->is_skipping_line || (size_t)p.pos >= size) {
		evbuffer_drain(in, (size_t)p.pos + eol_len);
		bool was_skipping = s->is_skipping_line;
		s->is_skipping_line = false;
		return was_skipping ? next_line(s, line, size, len) : -1;
	}
	evbuffer_remove(in, line, (size_t)p.pos);
	evbuffer_drain(in, eol_len);
	line[p.pos] = '\0';
	*len = (size_t)p.pos;
	return 1;
}

static void
session_process(struct session *s)
{
	char line[65536 + 1];
	size_t max = s->w->cfg->max_command_line, len;
	unsigned budget = CMDS_PER_WAKEUP;

	while (!s->is_dead && s->conn) {
		if (s->state == SESSION_DATA) {
			session_data_input(s);
			if (s->state == SESSION_DATA)
				return; /* wait for more */
			continue;
		}
		if (s->state != SESSION_CMD)
			return;
		if (conn_output_length(s->conn) > OUT_HIWAT)
			return; /* on_drained resumes */
		if (budget-- == 0) {
			event_active(s->ev_resume, 0, 0);
			return;
		}
		int r = next_line(s, line, max - 1, &len); /* max counts the CRLF */
		if (r == 0) {
			/* A partial line may not take longer than idle_timeout in all. */
			if (!s->has_deadline &&
			    (s->is_skipping_line || evbuffer_get_length(conn_input(s->conn)) > 0))
				session_set_deadline(s, s->w->cfg->idle_timeout);
			return;
		}
		if (s->has_deadline)
			session_clear_deadline(s);
		if (r < 0)
			session_reply(s, REPLY_LINE_TOO_LONG, (unsigned long long)max);
		else
			session_command(s, line, len);
	}
}

/* ---- replies ---- */

static void
session_reply(struct session *s, enum reply_id id, ...)
{
	struct buf b;
	va_list ap;
	int code = reply_code(id);

	buf_init(&b, 2048);
	va_start(ap, id);
	reply_vappend(&b, id, ap);
	va_end(ap);
	if (s->conn)
		conn_write(s->conn, b.data, b.len);
	if (id == REPLY_GREETING_REFUSED || id == REPLY_TLS_REQUIRED ||
	    id == REPLY_REGISTRATION_ENDED || id == REPLY_RCPT_NOT_INTERNAL ||
	    id == REPLY_RCPT_ROUTING || id == REPLY_RCPT_LEGACY_INTERNAL)
		s->was_refused = true; /* for `report tls`: every refusal counts */
	if (code >= 400 && id != REPLY_GREETING_REFUSED) {
		char esc[256];
		str_copyn(s->last_refusal, sizeof(s->last_refusal), b.data,
		          b.len >= 2 ? b.len - 2 : b.len);
		log_info("event=reply " SFMT " code=%d reply=\"%s\"", SARG(s), code,
		         log_escape(esc, sizeof(esc), b.data, b.len >= 2 ? b.len - 2 : b.len));
		if (++s->n_errors >= s->w->cfg->max_errors && s->state != SESSION_CLOSING &&
		    code != 421 && id != REPLY_TIMEOUT && id != REPLY_SHUTDOWN &&
		    id != REPLY_TOO_MANY_ERRORS) {
			buf_reset(&b);
			reply_append(&b, REPLY_TOO_MANY_ERRORS, s->w->cfg->hostname);
			conn_write(s->conn, b.data, b.len);
			log_info("event=too-many-errors " SFMT " errors=%u", SARG(s), s->n_errors);
			session_set_state(s, SESSION_CLOSING);
			conn_set_reading(s->conn, false);
		}
	}
	buf_free(&b);
}

static void
session_greet(struct session *s)
{
	if (s->is_refused_temporarily) {
		log_info("event=refuse-client " SFMT " code=421 reason=\"%s\"", SARG(s),
		         s->refuse_why);
		session_reply(s, REPLY_GREETING_TEMPFAIL, s->refuse_why);
		session_set_state(s, SESSION_CLOSING);
		conn_set_reading(s->conn, false);
		return;
	}
	if (s->is_refused) {
		log_info("event=refuse-client " SFMT " code=554 reason=\"%s\"", SARG(s),
		         s->refuse_why);
		session_reply(s, REPLY_GREETING_REFUSED, s->refuse_why);
		return;
	}
	session_reply(s, REPLY_GREETING, s->w->cfg->hostname);
}

/* ---- commands ---- */

static void
session_command(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	enum smtp_cmd_err e = smtp_cmd_parse(line, len, s->has_mail && s->env.smtputf8, &c);
	char esc[128];

	log_debug("event=command sid=%s line=\"%s\"", s->sid,
	          log_escape(esc, sizeof(esc), line, len));
	if (e == SMTP_CMD_ERR_BARE_EOL) {
		session_reply(s, REPLY_BARE_EOL);
		return;
	}
	if (e == SMTP_CMD_ERR_NUL) {
		session_reply(s, REPLY_NUL);
		return;
	}
	if (e == SMTP_CMD_ERR_VERB) {
		session_reply(s, s->is_refused ? REPLY_REFUSED_SERVICE : REPLY_UNKNOWN_CMD);
		return;
	}
	if (c.verb != SMTP_MAIL && c.verb != SMTP_QUIT &&
	    ++s->n_cmds_before_mail > s->w->cfg->max_commands_before_mail) {
		log_info("event=too-many-commands " SFMT " commands=%u", SARG(s),
		         s->n_cmds_before_mail);
		session_reply(s, REPLY_TOO_MANY_COMMANDS, s->w->cfg->hostname);
		session_set_state(s, SESSION_CLOSING);
		conn_set_reading(s->conn, false);
		return;
	}
	if (s->is_refused && c.verb != SMTP_QUIT) {
		session_reply(s, REPLY_REFUSED_SERVICE);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].verb != c.verb)
			continue;
		if ((commands[i].flags & CMD_NEEDS_TLS) &&
		    !policy_allows_mail(s->l->conf, s->is_tls)) {
			session_reply(s, REPLY_TLS_REQUIRED);
			return;
		}
		if ((commands[i].flags & CMD_NEEDS_HELO) && !s->has_helo) {
			session_reply(s, REPLY_NEED_HELO);
			return;
		}
		/* Parse errors of MAIL and RCPT need the command's context. */
		if (e != SMTP_CMD_OK && c.verb != SMTP_MAIL && c.verb != SMTP_RCPT) {
			char usage[64];
			str_fmt(usage, sizeof(usage), "%s%s", smtp_verb_name(c.verb),
			        (c.verb == SMTP_HELO || c.verb == SMTP_EHLO) ? " hostname" : "");
			{
				session_reply(s, REPLY_SYNTAX, usage);
				return;
			}
		}
		commands[i].run(s, &c);
		return;
	}
	fatal_bug("session_command: verb %d has no handler", (int)c.verb);
}

static void
session_txn_reset(struct session *s)
{
	s->has_mail = false;
	envelope_reset(&s->env);
}

static void
set_helo(struct session *s, const struct smtp_cmd *c, bool is_esmtp)
{
	spool_sanitize(s->helo, sizeof(s->helo), c->arg, c->arg_len);
	str_copy(s->env.helo, sizeof(s->env.helo), s->helo);
	s->has_helo = true;
	s->is_esmtp = is_esmtp;
	session_txn_reset(s);
}

static void
cmd_helo(struct session *s, struct smtp_cmd *c)
{
	set_helo(s, c, false);
	session_reply(s, REPLY_HELO, s->w->cfg->hostname);
}

static void
cmd_ehlo(struct session *s, struct smtp_cmd *c)
{
	const struct config *cfg = s->w->cfg;
	const char *ext[8];
	char size[32];
	size_t n = 0;
	struct buf b;

	set_helo(s, c, true);
	str_fmt(size, sizeof(size), "SIZE %llu", (unsigned long long)cfg->max_message_size);
	ext[n++] = "PIPELINING";
	ext[n++] = size;
	ext[n++] = "8BITMIME";
	ext[n++] = "ENHANCEDSTATUSCODES";
	ext[n++] = "SMTPUTF8";
	if (!s->is_tls && (s->l->conf->tls == LTLS_OPTIONAL || s->l->conf->tls == LTLS_REQUIRED))
		ext[n++] = "STARTTLS";
	buf_init(&b, 1024);
	buf_printf(&b, "250-%s\r\n", cfg->hostname);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "250%c%s\r\n", i + 1 == n ? ' ' : '-', ext[i]);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

/* The reply for an address that did not parse. */
static void
reply_bad_address(struct session *s, const struct smtp_cmd *c, bool is_sender)
{
	if (c->addr_err == ADDRESS_ERR_UTF8) {
		session_reply(s, REPLY_UTF8_NEEDED, address_strerror(c->addr_err));
		return;
	}
	session_reply(s, is_sender ? REPLY_BAD_SENDER : REPLY_BAD_RCPT,
	              address_strerror(c->addr_err));
}

/* Replies for MAIL/RCPT parse errors; true if one was sent. */
static bool
reply_parse_error(struct session *s, const struct smtp_cmd *c, enum smtp_verb verb)
{
	const char *usage = verb == SMTP_MAIL ? "MAIL FROM:<address>" : "RCPT TO:<address>";

	if (c->err == SMTP_CMD_ERR_PARAM || c->err == SMTP_CMD_ERR_PARAM_VALUE) {
		char esc[SMTP_PARAM_MAX * 4];
		log_escape(esc, sizeof(esc), c->param, strlen(c->param));
		session_reply(
		    s, c->err == SMTP_CMD_ERR_PARAM_VALUE ? REPLY_PARAM_VALUE : REPLY_PARAM_UNKNOWN,
		    esc);
		return true;
	}
	if (c->addr_err != ADDRESS_OK) {
		reply_bad_address(s, c, verb == SMTP_MAIL);
		return true;
	}
	if (c->addr.local[0] == '\0' && !c->addr.is_null) {
		session_reply(s, REPLY_SYNTAX, usage);
		return true;
	}
	return false;
}

/* A session may not outlive max_session_time, nor the registration that
 * let it in: both are checked again at every MAIL. True if it was ended. */
static bool
session_expired(struct session *s)
{
	const struct device *d;
	int64_t now = clock_now();
	char why[512];

	if (now - (int64_t)s->started >= (int64_t)s->w->cfg->max_session_time) {
		log_info("event=session-too-long " SFMT " duration=%llds", SARG(s),
		         (long long)(now - (int64_t)s->started));
		session_reply(s, REPLY_SESSION_TOO_LONG, s->w->cfg->hostname);
	} else if (s->l->conf->clients == LCLIENTS_REGISTERED || s->is_legacy_device) {
		regview_is_current(s->w->devices); /* asks for a newer snapshot if it changed */
		d = regview_match(s->w->devices, (const struct sockaddr *)&s->peer);
		bool is_valid = policy_device_is_valid(d, now) &&
		                (!s->is_legacy_device || (d && d->legacy_tls));
		if (is_valid)
			return false;
		if (policy_check_connect(s->w->cfg, s->l->conf, (const struct sockaddr *)&s->peer,
		                         d, now, why, sizeof(why)) == OUT_OK)
			str_copy(why, sizeof(why), "The registration for legacy TLS has ended");
		log_info("event=refuse-client " SFMT " code=554 reason=\"%s\" when=mail", SARG(s),
		         why);
		session_reply(s, REPLY_REGISTRATION_ENDED, why);
	} else {
		return false;
	}
	session_set_state(s, SESSION_CLOSING);
	conn_set_reading(s->conn, false);
	return true;
}

static void
cmd_mail(struct session *s, struct smtp_cmd *c)
{
	const struct config *cfg = s->w->cfg;

	if (s->has_mail) {
		session_reply(s, REPLY_NESTED_MAIL);
		return;
	}
	if (session_expired(s))
		return;
	if (c->arg_len < 5 || strncasecmp(c->arg, "FROM:", 5) != 0) {
		session_reply(s, REPLY_SYNTAX, "MAIL FROM:<address>");
		return;
	}
	if (reply_parse_error(s, c, SMTP_MAIL))
		return;
	if (c->has_size && c->size > cfg->max_message_size) {
		session_reply(s, REPLY_SIZE_DECLARED, (unsigned long long)cfg->max_message_size);
		return;
	}
	address_format(&c->addr, s->env.sender, sizeof(s->env.sender));
	s->env.body = c->body;
	s->env.smtputf8 = c->smtputf8;
	s->has_mail = true;
	s->n_cmds_before_mail = 0;
	log_info("event=mail " SFMT " from=<%s> size=%llu", SARG(s), s->env.sender,
	         (unsigned long long)c->size);
	session_reply(s, REPLY_SENDER_OK, s->env.sender);
}

static void
cmd_rcpt(struct session *s, struct smtp_cmd *c)
{
	char addr[ADDRESS_MAX];
	struct address a;
	enum policy_rcpt v;

	if (!s->has_mail) {
		session_reply(s, REPLY_NEED_MAIL);
		return;
	}
	if (c->arg_len < 3 || strncasecmp(c->arg, "TO:", 3) != 0) {
		session_reply(s, REPLY_SYNTAX, "RCPT TO:<address>");
		return;
	}
	if (reply_parse_error(s, c, SMTP_RCPT))
		return;
	if (c->addr.is_null) {
		session_reply(s, REPLY_BAD_RCPT, "the null address <> is not a recipient");
		return;
	}
	policy_rcpt_address(s->w->cfg, c, &a);
	address_format(&a, addr, sizeof(addr));
	if ((v = policy_check_rcpt(s->w->cfg, s->l->conf, &a, s->is_legacy_device)) !=
	    POLICY_RCPT_OK) {
		log_info("event=refuse-rcpt " SFMT " to=<%s> reason=%s", SARG(s), addr,
		         policy_rcpt_name(v));
		if (v == POLICY_RCPT_ROUTING) {
			session_reply(s, REPLY_RCPT_ROUTING, addr);
			return;
		}
		{
			if (s->l->conf->recipients == LRCPTS_ANY)
				session_reply(s, REPLY_RCPT_LEGACY_INTERNAL, addr);
			else
				session_reply(s, REPLY_RCPT_NOT_INTERNAL, addr, s->l->conf->name);
			return;
		}
	}
	if (s->env.n_rcpt >= s->w->cfg->max_recipients) {
		session_reply(s, REPLY_TOO_MANY_RCPTS,
		              (unsigned long long)s->w->cfg->max_recipients);
		return;
	}
	for (size_t i = 0; i < s->env.n_rcpt; i++)
		if (strcmp(s->env.rcpt[i], addr) == 0) {
			session_reply(s, REPLY_RCPT_OK, addr);
			return;
		} /* once is enough */
	envelope_add_rcpt(&s->env, addr);
	s->env.smtputf8 |= a.is_utf8;
	session_reply(s, REPLY_RCPT_OK, addr);
}

/* The Received: header (RFC 5321 4.4), naming listener and TLS state. */
static void
write_received(struct session *s)
{
	char date[64], buf[2048];
	time_t now = (time_t)clock_now();
	struct tm tm;
	const char *with = s->env.smtputf8 ? (s->is_tls ? "UTF8SMTPS" : "UTF8SMTP")
	                   : s->is_esmtp   ? (s->is_tls ? "ESMTPS" : "ESMTP")
	                                   : (s->is_tls ? "SMTPS" : "SMTP");
	char tlsinfo[160];

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (s->is_tls)
		str_fmt(tlsinfo, sizeof(tlsinfo), "%s", s->tls);
	else
		str_copy(tlsinfo, sizeof(tlsinfo), "no TLS");
	str_fmt(buf, sizeof(buf),
	        "Received: from %s (%s [%s])\r\n\tby %s (mailout) with %s id %s\r\n"
	        "\t(listener %s, %s)%s%s%s;\r\n\t%s\r\n",
	        s->helo, s->client, s->client, s->w->cfg->hostname, with, s->env.id,
	        s->l->conf->name, tlsinfo, s->env.n_rcpt == 1 ? "\r\n\tfor <" : "",
	        s->env.n_rcpt == 1 ? s->env.rcpt[0] : "", s->env.n_rcpt == 1 ? ">" : "", date);
	spool_write(s->msg, buf, strlen(buf));
}

static void
cmd_data(struct session *s, struct smtp_cmd *c)
{
	int err = 0;

	(void)c;
	if (!s->has_mail) {
		session_reply(s, REPLY_NEED_MAIL);
		return;
	}
	if (s->env.n_rcpt == 0) {
		session_reply(s, REPLY_NEED_RCPT);
		return;
	}
	s->env.arrival = clock_now();
	if ((s->msg = spool_create(s->w->cfg->spool, &s->env, &err)) == NULL) {
		log_error("event=spool-error " SFMT " op=create error=\"%s\"", SARG(s),
		          strerror(err));
		{
			session_reply(s, err == ENOSPC ? REPLY_SPOOL_FULL : REPLY_SPOOL_TEMPFAIL);
			return;
		}
	}
	write_received(s);
	smtp_data_init(&s->dd, s->w->cfg->max_text_line);
	hdrscan_init(&s->hs);
	s->data_err = DATA_OK;
	session_set_state(s, SESSION_DATA);
	session_set_timeout(s, s->w->cfg->data_timeout);
	session_set_deadline(s, s->w->cfg->max_data_time);
	session_reply(s, REPLY_DATA_GO);
}

static void
cmd_rset(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_txn_reset(s);
	session_reply(s, REPLY_OK);
}

static void
cmd_noop(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_OK);
}

static void
cmd_quit(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_BYE);
	session_set_state(s, SESSION_CLOSING);
	conn_set_reading(s->conn, false);
}

static void
cmd_vrfy(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_VRFY);
}

static void
cmd_help(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_HELP);
}

static void
cmd_auth(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_AUTH_NOT_AVAILABLE);
}

static void
cmd_not_implemented(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	session_reply(s, REPLY_NOT_IMPLEMENTED);
}

static void
cmd_starttls(struct session *s, struct smtp_cmd *c)
{
	struct evbuffer *in = conn_input(s->conn);

	(void)c;
	if (s->is_tls) {
		session_reply(s, REPLY_TLS_ACTIVE);
		return;
	}
	if (s->l->ctx == NULL || s->l->conf->tls == LTLS_OFF) {
		session_reply(s, REPLY_TLS_NOT_OFFERED);
		return;
	}
	/* STARTTLS injection (CVE-2011-0411 class): whatever the client sent
	 * after the command was sent in clear and must not be obeyed. */
	if (evbuffer_get_length(in) > 0) {
		log_info("event=starttls-injection " SFMT " discarded=%zu", SARG(s),
		         evbuffer_get_length(in));
		evbuffer_drain(in, evbuffer_get_length(in));
	}
	conn_set_reading(s->conn, false);
	/* Forget everything learned in clear (RFC 3207 4.2). */
	s->has_helo = false;
	s->is_esmtp = false;
	s->helo[0] = '\0';
	session_txn_reset(s);
	session_set_state(s, SESSION_STARTTLS);
	session_reply(s, REPLY_STARTTLS_READY);
}

/* ---- data and commit ---- */

static void
session_data_input(struct session *s)
{
	struct evbuffer *in = conn_input(s->conn);
	char out[DATA_CHUNK * SMTP_DATA_EXPANSION];

	while (s->state == SESSION_DATA && evbuffer_get_length(in) > 0) {
		size_t avail = evbuffer_get_length(in),
		       take = avail < DATA_CHUNK ? avail : DATA_CHUNK;
		const char *p = (const char *)evbuffer_pullup(in, (ssize_t)take);
		size_t out_len, used = smtp_data_feed(&s->dd, p, take, out, &out_len);

		if (s->data_err == DATA_OK && s->dd.out_total > s->w->cfg->max_message_size)
			s->data_err = DATA_TOO_BIG;
		if (s->data_err == DATA_OK && !spool_write(s->msg, out, out_len))
			s->data_err = DATA_IO;
		hdrscan_feed(&s->hs, out, out_len);
		evbuffer_drain(in, used);
		if (s->dd.state == SMTP_DATA_DONE)
			session_data_end(s);
	}
}

static void
data_failed(struct session *s, enum reply_id id, const char *reason)
{
	unsigned long long arg = id == REPLY_TEXT_LINE_TOO_LONG ? s->w->cfg->max_text_line
	                         : id == REPLY_TOO_MANY_HOPS    ? s->hs.received
	                                                        : s->w->cfg->max_message_size;

	log_info("event=data-refused " SFMT " reason=%s", SARG(s), reason);
	spool_msg_free(s->msg);
	s->msg = NULL;
	session_txn_reset(s);
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->w->cfg->idle_timeout);
	session_reply(s, id, arg);
}

static void
session_data_end(struct session *s)
{
	struct commit *c;

	session_clear_deadline(s);

	if (s->data_err == DATA_OK && s->dd.is_line_too_long)
		s->data_err = DATA_LINE_TOO_LONG;
	if (s->data_err == DATA_OK && s->hs.received > HDRSCAN_RECEIVED_MAX)
		s->data_err = DATA_LOOP;
	switch (s->data_err) {
	case DATA_TOO_BIG: {
		data_failed(s, REPLY_SIZE_EXCEEDED, "size");
		return;
	}
	case DATA_LINE_TOO_LONG: {
		data_failed(s, REPLY_TEXT_LINE_TOO_LONG, "line-too-long");
		return;
	}
	case DATA_LOOP:
		data_failed(s, REPLY_TOO_MANY_HOPS, "loop");
		return;
	case DATA_IO:
		log_error("event=spool-error " SFMT " op=write error=\"%s\"", SARG(s),
		          strerror(spool_error(s->msg)));
		{
			data_failed(s,
			            spool_error(s->msg) == ENOSPC ? REPLY_SPOOL_FULL
			                                          : REPLY_SPOOL_TEMPFAIL,
			            "spool-write");
			return;
		}
	case DATA_OK:
		break;
	}
	/* Hold further input until the commit answers: the 250 must come first. */
	session_set_state(s, SESSION_SYNC);
	c = xcalloc(1, sizeof(*c));
	c->w = s->w;
	c->s = s;
	c->msg = s->msg;
	s->commit = c;
	workq_submit(s->w->commits, commit_run, commit_done, c);
}

static void
commit_run(void *arg)
{
	struct commit *c = arg;

	c->rc = spool_commit(c->msg);
}

static void
session_committed(struct session *s, struct commit *c)
{
	s->commit = NULL;
	s->msg = NULL;
	session_set_state(s, SESSION_CMD);
	session_set_timeout(s, s->w->cfg->idle_timeout);
	if (c->rc != 0) {
		log_error("event=spool-error " SFMT " op=commit error=\"%s\"", SARG(s),
		          strerror(c->rc));
		session_reply(s, c->rc == ENOSPC || c->rc == EDQUOT ? REPLY_SPOOL_FULL
		                                                    : REPLY_SPOOL_TEMPFAIL);
	} else {
		s->n_msgs++;
		s->n_rcpts += (unsigned)s->env.n_rcpt;
		log_info("event=queued " SFMT " id=%s from=<%s> rcpts=%zu size=%llu bare_eol=%s",
		         SARG(s), s->env.id, s->env.sender, s->env.n_rcpt,
		         (unsigned long long)spool_body_size(c->msg),
		         s->dd.saw_bare_eol ? "normalised" : "no");
		session_reply(s, REPLY_QUEUED, s->env.id);
		worker_wake_queue(s->w, s->env.id);
	}
	session_txn_reset(s);
	if (s->is_shutting_down) {
		session_shutdown(s);
		return;
	}
	session_process(s); /* pipelined commands after the dot */
}

static void
commit_done(void *arg)
{
	struct commit *c = arg;
	struct session *s = c->s;

	if (s == NULL) {
		if (c->rc == 0) {
			/* Delivered anyway: a duplicate is better than a loss. */
			log_info("event=queued id=%s note=client-gone-before-reply",
			         spool_id(c->msg));
			worker_wake_queue(c->w, spool_id(c->msg));
		}
	} else {
		s->in_callback++;
		session_committed(s, c);
		s->in_callback--;
	}
	spool_msg_free(c->msg);
	free(c);
	if (s && s->is_dead)
		session_free(s);
}
