#include "smtp/worker.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/authlimit.h"
#include "log.h"
#include "reply.h"
#include "smtp/proxywait.h"
#include "smtp/regview.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/workq.h"

#define COMMIT_THREADS    4      /* concurrent fsyncs share journal commits */
#define AUTHLIMIT_ENTRIES 100000 /* client addresses and users counted, each table */
#define SHUTDOWN_GRACE    30     /* seconds for sessions to finish after SIGTERM */

/* Refuse before any session exists: one line, then close. */
static void
refuse_early(struct worker *w, int fd, enum admit_verdict v, const char *client)
{
	enum reply_id id = v == ADMIT_STOPPING   ? REPLY_SHUTDOWN
	                   : v == ADMIT_TOO_MANY ? REPLY_TOO_MANY_CONNECTIONS
	                                         : REPLY_TOO_MANY_CLIENT_CONNECTIONS;
	struct buf b;

	buf_init(&b, 1024);
	reply_append(&b, id, w->cfg->hostname, client,
	             (unsigned long long)w->cfg->max_client_connections);
	(void)!write(fd, b.data, b.len);
	buf_free(&b);
	close(fd);
}

/* A connection from this client (for a `proxy = yes` listener, the one
 * the balancer's header names): admission, then its session. */
static void
admit_client(struct listener *l, int fd, const struct sockaddr *sa, socklen_t salen, bool is_probe)
{
	struct worker *w = l->w;
	enum admit_verdict v;
	struct session *s;
	char client[64];

	sockaddr_format_addr(sa, client, sizeof(client));
	if ((v = admit_connection(&w->admit, client, w->is_stopping)) != ADMIT_OK) {
		if (v == ADMIT_TOO_MANY_FROM_THEM)
			log_warn(
			    "event=refuse-connection listener=%s client=%s reason=%s limit=%llu",
			    l->conf->name, client, admit_verdict_name(v),
			    (unsigned long long)w->cfg->max_client_connections);
		else
			log_warn("event=refuse-connection listener=%s client=%s reason=%s",
			         l->conf->name, client, admit_verdict_name(v));
		refuse_early(w, fd, v, client);
		return;
	}
	s = session_new(&w->host, l, fd, sa, salen, client, is_probe);
	session_link(&w->sessions, s);
	session_start(s);
}

static void
on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	if (l->conf->proxy)
		proxywait_start(l->w->base, l, fd, sa, (socklen_t)salen, admit_client);
	else
		admit_client(l, fd, sa, (socklen_t)salen, false);
}

static void
on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();

	(void)evl;
	/* EMFILE and friends: log and go on; the listener stays armed. */
	log_error("event=accept-error listener=%s error=\"%s\"", l->conf->name,
	          evutil_socket_error_to_string(e));
}

/* Tell the queue runner that message id is queued (never blocks). */
static void
wake_queue(void *arg, const char *id)
{
	struct worker *w = arg;
	char line[64];
	int n = snprintf(line, sizeof(line), "%s\n", id);

	/* One write below PIPE_BUF is atomic. If the pipe is full the runner
	 * is busy and its next directory scan finds the message anyway. */
	if (w->wake_fd >= 0 && n > 0 && (size_t)n < sizeof(line))
		(void)!write(w->wake_fd, line, (size_t)n);
}

/* Sessions that waited for the registry's latest changes go on. */
static void
on_devices_fresh(void *arg)
{
	struct worker *w = arg;

	for (struct session *s = w->sessions, *next; s; s = next) {
		next = session_next(s);
		session_registry_fresh(s);
	}
}

static void
maybe_exit(struct worker *w)
{
	if ((w->is_stopping || w->is_retiring) && w->sessions == NULL)
		event_base_loopexit(w->base, NULL);
}

static void
stop_accepting(struct worker *w)
{
	for (size_t i = 0; i < w->n_listeners; i++)
		for (size_t j = 0; j < w->listeners[i].n_fd; j++)
			evconnlistener_disable(w->listeners[i].evl[j]);
}

static void
session_gone(void *arg, struct session *s)
{
	struct worker *w = arg;

	admit_release(&w->admit, session_client(s));
	session_unlink(&w->sessions, s);
	maybe_exit(w);
}

static void
on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_warn("event=shutdown-grace-over sessions=%zu", w->admit.n);
	while (w->sessions)
		session_abort(w->sessions);
	event_base_loopexit(w->base, NULL);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval grace = {SHUTDOWN_GRACE, 0};

	(void)what;
	if (w->is_stopping)
		return;
	log_info("event=worker-stopping signal=%d sessions=%zu", (int)sig, w->admit.n);
	w->is_stopping = true;
	stop_accepting(w);
	for (struct session *s = w->sessions, *next; s; s = next) {
		next = session_next(s);
		session_shutdown(s);
	}
	w->ev_grace = evtimer_new(w->base, on_grace_over, w);
	evtimer_add(w->ev_grace, &grace);
	maybe_exit(w);
}

