/*
 * notices: the reminders and digests `mailoutctl notify` sent, in the
 * registry, one row per key ("remind:6:1830297600:7d", "digest:2026-W49"),
 * so each goes out at most once: the row is claimed in a transaction, the
 * mail put into the spool, and the claim committed (rolled back if the
 * spool refused), so two runs at once send it once.
 */
#ifndef MAILOUT_DB_NOTICES_H
#define MAILOUT_DB_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/registry.h"

struct notice_row {
	char key[128];
	int64_t at;
	char recipient[320];
	char what[256];
};

/* *sent: whether key was recorded. */
enum outcome notices_was_sent(struct registry *, const char *key, bool *sent, char *err,
                              size_t errlen);
/* Take the write lock and insert the row. With OUT_OK and *is_new the
 * transaction stays open: send, then notices_commit(). *is_new false:
 * another run recorded it first (nothing is open). */
enum outcome notices_claim(struct registry *, const struct notice_row *, bool *is_new, char *err,
                           size_t errlen);
/* Commit a claim when sent, else roll it back. */
enum outcome notices_commit(struct registry *, bool sent, char *err, size_t errlen);
/* The notices recorded since `since`, newest first. */
enum outcome notices_list(struct registry *, int64_t since,
                          bool (*fn)(const struct notice_row *, void *), void *arg, char *err,
                          size_t errlen);

#endif
