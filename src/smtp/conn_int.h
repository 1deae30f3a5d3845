/*
 * conn_int: struct conn as smtp/conn.c (events, TLS, output) and
 * smtp/conn_read.c (the owner taking input) share it. Nobody else sees it.
 */
#ifndef MAILOUT_SMTP_CONN_INT_H
#define MAILOUT_SMTP_CONN_INT_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>

#include "hello.h"
#include "util/buf.h"

struct conn_cbs;

enum later { LATER_DRAINED = 1, LATER_READ = 2, LATER_EVENT = 4 };

struct conn {
	int fd;
	SSL *ssl;
	bool is_handshaking;
	bool is_closing; /* the owner is done: close_notify after its output */
	bool is_shut;    /* close_notify made; nothing more is encrypted */
	bool is_failed;  /* a fatal TLS error: no close_notify then */
	struct evbuffer *in;
	bool is_skipping_line; /* the owner discards the rest of an over-long line */
	struct buf out;        /* from the owner; reused, no allocation per reply */
	struct buf wire;       /* TLS records OpenSSL made, for the socket */
	struct event *ev_read, *ev_write, *ev_later;
	bool is_read_added, is_write_added;
	bool is_blocked; /* the socket took not all: wait until it is writable */
	struct timeval timeout;
	bool has_timeout;
	size_t input_limit;
	bool is_reading; /* the owner wants input */
	int later;       /* enum later: work for the next loop turn */
	int later_what;  /* CONN_* to report then */
	unsigned long tls_err;
	struct hello hello; /* what the client offered (tls.c's ClientHello callback) */
	int depth;          /* handlers of this conn running */
	bool is_freed;
	const struct conn_cbs *cb;
	void *arg;
};

#endif
