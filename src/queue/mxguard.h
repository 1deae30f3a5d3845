/*
 * mxguard: where delivery may connect. MX records come from DNS, which
 * anyone can point anywhere: an MX target is never a loopback, unspecified,
 * link-local, multicast or broadcast address, nor a private one (RFC 1918,
 * shared 100.64/10, unique-local fc00::/7, site-local) unless [relay]
 * mx_allow_networks lists its network. No target at all, MX or [routes],
 * may be one of the gateway's own listening addresses: that is a loop.
 * IPv4-mapped IPv6 addresses are judged as IPv4. Pure: the caller gives
 * the host's own addresses.
 */
#ifndef MAILOUT_QUEUE_MXGUARD_H
#define MAILOUT_QUEUE_MXGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config/config.h"

#define MXGUARD_OWN_MAX 256

enum mxguard_verdict {
	MXGUARD_OK,
	MXGUARD_LOOPBACK,
	MXGUARD_UNSPECIFIED,
	MXGUARD_LINK_LOCAL,
	MXGUARD_MULTICAST,
	MXGUARD_PRIVATE,
	MXGUARD_OWN, /* one of our own listening address:port pairs */
};

struct mxguard {
	const struct cidr *allow; /* [relay] mx_allow_networks */
	size_t n_allow;
	struct sockaddr_storage own[MXGUARD_OWN_MAX]; /* address and port we listen on */
	size_t n_own;
};

/* The guard for cfg: its listeners' addresses, a wildcard one (0.0.0.0,
 * ::) stood for by every address in local[0..n_local) with its port. */
void mxguard_init(struct mxguard *, const struct config *, const struct sockaddr_storage *local,
                  size_t n_local);
/* Whether delivery may connect to sa (with its port); is_mx: the address
 * came from DNS for an MX route, so the address classes apply too. */
enum mxguard_verdict mxguard_check(const struct mxguard *, const struct sockaddr *, bool is_mx);
/* "a loopback address" ... for the refusal's sentence. */
const char *mxguard_name(enum mxguard_verdict);

#endif
