/*
 * registry: the device registry in SQLite (WAL mode). Devices that may
 * use the unencrypted interface or legacy TLS, with owner, status, expiry
 * and usage; every change is recorded in a history table (who, when,
 * what). The schema is versioned (PRAGMA user_version) and migrated on
 * open. Prepared statements only: values are bound, never quoted.
 * Errors are returned (OUT_TEMPFAIL: busy or I/O; OUT_PERMFAIL: the
 * request is wrong) with a sentence in the caller's buffer; nothing is
 * logged here. One struct registry per thread.
 */
#ifndef MAILOUT_REGISTRY_H
#define MAILOUT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outcome.h"
#include "util/cidr.h"
#include "util/safedir.h"

#define REGISTRY_SCHEMA_VERSION 4
#define RECENT_PER_CLIENT       20 /* sessions kept per client address */
#define RECENT_MAX_AGE          (30 * 86400)
#define DEVICE_TEXT_MAX         256

enum device_status {
	DEVICE_PENDING,
	DEVICE_APPROVED,
	DEVICE_REJECTED,
	DEVICE_EXPIRED,
	DEVICE_REVOKED,
	DEVICE_NSTATUS
};

struct device {
	int64_t id;
	char address[CIDR_STR_MAX]; /* normalised: "10.1.2.3" or "10.1.2.0/24" */
	struct cidr net;
	char name[DEVICE_TEXT_MAX];
	char manufacturer[DEVICE_TEXT_MAX];
	char model[DEVICE_TEXT_MAX];
	char location[DEVICE_TEXT_MAX];
	char owner_name[DEVICE_TEXT_MAX];
	char owner_email[DEVICE_TEXT_MAX];
	char org_unit[DEVICE_TEXT_MAX];
	char reason[DEVICE_TEXT_MAX];
	char replacement[DEVICE_TEXT_MAX]; /* planned replacement */
	enum device_status status;
	bool legacy_tls;
	char expires[40];   /* as given: "2019-12-31" or "2019-12-31T18:00:00Z" */
	int64_t expires_at; /* first second no longer valid; 0: none */
	int64_t created_at, decided_at;
	char decided_by[64];
	char note[DEVICE_TEXT_MAX]; /* reason of a rejection or revocation */
	int64_t first_seen, last_seen, session_count, message_count;
	char last_tls[128];
	char last_listener[64];
};

/* What a worker needs of a device to decide at connect. */
struct device_brief {
	int64_t id;
	struct cidr net;
	enum device_status status;
	bool legacy_tls;
	char expires[40];
	int64_t expires_at;
	char note[DEVICE_TEXT_MAX];
};

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
	char result[256]; /* "accepted 1 message", "refused at connect: ...", ... */
};

struct device_filter {
	int status;              /* -1: any; as device_status_at() sees it */
	int64_t expiring_before; /* 0: any */
	int64_t now;             /* 0: the clock */
};

/* Which part of a filtered list: in id order (or newest first), after an
 * id (keyset paging for a stream), or a page by limit and offset. */
struct device_page {
	bool is_newest_first;
	int64_t after_id; /* 0: from the start */
	size_t limit;     /* 0: all */
	size_t offset;
};

/* A decision of an admin about a registration. */
struct decision {
	enum device_status to;
	const char *expires; /* NULL or "": unchanged */
	const char *note;    /* the reason of a rejection or revocation */
	int legacy_tls;      /* -1: unchanged; 0 or 1 */
	bool force;          /* take an expiry that has passed */
	const char *actor;
};

struct registry;

/* As root, before privileges are dropped: make the database's folder
 * (symlinks and foreign owners refused, util/safedir.h) and give it to the
 * service user, who then creates or migrates the database itself with
 * registry_open(): SQLite in WAL mode writes -wal and -shm beside it, and
 * root never opens a file in a folder the service user can change. */
bool registry_prepare_dir(const char *path, const struct safedir_owner *, char *err, size_t errlen);
/* Open (creating and migrating as needed). busy_ms: how long to wait for
 * another writer (0 on an event loop thread: fail fast, try later). NULL
 * with err on failure. */
struct registry *registry_open(const char *path, int busy_ms, char *err, size_t errlen);
void registry_close(struct registry *);
/* Changes whenever another connection committed (PRAGMA data_version). */
enum outcome registry_data_version(struct registry *, int64_t *version);
/* *devices changes whenever a registration was added, removed, or changed
 * in what decides at connect (address, status, legacy TLS, expiry, note),
 * not with the usage counters; *admit only when such a change concerns an
 * approval (what can admit a device or stop admitting it). */
