/*
 * conn: the byte stream of one client connection, plain or TLS, on a
 * non-blocking socket, for the SMTP session above it.
 *
 * Input is read into a bounded buffer; output is written at once when the
 * socket takes it and only waits for the event loop when it does not (a
 * reply costs one write, not an epoll_ctl before and after). Inside a
 * callback of the conn, output collects and leaves in one write when the
 * callback returns: the replies to a batch of pipelined commands, or a
 * TLS 1.3 ticket and the greeting after an implicit-TLS handshake. TLS
 * records are read ahead, and whatever OpenSSL holds is processed before
 * waiting for the socket again. A conn never calls its owner from
 * conn_write(): "drained" and errors found there come from the event loop.
 */
#ifndef MAILOUT_SMTP_CONN_H
#define MAILOUT_SMTP_CONN_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "hello.h"

enum {
	CONN_READING = 0x01, /* with CONN_TIMEOUT: no input in time */
	CONN_WRITING = 0x02, /* with CONN_TIMEOUT: output not taken in time */
	CONN_EOF = 0x10,     /* the client closed (TLS: with or without close_notify) */
	CONN_ERROR = 0x20,   /* socket or TLS error; conn_tls_error() may say more */
	CONN_TIMEOUT = 0x40,
	CONN_CONNECTED = 0x80, /* the TLS handshake completed */
};

struct conn_cbs {
	void (*on_read)(void *arg);            /* new input */
	void (*on_drained)(void *arg);         /* all output was sent */
	void (*on_event)(void *arg, int what); /* CONN_* flags */
};

struct conn;

/* The conn does not own fd: its owner closes it after conn_free(). */
struct conn *conn_new(struct event_base *, int fd, const struct conn_cbs *, void *arg);
/* Safe inside a callback of the same conn: the memory goes when it returns. */
void conn_free(struct conn *);

/* Server side TLS with ctx on the socket from now on; the output must be
 * empty. Reports CONN_CONNECTED or an error. */
void conn_start_tls(struct conn *, SSL_CTX *ctx);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384" once established ("none" without TLS). */
void conn_tls_describe(const struct conn *, char *dst, size_t size);
bool conn_tls_resumed(const struct conn *);
/* Why a handshake or record failed: OpenSSL's first error, as text. */
void conn_tls_error_text(const struct conn *, char *dst, size_t size);

/* The owner is done: after the output so far, a TLS connection sends
 * close_notify (in the same write when it can); later writes are dropped. */
void conn_close_notify(struct conn *);

/* ---- input (smtp/conn_read.c) ---- */
enum conn_line { CONN_LINE_NONE, CONN_LINE_OK, CONN_LINE_TOO_LONG };
size_t conn_input_length(const struct conn *);
/* The next CRLF-ended line, without it, into line (NUL-terminated; *len
 * its length). NONE: no whole line yet. TOO_LONG: a line of size bytes or
 * more, once; the rest of it is skipped meanwhile (conn_is_skipping_line). */
enum conn_line conn_read_line(struct conn *, char *line, size_t size, size_t *len);
bool conn_is_skipping_line(const struct conn *);
/* Up to max bytes of input in one piece (NULL when there are none); they
 * stay until conn_input_drain(). */
const char *conn_input_peek(struct conn *, size_t max, size_t *len);
/* What the client's ClientHello offered (is_seen false before one came). */
const struct hello *conn_tls_hello(const struct conn *);
/* The handshake failed on bytes that were no ClientHello (plaintext). */
bool conn_tls_is_not_tls(const struct conn *);
void conn_input_drain(struct conn *, size_t n);

/* ---- output ---- */
size_t conn_output_length(const struct conn *);
void conn_write(struct conn *, const void *, size_t);

void conn_set_reading(struct conn *, bool);
/* Stop reading while this many bytes wait in the input. */
void conn_set_input_limit(struct conn *, size_t);
/* Input and output timeouts, each reset by progress. */
void conn_set_timeout(struct conn *, unsigned seconds);

#endif
