#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "queue/bounce.h"
#include "client/client.h"
#include "queue/dns.h"
#include "log.h"
#include "queue/route.h"
#include "spool/spool.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define QUEUE_TICK_MS    1000 /* rescan at least this often */
#define CONN_IDLE_MS     1000 /* keep an idle connection this long for more mail */
#define JOBS_PER_THREAD  32   /* jobs handed out ahead, per delivery thread */
#define CONTROL_LINE_MAX 128
#define HOPS_MAX         256

struct qentry {
	char id[SPOOL_ID_MAX];
	int64_t next_attempt;
	bool is_in_flight;
	bool is_seen;
	struct qentry *next;      /* all entries */
	struct qentry *hash_next; /* same bucket */
};

#define ENTRY_BUCKETS 8192 /* a deep queue stays O(1) per lookup */

struct qjob {
	struct qentry *e;
	struct qjob *next;
};

/* A next hop that failed to connect: tried again only after a backoff. */
struct hop {
	char key[ROUTE_KEY_MAX];
	unsigned failures;
	int64_t down_until;
	unsigned open; /* connections open to it now */
};

/* What one delivery thread keeps between messages. */
struct worker_ctx {
	struct client_conn *conn;
	char conn_key[ROUTE_KEY_MAX];
	struct dns *dns;
};

struct queue {
	const struct config *cfg;
	SSL_CTX *ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t hop_cond; /* a connection to some hop was closed */
	struct qentry *entries;
	struct qentry *bucket[ENTRY_BUCKETS];
	struct qjob *jobs, *jobs_tail;
	size_t n_jobs;
	bool is_stopping;
	pthread_t *threads;
	struct hop hops[HOPS_MAX]; /* next hops backed off as a whole */
	size_t n_hops;             /* slots in use, from the front */
	int control_fd;
	int refill[2]; /* a delivery thread asks the scheduler for more jobs */
	char control_buf[CONTROL_LINE_MAX * 4];
	size_t control_len;
	atomic_ulong n_suppressed; /* DSNs not sent for internal-only listeners */
	struct mxguard guard;      /* where delivery may connect */
};

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* ---- the retry schedule ---- */

/* first * factor^(n-1), at most max, then +-10% so a burst spreads out. */
static int64_t
backoff(const struct config *cfg, unsigned n)
{
	double d = (double)cfg->retry_interval;
	unsigned r = 0;

	for (unsigned i = 1; i < n && d < (double)cfg->retry_max; i++)
		d *= (double)cfg->retry_factor;
	if (d > (double)cfg->retry_max)
		d = (double)cfg->retry_max;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned)clock_now();
	d *= 0.9 + 0.2 * (double)(r % 1000) / 1000.0;
	return d < 1 ? 1 : (int64_t)(d + 0.5);
}

/* The hop entry for key (a free or the oldest slot). Called with q->lock held. */
static struct hop *
hop_get(struct queue *q, const char *key)
{
	struct hop *oldest = &q->hops[0];

	for (size_t i = 0; i < q->n_hops; i++) {
		struct hop *h = &q->hops[i];
		if (strcmp(h->key, key) == 0)
			return h;
		if (h->open == 0 && h->down_until < oldest->down_until)
			oldest = h;
	}
	struct hop *h = q->n_hops < HOPS_MAX ? &q->hops[q->n_hops++] : oldest;
	memset(h, 0, sizeof(*h));
	str_copy(h->key, sizeof(h->key), key);
	return h;
}

static void
hop_failed(struct queue *q, const char *key, const char *why)
{
	int64_t wait;
	unsigned failures;

	pthread_mutex_lock(&q->lock);
	struct hop *h = hop_get(q, key);
	failures = ++h->failures;
	wait = backoff(q->cfg, failures);
	h->down_until = clock_now() + wait;
	pthread_mutex_unlock(&q->lock);
	log_info("event=next-hop-down hop=%s failures=%u retry_in=%llds reason=\"%s\"", key,
	         failures, (long long)wait, why);
}

static void
hop_ok(struct queue *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	struct hop *h = hop_get(q, key);
	h->failures = 0;
	h->down_until = 0;
	pthread_mutex_unlock(&q->lock);
}

