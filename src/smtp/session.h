/*
 * session: the SMTP server side of one connection (RFC 5321), from accept
 * to close: greeting, TLS (implicit or STARTTLS), commands through a
 * table, policy checks, DATA streamed to the spool, 250 only after the
 * spool commit. Sees the connection as events of a libevent bufferevent;
 * OpenSSL is reached only through tls.c and bufferevent_openssl.
 * Logs one key=value line per event, always with sid, listener, client
 * and tls.
 */
#ifndef MAILOUT_SMTP_SESSION_H
#define MAILOUT_SMTP_SESSION_H

#include <sys/socket.h>

struct worker;
struct listener;
struct session;

/* Take over an accepted socket. */
void session_accept(struct worker *, struct listener *, int fd, const struct sockaddr *, socklen_t);
/* A new registry snapshot arrived: a session waiting for one goes on. */
void session_registry_fresh(struct session *);
/* Worker shutdown: refuse further commands with 421 and close when idle. */
void session_shutdown(struct session *);
/* Drop the connection now (grace period over). */
void session_abort(struct session *);
struct session *session_next(const struct session *);
void session_link(struct session **head, struct session *);
void session_unlink(struct session **head, struct session *);

#endif
