#include "smtp/smtpauth.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authdb.h"
#include "auth/authlimit.h"
#include "log.h"
#include "metrics/counters.h"
#include "sasl.h"
#include "smtp/regview.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/workq.h"
#include "util/xmalloc.h"

#define BLOCK_DELAY_S 2 /* the pause before 421 once the failures are used up */

struct authjob {
	struct session *s;
	struct authdb *db;
	char user[SASL_USER_MAX];
	char pass[SASL_PASS_MAX];
	enum sasl_mech mech;
	struct auth_answer ans;
};

bool
smtpauth_offered(const struct session *s)
{
	return s->l->conf->auth != LAUTH_NONE && s->host->authdb != NULL && s->is_tls &&
	       !s->is_legacy_device;
}

/* One AUTH event or message for `mailoutctl report auth`. */
static void
note(struct session *s, const char *user, unsigned failures, unsigned successes, unsigned messages,
     unsigned recipients)
{
	struct auth_note n = {s->client, user, failures, successes, messages, recipients};

	regview_note_auth(s->host->devices, &n);
}

static const char *
user_text(const char *user, char *esc, size_t size)
{
	return log_escape(esc, size, user, strlen(user));
}

/* Too many failures: a pause, then 421 and the end of the session. */
static void
block(struct session *s, const char *user)
{
	char esc[300];

	metrics_auth(MA_BLOCKED);
	log_info("event=auth-blocked " SFMT " user=\"%s\" failures=%u", SARG(s),
	         user_text(user, esc, sizeof(esc)), s->n_auth_failures);
	session_set_state(s, SESSION_AUTH_CHECK); /* no input is taken meanwhile */
	struct timeval tv = {BLOCK_DELAY_S, 0};
	evtimer_add(s->ev_auth_delay, &tv);
}

void
smtpauth_delay_over(struct session *s)
{
	session_set_state(s, SESSION_CMD);
	session_reply_close(s, REPLY_AUTH_TOO_MANY, s->cfg->hostname);
}

static void
end_exchange(struct session *s)
{
	if (s->sasl) {
		sasl_clear(s->sasl);
		free(s->sasl);
		s->sasl = NULL;
	}
	if (s->state == SESSION_AUTH)
		session_set_state(s, SESSION_CMD);
}

void
smtpauth_cancel(struct session *s)
{
	end_exchange(s);
}

