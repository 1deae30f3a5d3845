/*
 * regthread: the thread of a worker's registry view (smtp/regview.h). It
 * owns the worker's SQLite connection: it rebuilds the snapshot of every
 * registration when they changed or the loop asked (smtp/devsnap.h),
 * writes the counters the loop gathered in one transaction per batch,
 * prunes client_tls and auth_stats, and opens a read-only connection for the loop's
 * version checks. struct regshare is what it shares with the loop: the
 * fields under lock, and its own.
 */
#ifndef MAILOUT_SMTP_REGTHREAD_H
#define MAILOUT_SMTP_REGTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/authstats.h"
#include "db/registry.h"
#include "db/stats.h"
#include "smtp/devsnap.h"

#define REGVIEW_POLL_MS       100
#define REGVIEW_POLL_SHARED   20 /* PostgreSQL: a look at the socket for change notices */
#define REGVIEW_FLUSH_MS      2000
#define REGVIEW_FIRST_WAIT_MS 3000 /* a new worker waits this long for its first snapshot */

struct regview_limits {
	int64_t report_retention; /* seconds of client_tls history kept */
	uint64_t report_max_rows; /* and at most this many rows */
};
#define USAGE_MAX     4096 /* distinct devices batched between two flushes */
#define STATS_MAX     4096 /* distinct (client, listener, tls) batched between two flushes */
#define AUTHSTATS_MAX 1024 /* distinct (hour, client, user) of SMTP AUTH */

/* Counters gathered on the loop and written by the thread. */
struct batch {
	struct device_usage usage[USAGE_MAX];
	size_t n_usage;
	struct client_stat stats[STATS_MAX];
	size_t n_stats;
	struct recent_session recent[STATS_MAX];
	size_t n_recent;
	struct auth_stat auth[AUTHSTATS_MAX];
	size_t n_auth;
};

struct regshare {
	char path[4096];
	struct regview_limits limits;
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
	/* the thread's */
	struct registry *reg;
	int64_t data_version, devices_version;
	uint64_t built_seq;
	bool has_snapshot;
	bool is_dirty;   /* a change seen, not yet in a snapshot */
	bool is_failing; /* logged once until it works again */
	int poll_ms;     /* REGVIEW_POLL_MS, or REGVIEW_POLL_SHARED for PostgreSQL */
	int64_t next_rebuild_ms, next_prune;
};

/* The thread: started by regview_new() with its regshare, ends when
 * is_stopping is set (writing what the loop handed over last). */
void *regthread_run(void *regshare);

#endif
