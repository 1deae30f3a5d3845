/*
 * authlimit: the abuse limits of SMTP AUTH in one worker: failed AUTH per
 * client address and per user name within a window, and messages and
 * recipients per authenticated user per hour. Counts live in memory (a
 * worker's own; with [gateway] workers = N a client may spread its tries
 * over N workers) and are forgotten when their window ends; the table is
 * bounded, the stalest entries go first. Pure: the caller gives the time.
 */
#ifndef MAILOUT_AUTH_AUTHLIMIT_H
#define MAILOUT_AUTH_AUTHLIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct authlimit_conf {
	uint64_t max_failures, window; /* failures per client and per user, seconds */
	uint64_t messages_per_hour, recipients_per_hour;
	unsigned max_entries; /* of each table */
};

struct authlimit;

struct authlimit *authlimit_new(const struct authlimit_conf *);
void authlimit_free(struct authlimit *);
/* Whether client (or user, if not NULL) has used up its failures. */
bool authlimit_blocked(const struct authlimit *, const char *client, const char *user, int64_t now);
void authlimit_failed(struct authlimit *, const char *client, const char *user, int64_t now);
/* Whether user may start one more message with n_rcpts recipients this
 * hour (n_rcpts 0: only the message is asked about). */
bool authlimit_may_send(const struct authlimit *, const char *user, uint64_t n_rcpts, int64_t now);
/* A message with n_rcpts recipients went out for user. */
void authlimit_sent(struct authlimit *, const char *user, uint64_t n_rcpts, int64_t now);
/* This hour's counts of user (0 when none). */
void authlimit_usage(const struct authlimit *, const char *user, int64_t now, uint64_t *messages,
                     uint64_t *recipients);

#endif