/* Seconds until the hop may be tried again; 0 if now. */
static int64_t
hop_wait(struct queue *q, const char *key)
{
	int64_t now = clock_now(), wait = 0;

	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < q->n_hops; i++)
		if (strcmp(q->hops[i].key, key) == 0 && q->hops[i].down_until > now)
			wait = q->hops[i].down_until - now;
	pthread_mutex_unlock(&q->lock);
	return wait;
}

/* ---- one message ---- */

/* Queue a DSN about the recipients whose outcome is `which`. */
static int
send_dsn(struct queue *q, const struct envelope *env, int fd, off_t body_off,
         const struct client_result *res, enum outcome which, bool is_delay)
{
	struct bounce_rcpt *list = xcalloc(env->n_rcpt, sizeof(*list));
	char dsn_id[SPOOL_ID_MAX] = "";
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i] && res->rcpt[i] == which)
			list[n++] = (struct bounce_rcpt){env->rcpt[i], res->rcpt_reply[i]};
	if (n > 0) {
		lseek(fd, body_off, SEEK_SET);
		rc = bounce_queue(q->cfg, env, fd, list, n, is_delay, dsn_id, sizeof(dsn_id));
		if (rc == EINVAL)
			log_info("event=bounce-dropped id=%s reason=null-sender recipients=%zu",
			         env->id, n);
		else if (rc == EPERM)
			log_warn(
			    "event=bounce-suppressed id=%s to=<%s> listener=%s client=%s "
			    "reason=internal-only-listener recipients=%zu dsn=%s suppressed=%lu",
			    env->id, env->sender, env->listener, env->client, n,
			    is_delay ? "delay" : "failure",
			    atomic_fetch_add(&q->n_suppressed, 1) + 1);
		else if (rc != 0)
			log_error("event=bounce-error id=%s error=\"%s\"", env->id, strerror(rc));
		else
			log_info("event=%s id=%s to=<%s> dsn_id=%s recipients=%zu",
			         is_delay ? "delay-notice" : "bounce", env->id, env->sender, dsn_id,
			         n);
	}
	free(list);
	return rc == EINVAL || rc == EPERM ? 0 : rc;
}

/* Past max_queue_lifetime a deferral becomes a failure (and a bounce). */
static void
expire_if_old(const struct config *cfg, const struct envelope *env, struct client_result *res)
{
	time_t age = (time_t)clock_now() - (time_t)env->arrival;

	if (age < (time_t)cfg->max_queue_lifetime)
		return;
	for (size_t i = 0; i < env->n_rcpt; i++) {
		char why[CLIENT_REPLY_MAX];

		if (env->rcpt_done[i] || res->rcpt[i] != OUT_TEMPFAIL)
			continue;
		str_fmt(why, sizeof(why),
		        "550 5.4.7 gave up after %lld hours in the queue; last error: %s",
		        (long long)age / 3600, res->rcpt_reply[i]);
		res->rcpt[i] = OUT_PERMFAIL;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, why);
	}
}

/* Record each recipient's outcome; true when none is left to try. */
/* Log each recipient's outcome and gather its state line; true when none
 * is left to try. The caller writes the lines only if some are: a message
 * that finished now is removed, and a crash before that at worst delivers
 * it again. */
static bool
record_results(const struct envelope *env, const struct client_result *res, unsigned attempt,
               int64_t retry_in, struct buf *state)
{
	bool all_done = true;

	for (size_t i = 0; i < env->n_rcpt; i++) {
		char esc[CLIENT_REPLY_MAX * 4];
		enum rcpt_state st = res->rcpt[i] == OUT_OK         ? RCPT_DONE
		                     : res->rcpt[i] == OUT_PERMFAIL ? RCPT_FAILED
		                                                    : RCPT_PENDING;

		if (env->rcpt_done[i])
			continue;
		log_escape(esc, sizeof(esc), res->rcpt_reply[i], strlen(res->rcpt_reply[i]));
		spool_state_rcpt(state, st, i, res->rcpt_reply[i]);
		if (st == RCPT_PENDING) {
			all_done = false;
			log_info("event=deferred id=%s to=<%s> relay=%s tls=%s attempt=%u "
			         "retry_in=%llds reply=\"%s\"",
			         env->id, env->rcpt[i], res->rcpt_relay[i], res->rcpt_tls[i],
			         attempt, (long long)retry_in, esc);
			continue;
		}
		log_info("event=%s id=%s to=<%s> relay=%s tls=%s reply=\"%s\"",
		         st == RCPT_DONE ? "delivered" : "failed", env->id, env->rcpt[i],
		         res->rcpt_relay[i], res->rcpt_tls[i], esc);
	}
	return all_done;
}

