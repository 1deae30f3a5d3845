/*
 * message: the DATA of a session into the spool. message_begin() creates
 * the spool file with its Received: field; message_input() decodes what
 * the client sends (dot-stuffing, bare line ends, size and line limits,
 * hop count) into it; at the final dot the message is refused with its
 * reason, or handed over for the commit (an fsync, off the event loop:
 * message_commit_run() on the host's workq) and message_committed()
 * replies 250 once it is on disk.
 */
#ifndef MAILOUT_SMTP_MESSAGE_H
#define MAILOUT_SMTP_MESSAGE_H

#include <stdbool.h>

#include "smtp/session_core.h"

/* A spool commit running for a session (s is NULL once the session is gone). */
struct commit {
	const struct session_host *host;
	struct session *s;
	struct spool_msg *msg;
	int rc;
};

/* 354 and the DATA state, or a 4xx when the spool cannot take it. */
void message_begin(struct session *);
/* Take what input there is. True when the message ended and is to be
 * committed: s->commit is set; the caller submits message_commit_run. */
bool message_input(struct session *);
/* On a workq thread: the fsync. */
void message_commit_run(void *commit);
/* On the loop, for a live session: the reply to the final dot. */
void message_committed(struct session *, struct commit *);

#endif
