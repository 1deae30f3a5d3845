/*
 * hops: what the queue runner knows of each next hop (by route key,
 * queue/route.h): how often connecting to it failed and the backoff that
 * follows (the hop is skipped as a whole meanwhile), and how many
 * connections are open to it ([relay] connections_per_host). The table
 * (hoptab_*) is pure and unit-tested; struct hops shares it between the
 * delivery threads under a lock, with a wait for a free place.
 */
#ifndef MAILOUT_QUEUE_HOPS_H
#define MAILOUT_QUEUE_HOPS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "queue/route.h"

#define HOPS_MAX 256

struct hop {
	char key[ROUTE_KEY_MAX];
	unsigned failures;  /* in a row */
	int64_t down_until; /* not tried before this second */
	unsigned open;      /* connections open to it now */
};

struct hoptab {
	struct hop hop[HOPS_MAX];
	size_t n; /* slots in use, from the front */
};

/* The entry of key: found, or a new one in a free slot, or in the slot of
 * the idle hop that came back longest ago. */
struct hop *hoptab_get(struct hoptab *, const char *key);
/* Seconds until key may be tried again (0: now). */
int64_t hoptab_wait(const struct hoptab *, const char *key, int64_t now);
/* Forget every backoff (mailoutctl queue flush). */
void hoptab_clear_backoff(struct hoptab *);

struct hops {
	const struct config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t freed; /* a connection was closed */
	struct hoptab tab;
	bool is_stopping;
};

void hops_init(struct hops *, const struct config *);
void hops_destroy(struct hops *);
/* A connection to key failed: its backoff grows (retry.h's schedule, with
 * random for the spread); the failures in a row and the wait are returned
 * for the log. */
unsigned hops_failed(struct hops *, const char *key, uint32_t random, int64_t *wait);
void hops_ok(struct hops *, const char *key);
int64_t hops_wait(struct hops *, const char *key);
/* Wait for a place under connections_per_host and take it; false when the
 * queue is stopping. hops_release() gives it back. */
bool hops_acquire(struct hops *, const char *key);
void hops_release(struct hops *, const char *key);
void hops_flush(struct hops *);
/* Wake every waiting thread; hops_acquire() fails from now on. */
void hops_stop(struct hops *);

#endif
