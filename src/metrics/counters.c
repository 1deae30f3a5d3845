#include "metrics/counters.h"

#include <string.h>
#include <sys/mman.h>

#include "util/clock.h"
#include "util/str.h"

static struct metrics *blk;

struct metrics *
metrics_create(void)
{
	void *p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(struct metrics));
	((struct metrics *)p)->started = clock_now();
	return p;
}

void
metrics_attach(struct metrics *b)
{
	blk = b;
}

struct metrics *
metrics_block(void)
{
	return blk;
}

/* The slot named name in a table of n (+1 "other"), taking a free one. */
static struct metrics_label *
slot(struct metrics_label *first, size_t stride, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		struct metrics_label *l = (struct metrics_label *)((char *)first + i * stride);
		int st = atomic_load_explicit(&l->state, memory_order_acquire);
		int zero = 0;

		if (st == 0 && atomic_compare_exchange_strong(&l->state, &zero, 1)) {
			str_copy(l->name, sizeof(l->name), name);
			atomic_store_explicit(&l->state, 2, memory_order_release);
			return l;
		}
		/* Another process names it: a few instructions (bounded, in case
		 * that process died halfway). */
		for (unsigned spins = 0; st == 1 && spins < 1000000; spins++)
			st = atomic_load_explicit(&l->state, memory_order_acquire);
		if (st == 2 && strncmp(l->name, name, sizeof(l->name) - 1) == 0)
			return l;
	}
	return (struct metrics_label *)((char *)first + n * stride); /* other */
}

static struct metrics_listener *
listener(const char *name)
{
	return (struct metrics_listener *)slot(&blk->listener[0].label, sizeof(blk->listener[0]),
	                                       METRICS_LISTENERS, name);
}

#define ADD(field, v) atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)

void
metrics_session_start(const char *name)
{
	if (blk)
		ADD(listener(name)->active, 1);
}

void
metrics_session_end(const char *name, const char *tls)
{
	if (blk == NULL)
		return;
	struct metrics_listener *l = listener(name);
	ADD(l->active, -1);
	ADD(l->sessions[metrics_tls_of(tls)], 1);
}

void
metrics_accepted(const char *name)
{
	if (blk)
		ADD(listener(name)->accepted, 1);
}

void
metrics_refused(enum metrics_refusal why)
{
	if (blk && (unsigned)why < MR_COUNT)
		ADD(blk->refused[why], 1);
}

void
metrics_auth(enum metrics_auth a)
{
	if (blk && (unsigned)a < MA_COUNT)
		ADD(blk->auth[a], 1);
}

void
metrics_delivery(const char *hop, enum metrics_delivery d)
{
	if (blk == NULL || (unsigned)d >= MD_COUNT)
		return;
	struct metrics_hop *h =
	    (struct metrics_hop *)slot(&blk->hop[0].label, sizeof(blk->hop[0]), METRICS_HOPS, hop);
	ADD(h->n[d], 1);
}

void
metrics_queue(int64_t size, int64_t oldest, int64_t now)
{
	if (blk == NULL)
		return;
	atomic_store_explicit(&blk->queue_size, size, memory_order_relaxed);
	atomic_store_explicit(&blk->queue_oldest, oldest, memory_order_relaxed);
	atomic_store_explicit(&blk->queue_updated, now, memory_order_relaxed);
}

void
metrics_registry_error(bool is_new)
{
	if (blk == NULL)
		return;
	ADD(blk->registry_errors, 1);
	if (is_new)
		ADD(blk->registry_stale, 1);
}

void
metrics_registry_recovered(void)
{
	if (blk)
		ADD(blk->registry_stale, -1);
}

enum metrics_tls
metrics_tls_of(const char *tls)
{
	if (strcmp(tls, "handshake-failed") == 0)
		return MT_FAILED;
	if (strncmp(tls, "TLSv1.3", 7) == 0)
		return MT_TLS13;
	if (strncmp(tls, "TLSv1.2", 7) == 0)
		return MT_TLS12;
	if (strncmp(tls, "TLSv1.1", 7) == 0)
		return MT_TLS11;
	if (strncmp(tls, "TLSv1/", 6) == 0 || strncmp(tls, "TLSv1.0", 7) == 0)
		return MT_TLS10;
	return MT_NONE;
}

const char *
metrics_tls_name(enum metrics_tls t)
{
	static const char *const names[MT_COUNT] = {"none",    "TLSv1.0", "TLSv1.1",
	                                            "TLSv1.2", "TLSv1.3", "handshake-failed"};
	return (unsigned)t < MT_COUNT ? names[t] : "?";
}

const char *
metrics_refusal_name(enum metrics_refusal r)
{
	static const char *const names[MR_COUNT] = {
	    "client", "tls-required", "auth-required", "sender", "recipient", "rate",
	    "size",   "line-length",  "loop",          "spool",  "limit"};
	return (unsigned)r < MR_COUNT ? names[r] : "?";
}

const char *
metrics_auth_name(enum metrics_auth a)
{
	static const char *const names[MA_COUNT] = {"ok", "failed", "tempfail", "blocked"};
	return (unsigned)a < MA_COUNT ? names[a] : "?";
}

const char *
metrics_delivery_name(enum metrics_delivery d)
{
	static const char *const names[MD_COUNT] = {"delivered", "deferred", "bounced"};
	return (unsigned)d < MD_COUNT ? names[d] : "?";
}

const char *
metrics_label_name(const struct metrics_label *l, bool is_other)
{
	if (is_other)
		return "other";
	return atomic_load_explicit(&l->state, memory_order_acquire) == 2 ? l->name : NULL;
}