/* The exchange gave a user and password: check them off the loop. */
static void
exchange_done(struct session *s)
{
	struct authjob *j;
	char esc[300];

	if (authlimit_blocked(s->host->authlimit, s->client, s->sasl->user, clock_now())) {
		log_info("event=auth " SFMT " user=\"%s\" result=blocked", SARG(s),
		         user_text(s->sasl->user, esc, sizeof(esc)));
		note(s, s->sasl->user, 1, 0, 0, 0);
		char user[SASL_USER_MAX];
		str_copy(user, sizeof(user), s->sasl->user);
		end_exchange(s);
		block(s, user);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->db = s->host->authdb;
	j->mech = s->sasl->mech;
	memcpy(j->user, s->sasl->user, sizeof(j->user));
	memcpy(j->pass, s->sasl->pass, sizeof(j->pass));
	end_exchange(s);
	s->authjob = j;
	s->is_auth_submitted = false;
	session_set_state(s, SESSION_AUTH_CHECK);
}

/* What the exchange said: go on, reply, or check. */
static void
step(struct session *s, enum sasl_result r, const char *challenge)
{
	switch (r) {
	case SASL_CHALLENGE:
		session_set_state(s, SESSION_AUTH);
		session_reply(s, REPLY_AUTH_CHALLENGE, challenge);
		return;
	case SASL_DONE:
		exchange_done(s);
		return;
	case SASL_CANCELLED:
		end_exchange(s);
		session_reply(s, REPLY_AUTH_CANCELLED);
		return;
	case SASL_BAD_BASE64:
		end_exchange(s);
		session_reply(s, REPLY_AUTH_BAD_BASE64);
		return;
	case SASL_BAD_MESSAGE:
		end_exchange(s);
		s->n_auth_failures++;
		authlimit_failed(s->host->authlimit, s->client, NULL, clock_now());
		note(s, "", 1, 0, 0, 0);
		metrics_auth(MA_FAILED);
		log_info("event=auth " SFMT " result=bad-message", SARG(s));
		session_reply(s, REPLY_AUTH_FAILED);
		return;
	case SASL_BAD_MECH:
		end_exchange(s);
		session_reply(s, REPLY_AUTH_BAD_MECH);
		return;
	case SASL_SYNTAX:
		end_exchange(s);
		session_reply(s, REPLY_SYNTAX, "AUTH mechanism [initial-response]");
		return;
	}
}

void
smtpauth_command(struct session *s, const struct smtp_cmd *c)
{
	const char *challenge = "";

	if (s->l->conf->auth == LAUTH_NONE || s->host->authdb == NULL) {
		session_reply(s, REPLY_AUTH_NOT_AVAILABLE);
		return;
	}
	if (!s->is_tls || s->is_legacy_device) {
		session_reply(s, REPLY_AUTH_NEEDS_TLS);
		return;
	}
	if (!s->has_helo) {
		session_reply(s, REPLY_NEED_HELO);
		return;
	}
	if (s->auth_user[0]) {
		session_reply(s, REPLY_AUTH_ALREADY);
		return;
	}
	if (s->has_mail) {
		session_reply(s, REPLY_AUTH_IN_TXN);
		return;
	}
	if (authlimit_blocked(s->host->authlimit, s->client, NULL, clock_now())) {
		note(s, "", 1, 0, 0, 0);
		block(s, "");
		return;
	}
	s->sasl = xcalloc(1, sizeof(*s->sasl));
	enum sasl_result r = sasl_start(s->sasl, c->arg, c->arg_len, &challenge);
	step(s, r, challenge); /* challenge is set by the call: not in one expression */
}

void
smtpauth_line(struct session *s, const char *line, size_t len)
{
	const char *challenge = "";

	enum sasl_result r = sasl_continue(s->sasl, line, len, &challenge);
	step(s, r, challenge);
}

static void
job_run(void *arg)
{
	struct authjob *j = arg;

	authdb_check(j->db, j->user, j->pass, &j->ans);
	OPENSSL_cleanse(j->pass, sizeof(j->pass));
}

void
smtpauth_submit(struct session *s, void (*on_done)(void *))
{
	if (s->authjob == NULL || s->is_auth_submitted)
		return;
	s->is_auth_submitted = true;
	workq_submit(s->host->auth, job_run, on_done, s->authjob);
}

struct session *
smtpauth_job_session(struct authjob *j)
{
	return j->s;
}

void
smtpauth_job_free(struct authjob *j)
{
	auth_answer_free(&j->ans);
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

void
smtpauth_session_gone(struct session *s)
{
	if (s->authjob && s->is_auth_submitted)
		s->authjob->s = NULL; /* the check finishes without us */
	else if (s->authjob)
		smtpauth_job_free(s->authjob);
	s->authjob = NULL;
	end_exchange(s);
	senders_free(&s->auth_senders);
}

static void
accepted(struct session *s, struct authjob *j)
{
	char esc[300], list[512];

	str_copy(s->auth_user, sizeof(s->auth_user), j->user);
	s->auth_any_sender = j->ans.any_sender;
	senders_free(&s->auth_senders);
	s->auth_senders = j->ans.senders;
	senders_init(&j->ans.senders);
	senders_format(&s->auth_senders, list, sizeof(list));
	note(s, j->user, 0, 1, 0, 0);
	metrics_auth(MA_OK);
	log_info("event=auth " SFMT " user=\"%s\" mech=%s result=ok source=%s senders=\"%s\"",
	         SARG(s), user_text(j->user, esc, sizeof(esc)), sasl_mech_name(j->mech), j->ans.why,
	         s->auth_any_sender ? "any" : list);
	session_reply(s, REPLY_AUTH_OK);
}

void
smtpauth_checked(struct session *s, struct authjob *j)
{
	char esc[300], why[300];

	s->authjob = NULL;
	session_set_state(s, SESSION_CMD);
	log_escape(why, sizeof(why), j->ans.why, strlen(j->ans.why));
	if (j->ans.status == AUTH_OK) {
		accepted(s, j);
	} else if (j->ans.status == AUTH_TEMPFAIL) {
		metrics_auth(MA_TEMPFAIL);
		log_warn("event=auth " SFMT " user=\"%s\" mech=%s result=tempfail reason=\"%s\"",
		         SARG(s), user_text(j->user, esc, sizeof(esc)), sasl_mech_name(j->mech),
		         why);
		session_reply(s, REPLY_AUTH_TEMPFAIL);
	} else {
		s->n_auth_failures++;
		authlimit_failed(s->host->authlimit, s->client, j->user, clock_now());
		note(s, j->user, 1, 0, 0, 0);
		metrics_auth(MA_FAILED);
		log_info("event=auth " SFMT " user=\"%s\" mech=%s result=failed reason=\"%s\"",
		         SARG(s), user_text(j->user, esc, sizeof(esc)), sasl_mech_name(j->mech),
		         why);
		session_reply(s, REPLY_AUTH_FAILED);
	}
	smtpauth_job_free(j);
}

/* The account has used its hour's messages or recipients: 450. */
static bool
over_budget(struct session *s, const char *what, uint64_t limit)
{
	char text[64], esc[300];

	str_fmt(text, sizeof(text), "%llu %s", (unsigned long long)limit, what);
	log_info("event=user-rate " SFMT " user=\"%s\" limit=%s", SARG(s),
	         user_text(s->auth_user, esc, sizeof(esc)), what);
	session_reply(s, REPLY_USER_RATE, esc, text);
	return false;
}

bool
smtpauth_mail_allowed(struct session *s, const char *sender)
{
	if (s->auth_user[0] == '\0') {
		if (s->l->conf->auth != LAUTH_REQUIRED)
			return true;
		session_reply(s, REPLY_AUTH_REQUIRED);
		return false;
	}
	if (!s->auth_any_sender && !senders_allow(&s->auth_senders, sender)) {
		char esc[300];
		log_info("event=refuse-sender " SFMT " user=\"%s\" from=<%s>", SARG(s),
		         user_text(s->auth_user, esc, sizeof(esc)), sender);
		session_reply(s, REPLY_SENDER_NOT_OWNED, sender,
		              user_text(s->auth_user, esc, sizeof(esc)));
		return false;
	}
	if (!authlimit_may_send(s->host->authlimit, s->auth_user, 0, clock_now()))
		return over_budget(s, "messages", s->cfg->auth_messages_per_hour);
	return true;
}

bool
smtpauth_rcpt_allowed(struct session *s)
{
	if (s->auth_user[0] == '\0' ||
	    authlimit_may_send(s->host->authlimit, s->auth_user, s->env.n_rcpt + 1, clock_now()))
		return true;
	return over_budget(s, "recipients", s->cfg->auth_recipients_per_hour);
}

void
smtpauth_sent(struct session *s, unsigned n_rcpts)
{
	if (s->auth_user[0] == '\0')
		return;
	authlimit_sent(s->host->authlimit, s->auth_user, n_rcpts, clock_now());
	note(s, s->auth_user, 0, 0, 1, n_rcpts);
}
