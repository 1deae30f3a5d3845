/*
 * queue: the queue runner process. Scans spool/queue/, hands due messages
 * to a few delivery threads (client.c), records per-recipient progress in
 * spool/state/, retries deferred mail, bounces permanent failures and mail
 * older than the queue lifetime, and removes a message once every
 * recipient is done. Woken by a byte on wake_fd when a worker queues mail.
 */
#ifndef MAILOUT_QUEUE_QUEUE_H
#define MAILOUT_QUEUE_QUEUE_H

#include <openssl/ssl.h>

#include "config/config.h"

int queue_run(const struct config *, SSL_CTX *client_ctx, int wake_fd);

#endif
