/*
 * authstats: SMTP AUTH in the registry (db/registry.h), per UTC hour,
 * client address and user name: failures, successes, and the messages and
 * recipients the user sent, for `mailoutctl report auth`. Written in
 * batches by the workers' registry thread; kept as long as [registry]
 * report_retention says.
 */
#ifndef MAILOUT_DB_AUTHSTATS_H
#define MAILOUT_DB_AUTHSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/registry.h"

#define AUTHSTAT_USER_MAX 256

struct auth_stat {
	int64_t hour; /* hours since 1970-01-01 */
	char client[64];
	char user[AUTHSTAT_USER_MAX]; /* "" when the exchange gave none */
	int64_t failures, successes, messages, recipients, last_seen;
};

enum authstat_by { AUTHSTAT_BY_CLIENT, AUTHSTAT_BY_USER };

/* Add batched counters in one transaction (upsert). */
enum outcome registry_add_auth_stats(struct registry *, const struct auth_stat *, size_t n,
                                     char *err, size_t errlen);
/* Rows of hours before before_hour go; *n: how many. */
enum outcome registry_prune_auth_stats(struct registry *, int64_t before_hour,
                                       unsigned long long *n, char *err, size_t errlen);
/* Sums since since_hour by client (user "") or by user (client ""), most
 * failures first; only_failed: rows with failures only. */
enum outcome registry_auth_report(struct registry *, int64_t since_hour, enum authstat_by,
                                  bool only_failed, bool (*fn)(const struct auth_stat *, void *),
                                  void *arg, char *err, size_t errlen);

#endif
