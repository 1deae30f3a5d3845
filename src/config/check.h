/*
 * check: what a config must satisfy as a whole, checked after the last
 * line: listeners with addresses, certificates for TLS, no open relay, no
 * address used twice, no next hop that is one of our own listeners, the
 * registry where a listener or the web pages need it; and the values that
 * follow from others (the postmaster address, the default route's TLS).
 */
#ifndef MAILOUT_CONFIG_CHECK_H
#define MAILOUT_CONFIG_CHECK_H

#include "config/ctx.h"

void conf_check(struct conf_ctx *);

#endif
