#include "smtp/commands.h"

#include <string.h>
#include <strings.h>

#include "log.h"
#include "policy.h"
#include "smtp/message.h"
#include "smtp/regview.h"
#include "smtp/smtpauth.h"
#include "smtp_cmd.h"
#include "util/clock.h"
#include "util/str.h"

typedef void cmd_fn(struct session *, struct smtp_cmd *);

static cmd_fn cmd_helo, cmd_ehlo, cmd_mail, cmd_rcpt, cmd_data, cmd_rset, cmd_noop, cmd_quit,
    cmd_vrfy, cmd_help, cmd_starttls, cmd_auth, cmd_not_implemented;

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

/* AUTH's initial response holds a password: of an AUTH line only the
 * verb and the mechanism may reach a log. */
static size_t
loggable_length(const char *line, size_t len)
{
	const char *sp;

	if (len < 5 || strncasecmp(line, "AUTH ", 5) != 0)
		return len;
	sp = memchr(line + 5, ' ', len - 5);
	return sp ? (size_t)(sp - line) : len;
}

/* MAIL, RCPT and DATA without TLS: as the listener and the calendar say
 * (policy_plaintext()). False after the refusal. */
static bool
plaintext_allowed(struct session *s)
{
	const struct config *cfg = s->cfg;

	switch (policy_plaintext(cfg, s->l->conf, s->is_tls, clock_now())) {
	case PP_OK:
		return true;
	case PP_WARN:
		if (!s->is_plain_warned)
			log_info("event=plaintext-warned " SFMT " cutover=%s", SARG(s),
			         cfg->tr_date[TD_CUTOVER]);
		s->is_plain_warned = true;
		return true;
	case PP_TEMPFAIL:
		session_reply(s, REPLY_TLS_TEMPFAIL, cfg->tr_date[TD_CUTOVER],
		              cfg->tr_help_url[0] ? "; see " : "", cfg->tr_help_url);
		return false;
	case PP_REFUSE:
		break;
	}
	session_reply(s, REPLY_TLS_REQUIRED);
	return false;
}

void
commands_run(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	enum smtp_cmd_err e = smtp_cmd_parse(line, len, s->has_mail && s->env.smtputf8, &c);
	char esc[128];

	log_debug("event=command sid=%s line=\"%s\"", s->sid,
	          log_escape(esc, sizeof(esc), line, loggable_length(line, len)));
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
	    ++s->n_cmds_before_mail > s->cfg->max_commands_before_mail) {
		log_info("event=too-many-commands " SFMT " commands=%u", SARG(s),
		         s->n_cmds_before_mail);
		session_reply_close(s, REPLY_TOO_MANY_COMMANDS, s->cfg->hostname);
		return;
	}
	if (s->is_refused && c.verb != SMTP_QUIT) {
		session_reply(s, REPLY_REFUSED_SERVICE);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].verb != c.verb)
			continue;
		if ((commands[i].flags & CMD_NEEDS_TLS) && !plaintext_allowed(s))
			return;
		if ((commands[i].flags & CMD_NEEDS_HELO) && !s->has_helo) {
			session_reply(s, REPLY_NEED_HELO);
			return;
		}
		/* Parse errors of MAIL and RCPT need the command's context. */
		if (e != SMTP_CMD_OK && c.verb != SMTP_MAIL && c.verb != SMTP_RCPT) {
			char usage[64];
			str_fmt(usage, sizeof(usage), "%s%s", smtp_verb_name(c.verb),
			        (c.verb == SMTP_HELO || c.verb == SMTP_EHLO) ? " hostname" : "");
			session_reply(s, REPLY_SYNTAX, usage);
			return;
		}
		commands[i].run(s, &c);
		return;
	}
	fatal_bug("session_command: verb %d has no handler", (int)c.verb);
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
	session_reply(s, REPLY_HELO, s->cfg->hostname);
}

