#include "smtp/regview.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "smtp/devsnap.h"
#include "log.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define USAGE_MAX      4096 /* distinct devices batched between two flushes */
#define STATS_MAX      4096 /* distinct (client, listener, tls) batched between two flushes */
#define OPEN_BUSY_MS   2000 /* the thread may wait for a writer; the loop never does */
#define PRUNE_EVERY_S  3600 /* client_tls retention runs this often */
#define REBUILD_FACTOR 4    /* after a rebuild of T ms, the next one waits >= 4T */
#define THREAD_NICE    10   /* snapshots are background work next to the event loop */

/* Counters gathered on the loop and written by the thread. */
struct batch {
	struct device_usage usage[USAGE_MAX];
	size_t n_usage;
	struct client_stat stats[STATS_MAX];
	size_t n_stats;
	struct recent_session recent[STATS_MAX];
	size_t n_recent;
};

struct regview {
	char path[4096];
	struct regview_limits limits;
	void (*on_fresh)(void *);
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* wakes the thread (stop, batch, request); the first snapshot */
	int wake[2];         /* the thread tells the loop: a snapshot was published */
	/* shared, under lock */
	bool is_stopping;
	bool has_tried;            /* the thread tried to read a first snapshot */
	struct devsnap *fresh;     /* published by the thread, not yet taken */
	uint64_t fresh_seq;        /* the request it answers */
	uint64_t req_seq;          /* the loop saw a change: a snapshot at least this new */
	struct batch *outbox;      /* handed to the thread */
	struct batch *last;        /* the loop's last batch, at stop */
	struct registry *ro_offer; /* the loop's connection, opened by the thread */
	int64_t ro_dataver, ro_devver, ro_admitver;
	/* the loop's */
	struct devsnap *cur;
	uint64_t cur_seq, want_seq;
	uint64_t admit_seq;  /* the snapshot a new connection must have */
	struct registry *ro; /* only for the version numbers; busy 0 */
	int64_t loop_dataver, loop_devver, loop_admitver;
	struct batch *pending;
	struct device match;
	struct event *ev_flush, *ev_wake;
	/* the thread's */
	struct registry *reg;
	int64_t data_version, devices_version;
	uint64_t built_seq;
	bool has_snapshot;
	bool is_dirty;   /* a change seen, not yet in a snapshot */
	bool is_failing; /* logged once until it works again */
	int64_t next_rebuild_ms, next_prune;
};

/* ---- the thread ---- */

static void
thread_failed(struct regview *dv, const char *op, const char *err)
{
	if (!dv->is_failing)
		log_warn(
		    "event=registry-error op=%s error=\"%s\" note=\"the last snapshot stays in "
		    "force; retrying\"",
		    op, err);
	dv->is_failing = true;
}

static void
thread_recovered(struct regview *dv, size_t n)
{
	if (dv->is_failing)
		log_info("event=registry-recovered devices=%zu", n);
	dv->is_failing = false;
}

static bool
add_brief(const struct device_brief *d, void *arg)
{
	devsnap_add(arg, d);
	return true;
}

static void
publish(struct regview *dv, struct devsnap *s, uint64_t seq)
{
	char c = 's';

	pthread_mutex_lock(&dv->lock);
	devsnap_free(dv->fresh); /* never taken: the loop saw no connection */
	dv->fresh = s;
	dv->fresh_seq = seq;
	dv->has_tried = true;
	pthread_cond_broadcast(&dv->cond);
	pthread_mutex_unlock(&dv->lock);
	(void)!write(dv->wake[1], &c, 1);
}

/* Whether the registrations changed since the last snapshot: a commit at
 * all (data_version, cheap), and then one that touched them. */
static bool
has_changed(struct regview *dv)
{
	int64_t data, devs, admit;

	if (registry_data_version(dv->reg, &data) != OUT_OK ||
	    registry_devices_version(dv->reg, &devs, &admit) != OUT_OK) {
		thread_failed(dv, "refresh", "version");
		return false;
	}
	if (dv->has_snapshot && data == dv->data_version)
		return false;
	dv->data_version = data;
	if (dv->has_snapshot && devs == dv->devices_version)
		return false; /* usage counters only */
	dv->devices_version = devs;
	return true;
}

