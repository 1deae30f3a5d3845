/*
 * smtpauth: SMTP AUTH in a session (RFC 4954): whether it is offered
 * (the listener's auth, TLS up, not legacy TLS, an [auth] backend), the
 * SASL exchange (sasl.h), the check off the event loop (the host's auth
 * workq runs authdb_check; the session waits in SESSION_AUTH_CHECK, costing
 * no thread), the failure limits with their pause before 421, and what an
 * authenticated session may do: its senders and its hourly budget. The
 * password lives only in the exchange and the job, wiped after; logs name
 * the user, never the password.
 */
#ifndef MAILOUT_SMTP_SMTPAUTH_H
#define MAILOUT_SMTP_SMTPAUTH_H

#include <stdbool.h>

#include "smtp/session_core.h"
#include "smtp_cmd.h"

/* A check running on the host's auth workq (s is NULL once the session is gone). */
struct authjob;

/* Whether EHLO offers AUTH now. */
bool smtpauth_offered(const struct session *);
/* The AUTH command. */
void smtpauth_command(struct session *, const struct smtp_cmd *);
/* A line while in SESSION_AUTH. */
void smtpauth_line(struct session *, const char *line, size_t len);
/* End the exchange (a line too long for it). */
void smtpauth_cancel(struct session *);
/* A job is set and not yet submitted: submit it (the session's loop calls
 * this after a command). on_done runs on the loop with the job. */
void smtpauth_submit(struct session *, void (*on_done)(void *job));
/* On the loop: the check is done; the session it belongs to (NULL if gone). */
struct session *smtpauth_job_session(struct authjob *);
void smtpauth_checked(struct session *, struct authjob *);
void smtpauth_job_free(struct authjob *);
/* The session is going away: its running job finishes without it. */
void smtpauth_session_gone(struct session *);
/* The pause after too many failures is over: 421 and close. */
void smtpauth_delay_over(struct session *);
/* MAIL: false after replying when the account may not use sender or has
 * used its hour's messages; also 530 on auth = required. */
bool smtpauth_mail_allowed(struct session *, const char *sender);
/* RCPT: false after replying 450 when the hour's recipients are used up. */
bool smtpauth_rcpt_allowed(struct session *);
/* A message of the account was queued. */
void smtpauth_sent(struct session *, unsigned n_rcpts);

#endif