static void
cmd_ehlo(struct session *s, struct smtp_cmd *c)
{
	const struct config *cfg = s->cfg;
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
	if (smtpauth_offered(s))
		ext[n++] = "AUTH PLAIN LOGIN";
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

	if (now - (int64_t)s->started >= (int64_t)s->cfg->max_session_time) {
		log_info("event=session-too-long " SFMT " duration=%llds", SARG(s),
		         (long long)(now - (int64_t)s->started));
		session_reply_close(s, REPLY_SESSION_TOO_LONG, s->cfg->hostname);
		return true;
	}
	if (s->l->conf->clients == LCLIENTS_REGISTERED || s->is_legacy_device) {
		regview_is_current(s->host->devices); /* asks for a newer snapshot if it changed */
		d = regview_match(s->host->devices, (const struct sockaddr *)&s->peer);
		bool is_valid = policy_device_is_valid(d, now) &&
		                (!s->is_legacy_device || (d && d->legacy_tls));
		if (is_valid)
			return false;
		if (policy_check_connect(s->cfg, s->l->conf, (const struct sockaddr *)&s->peer, d,
		                         now, why, sizeof(why)) == OUT_OK)
			str_copy(why, sizeof(why), "The registration for legacy TLS has ended");
		log_info("event=refuse-client " SFMT " code=554 reason=\"%s\" when=mail", SARG(s),
		         why);
		session_reply_close(s, REPLY_REGISTRATION_ENDED, why);
		return true;
	}
	return false;
}

/* A device let in by its registration (the unencrypted interface, or
 * legacy TLS) sends only as the senders the registration lists, if any. */
static bool
device_sender_ok(struct session *s, const char *sender)
{
	const struct device *d;

	if (s->l->conf->clients != LCLIENTS_REGISTERED && !s->is_legacy_device)
		return true;
	d = regview_match(s->host->devices, (const struct sockaddr *)&s->peer);
	if (d == NULL || device_sender_allowed(d, sender))
		return true;
	log_info("event=refuse-sender " SFMT " device=%lld from=<%s> allowed=\"%s\"", SARG(s),
	         (long long)d->id, sender, d->sender);
	session_reply(s, REPLY_DEVICE_SENDER, sender, d->sender);
	return false;
}

static void
cmd_mail(struct session *s, struct smtp_cmd *c)
{
	const struct config *cfg = s->cfg;

	if (s->has_mail) {
		session_reply(s, REPLY_NESTED_MAIL);
		return;
	}
	if (s->is_probe) {
		session_reply(s, REPLY_PROBE_NO_MAIL);
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
	if (!smtpauth_mail_allowed(s, s->env.sender) || !device_sender_ok(s, s->env.sender)) {
		s->env.sender[0] = '\0';
		return;
	}
	s->env.body = c->body;
	s->env.smtputf8 = c->smtputf8;
	s->has_mail = true;
	s->n_cmds_before_mail = 0;
	log_info("event=mail " SFMT " from=<%s> size=%llu", SARG(s), s->env.sender,
	         (unsigned long long)c->size);
	session_reply_ok(s, REPLY_SENDER_OK, REPLY_SENDER_OK_WARN, s->env.sender);
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
	policy_rcpt_address(s->cfg, c, &a);
	address_format(&a, addr, sizeof(addr));
	if ((v = policy_check_rcpt(s->cfg, s->l->conf, &a, s->is_legacy_device)) !=
	    POLICY_RCPT_OK) {
		log_info("event=refuse-rcpt " SFMT " to=<%s> reason=%s", SARG(s), addr,
		         policy_rcpt_name(v));
		if (v == POLICY_RCPT_ROUTING) {
			session_reply(s, REPLY_RCPT_ROUTING, addr);
			return;
		}
		if (s->l->conf->recipients == LRCPTS_ANY)
			session_reply(s, REPLY_RCPT_LEGACY_INTERNAL, addr);
		else
			session_reply(s, REPLY_RCPT_NOT_INTERNAL, addr, s->l->conf->name);
		return;
	}
	if (!smtpauth_rcpt_allowed(s))
		return;
	if (s->env.n_rcpt >= s->cfg->max_recipients) {
		session_reply(s, REPLY_TOO_MANY_RCPTS, (unsigned long long)s->cfg->max_recipients);
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

static void
cmd_data(struct session *s, struct smtp_cmd *c)
{
	(void)c;
	if (!s->has_mail)
		session_reply(s, REPLY_NEED_MAIL);
	else if (s->env.n_rcpt == 0)
		session_reply(s, REPLY_NEED_RCPT);
	else
		message_begin(s);
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
	session_reply_close(s, REPLY_BYE);
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
	smtpauth_command(s, c);
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
	size_t pending = conn_input_length(s->conn);

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
	if (pending > 0) {
		log_info("event=starttls-injection " SFMT " discarded=%zu", SARG(s), pending);
		conn_input_drain(s->conn, pending);
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