/* Read every registration again if they changed, or the loop asked. */
static void
rebuild(struct regview *dv)
{
	struct devsnap_builder *b;
	char err[256] = "";
	int64_t t0 = clock_monotonic_ms();
	uint64_t seq;

	pthread_mutex_lock(&dv->lock);
	seq = dv->req_seq; /* what we read next includes every change before it */
	pthread_mutex_unlock(&dv->lock);
	if (has_changed(dv))
		dv->is_dirty = true;
	if (!dv->is_dirty && seq <= dv->built_seq)
		return;
	if (t0 < dv->next_rebuild_ms)
		return; /* a flood of changes: at most one rebuild per slot */
	b = devsnap_builder_new();
	if (registry_each_brief(dv->reg, add_brief, b, err, sizeof(err)) != OUT_OK) {
		devsnap_free(devsnap_build(b, clock_now()));
		thread_failed(dv, "refresh", err);
		return;
	}
	struct devsnap *s = devsnap_build(b, clock_now());
	int64_t took = clock_monotonic_ms() - t0;
	dv->next_rebuild_ms = t0 + took * (REBUILD_FACTOR + 1);
	thread_recovered(dv, devsnap_count(s));
	dv->has_snapshot = true;
	dv->is_dirty = false;
	dv->built_seq = seq;
	log_debug("event=registry-snapshot devices=%zu version=%lld ms=%lld", devsnap_count(s),
	          (long long)dv->devices_version, (long long)took);
	publish(dv, s, seq);
}

/* Write one batch; false (kept for the next try) if the database said no. */
static bool
write_batch(struct regview *dv, struct batch *b)
{
	char err[256];

	if (b->n_recent > 0) {
		if (registry_add_recent(dv->reg, b->recent, b->n_recent, err, sizeof(err)) !=
		    OUT_OK) {
			thread_failed(dv, "recent", err);
			return false;
		}
		b->n_recent = 0;
	}
	if (b->n_stats > 0) {
		if (registry_add_client_stats(dv->reg, b->stats, b->n_stats, err, sizeof(err)) !=
		    OUT_OK) {
			thread_failed(dv, "client-stats", err);
			return false;
		}
		b->n_stats = 0;
	}
	if (b->n_usage > 0) {
		if (registry_add_usage(dv->reg, b->usage, b->n_usage, err, sizeof(err)) != OUT_OK) {
			thread_failed(dv, "usage", err);
			return false;
		}
		b->n_usage = 0;
	}
	return true;
}

static void
write_outbox(struct regview *dv)
{
	struct batch *b;

	pthread_mutex_lock(&dv->lock);
	b = dv->outbox;
	pthread_mutex_unlock(&dv->lock);
	if (b == NULL || !write_batch(dv, b))
		return;
	pthread_mutex_lock(&dv->lock);
	dv->outbox = NULL;
	pthread_mutex_unlock(&dv->lock);
	free(b);
}

/* client_tls keeps report_retention of history and report_max_rows rows. */
static void
prune(struct regview *dv)
{
	char err[256];
	int64_t now = clock_now();
	unsigned long long n = 0;

	if (now < dv->next_prune)
		return;
	dv->next_prune = now + PRUNE_EVERY_S;
	if (registry_prune_client_stats(dv->reg, (now - dv->limits.report_retention) / 86400,
	                                dv->limits.report_max_rows, &n, err, sizeof(err)) != OUT_OK)
		log_warn("event=registry-error op=prune error=\"%s\"", err);
	else if (n > 0)
		log_info("event=registry-pruned table=client_tls rows=%llu", n);
}

/* The loop's connection: opened here (opening may wait for a writer),
 * with its version numbers read before the first snapshot, so that any
 * later change shows as a new number on the loop. */
