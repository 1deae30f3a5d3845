/*
 * proxywait: a connection to a `proxy = yes` listener before it becomes a
 * session. Only a load balancer in the listener's proxy_from may connect
 * (anyone else is closed at once); its PROXY header is read without
 * blocking, byte-exact (what follows is the client's: an implicit-TLS
 * ClientHello may come in the same packet), within PROXYWAIT_TIMEOUT
 * seconds; then `admit` gets the client's address from the header (the
 * balancer's own for a health check's LOCAL). A connection without a
 * valid header is closed, and logged.
 */
#ifndef MAILOUT_SMTP_PROXYWAIT_H
#define MAILOUT_SMTP_PROXYWAIT_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "smtp/listener.h"

#define PROXYWAIT_TIMEOUT 10

/* is_probe: a v2 LOCAL header, the balancer's own health check (client:
 * the balancer). */
typedef void proxywait_admit_fn(struct listener *, int fd, const struct sockaddr *client,
                                socklen_t len, bool is_probe);

void proxywait_start(struct event_base *, struct listener *, int fd, const struct sockaddr *peer,
                     socklen_t len, proxywait_admit_fn *admit);

#endif
