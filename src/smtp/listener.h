/*
 * listener: one [listener NAME] as a worker serves it: its config, its TLS
 * contexts (made by the master before privileges were dropped) and its
 * listening sockets. Sessions read it; the worker owns it.
 */
#ifndef MAILOUT_SMTP_LISTENER_H
#define MAILOUT_SMTP_LISTENER_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config/config.h"

struct worker;
struct evconnlistener;

struct listener {
	const struct listener_conf *conf;
	struct worker *w;
	SSL_CTX *ctx;        /* NULL when tls = off */
	SSL_CTX *legacy_ctx; /* for registered devices allowed legacy TLS */
	int fd[CONF_ADDRS_MAX];
	size_t n_fd;
	struct evconnlistener *evl[CONF_ADDRS_MAX];
};

#endif