static void
offer_ro(struct regview *dv)
{
	char err[256];
	struct registry *ro = registry_open(dv->path, OPEN_BUSY_MS, err, sizeof(err));
	int64_t data, devs, admit;

	if (ro == NULL || registry_data_version(ro, &data) != OUT_OK ||
	    registry_devices_version(ro, &devs, &admit) != OUT_OK) {
		registry_close(ro); /* the loop then relies on the thread's polling */
		return;
	}
	registry_set_busy(ro, 0); /* the event loop never waits */
	pthread_mutex_lock(&dv->lock);
	dv->ro_offer = ro;
	dv->ro_dataver = data;
	dv->ro_devver = devs;
	dv->ro_admitver = admit;
	pthread_mutex_unlock(&dv->lock);
}

static bool
thread_open(struct regview *dv)
{
	char err[256];

	if (dv->reg)
		return true;
	if ((dv->reg = registry_open(dv->path, OPEN_BUSY_MS, err, sizeof(err))) == NULL) {
		thread_failed(dv, "open", err);
		return false;
	}
	offer_ro(dv);
	return true;
}

static void
thread_wait(struct regview *dv)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (REGVIEW_POLL_MS % 1000) * 1000000L;
	until.tv_sec += REGVIEW_POLL_MS / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&dv->lock);
	if (!dv->is_stopping && dv->outbox == NULL && dv->req_seq <= dv->built_seq)
		pthread_cond_timedwait(&dv->cond, &dv->lock, &until);
	pthread_mutex_unlock(&dv->lock);
}

static void
thread_finish(struct regview *dv)
{
	write_outbox(dv);
	if (dv->last && dv->reg && !write_batch(dv, dv->last))
		log_warn("event=registry-error op=final-flush note=\"counters of the last %d s "
		         "not written\"",
		         REGVIEW_FLUSH_MS / 1000);
	free(dv->last);
	dv->last = NULL;
	pthread_mutex_lock(&dv->lock);
	free(dv->outbox);
	dv->outbox = NULL;
	pthread_mutex_unlock(&dv->lock);
	registry_close(dv->reg);
	dv->reg = NULL;
}

static void *
regview_thread(void *arg)
{
	struct regview *dv = arg;

	(void)!setpriority(PRIO_PROCESS, (id_t)gettid(), THREAD_NICE);
	for (;;) {
		pthread_mutex_lock(&dv->lock);
		bool stop = dv->is_stopping;
		pthread_mutex_unlock(&dv->lock);
		if (stop)
			break;
		if (thread_open(dv)) {
			rebuild(dv);
			write_outbox(dv);
			prune(dv);
		}
		pthread_mutex_lock(&dv->lock);
		if (!dv->has_tried) {
			dv->has_tried = true; /* a new worker stops waiting for it */
			pthread_cond_broadcast(&dv->cond);
		}
		pthread_mutex_unlock(&dv->lock);
		thread_wait(dv);
	}
	thread_finish(dv);
	return NULL;
}

/* ---- the event loop's side ---- */

/* Hand the gathered counters to the thread, unless it still has some. */
static void
hand_over(struct regview *dv)
{
	struct batch *b = dv->pending;

	if (b == NULL || (b->n_usage == 0 && b->n_stats == 0 && b->n_recent == 0))
		return;
	pthread_mutex_lock(&dv->lock);
	if (dv->outbox == NULL) {
		dv->outbox = b;
		dv->pending = NULL;
		pthread_cond_broadcast(&dv->cond);
	}
	pthread_mutex_unlock(&dv->lock);
}

static struct batch *
pending(struct regview *dv)
{
	if (dv->pending == NULL)
		dv->pending = xcalloc(1, sizeof(*dv->pending));
	return dv->pending;
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hand_over(arg);
}

static void take_fresh(struct regview *);

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct regview *dv = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	take_fresh(dv);
	if (dv->on_fresh)
		dv->on_fresh(dv->arg);
}

/* Wait (before the loop runs) until the thread read a first snapshot or
 * gave up on it. */
static void
wait_first(struct regview *dv)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += REGVIEW_FIRST_WAIT_MS / 1000;
	pthread_mutex_lock(&dv->lock);
	while (dv->fresh == NULL && !dv->has_tried)
		if (pthread_cond_timedwait(&dv->cond, &dv->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&dv->lock);
}

