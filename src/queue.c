#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "client.h"
#include "log.h"
#include "spool.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define QUEUE_TICK_MS 1000 /* rescan at least this often */

struct qentry {
	char id[SPOOL_ID_MAX];
	time_t next_attempt;
	unsigned attempts;
	bool is_in_flight;
	bool is_seen;
	struct qentry *next;
};

struct qjob {
	struct qentry *e;
	struct qjob *next;
};

struct queue {
	const struct config *cfg;
	SSL_CTX *ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct qentry *entries;
	struct qjob *jobs, *jobs_tail;
	size_t n_jobs;
	bool is_stopping;
	pthread_t *threads;
};

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* ---- one delivery ---- */

static time_t
backoff(const struct config *cfg, unsigned attempts)
{
	(void)attempts;
	return (time_t)cfg->retry_interval;
}

/* Bounce the permanently failed recipients, then mark them. */
static void
handle_failures(struct queue *q, const struct envelope *env, int fd, struct client_result *res,
                off_t body_off)
{
	struct bounce_rcpt *failed = xcalloc(env->n_rcpt, sizeof(*failed));
	char bid[SPOOL_ID_MAX] = "";
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i] && res->rcpt[i] == OUT_PERMFAIL)
			failed[n++] = (struct bounce_rcpt){env->rcpt[i], res->rcpt_reply[i]};
	if (n == 0) {
		free(failed);
		return;
	}
	lseek(fd, body_off, SEEK_SET);
	rc = bounce_queue(q->cfg, env, fd, failed, n, bid, sizeof(bid));
	if (rc == EINVAL)
		log_info("event=bounce-dropped id=%s reason=null-sender failed=%zu", env->id, n);
	else if (rc != 0)
		log_error("event=bounce-error id=%s error=\"%s\"", env->id, strerror(rc));
	else
		log_info("event=bounce id=%s to=<%s> dsn_id=%s failed=%zu", env->id, env->sender,
		         bid, n);
	/* Without the DSN on disk the failure must be tried again later. */
	for (size_t i = 0; rc != EINVAL && rc != 0 && i < env->n_rcpt; i++)
		if (res->rcpt[i] == OUT_PERMFAIL)
			res->rcpt[i] = OUT_TEMPFAIL;
	free(failed);
}

/* Past max_queue_lifetime a deferral becomes a failure (and a bounce). */
static void
expire_if_old(const struct config *cfg, const struct envelope *env, struct client_result *res)
{
	time_t age = time(NULL) - (time_t)env->arrival;

	if (age < (time_t)cfg->max_queue_lifetime)
		return;
	for (size_t i = 0; i < env->n_rcpt; i++) {
		char why[CLIENT_REPLY_MAX];

		if (env->rcpt_done[i] || res->rcpt[i] != OUT_TEMPFAIL)
			continue;
		str_fmt(why, sizeof(why),
		        "550 5.4.7 gave up after %lld hours in the queue; last "
		        "error: %s",
		        (long long)age / 3600, res->rcpt_reply[i]);
		res->rcpt[i] = OUT_PERMFAIL;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, why);
	}
}

/* Record each recipient's outcome; true when none is left to try. */
static bool
record_results(struct queue *q, const struct envelope *env, const struct client_result *res)
{
	const char *relay =
	    q->cfg->next_hop == NEXT_HOP_DIR ? q->cfg->relay_dir : q->cfg->relay_host;
	bool all_done = true;

	for (size_t i = 0; i < env->n_rcpt; i++) {
		char esc[CLIENT_REPLY_MAX * 4];

		if (env->rcpt_done[i])
			continue;
		log_escape(esc, sizeof(esc), res->rcpt_reply[i], strlen(res->rcpt_reply[i]));
		switch (res->rcpt[i]) {
		case OUT_OK:
		case OUT_PERMFAIL:
			spool_mark(q->cfg->spool, env->id, env->rcpt[i], res->rcpt[i] == OUT_OK,
			           res->rcpt_reply[i]);
			log_info("event=%s id=%s to=<%s> relay=%s tls=%s reply=\"%s\"",
			         res->rcpt[i] == OUT_OK ? "delivered" : "failed", env->id,
			         env->rcpt[i], relay, res->tls, esc);
			break;
		case OUT_TEMPFAIL:
			all_done = false;
			log_info("event=deferred id=%s to=<%s> relay=%s tls=%s reply=\"%s\"",
			         env->id, env->rcpt[i], relay, res->tls, esc);
			break;
		}
	}
	return all_done;
}

