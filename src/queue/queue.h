/*
 * queue: the queue runner process. Its scheduler (queue.c) knows which
 * messages in spool/queue/ are due and hands them to a few delivery
 * threads; each tries one message at a time (queue/deliver.h: recipients
 * grouped by next hop, DSNs, per-recipient state, removal), with the
 * retry schedule in queue/retry.h, next-hop backoff and limits in
 * queue/hops.h and routing in queue/route.h. Workers name new messages on
 * wake_fd (one id a line); mailoutctl says "flush [ID]" on spool/control.
 */
#ifndef MAILOUT_QUEUE_QUEUE_H
#define MAILOUT_QUEUE_QUEUE_H

#include <openssl/ssl.h>

#include "config/config.h"

int queue_run(const struct config *, SSL_CTX *client_ctx, int wake_fd);

#endif