enum outcome registry_devices_version(struct registry *, int64_t *devices, int64_t *admit);
/* How long to wait for another writer from now on (0: fail at once). */
void registry_set_busy(struct registry *, int busy_ms);

const char *device_status_name(enum device_status);
/* The status as it is now: an approval past its expiry is expired, also
 * before `device expire` wrote it. Everything shown to people uses this. */
enum device_status device_status_at(const struct device *, int64_t now);
/* Lower is more relevant: which of several registrations of one network
 * speaks for it (valid approval, pending, expired, revoked, rejected). */
int device_rank(enum device_status, int64_t expires_at, int64_t now);
bool device_status_parse(const char *, enum device_status *);

/* Add d (d->id is set). Refuses a duplicate or an overlap with a pending or
 * valid approved registration, and an approval whose expiry has passed
 * unless force. */
enum outcome registry_add(struct registry *, struct device *d, const char *actor, bool force,
                          char *err, size_t errlen);
enum outcome registry_get(struct registry *, int64_t id, struct device *, char *err, size_t errlen);
/* The most specific device whose address covers addr (any status; of
 * several for one network, the most relevant). */
enum outcome registry_find_by_address(struct registry *, const char *addr, struct device *,
                                      char *err, size_t errlen);
/* The registration of exactly this address or prefix (the most relevant,
 * if there are several): what an admin means by `device approve ADDRESS`. */
enum outcome registry_find_exact(struct registry *, const char *address, struct device *, char *err,
                                 size_t errlen);
/* Calls fn for each device matching f, in id order; stops if fn returns false. */
enum outcome registry_list(struct registry *, const struct device_filter *,
                           bool (*fn)(const struct device *, void *), void *arg, char *err,
                           size_t errlen);
/* The same for one part of the list (the filter runs in SQL, so a page of
 * 100 out of 100,000 reads 100 rows). */
enum outcome registry_page(struct registry *, const struct device_filter *,
                           const struct device_page *, bool (*fn)(const struct device *, void *),
                           void *arg, char *err, size_t errlen);
/* How many devices match f. */
enum outcome registry_count(struct registry *, const struct device_filter *, int64_t *n, char *err,
                            size_t errlen);
/* Pending registrations in all (from NULL), or those the web form took
 * from one visitor (from: "web form (ADDRESS)", as the history names it). */
enum outcome registry_count_pending(struct registry *, const char *from, int64_t *n, char *err,
                                    size_t errlen);
/* Every device as a brief, in id order (a worker's snapshot). */
enum outcome registry_each_brief(struct registry *, bool (*fn)(const struct device_brief *, void *),
                                 void *arg, char *err, size_t errlen);
/* approve (with expiry, legacy TLS), reject/revoke (with note). */
enum outcome registry_decide(struct registry *, int64_t id, const struct decision *, char *err,
                             size_t errlen);
/* renew: an approved or expired registration gets a new expiry (dc->to and
 * dc->note are ignored). */
enum outcome registry_renew(struct registry *, int64_t id, const struct decision *, char *err,
                            size_t errlen);
enum outcome registry_remove(struct registry *, int64_t id, const char *actor, char *err,
                             size_t errlen);
/* Mark approved devices whose expiry passed as expired; *n: how many. */
enum outcome registry_expire(struct registry *, int64_t now, const char *actor, unsigned *n,
                             char *err, size_t errlen);
enum outcome registry_history(struct registry *, int64_t id,
                              bool (*fn)(int64_t at, const char *actor, const char *action,
                                         const char *detail, void *),
                              void *arg, char *err, size_t errlen);
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
/* Record sessions; keeps the newest RECENT_PER_CLIENT per client and
 * nothing older than RECENT_MAX_AGE, so the table stays bounded. */
enum outcome registry_add_recent(struct registry *, const struct recent_session *, size_t n,
                                 char *err, size_t errlen);
/* The recent sessions of one client, newest first. */
enum outcome registry_recent(struct registry *, const char *client,
                             bool (*fn)(const struct recent_session *, void *), void *arg,
                             char *err, size_t errlen);
/* Add batched usage counters in one transaction. */
enum outcome registry_add_usage(struct registry *, const struct device_usage *, size_t n, char *err,
                                size_t errlen);

#endif
