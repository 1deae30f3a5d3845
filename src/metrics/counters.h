/*
 * counters: the gateway's metrics, one block of memory the master maps
 * before its first fork and every child shares (MAP_SHARED): sessions by
 * listener and TLS state, messages accepted and refused by reason, SMTP
 * AUTH results, deliveries, deferrals and bounces by next hop, the queue's
 * size and oldest message. Every update is one relaxed atomic add: no
 * lock, no system call on the SMTP path. Labels (listener names, next
 * hops) take a slot the first time they are seen, by a compare-and-swap;
 * past the table's end they count under "other". The block outlives
 * reloads, so counters only grow (as Prometheus expects). Without a block
 * (mailoutctl, unit tests) every update does nothing.
 */
#ifndef MAILOUT_METRICS_COUNTERS_H
#define MAILOUT_METRICS_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define METRICS_LISTENERS 32
#define METRICS_HOPS      64
#define METRICS_NAME      64

enum metrics_tls { MT_NONE, MT_TLS10, MT_TLS11, MT_TLS12, MT_TLS13, MT_FAILED, MT_COUNT };

/* Why a message, recipient or client was refused. */
enum metrics_refusal {
	MR_CLIENT,        /* 554 at connect: not registered, not in clients */
	MR_TLS_REQUIRED,  /* 530 before STARTTLS */
	MR_AUTH_REQUIRED, /* 530 before AUTH */
	MR_SENDER,        /* 553: the account or device may not use the sender */
	MR_RECIPIENT,     /* 550: not internal, routing characters */
	MR_RATE,          /* 450: an account's hourly budget */
	MR_SIZE,          /* 552 */
	MR_LINE,          /* a text line too long */
	MR_LOOP,          /* too many Received: */
	MR_SPOOL,         /* 451/452 from the spool */
	MR_LIMIT,         /* 421: connections, errors, session time */
	MR_COUNT
};

enum metrics_auth { MA_OK, MA_FAILED, MA_TEMPFAIL, MA_BLOCKED, MA_COUNT };
enum metrics_delivery { MD_DELIVERED, MD_DEFERRED, MD_BOUNCED, MD_COUNT };

struct metrics_label {
	atomic_int state; /* 0 free, 1 being named, 2 named */
	char name[METRICS_NAME];
};

struct metrics_listener {
	struct metrics_label label;
	atomic_uint_fast64_t sessions[MT_COUNT]; /* ended, by TLS state */
	atomic_int_fast64_t active;
	atomic_uint_fast64_t accepted; /* messages queued */
};

struct metrics_hop {
	struct metrics_label label;
	atomic_uint_fast64_t n[MD_COUNT]; /* recipients */
};

struct metrics {
	int64_t started;                                         /* Unix time the block was made */
	struct metrics_listener listener[METRICS_LISTENERS + 1]; /* the last: "other" */
	atomic_uint_fast64_t refused[MR_COUNT];
	atomic_uint_fast64_t auth[MA_COUNT];
	struct metrics_hop hop[METRICS_HOPS + 1];
	atomic_int_fast64_t queue_size, queue_oldest; /* oldest: arrival, 0 when empty */
	atomic_int_fast64_t queue_updated;
	atomic_uint_fast64_t registry_errors; /* registry reads and writes that failed */
	atomic_int_fast64_t registry_stale;   /* workers serving from their last snapshot */
};

/* The master: map the shared block (NULL if the system refused). */
struct metrics *metrics_create(void);
/* This process updates (and reads) blk from now on. */
void metrics_attach(struct metrics *blk);
struct metrics *metrics_block(void);

void metrics_session_start(const char *listener);
/* tls: the session's TLS text ("none", "TLSv1.3/...", "handshake-failed"). */
void metrics_session_end(const char *listener, const char *tls);
void metrics_accepted(const char *listener);
void metrics_refused(enum metrics_refusal);
void metrics_auth(enum metrics_auth);
void metrics_delivery(const char *hop, enum metrics_delivery);
void metrics_queue(int64_t size, int64_t oldest_arrival, int64_t now);
/* A worker's registry thread failed once (is_new: and went stale), or
 * reads again after failing (recovered). */
void metrics_registry_error(bool is_new);
void metrics_registry_recovered(void);

enum metrics_tls metrics_tls_of(const char *tls);
const char *metrics_tls_name(enum metrics_tls);
const char *metrics_refusal_name(enum metrics_refusal);
const char *metrics_auth_name(enum metrics_auth);
const char *metrics_delivery_name(enum metrics_delivery);
/* The label's name, or NULL for a free slot ("other" for the last). */
const char *metrics_label_name(const struct metrics_label *, bool is_other);

#endif
