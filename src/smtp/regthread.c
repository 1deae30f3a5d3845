#include "smtp/regthread.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "db/devices.h"
#include "db/stats.h"
#include "log.h"
#include "metrics/counters.h"
#include "util/clock.h"

#define OPEN_BUSY_MS   2000 /* the thread may wait for a writer; the loop never does */
#define PRUNE_EVERY_S  3600 /* client_tls retention runs this often */
#define REBUILD_FACTOR 4    /* after a rebuild of T ms, the next one waits >= 4T */
#define THREAD_NICE    10   /* snapshots are background work next to the event loop */

static void
thread_failed(struct regshare *dv, const char *op, const char *err)
{
	metrics_registry_error(!dv->is_failing);
	if (!dv->is_failing)
		log_warn(
		    "event=registry-error op=%s error=\"%s\" note=\"the last snapshot stays in "
		    "force; retrying\"",
		    op, err);
	dv->is_failing = true;
}

static void
thread_recovered(struct regshare *dv, size_t n)
{
	if (dv->is_failing) {
		log_info("event=registry-recovered devices=%zu", n);
		metrics_registry_recovered();
	}
	dv->is_failing = false;
}

static bool
add_brief(const struct device_brief *d, void *arg)
{
	devsnap_add(arg, d);
	return true;
}

static void
publish(struct regshare *dv, struct devsnap *s, uint64_t seq)
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
 * all (data_version, cheap: on PostgreSQL a change notice, no query), and
 * then one that touched them. After a failure, always (and the rebuild
 * says the registry is back). */
static bool
has_changed(struct regshare *dv)
{
	int64_t data = 0, devs = 0, admit;
	char err[256] = "version";
	bool is_read = registry_data_version(dv->reg, &data) == OUT_OK;

	if (is_read && dv->has_snapshot && !dv->is_failing && data == dv->data_version)
		return false;
	if (!is_read || registry_devices_version(dv->reg, &devs, &admit) != OUT_OK) {
		registry_is_up(dv->reg, err, sizeof(err));
		thread_failed(dv, "refresh", err);
		return false;
	}
	dv->data_version = data;
	bool is_new = !dv->has_snapshot || dv->is_failing || devs != dv->devices_version;
	dv->devices_version = devs;
	return is_new; /* else: usage counters only */
}

/* Read every registration again if they changed, or the loop asked. */
static void
rebuild(struct regshare *dv)
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
write_batch(struct regshare *dv, struct batch *b)
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
	if (b->n_auth > 0) {
		if (registry_add_auth_stats(dv->reg, b->auth, b->n_auth, err, sizeof(err)) !=
		    OUT_OK) {
			thread_failed(dv, "auth-stats", err);
			return false;
		}
		b->n_auth = 0;
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
write_outbox(struct regshare *dv)
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

/* client_tls keeps report_retention of history and report_max_rows rows;
 * auth_stats report_retention of history. */
static void
prune(struct regshare *dv)
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
	if (registry_prune_auth_stats(dv->reg, (now - dv->limits.report_retention) / 3600, &n, err,
	                              sizeof(err)) != OUT_OK)
		log_warn("event=registry-error op=prune error=\"%s\"", err);
	else if (n > 0)
		log_info("event=registry-pruned table=auth_stats rows=%llu", n);
}

/* The loop's connection: opened here (opening may wait for a writer),
 * with its version numbers read before the first snapshot, so that any
 * later change shows as a new number on the loop. */
static void
offer_ro(struct regshare *dv)
{
	char err[256];
	struct registry *ro;
	int64_t data, devs, admit;

	if (registry_is_shared(dv->path))
		return; /* the loop never talks to a database over the network */
	ro = registry_open(dv->path, OPEN_BUSY_MS, err, sizeof(err));
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
thread_open(struct regshare *dv)
{
	char err[256];

	if (dv->reg)
		return true;
	if ((dv->reg = registry_open(dv->path, OPEN_BUSY_MS, err, sizeof(err))) == NULL) {
		thread_failed(dv, "open", err);
		return false;
	}
	registry_watch(dv->reg);
	offer_ro(dv);
	return true;
}

static void
thread_wait(struct regshare *dv)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (dv->poll_ms % 1000) * 1000000L;
	until.tv_sec += dv->poll_ms / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&dv->lock);
	/* Counters to write and snapshots asked for wake us at once, unless
	 * the registry just failed (then we try again at the next poll, not
	 * in a busy loop). */
	if (!dv->is_stopping &&
	    (dv->is_failing || (dv->outbox == NULL && dv->req_seq <= dv->built_seq)))
		pthread_cond_timedwait(&dv->cond, &dv->lock, &until);
	pthread_mutex_unlock(&dv->lock);
}

static void
thread_finish(struct regshare *dv)
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
	if (dv->is_failing)
		metrics_registry_recovered(); /* this worker no longer serves */
}

void *
regthread_run(void *arg)
{
	struct regshare *dv = arg;

	(void)!setpriority(PRIO_PROCESS, (id_t)gettid(), THREAD_NICE);
	dv->poll_ms = registry_is_shared(dv->path) ? REGVIEW_POLL_SHARED : REGVIEW_POLL_MS;
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