/* Close the thread's connection and free its place in the hop's limit. */
static void
conn_release(struct queue *q, struct worker_ctx *t)
{
	if (t->conn == NULL)
		return;
	client_close(t->conn);
	t->conn = NULL;
	pthread_mutex_lock(&q->lock);
	struct hop *h = hop_get(q, t->conn_key);
	if (h->open > 0)
		h->open--;
	pthread_cond_broadcast(&q->hop_cond);
	pthread_mutex_unlock(&q->lock);
}

/* Wait for a place under connections_per_host, then take it. */
static void
hop_acquire(struct queue *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	struct hop *h = hop_get(q, key);
	while (h->open >= q->cfg->connections_per_host && !q->is_stopping) {
		pthread_cond_wait(&q->hop_cond, &q->lock);
		h = hop_get(q, key);
	}
	h->open++;
	pthread_mutex_unlock(&q->lock);
}

static void
hop_unacquire(struct queue *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	struct hop *h = hop_get(q, key);
	if (h->open > 0)
		h->open--;
	pthread_cond_broadcast(&q->hop_cond);
	pthread_mutex_unlock(&q->lock);
}

static const char *
domain_of(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	return at ? at + 1 : "";
}

/* Open a connection for the route (or keep the thread's one if it goes to
 * the same next hop). NULL: every recipient of genv got its outcome. */
static struct client_conn *
connection_for(struct queue *q, struct worker_ctx *t, const struct route_conf *r,
               const char *domain, const char *key, const struct envelope *genv,
               struct client_result *res)
{
	struct route_target targets[ROUTE_TARGETS_MAX];
	char err[CLIENT_REPLY_MAX] = "", text[CLIENT_REPLY_MAX];
	size_t n = 0;
	int64_t wait;
	enum outcome o;

	if (t->conn && strcmp(t->conn_key, key) == 0)
		return t->conn;
	conn_release(q, t);
	if ((wait = hop_wait(q, key)) > 0) {
		str_fmt(text, sizeof(text), "451 4.4.1 next hop %s is backed off for %llds", key,
		        (long long)wait);
		client_fail_all(genv, res, OUT_TEMPFAIL, text);
		return NULL;
	}
	if (r->kind == NEXT_HOP_MX && t->dns == NULL &&
	    (t->dns = dns_new(q->cfg->resolver, err, sizeof(err))) == NULL) {
		client_fail_all(genv, res, OUT_TEMPFAIL, err);
		return NULL;
	}
	o = route_targets(q->cfg, r, domain, t->dns, &q->guard, targets, ROUTE_TARGETS_MAX, &n, err,
	                  sizeof(err));
	if (o != OUT_OK) {
		str_fmt(text, sizeof(text), "%s %s", o == OUT_PERMFAIL ? "550 5.1.2" : "451 4.4.3",
		        err);
		client_fail_all(genv, res, o, text);
		return NULL;
	}
	hop_acquire(q, key);
	if ((t->conn = client_open(q->cfg, q->ctx, r->tls, targets, n, res)) == NULL) {
		hop_unacquire(q, key);
		hop_failed(q, key, res->error);
		client_fail_all(genv, res, OUT_TEMPFAIL, res->error);
		return NULL;
	}
	hop_ok(q, key);
	str_copy(t->conn_key, sizeof(t->conn_key), key);
	return t->conn;
}

