/*
 * stats: who sends how, in the registry (db/registry.h): usage counters
 * of each registration, sessions per client, listener and TLS state per
 * day (for `mailoutctl report tls`, with retention), and the last sessions
 * of each client (for the device check page). Written in batches by the
 * workers' registry thread.
 */
#ifndef MAILOUT_DB_STATS_H
#define MAILOUT_DB_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "db/registry.h"

#define RECENT_PER_CLIENT 20 /* sessions kept per client address */
#define RECENT_MAX_AGE    (30 * 86400)
#define RECENT_RESULT_MAX 256

struct device_usage {
	int64_t device_id;
	int64_t first_seen, last_seen;
	int64_t sessions, messages;
	char last_tls[128];
	char last_listener[64];
};

/* Sessions of one client on one listener with one TLS state, per UTC day. */
struct client_stat {
	int64_t day; /* days since 1970-01-01 */
	char client[64];
	char listener[64];
	char tls[128]; /* "none", "TLSv1.3/...", or "handshake-failed" */
	int64_t sessions, messages, refused, last_seen;
};

/* One finished session, for "what did my device just do?". */
struct recent_session {
	int64_t at;
	char client[64];
	char listener[64];
	char tls[128];
	char result[RECENT_RESULT_MAX]; /* "accepted 1 message", "refused at connect: ...", ... */
};

/* Add batched per-client counters in one transaction (upsert). */
enum outcome registry_add_client_stats(struct registry *, const struct client_stat *, size_t n,
                                       char *err, size_t errlen);
/* Retention of client_tls: rows of days before before_day go, then the
 * oldest rows beyond max_rows; *n: rows removed. */
enum outcome registry_prune_client_stats(struct registry *, int64_t before_day, uint64_t max_rows,
                                         unsigned long long *n, char *err, size_t errlen);
/* Per client, listener and TLS state, summed over the days since since_day;
 * unencrypted first, then by sessions. */
enum outcome registry_tls_report(struct registry *, int64_t since_day,
                                 bool (*fn)(const struct client_stat *, void *), void *arg,
                                 char *err, size_t errlen);
/* Every row since since_day (client, day, TLS state; listener summed), by
 * day: for the re-evaluation's days with and without TLS. */
enum outcome registry_client_days(struct registry *, int64_t since_day,
                                  bool (*fn)(const struct client_stat *, void *), void *arg,
                                  char *err, size_t errlen);
/* Record sessions; keeps the newest RECENT_PER_CLIENT per client and
 * nothing older than RECENT_MAX_AGE, so the table stays bounded. */
enum outcome registry_add_recent(struct registry *, const struct recent_session *, size_t n,
                                 char *err, size_t errlen);
/* The recent sessions of one client, newest first. */
enum outcome registry_recent(struct registry *, const char *client,
                             bool (*fn)(const struct recent_session *, void *), void *arg,
                             char *err, size_t errlen);
/* What the kept days say of one client: the best TLS it ever sent with
 * (-1 nothing kept, 0 in clear, 1..4 TLS 1.0..1.3) and on how many days it
 * sent with TLS 1.2 or better; for the re-evaluation on the admin page. */
struct client_use {
	int best;
	int64_t tls_days;
};
enum outcome registry_client_use(struct registry *, const char *client, struct client_use *,
                                 char *err, size_t errlen);
/* Add batched usage counters in one transaction. */
enum outcome registry_add_usage(struct registry *, const struct device_usage *, size_t n, char *err,
                                size_t errlen);

#endif
