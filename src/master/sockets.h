/*
 * sockets: the listening sockets the master binds (as root, before any
 * child exists) and keeps across reloads: an address that a new config
 * still names keeps its socket, so no connection is refused during a
 * reload; the others are closed once the new generation runs.
 */
#ifndef MAILOUT_MASTER_SOCKETS_H
#define MAILOUT_MASTER_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config/config.h"

#define BOUND_MAX (CONF_LISTENERS_MAX * CONF_ADDRS_MAX + 1)

struct bound {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;
	bool is_used; /* by the generation being built or running */
};

struct sockets {
	struct bound bound[BOUND_MAX];
	size_t n_bound;
};

/* The socket for an address: one bound earlier (reload), or a new one
 * listening; marked used. -1 with a sentence. */
int sockets_get(struct sockets *, const struct sockaddr_storage *, socklen_t, char *err,
                size_t errlen);
/* Mark every socket used or unused (before a generation is built; after
 * a failed reload, all stay). */
void sockets_mark(struct sockets *, bool is_used);
/* Close the sockets no listener of the current config uses. */
void sockets_prune(struct sockets *);

#endif
