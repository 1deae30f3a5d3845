/*
 * worker: one SMTP worker process. Owns the event loop, the listening
 * sockets it was handed, the commit thread pool, the registry view and the
 * live sessions; admits each connection (smtp/admit.h) or refuses it with
 * one line.
 * Runs until SIGTERM: then it stops accepting, lets sessions finish for
 * a grace period, and exits. SIGUSR1 (a reload) retires it: it stops
 * accepting and exits when its last session has ended on its own.
 */
#ifndef MAILOUT_SMTP_WORKER_H
#define MAILOUT_SMTP_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "smtp/admit.h"
#include "smtp/listener.h"
#include "smtp/session.h"

struct worker {
	struct event_base *base;
	const struct config *cfg;
	struct listener *listeners;
	size_t n_listeners;
	struct session_host host; /* what the sessions see of the worker */
	struct admit admit;       /* how many sessions, from whom */
	struct session *sessions; /* doubly linked */
	int wake_fd;              /* write end: tells the queue runner that mail is queued */
	bool is_stopping;
	bool is_retiring; /* SIGUSR1 after a reload: no new sessions, the old ones end */
	struct event *ev_term, *ev_int, *ev_grace, *ev_retire;
};

/* Run a worker on the given listeners until told to stop; returns the exit code. */
/* auth: [auth]'s files (the worker builds its authdb from them, then
 * wipes them). */
int worker_run(const struct config *, struct listener *, size_t n_listeners,
               struct auth_files *auth, int wake_fd);

#endif
