/*
 * admit: whether a worker takes one more connection: not while it stops,
 * not beyond [gateway] max_connections in all nor max_client_connections
 * from one client address. Counts what it admits until admit_release().
 * No I/O: the worker refuses with the reply this names.
 */
#ifndef MAILOUT_SMTP_ADMIT_H
#define MAILOUT_SMTP_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct hashmap;

enum admit_verdict {
	ADMIT_OK,
	ADMIT_STOPPING,           /* 421: the worker is shutting down */
	ADMIT_TOO_MANY,           /* 421: max_connections */
	ADMIT_TOO_MANY_FROM_THEM, /* 421: max_client_connections */
};

struct admit {
	const struct config *cfg;
	size_t n;                  /* connections admitted and not released */
	struct hashmap *by_client; /* of counts */
};

void admit_init(struct admit *, const struct config *);
void admit_free(struct admit *);
enum admit_verdict admit_connection(struct admit *, const char *client, bool is_stopping);
void admit_release(struct admit *, const char *client);
const char *admit_verdict_name(enum admit_verdict);

#endif