/* One route's recipients: one transaction to one next hop. */
static void
attempt_group(struct queue *q, struct worker_ctx *t, const struct envelope *genv, int fd,
              off_t body_off, const char *domain, struct client_result *res)
{
	const struct route_conf *r = route_for(q->cfg, domain);
	char key[ROUTE_KEY_MAX], peer[CONF_DOMAIN_MAX];

	route_key(r, domain, key, sizeof(key));
	lseek(fd, body_off, SEEK_SET);
	if (r->kind == NEXT_HOP_DIR) {
		client_deliver_dir(r->dir, genv, fd, res);
		str_copy(peer, sizeof(peer), r->dir);
	} else if (connection_for(q, t, r, domain, key, genv, res) != NULL) {
		client_send(t->conn, genv, fd, res);
		/* A copy: releasing the connection frees the name. */
		str_copy(peer, sizeof(peer), client_peer(t->conn));
		if (!client_is_usable(t->conn) ||
		    client_messages_sent(t->conn) >= q->cfg->messages_per_connection)
			conn_release(q, t);
	} else {
		str_copy(peer, sizeof(peer), key);
	}
	for (size_t i = 0; i < genv->n_rcpt; i++) {
		if (genv->rcpt_done[i])
			continue;
		str_copy(res->rcpt_relay[i], CLIENT_REPLY_MAX, peer);
		str_copy(res->rcpt_tls[i], sizeof(res->rcpt_tls[i]), res->tls);
	}
}

/* Group the pending recipients by route and attempt each group. */
static void
attempt(struct queue *q, struct worker_ctx *t, const struct envelope *env, int fd, off_t body_off,
        struct client_result *res)
{
	bool *mask = xcalloc(env->n_rcpt ? env->n_rcpt : 1, sizeof(bool));
	bool *handled = xcalloc(env->n_rcpt ? env->n_rcpt : 1, sizeof(bool));
	struct envelope genv = *env;
	char key[ROUTE_KEY_MAX], other[ROUTE_KEY_MAX];

	genv.rcpt_done = mask;
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i] || handled[i])
			continue;
		const char *domain = domain_of(env->rcpt[i]);
		route_key(route_for(q->cfg, domain), domain, key, sizeof(key));
		for (size_t k = 0; k < env->n_rcpt; k++) {
			const char *d = domain_of(env->rcpt[k]);
			route_key(route_for(q->cfg, d), d, other, sizeof(other));
			mask[k] = env->rcpt_done[k] || handled[k] || strcmp(key, other) != 0;
			if (!mask[k])
				handled[k] = true;
		}
		res->tls[0] = '\0';
		str_copy(res->tls, sizeof(res->tls), "none");
		attempt_group(q, t, &genv, fd, body_off, domain, res);
	}
	free(mask);
	free(handled);
}

/* The admin asked to return the message: every pending recipient fails. */
static void
admin_bounce(const struct envelope *env, struct client_result *res)
{
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i])
			continue;
		res->rcpt[i] = OUT_PERMFAIL;
		str_fmt(res->rcpt_reply[i], CLIENT_REPLY_MAX,
		        "550 5.0.0 returned to the sender by the mail administrator%s%s",
		        env->rcpt_note[i][0] ? "; last error: " : "", env->rcpt_note[i]);
	}
}

/* Deliver one message; returns the time of its next attempt, or 0 when it
 * has left the queue. */
