/*
 * session_core: struct session as smtp/session.c (its life and events),
 * smtp/commands.c and smtp/message.c share it, and what all three do to
 * it: reply (counting errors, ending the session after too many), change
 * state, set timeouts and deadlines, forget a transaction. Calls nothing
 * above it.
 */
#ifndef MAILOUT_SMTP_SESSION_CORE_H
#define MAILOUT_SMTP_SESSION_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "auth/senders.h"
#include "hdrscan.h"
#include "reply.h"
#include "smtp/conn.h"
#include "smtp/host.h"
#include "smtp/listener.h"
#include "smtp_data.h"
#include "spool/spool.h"

#define SID_LEN            16
#define SESSION_DATA_CHUNK (16 * 1024) /* DATA is decoded in pieces of this size */

enum session_state {
	SESSION_TLS_HANDSHAKE, /* implicit TLS, or after STARTTLS: handshake running */
	SESSION_CMD,           /* reading commands */
	SESSION_DATA,          /* reading the message */
	SESSION_SYNC,          /* message written; waiting for the spool commit */
	SESSION_STARTTLS,      /* 220 queued; handshake starts once it is sent */
	SESSION_CLOSING,       /* last reply queued; close once it is sent */
	SESSION_REGISTRY,   /* accepted; waiting for a registry snapshot with the latest changes */
	SESSION_AUTH,       /* AUTH: reading the client's next SASL response */
	SESSION_AUTH_CHECK, /* AUTH: the password is being checked off the loop */
	SESSION_NSTATES
};

enum data_error { DATA_OK, DATA_TOO_BIG, DATA_LINE_TOO_LONG, DATA_IO, DATA_LOOP };

struct commit;
struct authjob;
struct sasl;

struct session {
	char sid[SID_LEN + 1];
	const struct session_host *host;
	const struct config *cfg;
	struct listener *l;
	int fd;
	struct conn *conn;
	struct sockaddr_storage peer;
	char client[64];
	enum session_state state;
	bool is_tls;
	char tls[128];
	bool is_refused;
	bool is_probe;               /* a balancer's health check (session.h) */
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
	bool is_shutting_down;
	unsigned n_errors, n_msgs, n_rcpts;
	time_t started;
	struct event *ev_resume;
	struct event *ev_deadline; /* total time of a handshake, a DATA, a command line */
	bool has_deadline;
	unsigned n_cmds_before_mail;
	/* SMTP AUTH (smtp/smtpauth.h) */
	struct sasl *sasl;       /* the exchange running, or NULL */
	struct authjob *authjob; /* the check running (or to submit), or NULL */
	bool is_auth_submitted;
	char auth_user[256]; /* "" until AUTH succeeded */
	bool auth_any_sender;
	struct senders auth_senders;
	unsigned n_auth_failures;
	struct event *ev_auth_delay; /* the pause before 421 after too many failures */
	char last_refusal[160];      /* the last 4xx/5xx reply, for the session record */
	char tls_diag[256];          /* why TLS did not start: what the client offered (hello.h) */
	bool is_plain_warned; /* plaintext in the calendar's warn phase: replies and a header say so
	                       */
	int in_callback;
	bool is_dead;
	struct session *prev, *next;
};

#define SFMT    "sid=%s listener=%s client=%s tls=%s"
#define SARG(s) (s)->sid, (s)->l->conf->name, (s)->client, (s)->tls

const char *session_state_name(enum session_state);
void session_set_state(struct session *, enum session_state);
/* One reply (reply.h's table, its arguments after id). A 4xx/5xx counts
 * as an error; at [gateway] max_errors the session says 421 and closes. */
void session_reply(struct session *, enum reply_id, ...);
/* The last reply: then the session closes once it is sent, reading no more. */
void session_reply_close(struct session *, enum reply_id, ...);
/* Time without progress on the connection before it times out. */
void session_set_timeout(struct session *, uint64_t seconds);
/* The whole handshake, DATA or command line, however the client trickles. */
void session_set_deadline(struct session *, uint64_t seconds);
void session_clear_deadline(struct session *);
/* The warning of the calendar's warn phase, for replies and the header. */
void session_plain_warning(const struct session *, char *out, size_t size);
/* A 250 with one argument: plain, or warned (with the warning after it)
 * when the session is plaintext in the warn phase. */
void session_reply_ok(struct session *, enum reply_id plain, enum reply_id warned, const char *arg);
/* Forget MAIL, RCPT and the envelope. */
void session_txn_reset(struct session *);

#endif
