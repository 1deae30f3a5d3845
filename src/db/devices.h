/*
 * devices: registrations in the registry (db/registry.h) and the history
 * of every change (who, when, what). A registration's fields are those of
 * device.h; a change is one transaction with its history line. Adding,
 * reading and listing are db/devices.c; the decisions (approve, reject,
 * renew, revoke, let expire, a renewal request, expire) db/decisions.c.
 */
#ifndef MAILOUT_DB_DEVICES_H
#define MAILOUT_DB_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/registry.h"
#include "device.h"

/* What a worker needs of a device to decide at connect. */
struct device_brief {
	int64_t id;
	struct cidr net;
	enum device_status status;
	bool legacy_tls;
	char expires[40];
	int64_t expires_at;
	char note[DEVICE_TEXT_MAX];
	char sender[DEVICE_TEXT_MAX]; /* the senders it may use ("" any) */
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
	const char *reason; /* NULL or the admin's reason, for the history only */
};

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
/* Registrations by their status now (an approval past its expiry counts
 * as expired), for the metrics. */
enum outcome registry_count_by_status(struct registry *, int64_t now, int64_t out[DEVICE_NSTATUS],
                                      char *err, size_t errlen);
/* approve (with expiry, legacy TLS), reject/revoke (with note). */
enum outcome registry_decide(struct registry *, int64_t id, const struct decision *, char *err,
                             size_t errlen);
/* renew: an approved or expired registration gets a new expiry (dc->to and
 * dc->note are ignored). */
enum outcome registry_renew(struct registry *, int64_t id, const struct decision *, char *err,
                            size_t errlen);
/* The owner asks for a renewal: text ("DATE by ADDRESS: reason") kept in
 * renewal_request until the next decision, and a history line. */
enum outcome registry_request_renewal(struct registry *, int64_t id, const char *text,
                                      const char *actor, char *err, size_t errlen);
/* An admin decides not to renew: the registration runs out at its expiry;
 * note "let expire: reason", a history line. Approved ones only. */
enum outcome registry_let_expire(struct registry *, int64_t id, const char *actor,
                                 const char *reason, char *err, size_t errlen);
enum outcome registry_remove(struct registry *, int64_t id, const char *actor, char *err,
                             size_t errlen);
/* Mark approved devices whose expiry passed as expired; *n: how many. */
enum outcome registry_expire(struct registry *, int64_t now, const char *actor, unsigned *n,
                             char *err, size_t errlen);
enum outcome registry_history(struct registry *, int64_t id,
                              bool (*fn)(int64_t at, const char *actor, const char *action,
                                         const char *detail, void *),
                              void *arg, char *err, size_t errlen);
#endif
