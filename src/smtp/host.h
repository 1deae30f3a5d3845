/*
 * host: what a session needs of the process that runs it (the worker),
 * given to it at birth: the event loop, the config, the commit threads,
 * the registry view, SMTP AUTH's checker and limits, and two calls back. The session calls its host
 * only through this, so it knows nothing of workers.
 */
#ifndef MAILOUT_SMTP_HOST_H
#define MAILOUT_SMTP_HOST_H

#include <event2/event.h>

#include "config/config.h"

struct session;
struct workq;
struct regview;
struct authdb;
struct authlimit;

/* What a session needs of the process that runs it. */
struct session_host {
	struct event_base *base;
	const struct config *cfg;
	struct workq *commits;   /* spool commits (fsync) off the event loop */
	struct regview *devices; /* NULL without a registry */
	struct workq *auth;      /* password checks off the event loop; NULL without [auth] */
	struct authdb *authdb;   /* NULL without [auth] */
	struct authlimit *authlimit;
	/* A message is in the spool (tell the queue runner). */
	void (*on_queued)(void *arg, const char *id);
	/* The session is gone (its memory with it): unlink it, count it. */
	void (*on_gone)(void *arg, struct session *);
	void *arg;
};

#endif
