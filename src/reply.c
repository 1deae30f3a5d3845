#include "reply.h"

#include <stdio.h>

#include "log.h"

static const struct {
	int code;
	const char *fmt; /* after the code and a space; includes the enhanced code */
} replies[REPLY_COUNT] = {
    [REPLY_GREETING] = {220, "%s ESMTP mailout"},
    [REPLY_GREETING_REFUSED] = {554, "5.7.1 %s"},
    [REPLY_GREETING_TEMPFAIL] = {421, "4.3.0 %s"},
    [REPLY_REGISTRATION_ENDED] = {554, "5.7.1 %s"},
    [REPLY_SESSION_TOO_LONG] = {421, "4.4.2 %s Error: this session is open too long; please "
                                     "connect again"},
    [REPLY_BYE] = {221, "2.0.0 Bye"},
    [REPLY_OK] = {250, "2.0.0 Ok"},
    [REPLY_HELO] = {250, "%s"},
    [REPLY_SENDER_OK] = {250, "2.1.0 Sender <%s> ok"},
    [REPLY_RCPT_OK] = {250, "2.1.5 Recipient <%s> ok"},
    [REPLY_QUEUED] = {250, "2.0.0 Ok: queued as %s"},
    [REPLY_VRFY] = {252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery"},
    [REPLY_HELP] = {214, "2.0.0 Commands: HELO EHLO STARTTLS MAIL RCPT DATA RSET NOOP VRFY HELP "
                         "QUIT; see RFC 5321"},
    [REPLY_STARTTLS_READY] = {220, "2.0.0 Ready to start TLS"},
    [REPLY_DATA_GO] = {354, "End data with <CR><LF>.<CR><LF>"},
    [REPLY_TIMEOUT] = {421, "4.4.2 %s Error: timeout exceeded"},
    [REPLY_TOO_MANY_CONNECTIONS] = {421, "4.7.0 %s Error: too many connections, try again later"},
    [REPLY_TOO_MANY_CLIENT_CONNECTIONS] = {421, "4.7.0 %s Error: too many connections from %s "
                                                "(at most %llu at once)"},
    [REPLY_SHUTDOWN] = {421, "4.3.2 %s Service shutting down, try again later"},
    [REPLY_TOO_MANY_ERRORS] = {421, "4.7.0 %s Error: too many errors, closing the connection"},
    [REPLY_TOO_MANY_COMMANDS] = {421, "4.7.0 %s Error: too many commands without a message, "
                                      "closing the connection"},
    [REPLY_SPOOL_TEMPFAIL] = {451, "4.3.0 Error: could not queue the message, try again later"},
    [REPLY_SPOOL_FULL] = {452, "4.3.1 Insufficient system storage, try again later"},
    [REPLY_TOO_MANY_RCPTS] = {452, "4.5.3 Error: too many recipients (at most %llu per message)"},
    [REPLY_LINE_TOO_LONG] = {500, "5.5.2 Error: command line too long (at most %llu octets)"},
    [REPLY_BARE_EOL] = {500, "5.5.2 Error: bare CR or LF in a command; end lines with CRLF"},
    [REPLY_NUL] = {500, "5.5.2 Error: NUL byte in a command"},
    [REPLY_UNKNOWN_CMD] = {502, "5.5.2 Error: command not recognized"},
    [REPLY_NOT_IMPLEMENTED] = {502, "5.5.1 Error: command not implemented"},
    [REPLY_SYNTAX] = {501, "5.5.4 Syntax: %s"},
    [REPLY_BAD_SENDER] = {501, "5.1.7 Bad sender address: %s"},
    [REPLY_BAD_RCPT] = {501, "5.1.3 Bad recipient address: %s"},
    [REPLY_NEED_HELO] = {503, "5.5.1 Error: send HELO or EHLO first"},
    [REPLY_NEED_MAIL] = {503, "5.5.1 Error: need MAIL command"},
    [REPLY_NEED_RCPT] = {503, "5.5.1 Error: need RCPT command"},
    [REPLY_NESTED_MAIL] = {503, "5.5.1 Error: nested MAIL command"},
    [REPLY_PROBE_NO_MAIL] = {550, "5.7.1 A load balancer's health check sends no mail"},
    [REPLY_TLS_ACTIVE] = {503, "5.5.1 Error: TLS already active"},
    [REPLY_TLS_NOT_OFFERED] = {502, "5.5.1 Error: STARTTLS is not offered on this interface"},
    [REPLY_TLS_REQUIRED] = {530, "5.7.0 Must issue a STARTTLS command first"},
    [REPLY_SIZE_DECLARED] = {552, "5.3.4 Message size exceeds fixed limit of %llu bytes"},
    [REPLY_SIZE_EXCEEDED] = {552, "5.3.4 Message size exceeds fixed limit of %llu bytes"},
    [REPLY_TEXT_LINE_TOO_LONG] = {554, "5.6.0 Message has a line longer than %llu octets "
                                       "(RFC 5321 4.5.3.1.6); use a MIME transfer encoding"},
    [REPLY_TOO_MANY_HOPS] = {554, "5.4.6 Too many hops: the message has %llu Received: fields "
                                  "(a mail loop?)"},
    [REPLY_PARAM_UNKNOWN] = {555, "5.5.4 Unsupported option: %s"},
    [REPLY_PARAM_VALUE] = {501, "5.5.4 Bad value in option: %s"},
    [REPLY_REFUSED_SERVICE] = {503, "5.7.1 Error: no service for this client; please QUIT"},
    [REPLY_RCPT_NOT_INTERNAL] = {550, "5.7.1 <%s>: this interface (%s) delivers only to internal "
                                      "addresses"},
    [REPLY_RCPT_ROUTING] = {550, "5.7.1 <%s>: addresses with '%%', '!' or a quoted '@' in the "
                                 "local part are not accepted on this interface"},
    [REPLY_RCPT_LEGACY_INTERNAL] = {550, "5.7.1 <%s>: this device is registered for legacy "
                                         "TLS: internal addresses only"},
    [REPLY_UTF8_NEEDED] = {553, "5.6.7 %s"},
    [REPLY_AUTH_NOT_AVAILABLE] = {502, "5.5.1 Error: authentication is not enabled"},
    [REPLY_AUTH_CHALLENGE] = {334, "%s"},
    [REPLY_AUTH_OK] = {235, "2.7.0 Authentication successful"},
    [REPLY_AUTH_FAILED] = {535, "5.7.8 Authentication credentials invalid"},
    [REPLY_AUTH_TEMPFAIL] = {454, "4.7.0 Temporary authentication failure"},
    [REPLY_AUTH_REQUIRED] = {530, "5.7.0 Authentication required"},
    [REPLY_AUTH_NEEDS_TLS] = {538, "5.7.11 Encryption required for requested authentication "
                                   "mechanism"},
    [REPLY_AUTH_CANCELLED] = {501, "5.0.0 Authentication cancelled"},
    [REPLY_AUTH_BAD_BASE64] = {501, "5.5.2 Cannot decode response"},
    [REPLY_AUTH_BAD_MECH] = {504, "5.5.4 Unrecognized authentication type: use PLAIN or LOGIN"},
    [REPLY_AUTH_ALREADY] = {503, "5.5.1 Error: already authenticated"},
    [REPLY_AUTH_IN_TXN] = {503, "5.5.1 Error: AUTH is not allowed during a mail transaction"},
    [REPLY_AUTH_TOO_MANY] = {421, "4.7.0 %s Error: too many failed authentications; try again "
                                  "later"},
    [REPLY_SENDER_NOT_OWNED] = {553, "5.7.1 <%s>: sender address not owned by user %s"},
    [REPLY_DEVICE_SENDER] = {553, "5.7.1 <%s>: this device is registered to send as %s only"},
    [REPLY_TLS_TEMPFAIL] = {450,
                            "4.7.0 Must issue a STARTTLS command first: unencrypted mail is no "
                            "longer accepted, and from %s it is refused%s%s"},
    [REPLY_SENDER_OK_WARN] = {250, "2.1.0 Sender <%s> ok; warning: %s"},
    [REPLY_QUEUED_WARN] = {250, "2.0.0 Ok: queued as %s; warning: %s"},
    [REPLY_USER_RATE] = {450, "4.7.1 Error: user %s has sent %s this hour; try again later"},
};

bool
reply_append(struct buf *out, enum reply_id id, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, id);
	ok = reply_vappend(out, id, ap);
	va_end(ap);
	return ok;
}

bool
reply_vappend(struct buf *out, enum reply_id id, va_list ap)
{
	char text[1024];
	int n;

	if ((unsigned)id >= REPLY_COUNT || replies[id].fmt == NULL)
		fatal_bug("reply_append: no reply %d", (int)id);
	n = vsnprintf(text, sizeof(text), replies[id].fmt, ap);
	if (n < 0)
		fatal_bug("reply_append: format error in reply %d", (int)id);
	return buf_printf(out, "%d %s\r\n", replies[id].code, text);
}

int
reply_code(enum reply_id id)
{
	return (unsigned)id < REPLY_COUNT ? replies[id].code : 0;
}
