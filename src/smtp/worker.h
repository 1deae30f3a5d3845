/*
 * worker: one SMTP worker process. Owns the event loop, the listening
 * sockets it was handed, the commit thread pool and the live sessions.
 * Runs until SIGTERM: then it stops accepting, lets sessions finish for
 * a grace period, and exits. SIGUSR1 (a reload) retires it: it stops
 * accepting and exits when its last session has ended on its own.
 */
#ifndef MAILOUT_SMTP_WORKER_H
#define MAILOUT_SMTP_WORKER_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct worker;

struct listener {
	const struct listener_conf *conf;
	struct worker *w;
	SSL_CTX *ctx;        /* NULL when tls = off */
	SSL_CTX *legacy_ctx; /* for registered devices allowed legacy TLS */
	int fd[CONF_ADDRS_MAX];
	size_t n_fd;
	struct evconnlistener *evl[CONF_ADDRS_MAX];
};

struct session;

struct worker {
	struct event_base *base;
	const struct config *cfg;
	struct listener *listeners;
	size_t n_listeners;
	struct workq *commits;
	struct countmap *per_client;
	struct regview *devices;  /* NULL without a registry */
	struct session *sessions; /* doubly linked */
	size_t n_sessions;
	int wake_fd; /* write end: tells the queue runner that mail is queued */
	bool is_stopping;
	bool is_retiring; /* SIGUSR1 after a reload: no new sessions, the old ones end */
	struct event *ev_term, *ev_int, *ev_grace, *ev_retire;
};

/* Run a worker on the given listeners until told to stop; returns the exit code. */
int worker_run(const struct config *, struct listener *, size_t n_listeners, int wake_fd);
/* Tell the queue runner that message id is queued (never blocks). */
void worker_wake_queue(struct worker *, const char *id);
/* Called by the session when it is gone. */
void worker_session_gone(struct worker *, struct session *);

#endif
