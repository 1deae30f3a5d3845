/*
 * devrows: a registration as a row of the devices table, driven by
 * device_fields[] (device.h): the column list, reading a row into struct
 * device, inserting one. And the network key (net, prefix) under which
 * each row is indexed, with the lookup of the registrations related to an
 * address or prefix through that index. Used by db/ only.
 */
#ifndef MAILOUT_DB_DEVROWS_H
#define MAILOUT_DB_DEVROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "device.h"

typedef bool (*devrows_fn)(const struct device *, void *);

/* "SELECT <every field's column> FROM devices", malloc'd: one per registry. */
char *devrows_select(void);
void devrows_read(struct dbst *, struct device *);
/* Insert d (its DEVICE_INSERT fields and network key); sets d->id. */
enum outcome devrows_insert(struct registry *, struct device *, char *err, size_t errlen);

/* fn for each row of r->select followed by tail (" WHERE id = ?1", ...),
 * with param bound to ?1 when not NULL; stops when fn returns false. */
enum outcome devrows_each(struct registry *, const char *tail, const int64_t *param, devrows_fn,
                          void *arg, char *err, size_t errlen);
/* The same for a prepared statement of r->select (finalized here). */
enum outcome devrows_each_row(struct registry *, struct dbst *, devrows_fn, void *arg, char *err,
                              size_t errlen);
/* fn for each registration whose network covers c, and, with inside_too,
 * each inside it: index lookups, never a scan of the table. */
enum outcome devrows_each_related(struct registry *, const struct cidr *c, bool inside_too,
                                  devrows_fn, void *arg, char *err, size_t errlen);
/* Write the network key of rows an earlier schema made (migration 3 -> 4). */
int devrows_fill_nets(struct registry *);

#endif
