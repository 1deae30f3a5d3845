/*
 * reply: every SMTP reply the server sends, with its enhanced status code
 * (RFC 3463), in one table. Formats take printf arguments; the caller
 * escapes nothing: arguments are our own normalised values.
 */
#ifndef MAILOUT_REPLY_H
#define MAILOUT_REPLY_H

#include <stdarg.h>

#include "util/buf.h"

enum reply_id {
	REPLY_GREETING,
	REPLY_GREETING_REFUSED,
	REPLY_GREETING_TEMPFAIL,
	REPLY_BYE,
	REPLY_OK,
	REPLY_HELO,
	REPLY_SENDER_OK,
	REPLY_RCPT_OK,
	REPLY_QUEUED,
	REPLY_VRFY,
	REPLY_HELP,
	REPLY_STARTTLS_READY,
	REPLY_DATA_GO,
	REPLY_TIMEOUT,
	REPLY_TOO_MANY_CONNECTIONS,
	REPLY_TOO_MANY_CLIENT_CONNECTIONS,
	REPLY_SHUTDOWN,
	REPLY_TOO_MANY_ERRORS,
	REPLY_TOO_MANY_COMMANDS,
	REPLY_SPOOL_TEMPFAIL,
	REPLY_SPOOL_FULL,
	REPLY_TOO_MANY_RCPTS,
	REPLY_LINE_TOO_LONG,
	REPLY_BARE_EOL,
	REPLY_NUL,
	REPLY_UNKNOWN_CMD,
	REPLY_NOT_IMPLEMENTED,
	REPLY_SYNTAX,
	REPLY_BAD_SENDER,
	REPLY_BAD_RCPT,
	REPLY_NEED_HELO,
	REPLY_NEED_MAIL,
	REPLY_NEED_RCPT,
	REPLY_NESTED_MAIL,
	REPLY_TLS_ACTIVE,
	REPLY_TLS_NOT_OFFERED,
	REPLY_TLS_REQUIRED,
	REPLY_SIZE_DECLARED,
	REPLY_SIZE_EXCEEDED,
	REPLY_TEXT_LINE_TOO_LONG,
	REPLY_PARAM_UNKNOWN,
	REPLY_PARAM_VALUE,
	REPLY_REFUSED_SERVICE,
	REPLY_RCPT_NOT_INTERNAL,
	REPLY_RCPT_ROUTING,
	REPLY_RCPT_LEGACY_INTERNAL,
	REPLY_UTF8_NEEDED,
	REPLY_AUTH_NOT_AVAILABLE,
	REPLY_COUNT
};

/* Append the CRLF-terminated reply to out. False if out is over its max. */
bool reply_append(struct buf *out, enum reply_id, ...);
bool reply_vappend(struct buf *out, enum reply_id, va_list);
/* The three-digit code of a reply, for logs and counters. */
int reply_code(enum reply_id);

#endif
