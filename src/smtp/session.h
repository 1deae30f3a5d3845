/*
 * session: the SMTP server side of one connection (RFC 5321), from accept
 * to close: the connect policy, greeting, TLS (implicit or STARTTLS),
 * commands (smtp/commands.h), DATA streamed to the spool and 250 only after
 * the spool commit (smtp/message.h). The bytes come and go through
 * smtp/conn.h (plain or TLS, non-blocking); the session never touches a
 * socket buffer or OpenSSL itself. It calls back its host (the worker)
 * only through struct session_host, so it knows nothing of workers.
 * Logs one key=value line per event, always with sid, listener, client
 * and tls.
 */
#ifndef MAILOUT_SMTP_SESSION_H
#define MAILOUT_SMTP_SESSION_H

#include <sys/socket.h>

#include "config/config.h"
#include "smtp/host.h"
#include "smtp/listener.h"

struct session;

/* Take over an accepted socket the host admitted (smtp/admit.h); client
 * is the address as text. The host links the session into its list, then
 * starts it: the connect policy and the greeting (or the TLS handshake).
 * is_probe: a load balancer's health check (PROXY v2 LOCAL): greeted
 * whatever the listener's clients, never given MAIL, logged at debug
 * only, and kept out of the counters and reports. */
struct session *session_new(const struct session_host *, struct listener *, int fd,
                            const struct sockaddr *, socklen_t, const char *client, bool is_probe);
void session_start(struct session *);
const char *session_client(const struct session *);
/* A new registry snapshot arrived: a session waiting for one goes on. */
void session_registry_fresh(struct session *);
/* Host shutdown: refuse further commands with 421 and close when idle. */
void session_shutdown(struct session *);
/* Drop the connection now (grace period over). */
void session_abort(struct session *);

/* The host's list of sessions (doubly linked through the sessions). */
struct session *session_next(const struct session *);
void session_link(struct session **head, struct session *);
void session_unlink(struct session **head, struct session *);

#endif
