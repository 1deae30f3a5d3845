/*
 * webwatch: a deadline for every request of the web pages. libmicrohttpd
 * only knows an idle timeout, which a client that trickles a byte now and
 * then never meets; with enough such half-sent requests the pages were
 * unreachable. Each connection is watched from its start and from the end
 * of each request: a request that is not done within the deadline gets its
 * socket shut down (through a duplicate descriptor, so that the socket is
 * still the same one even if libmicrohttpd closed its own meanwhile), and
 * libmicrohttpd then closes the connection as if the client had gone.
 * Thread-safe: libmicrohttpd's thread reports, the web process's main
 * thread sweeps.
 */
#ifndef MAILOUT_WEB_WEBWATCH_H
#define MAILOUT_WEB_WEBWATCH_H

#include <stddef.h>
#include <stdint.h>

struct webwatch;

struct webwatch *webwatch_new(int64_t deadline_ms, size_t max_connections);
void webwatch_free(struct webwatch *);
/* A connection on fd began; *ctx is what the other calls take. */
void webwatch_started(struct webwatch *, int fd, void **ctx);
/* The request is in and its answer starts: no deadline while it is sent
 * (a large export to a slow link); libmicrohttpd's idle timeout remains. */
void webwatch_answering(struct webwatch *, void *ctx);
/* A request on it was answered: the clock starts again. */
void webwatch_done(struct webwatch *, void *ctx);
/* It is closed. */
void webwatch_closed(struct webwatch *, void *ctx);
/* Shut down every connection past its deadline; how many. */
unsigned webwatch_sweep(struct webwatch *, int64_t now_ms);

#endif
