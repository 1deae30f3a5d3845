/*
 * regview_int: struct regview as the worker's event loop (smtp/regview.c)
 * and the registry thread (smtp/regthread.c) share it: what is shared sits
 * under lock; the rest belongs to one side, as marked.
 */
#ifndef MAILOUT_SMTP_REGVIEW_INT_H
#define MAILOUT_SMTP_REGVIEW_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/registry.h"
#include "smtp/devsnap.h"
#include "smtp/regview.h"

#define USAGE_MAX 4096 /* distinct devices batched between two flushes */
#define STATS_MAX 4096 /* distinct (client, listener, tls) batched between two flushes */

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

/* The thread: starts with regview_new(), ends when is_stopping is set. */
void *regthread_run(void *regview);

#endif
