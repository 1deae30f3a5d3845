/*
 * group: the pending recipients of one message by next hop. Recipients
 * whose domains route to the same next hop (the same route key,
 * queue/route.h) go in one transaction over one connection; each group
 * is tried once per attempt. Pure.
 */
#ifndef MAILOUT_QUEUE_GROUP_H
#define MAILOUT_QUEUE_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "spool/spool.h"

#define GROUP_NONE SIZE_MAX /* a recipient that is done */

/* group[i] for each recipient of env: its group's number, 0 .. n - 1 in
 * the order the groups first appear, or GROUP_NONE. Returns n. */
size_t group_by_hop(const struct config *, const struct envelope *, size_t *group);
/* The domain of a recipient in normal form ("" for none). */
const char *group_domain(const char *rcpt);

#endif