struct regview *
regview_new(struct event_base *base, const char *db_path, const struct regview_limits *limits,
            void (*on_fresh)(void *), void *arg)
{
	struct regview *dv;
	struct timeval fl = {REGVIEW_FLUSH_MS / 1000, (REGVIEW_FLUSH_MS % 1000) * 1000};
	pthread_condattr_t ca;

	if (db_path == NULL || db_path[0] == '\0')
		return NULL;
	dv = xcalloc(1, sizeof(*dv));
	str_copy(dv->path, sizeof(dv->path), db_path);
	dv->limits = *limits;
	dv->on_fresh = on_fresh;
	dv->arg = arg;
	if (pipe2(dv->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=worker-error error=\"pipe: %s\"", strerror(errno));
	pthread_mutex_init(&dv->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dv->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&dv->thread, NULL, regview_thread, dv) != 0)
		log_fatal("event=worker-error error=\"cannot start the registry thread\"");
	wait_first(dv);
	dv->ev_flush = event_new(base, -1, EV_PERSIST, on_flush, dv);
	event_add(dv->ev_flush, &fl);
	dv->ev_wake = event_new(base, dv->wake[0], EV_READ | EV_PERSIST, on_wake, dv);
	event_add(dv->ev_wake, NULL);
	return dv;
}

void
regview_free(struct regview *dv)
{
	if (dv == NULL)
		return;
	event_free(dv->ev_flush);
	event_free(dv->ev_wake);
	pthread_mutex_lock(&dv->lock);
	dv->last = dv->pending;
	dv->pending = NULL;
	dv->is_stopping = true;
	pthread_cond_broadcast(&dv->cond);
	pthread_mutex_unlock(&dv->lock);
	pthread_join(dv->thread, NULL);
	devsnap_free(dv->fresh);
	devsnap_free(dv->cur);
	registry_close(dv->ro);
	registry_close(dv->ro_offer);
	close(dv->wake[0]);
	close(dv->wake[1]);
	pthread_mutex_destroy(&dv->lock);
	pthread_cond_destroy(&dv->cond);
	free(dv);
}

/* Take a snapshot the thread published since the last connection. */
static void
take_fresh(struct regview *dv)
{
	struct devsnap *s;
	uint64_t seq;

	pthread_mutex_lock(&dv->lock);
	s = dv->fresh;
	seq = dv->fresh_seq;
	dv->fresh = NULL;
	if (dv->ro == NULL && dv->ro_offer) {
		dv->ro = dv->ro_offer;
		dv->ro_offer = NULL;
		dv->loop_dataver = dv->ro_dataver;
		dv->loop_devver = dv->ro_devver;
		dv->loop_admitver = dv->ro_admitver;
	}
	pthread_mutex_unlock(&dv->lock);
	if (s) {
		devsnap_free(dv->cur);
		dv->cur = s;
		dv->cur_seq = seq;
	}
}

/* Ask the thread for a snapshot newer than every change seen so far. */
static uint64_t
ask_for_snapshot(struct regview *dv)
{
	uint64_t seq;

	pthread_mutex_lock(&dv->lock);
	seq = dv->req_seq = ++dv->want_seq;
	pthread_cond_broadcast(&dv->cond);
	pthread_mutex_unlock(&dv->lock);
	return seq;
}

bool
regview_is_current(struct regview *dv)
{
	int64_t data, devs, admit;

	if (dv == NULL)
		return true;
	take_fresh(dv);
	/* Without our own connection, or when SQLite is busy, the thread's
	 * polling is all there is: go on with what we have. */
	if (dv->ro == NULL || registry_data_version(dv->ro, &data) != OUT_OK)
		return true;
	if (data != dv->loop_dataver) {
		dv->loop_dataver = data;
		if (registry_devices_version(dv->ro, &devs, &admit) == OUT_OK) {
			/* An approval changed: connections wait for the snapshot that
			 * has it. Anything else (a new pending registration) only
			 * changes wording: ask for it, go on with this one. */
			if (admit != dv->loop_admitver)
				dv->admit_seq = ask_for_snapshot(dv);
			else if (devs != dv->loop_devver)
				ask_for_snapshot(dv);
			dv->loop_devver = devs;
			dv->loop_admitver = admit;
		}
	}
	return dv->cur == NULL || dv->cur_seq >= dv->admit_seq;
}