/* Deliver one message; returns true when it has left the queue. */
static bool
deliver(struct queue *q, const char *id)
{
	struct envelope env;
	struct client_result res;
	off_t body_off;
	int fd, rc;
	bool is_gone;

	envelope_init(&env);
	if ((rc = spool_load(q->cfg->spool, id, &env, &fd, &body_off)) != 0) {
		if (rc != ENOENT)
			log_error("event=queue-error id=%s op=load error=\"%s\"", id, strerror(rc));
		envelope_free(&env);
		return rc == ENOENT;
	}
	spool_load_state(q->cfg->spool, &env);
	client_result_init(&res, env.n_rcpt);
	client_deliver(q->cfg, q->ctx, &env, fd, &res);
	expire_if_old(q->cfg, &env, &res);
	handle_failures(q, &env, fd, &res, body_off);
	is_gone = record_results(q, &env, &res);
	if (is_gone && (rc = spool_remove(q->cfg->spool, id)) != 0)
		log_error("event=queue-error id=%s op=remove error=\"%s\"", id, strerror(rc));
	else if (is_gone)
		log_info("event=removed id=%s", id);
	close(fd);
	client_result_free(&res);
	envelope_free(&env);
	return is_gone;
}

static void *
delivery_thread(void *arg)
{
	struct queue *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->jobs == NULL && !q->is_stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->is_stopping)
			break;
		struct qjob *j = q->jobs;
		q->jobs = j->next;
		if (q->jobs == NULL)
			q->jobs_tail = NULL;
		q->n_jobs--;
		char id[SPOOL_ID_MAX];
		str_copy(id, sizeof(id), j->e->id);
		pthread_mutex_unlock(&q->lock);
		bool is_gone = deliver(q, id);
		pthread_mutex_lock(&q->lock);
		j->e->is_in_flight = false;
		j->e->attempts++;
		j->e->next_attempt = is_gone ? 0 : time(NULL) + backoff(q->cfg, j->e->attempts);
		free(j);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- scheduling (main thread, under q->lock) ---- */

static struct qentry *
entry_find(struct queue *q, const char *id)
{
	for (struct qentry *e = q->entries; e; e = e->next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void
scan(struct queue *q)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	str_fmt(dir, sizeof(dir), "%s/queue", q->cfg->spool);
	if ((d = opendir(dir)) == NULL) {
		log_error("event=queue-error op=scan dir=%s error=\"%s\"", dir, strerror(errno));
		return;
	}
	for (struct qentry *e = q->entries; e; e = e->next)
		e->is_seen = false;
	while ((de = readdir(d)) != NULL) {
		struct qentry *e;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= SPOOL_ID_MAX)
			continue;
		if ((e = entry_find(q, de->d_name)) == NULL) {
			e = xcalloc(1, sizeof(*e));
			str_copy(e->id, sizeof(e->id), de->d_name);
			e->next = q->entries;
			q->entries = e;
		}
		e->is_seen = true;
	}
	closedir(d);
	for (struct qentry **pp = &q->entries; *pp;) {
		struct qentry *e = *pp;
		if (!e->is_seen && !e->is_in_flight) {
			*pp = e->next;
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

static void
dispatch(struct queue *q)
{
	time_t now = time(NULL);

	for (struct qentry *e = q->entries; e; e = e->next) {
		if (e->is_in_flight || !e->is_seen || e->next_attempt > now ||
		    q->n_jobs >= q->cfg->relay_connections * 4)
			continue;
		struct qjob *j = xcalloc(1, sizeof(*j));
		j->e = e;
		e->is_in_flight = true;
		if (q->jobs_tail)
			q->jobs_tail->next = j;
		else
			q->jobs = j;
		q->jobs_tail = j;
		q->n_jobs++;
		pthread_cond_signal(&q->cond);
	}
}

static void
drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
queue_run(const struct config *cfg, SSL_CTX *ctx, int wake_fd)
{
	struct queue q = {0};
	struct sigaction sa = {0};
	size_t n_threads = cfg->relay_connections;

	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	q.cfg = cfg;
	q.ctx = ctx;
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.cond, NULL);
	q.threads = xcalloc(n_threads, sizeof(*q.threads));
	for (size_t i = 0; i < n_threads; i++)
		if (pthread_create(&q.threads[i], NULL, delivery_thread, &q) != 0)
			log_fatal("event=queue-error error=\"cannot start delivery thread\"");
	log_info("event=queue-started threads=%zu next_hop=%s", n_threads,
	         cfg->next_hop == NEXT_HOP_DIR ? cfg->relay_dir : cfg->relay_host);
	while (!got_term) {
		struct pollfd pfd = {wake_fd, POLLIN, 0};

		pthread_mutex_lock(&q.lock);
		scan(&q);
		dispatch(&q);
		pthread_mutex_unlock(&q.lock);
		if (poll(&pfd, 1, QUEUE_TICK_MS) > 0)
			drain(wake_fd);
	}
	log_info("event=queue-stopping");
	pthread_mutex_lock(&q.lock);
	q.is_stopping = true;
	pthread_cond_broadcast(&q.cond);
	pthread_mutex_unlock(&q.lock);
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(q.threads[i], NULL);
	while (q.entries) {
		struct qentry *e = q.entries;
		q.entries = e->next;
		free(e);
	}
	while (q.jobs) {
		struct qjob *j = q.jobs;
		q.jobs = j->next;
		free(j);
	}
	free(q.threads);
	return 0;
}
