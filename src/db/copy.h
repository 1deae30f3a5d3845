/*
 * copy: every row of one registry into another that is still empty, e.g.
 * a gateway's SQLite file into the PostgreSQL database of a fleet
 * (`mailoutctl registry copy`): registrations with their ids and network
 * keys, their history, the usage and report counters, the last sessions,
 * the reminders sent and the keys of mailed links, in one transaction of
 * the target; its id sequences then continue after the highest id copied.
 */
#ifndef MAILOUT_DB_COPY_H
#define MAILOUT_DB_COPY_H

#include <stddef.h>

#include "db/registry.h"

#define COPY_TABLES 7

struct copy_count {
	const char *table;
	size_t rows;
};

enum outcome registry_copy(struct registry *from, struct registry *to,
                           struct copy_count counts[COPY_TABLES], char *err, size_t errlen);

#endif
