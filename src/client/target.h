/*
 * target: one host the client tries: its name (for SNI and certificate
 * checks) and the addresses to try it at, in order. Filled by the queue's
 * routing (queue/route.h), read by the client.
 */
#ifndef MAILOUT_CLIENT_TARGET_H
#define MAILOUT_CLIENT_TARGET_H

#include <stddef.h>
#include <sys/socket.h>

#include "config/config.h"

#define TARGET_ADDRS_MAX 16

struct target {
	char name[CONF_DOMAIN_MAX];
	unsigned port;
	struct sockaddr_storage addr[TARGET_ADDRS_MAX];
	socklen_t addr_len[TARGET_ADDRS_MAX];
	size_t n_addr;
};

#endif