static int64_t
deliver(struct queue *q, const char *id, struct worker_ctx *t)
{
	struct envelope env;
	struct client_result res;
	struct buf state;
	off_t body_off;
	int64_t next = 0, now = clock_now(), retry_in;
	int fd, rc;

	envelope_init(&env);
	if ((rc = spool_load(q->cfg->spool, id, &env, &fd, &body_off)) != 0) {
		if (rc != ENOENT)
			log_error("event=queue-error id=%s op=load error=\"%s\"", id, strerror(rc));
		envelope_free(&env);
		return rc == ENOENT ? 0 : now + (int64_t)q->cfg->retry_interval;
	}
	spool_load_state(q->cfg->spool, &env);
	client_result_init(&res, env.n_rcpt);
	if (env.is_bounce_requested)
		admin_bounce(&env, &res);
	else
		attempt(q, t, &env, fd, body_off, &res);
	expire_if_old(q->cfg, &env, &res);
	/* A failure is final only once its DSN is on disk. */
	if (send_dsn(q, &env, fd, body_off, &res, OUT_PERMFAIL, false) != 0)
		for (size_t i = 0; i < env.n_rcpt; i++)
			if (res.rcpt[i] == OUT_PERMFAIL)
				res.rcpt[i] = OUT_TEMPFAIL;
	retry_in = backoff(q->cfg, env.attempts + 1);
	buf_init(&state, SPOOL_HEADER_MAX);
	bool is_done = record_results(&env, &res, env.attempts + 1, retry_in, &state);
	if (!is_done) {
		next = now + retry_in;
		spool_state_attempt(&state, env.attempts + 1, next);
		if ((rc = spool_state_write(q->cfg->spool, id, &state)) != 0)
			log_error("event=queue-error id=%s op=state error=\"%s\"", id,
			          strerror(rc));
		if (!env.is_warned && q->cfg->delay_warning &&
		    now - env.arrival >= (int64_t)q->cfg->delay_warning &&
		    send_dsn(q, &env, fd, body_off, &res, OUT_TEMPFAIL, true) == 0)
			spool_mark_warned(q->cfg->spool, id);
	}
	buf_free(&state);
	close(fd); /* before the file goes to free/, where a worker may reuse it */
	if (is_done && (rc = spool_remove(q->cfg->spool, id)) != 0)
		log_warn("event=queue-error id=%s op=remove error=\"%s\" note=\"held or deleted "
		         "meanwhile\"",
		         id, strerror(rc));
	else if (is_done)
		log_info("event=removed id=%s", id);
	client_result_free(&res);
	envelope_free(&env);
	return next;
}

/* ---- delivery threads ---- */

/* The next job: waits for one without limit (has_conn false) or up to
 * CONN_IDLE_MS (a connection is open and worth reusing). NULL when
 * stopping or when the wait ran out. Called with q->lock held. */
static struct qjob *
take_job(struct queue *q, bool has_conn)
{
	struct qjob *j;
	struct timespec until;

	if (q->jobs == NULL && !q->is_stopping) {
		char c = 'r';
		(void)!write(q->refill[1], &c, 1); /* the scheduler may have more due */
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (CONN_IDLE_MS % 1000) * 1000000L;
	until.tv_sec += CONN_IDLE_MS / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (q->jobs == NULL && !q->is_stopping) {
		if (!has_conn)
			pthread_cond_wait(&q->cond, &q->lock);
		else if (pthread_cond_timedwait(&q->cond, &q->lock, &until) != 0)
			break;
	}
	if (q->is_stopping || (j = q->jobs) == NULL)
		return NULL;
	q->jobs = j->next;
	if (q->jobs == NULL)
		q->jobs_tail = NULL;
	q->n_jobs--;
	return j;
}

static void *
delivery_thread(void *arg)
{
	struct queue *q = arg;
	struct worker_ctx t = {0};
	struct qjob *j;

	pthread_mutex_lock(&q->lock);
	while ((j = take_job(q, t.conn != NULL)) != NULL || t.conn != NULL) {
		if (j == NULL) { /* nothing more for this connection */
			pthread_mutex_unlock(&q->lock);
			conn_release(q, &t);
			pthread_mutex_lock(&q->lock);
			continue;
		}
		char id[SPOOL_ID_MAX];
		str_copy(id, sizeof(id), j->e->id);
		pthread_mutex_unlock(&q->lock);
		int64_t next = deliver(q, id, &t);
		pthread_mutex_lock(&q->lock);
		j->e->is_in_flight = false;
		j->e->next_attempt = next;
		if (next == 0)
			j->e->is_seen = false;
		free(j);
	}
	pthread_mutex_unlock(&q->lock);
	conn_release(q, &t);
	dns_free(t.dns);
	return NULL;
}

/* ---- scheduling (main thread) ---- */

static unsigned
entry_hash(const char *id)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % ENTRY_BUCKETS;
}