bool
regview_ready(struct regview *dv)
{
	if (dv == NULL)
		return true;
	take_fresh(dv);
	return dv->cur != NULL;
}

const struct device *
regview_match(struct regview *dv, const struct sockaddr *sa)
{
	if (dv == NULL)
		return NULL;
	take_fresh(dv);
	if (dv->cur == NULL || !devsnap_match(dv->cur, sa, &dv->match))
		return NULL;
	return &dv->match;
}

void
regview_note_session(struct regview *dv, int64_t id, time_t started, const char *tls,
                     const char *listener, unsigned messages)
{
	struct device_usage *u = NULL;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	for (size_t i = 0; i < b->n_usage && u == NULL; i++)
		if (b->usage[i].device_id == id)
			u = &b->usage[i];
	if (u == NULL) {
		if (b->n_usage == USAGE_MAX) {
			hand_over(dv);
			b = pending(dv);
		}
		if (b->n_usage == USAGE_MAX) {
			log_warn("event=registry-error op=usage note=\"batch full, session not "
			         "counted\" device=%lld",
			         (long long)id);
			return;
		}
		u = &b->usage[b->n_usage++];
		memset(u, 0, sizeof(*u));
		u->device_id = id;
		u->first_seen = (int64_t)started;
	}
	u->sessions++;
	u->messages += messages;
	u->last_seen = clock_now();
	str_copy(u->last_tls, sizeof(u->last_tls), tls);
	str_copy(u->last_listener, sizeof(u->last_listener), listener);
}

static struct client_stat *
find_stat(struct batch *b, int64_t day, const char *client, const char *listener, const char *tls)
{
	for (size_t i = 0; i < b->n_stats; i++) {
		struct client_stat *x = &b->stats[i];
		if (x->day == day && strcmp(x->client, client) == 0 &&
		    strcmp(x->listener, listener) == 0 && strcmp(x->tls, tls) == 0)
			return x;
	}
	return NULL;
}

void
regview_note_client(struct regview *dv, const char *client, const char *listener, const char *tls,
                    unsigned messages, bool is_refused)
{
	int64_t now = clock_now(), day = now / 86400;
	struct client_stat *c;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	if ((c = find_stat(b, day, client, listener, tls)) == NULL) {
		if (b->n_stats == STATS_MAX) {
			hand_over(dv);
			b = pending(dv);
		}
		if (b->n_stats == STATS_MAX) {
			log_warn("event=registry-error op=client-stats note=\"batch full, session "
			         "not counted\" client=%s",
			         client);
			return;
		}
		c = &b->stats[b->n_stats++];
		memset(c, 0, sizeof(*c));
		c->day = day;
		str_copy(c->client, sizeof(c->client), client);
		str_copy(c->listener, sizeof(c->listener), listener);
		str_copy(c->tls, sizeof(c->tls), tls);
	}
	c->sessions++;
	c->messages += messages;
	c->refused += is_refused;
	c->last_seen = now;
}

void
regview_note_recent(struct regview *dv, const char *client, const char *listener, const char *tls,
                    const char *result)
{
	struct recent_session *r;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	if (b->n_recent == STATS_MAX) {
		hand_over(dv);
		b = pending(dv);
	}
	if (b->n_recent == STATS_MAX)
		return; /* the database is stuck; the log has every session anyway */
	r = &b->recent[b->n_recent++];
	r->at = clock_now();
	str_copy(r->client, sizeof(r->client), client);
	str_copy(r->listener, sizeof(r->listener), listener);
	str_copy(r->tls, sizeof(r->tls), tls);
	str_copy(r->result, sizeof(r->result), result);
}
