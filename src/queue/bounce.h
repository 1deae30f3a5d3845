/*
 * bounce: build a delivery status notification (RFC 3464,
 * multipart/report) for the recipients of a message that failed for good,
 * and queue it through the gateway's own spool, to the original sender.
 * Never to the null sender: a bounce that bounces is dropped (the caller
 * logs it). Blocking file I/O; runs on a delivery thread.
 */
#ifndef MAILOUT_QUEUE_BOUNCE_H
#define MAILOUT_QUEUE_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "spool/spool.h"

struct bounce_rcpt {
	const char *rcpt;
	const char *reply; /* the next hop's reply, or our reason */
};

/* Queue a DSN for env about rcpts[0..n): a failure report, or (is_delay) a
 * delay notice that says delivery goes on. fd: the original message,
 * positioned at its body (only its headers are quoted, at most 16 KiB).
 * On success the new queue id is in id_out. 0 or an errno: EINVAL for the
 * null sender (never bounce a bounce), EPERM for a message accepted on an
 * internal-only listener whose sender is not internal (such a message
 * never makes mail leave); no DSN then. */
int bounce_queue(const struct config *, const struct envelope *, int fd,
                 const struct bounce_rcpt *rcpts, size_t n, bool is_delay, char *id_out,
                 size_t id_size);

#endif
