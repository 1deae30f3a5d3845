/*
 * devsnap: a compact, read-only snapshot of the device registry for the
 * decision at connect: for each network, the most relevant registration
 * (a valid approval, then pending, then expired, revoked, rejected; the
 * newest on a tie), and a prefix table that finds the most specific
 * network containing an address in O(log n). About 80 bytes a
 * registration (notes and dates in one string pool), so 100,000
 * registrations cost a worker about 8 MB, not the 300 MB of full rows.
 * No I/O, no locking: built on one thread, then only read.
 */
#ifndef MAILOUT_SMTP_DEVSNAP_H
#define MAILOUT_SMTP_DEVSNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "db/devices.h"

struct devsnap_builder;
struct devsnap;

struct devsnap_builder *devsnap_builder_new(void);
void devsnap_add(struct devsnap_builder *, const struct device_brief *);
/* The snapshot of everything added (the builder is consumed). now decides
 * whether an approval is still valid when ranking. */
struct devsnap *devsnap_build(struct devsnap_builder *, int64_t now);
void devsnap_free(struct devsnap *);
/* Networks in the snapshot (one registration each). */
size_t devsnap_count(const struct devsnap *);
/* The registration for addr into *out (id, address, net, status,
 * legacy_tls, expires, expires_at, note, sender; the rest zero). False if none. */
bool devsnap_match(const struct devsnap *, const struct sockaddr *, struct device *out);

#endif