static struct qentry *
entry_find(struct queue *q, const char *id)
{
	for (struct qentry *e = q->bucket[entry_hash(id)]; e; e = e->hash_next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* A new entry, known to the list and the hash. Called with q->lock held. */
static struct qentry *
entry_add(struct queue *q, const char *id)
{
	struct qentry *e = xcalloc(1, sizeof(*e));
	unsigned h = entry_hash(id);

	str_copy(e->id, sizeof(e->id), id);
	e->next = q->entries;
	q->entries = e;
	e->hash_next = q->bucket[h];
	q->bucket[h] = e;
	return e;
}

static void
entry_unhash(struct queue *q, struct qentry *e)
{
	for (struct qentry **pp = &q->bucket[entry_hash(e->id)]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == e) {
			*pp = e->hash_next;
			return;
		}
	}
}

/* A message seen for the first time keeps the schedule it had before a restart. */
static int64_t
saved_next_attempt(struct queue *q, const char *id)
{
	struct envelope e;
	int64_t next;

	envelope_init(&e);
	str_copy(e.id, sizeof(e.id), id);
	spool_load_state(q->cfg->spool, &e);
	next = e.next_attempt;
	envelope_free(&e);
	return next;
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
			e = entry_add(q, de->d_name);
			e->next_attempt = saved_next_attempt(q, e->id);
		}
		e->is_seen = true;
	}
	closedir(d);
	for (struct qentry **pp = &q->entries; *pp;) {
		struct qentry *e = *pp;
		if (!e->is_seen && !e->is_in_flight) {
			*pp = e->next;
			entry_unhash(q, e);
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

static void
dispatch(struct queue *q)
{
	int64_t now = clock_now();

	for (struct qentry *e = q->entries; e; e = e->next) {
		if (e->is_in_flight || !e->is_seen || e->next_attempt > now ||
		    q->n_jobs >= q->cfg->relay_connections * JOBS_PER_THREAD)
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

/* "flush" or "flush ID" from mailoutctl: try now. Called with q->lock held. */
static void
control_line(struct queue *q, const char *line)
{
	if (strcmp(line, "flush") == 0) {
		for (struct qentry *e = q->entries; e; e = e->next)
			e->next_attempt = 0;
		for (size_t i = 0; i < q->n_hops; i++)
			q->hops[i].down_until = 0;
		log_info("event=flush scope=all");
	} else if (strncmp(line, "flush ", 6) == 0) {
		struct qentry *e = entry_find(q, line + 6);
		if (e)
			e->next_attempt = 0;
		for (size_t i = 0; i < q->n_hops; i++)
			q->hops[i].down_until = 0;
		log_info("event=flush id=%s known=%s", line + 6, e ? "yes" : "not-yet");
	}
}

static void
read_control(struct queue *q)
{
	ssize_t n;
	char *nl;

	while ((n = read(q->control_fd, q->control_buf + q->control_len,
	                 sizeof(q->control_buf) - q->control_len - 1)) > 0) {
		q->control_len += (size_t)n;
		q->control_buf[q->control_len] = '\0';
		while ((nl = memchr(q->control_buf, '\n', q->control_len)) != NULL) {
			*nl = '\0';
			pthread_mutex_lock(&q->lock);
			scan(q); /* a flushed or released message may be new to us */
			control_line(q, q->control_buf);
			pthread_mutex_unlock(&q->lock);
			q->control_len -= (size_t)(nl + 1 - q->control_buf);
			memmove(q->control_buf, nl + 1, q->control_len);
		}
		if (q->control_len == sizeof(q->control_buf) - 1)
			q->control_len = 0; /* a line too long to be ours */
	}
}

static void
drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Queue ids from the workers, one per line: known at once, without a
 * directory scan. False when something did not parse: scan then. */
static bool
read_wake(struct queue *q, int fd)
{
	char buf[4096];
	ssize_t n;
	bool ok = true;

	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		pthread_mutex_lock(&q->lock);
		for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
			*nl = '\0';
			if (line[0] == '\0' || strlen(line) >= SPOOL_ID_MAX || strchr(line, '/')) {
				ok = false;
				continue;
			}
			if (entry_find(q, line) == NULL)
				entry_add(q, line)->is_seen = true;
		}
		pthread_mutex_unlock(&q->lock);
		if (n == (ssize_t)sizeof(buf) - 1)
			ok = false; /* a line may have been split: let a scan settle it */
	}
	return ok;
}

static void
queue_stop(struct queue *q, size_t n_threads)
{
	log_info("event=queue-stopping");
	pthread_mutex_lock(&q->lock);
	q->is_stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_cond_broadcast(&q->hop_cond);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(q->threads[i], NULL);
	while (q->entries) {
		struct qentry *e = q->entries;
		q->entries = e->next;
		free(e);
	}
	while (q->jobs) {
		struct qjob *j = q->jobs;
		q->jobs = j->next;
		free(j);
	}
	if (q->control_fd >= 0)
		close(q->control_fd);
	close(q->refill[0]);
	close(q->refill[1]);
	free(q->threads);
}

/* The guard, with this host's addresses standing for wildcard listeners. */
static void
guard_init(struct mxguard *g, const struct config *cfg)
{
	struct sockaddr_storage *local = xcalloc(MXGUARD_OWN_MAX, sizeof(*local));
	struct ifaddrs *ifs = NULL;
	size_t n = 0;

	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i && n < MXGUARD_OWN_MAX; i = i->ifa_next)
			if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
			                    i->ifa_addr->sa_family == AF_INET6))
				memcpy(&local[n++], i->ifa_addr,
				       i->ifa_addr->sa_family == AF_INET
				           ? sizeof(struct sockaddr_in)
				           : sizeof(struct sockaddr_in6));
		freeifaddrs(ifs);
	}
	mxguard_init(g, cfg, local, n);
	free(local);
}