/* A reload: the new generation's workers accept from now on; this one
 * takes no new connection and lets its sessions end as they would
 * (QUIT, idle_timeout, max_session_time), then exits. Nothing is refused. */
static void
on_retire(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	(void)sig;
	(void)what;
	if (w->is_stopping || w->is_retiring)
		return;
	log_info("event=worker-retiring sessions=%zu", w->admit.n);
	w->is_retiring = true;
	stop_accepting(w);
	maybe_exit(w);
}

static void
listeners_start(struct worker *w)
{
	for (size_t i = 0; i < w->n_listeners; i++) {
		struct listener *l = &w->listeners[i];

		l->w = w;
		for (size_t j = 0; j < l->n_fd; j++) {
			l->evl[j] = evconnlistener_new(
			    w->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
			    l->fd[j]); /* 0: the master listens already */
			if (l->evl[j] == NULL)
				log_fatal("event=worker-error listener=%s error=\"cannot listen\"",
				          l->conf->name);
			evconnlistener_set_error_cb(l->evl[j], on_accept_error);
		}
	}
}

/* [auth]: the checker from the files, its threads, the limits. */
static void
auth_start(struct worker *w, struct auth_files *files)
{
	const struct config *cfg = w->cfg;
	char err[512];
	struct authlimit_conf lc = {
	    .max_failures = cfg->auth_max_failures,
	    .window = cfg->auth_failure_window,
	    .messages_per_hour = cfg->auth_messages_per_hour,
	    .recipients_per_hour = cfg->auth_recipients_per_hour,
	    .max_entries = AUTHLIMIT_ENTRIES,
	};

	w->host.authdb = authdb_new(cfg, files, err, sizeof(err));
	auth_files_free(files);
	if (w->host.authdb == NULL && err[0])
		log_fatal("event=worker-error error=\"%s\"", err);
	if (w->host.authdb == NULL)
		return;
	w->host.auth = workq_new(w->base, (unsigned)cfg->auth_threads);
	w->host.authlimit = authlimit_new(&lc);
}

int
worker_run(const struct config *cfg, struct listener *listeners, size_t n, struct auth_files *auth,
           int wake_fd)
{
	struct worker w = {0};

	signal(SIGPIPE, SIG_IGN);
	w.cfg = cfg;
	w.listeners = listeners;
	w.n_listeners = n;
	w.wake_fd = wake_fd;
	if ((w.base = event_base_new()) == NULL)
		log_fatal("event=worker-error error=\"event_base_new failed\"");
	admit_init(&w.admit, cfg);
	struct regview_limits limits = {(int64_t)cfg->report_retention, cfg->report_max_rows};
	w.host = (struct session_host){
	    .base = w.base,
	    .cfg = cfg,
	    .commits = workq_new(w.base, COMMIT_THREADS),
	    .devices = regview_new(w.base, cfg->registry_db, &limits, on_devices_fresh, &w),
	    .on_queued = wake_queue,
	    .on_gone = session_gone,
	    .arg = &w,
	};
	auth_start(&w, auth);
	w.ev_term = evsignal_new(w.base, SIGTERM, on_term, &w);
	w.ev_int = evsignal_new(w.base, SIGINT, on_term, &w);
	w.ev_retire = evsignal_new(w.base, SIGUSR1, on_retire, &w);
	evsignal_add(w.ev_term, NULL);
	evsignal_add(w.ev_int, NULL);
	evsignal_add(w.ev_retire, NULL);
	sigset_t retire;
	sigemptyset(&retire);
	sigaddset(&retire, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &retire, NULL); /* blocked by the master until now */
	listeners_start(&w);
	log_info("event=worker-started listeners=%zu", n);
	event_base_dispatch(w.base);
	workq_free(w.host.commits);
	if (w.host.auth)
		workq_free(w.host.auth);
	authdb_free(w.host.authdb);
	authlimit_free(w.host.authlimit);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < listeners[i].n_fd; j++)
			evconnlistener_free(listeners[i].evl[j]);
	event_free(w.ev_term);
	event_free(w.ev_int);
	event_free(w.ev_retire);
	if (w.ev_grace)
		event_free(w.ev_grace);
	admit_free(&w.admit);
	regview_free(w.host.devices);
	event_base_free(w.base);
	log_info("event=worker-stopped");
	return 0;
}
