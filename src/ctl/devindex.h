/*
 * devindex: every registration in memory, and the most specific one that
 * covers a client address (util/cidrtab.h), for the reports that put
 * per-address counters next to the registrations.
 */
#ifndef MAILOUT_CTL_DEVINDEX_H
#define MAILOUT_CTL_DEVINDEX_H

#include <stddef.h>

#include "db/devices.h"
#include "util/cidrtab.h"

struct devindex {
	struct device *devices;
	size_t n;
	struct cidrtab *by_net;
};

enum outcome devindex_load(struct registry *, struct devindex *, char *err, size_t errlen);
/* The registration covering client (an address as text), or NULL. */
const struct device *devindex_find(const struct devindex *, const char *client);
void devindex_free(struct devindex *);

#endif
