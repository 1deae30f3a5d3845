/*
 * commands: one SMTP command line of a session (RFC 5321), parsed
 * (smtp_cmd.h), checked against the session's state and the listener's
 * policy (TLS before MAIL, HELO before MAIL, the connect verdict), and
 * run through a table of handlers: HELO/EHLO, MAIL (where the session's
 * age and its registration are checked again), RCPT (the recipient
 * policy), DATA (smtp/message.h takes over), RSET, NOOP, QUIT, VRFY, HELP,
 * STARTTLS (RFC 3207: input sent after it in clear is discarded), AUTH
 * (not yet). Replies through smtp/session_core.h.
 */
#ifndef MAILOUT_SMTP_COMMANDS_H
#define MAILOUT_SMTP_COMMANDS_H

#include <stddef.h>

#include "smtp/session_core.h"

/* line without its CRLF, len bytes (it may hold a NUL: refused). */
void commands_run(struct session *, const char *line, size_t len);

#endif