/* One queue runner owns the spool at any moment: after a reload the new
 * one waits here until the old one has finished its deliveries and gone
 * (the lock on queue/ goes with its process). -1 if told to stop meanwhile. */
static int
own_the_queue(const struct config *cfg)
{
	char path[PATH_MAX];
	int fd;

	str_fmt(path, sizeof(path), "%s/queue", cfg->spool);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		log_fatal("event=queue-error op=lock path=%s error=\"%s\"", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	log_info("event=queue-waiting note=\"the previous queue runner is finishing\"");
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR || got_term) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
queue_run(const struct config *cfg, SSL_CTX *ctx, int wake_fd)
{
	struct queue q = {0};
	struct sigaction sa = {0};
	size_t n_threads = cfg->relay_connections;
	char path[PATH_MAX];
	int lock_fd;

	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((lock_fd = own_the_queue(cfg)) < 0)
		return 0;
	q.cfg = cfg;
	q.ctx = ctx;
	guard_init(&q.guard, cfg);
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.cond, NULL);
	pthread_cond_init(&q.hop_cond, NULL);
	if (pipe2(q.refill, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=queue-error error=\"pipe: %s\"", strerror(errno));
	/* O_RDWR: the FIFO never reports end-of-file when mailoutctl closes it. */
	str_fmt(path, sizeof(path), "%s/control", cfg->spool);
	if ((q.control_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		log_warn("event=queue-error op=control path=%s error=\"%s\"", path,
		         strerror(errno));
	q.threads = xcalloc(n_threads, sizeof(*q.threads));
	for (size_t i = 0; i < n_threads; i++)
		if (pthread_create(&q.threads[i], NULL, delivery_thread, &q) != 0)
			log_fatal("event=queue-error error=\"cannot start delivery thread\"");
	log_info("event=queue-started threads=%zu next_hop=%s", n_threads,
	         cfg->default_route.kind == NEXT_HOP_DIR ? cfg->default_route.dir
	                                                 : cfg->default_route.host);
	int64_t last_scan = 0;
	bool need_scan = true;

	while (!got_term) {
		struct pollfd pfd[3] = {
		    {wake_fd, POLLIN, 0}, {q.refill[0], POLLIN, 0}, {q.control_fd, POLLIN, 0}};
		int64_t now_ms = clock_monotonic_ms();

		pthread_mutex_lock(&q.lock);
		/* A full scan each tick catches what the wake pipe did not say. */
		if (need_scan || now_ms - last_scan >= QUEUE_TICK_MS) {
			scan(&q);
			last_scan = now_ms;
			need_scan = false;
		}
		dispatch(&q);
		pthread_mutex_unlock(&q.lock);
		if (poll(pfd, q.control_fd >= 0 ? 3 : 2, QUEUE_TICK_MS) > 0) {
			if (pfd[0].revents && !read_wake(&q, wake_fd))
				need_scan = true;
			if (pfd[1].revents)
				drain(q.refill[0]);
			if (q.control_fd >= 0 && pfd[2].revents)
				read_control(&q);
		}
	}
	queue_stop(&q, n_threads);
	close(lock_fd);
	return 0;
}
