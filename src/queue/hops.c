#include "queue/hops.h"

#include <string.h>

#include "queue/retry.h"
#include "util/clock.h"
#include "util/str.h"

struct hop *
hoptab_get(struct hoptab *t, const char *key)
{
	struct hop *oldest = NULL, *h;

	for (size_t i = 0; i < t->n; i++) {
		h = &t->hop[i];
		if (strcmp(h->key, key) == 0)
			return h;
		if (h->open == 0 && (oldest == NULL || h->down_until < oldest->down_until))
			oldest = h;
	}
	h = t->n < HOPS_MAX ? &t->hop[t->n++] : oldest ? oldest : &t->hop[0];
	memset(h, 0, sizeof(*h));
	str_copy(h->key, sizeof(h->key), key);
	return h;
}

int64_t
hoptab_wait(const struct hoptab *t, const char *key, int64_t now)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->hop[i].key, key) == 0)
			return t->hop[i].down_until > now ? t->hop[i].down_until - now : 0;
	return 0;
}

void
hoptab_clear_backoff(struct hoptab *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->hop[i].down_until = 0;
}

void
hops_init(struct hops *h, const struct config *cfg)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->freed, NULL);
}

void
hops_destroy(struct hops *h)
{
	pthread_cond_destroy(&h->freed);
	pthread_mutex_destroy(&h->lock);
}

unsigned
hops_failed(struct hops *h, const char *key, uint32_t random, int64_t *wait)
{
	unsigned failures;

	pthread_mutex_lock(&h->lock);
	struct hop *hop = hoptab_get(&h->tab, key);
	failures = ++hop->failures;
	*wait = retry_backoff(h->cfg, failures, random);
	hop->down_until = clock_now() + *wait;
	pthread_mutex_unlock(&h->lock);
	return failures;
}

void
hops_ok(struct hops *h, const char *key)
{
	pthread_mutex_lock(&h->lock);
	struct hop *hop = hoptab_get(&h->tab, key);
	hop->failures = 0;
	hop->down_until = 0;
	pthread_mutex_unlock(&h->lock);
}

int64_t
hops_wait(struct hops *h, const char *key)
{
	int64_t wait;

	pthread_mutex_lock(&h->lock);
	wait = hoptab_wait(&h->tab, key, clock_now());
	pthread_mutex_unlock(&h->lock);
	return wait;
}

bool
hops_acquire(struct hops *h, const char *key)
{
	bool ok;

	pthread_mutex_lock(&h->lock);
	struct hop *hop = hoptab_get(&h->tab, key);
	while (hop->open >= h->cfg->connections_per_host && !h->is_stopping) {
		pthread_cond_wait(&h->freed, &h->lock);
		hop = hoptab_get(&h->tab, key);
	}
	if ((ok = !h->is_stopping))
		hop->open++;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

void
hops_release(struct hops *h, const char *key)
{
	pthread_mutex_lock(&h->lock);
	struct hop *hop = hoptab_get(&h->tab, key);
	if (hop->open > 0)
		hop->open--;
	pthread_cond_broadcast(&h->freed);
	pthread_mutex_unlock(&h->lock);
}

void
hops_flush(struct hops *h)
{
	pthread_mutex_lock(&h->lock);
	hoptab_clear_backoff(&h->tab);
	pthread_mutex_unlock(&h->lock);
}

void
hops_stop(struct hops *h)
{
	pthread_mutex_lock(&h->lock);
	h->is_stopping = true;
	pthread_cond_broadcast(&h->freed);
	pthread_mutex_unlock(&h->lock);
}
