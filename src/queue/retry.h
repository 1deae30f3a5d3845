/*
 * retry: when a message is tried again and when trying ends. Pure: the
 * caller passes the time and the random number, so the schedule is
 * unit-tested exactly.
 */
#ifndef MAILOUT_QUEUE_RETRY_H
#define MAILOUT_QUEUE_RETRY_H

#include <stdint.h>

#include "client/client.h"
#include "config/config.h"
#include "spool/spool.h"

/* Seconds before attempt n + 1 after n failures (n >= 1): retry_interval *
 * retry_factor^(n-1), at most retry_max, then within +-10% by random (any
 * value: its remainder by 1000 picks the point) so a burst spreads out. At
 * least 1. */
int64_t retry_backoff(const struct config *, unsigned n, uint32_t random);
/* Past max_queue_lifetime (at now) a deferred recipient of env fails:
 * "550 5.4.7 gave up after H hours in the queue; last error: ...". */
void retry_give_up_if_old(const struct config *, const struct envelope *, int64_t now,
                          struct client_result *);
/* The admin asked to return the message: every pending recipient fails. */
void retry_return_to_sender(const struct envelope *, struct client_result *);

#endif
