/*
 * deliver: one attempt at one spooled message, on a delivery thread. Its
 * pending recipients are grouped by next hop (queue/group.h); each group
 * goes in one transaction, over the thread's open connection when it leads
 * to the same hop (kept for more mail, queue/hops.h limits how many are
 * open per hop), or into a directory. Then the outcome: a DSN for the
 * failures (a failure is final only once its DSN is on disk), a delay
 * notice once, give up after the queue lifetime (queue/retry.h), the state
 * line of every recipient in spool/state/, and the message removed when
 * no recipient is left. Logs each recipient's outcome.
 */
#ifndef MAILOUT_QUEUE_DELIVER_H
#define MAILOUT_QUEUE_DELIVER_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdint.h>

#include "client/client.h"
#include "config/config.h"
#include "queue/dns.h"
#include "queue/hops.h"
#include "queue/mxguard.h"
#include "queue/route.h"

/* What the delivery threads share. */
struct delivery {
	const struct config *cfg;
	SSL_CTX *ctx;
	struct hops hops;
	struct mxguard guard;      /* where delivery may connect */
	atomic_ulong n_suppressed; /* DSNs not sent for internal-only listeners */
};

/* What one delivery thread keeps between messages. */
struct courier {
	struct client_conn *conn; /* open to the hop of key, or NULL */
	char key[ROUTE_KEY_MAX];
	struct dns *dns; /* made at the first MX route */
};

/* Try message id once. Returns the time of its next attempt, or 0 when it
 * has left the queue (delivered, bounced, or gone meanwhile). */
int64_t deliver(struct delivery *, struct courier *, const char *id);
/* Close the courier's connection (freeing its place at the hop). */
void courier_release(struct delivery *, struct courier *);
/* And the rest: the thread ends. */
void courier_free(struct delivery *, struct courier *);

#endif
