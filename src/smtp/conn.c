#include "smtp/conn.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "smtp/conn_int.h"
#include "smtp/wirebio.h"
#include "tls.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define READ_CHUNK  (16 * 1024)   /* at most this much per read() or SSL_read() */
#define WRITE_CHUNK (16 * 1024)   /* one TLS record */
#define OUTPUT_MAX  (1024 * 1024) /* the owner stops long before (64 KiB) */
#define OUTPUT_KEEP 4096          /* a drained buffer larger than this is freed */
#define WIRE_HIWAT  (64 * 1024)   /* encrypt no more while this much waits for the socket */

static void on_read_ready(evutil_socket_t, short, void *);
static void on_write_ready(evutil_socket_t, short, void *);
static void on_later(evutil_socket_t, short, void *);
static void input_changed(struct evbuffer *, const struct evbuffer_cb_info *, void *);
static void send_wire_now(struct conn *);

struct conn *
conn_new(struct event_base *base, int fd, const struct conn_cbs *cb, void *arg)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->cb = cb;
	c->arg = arg;
	c->input_limit = READ_CHUNK;
	c->in = evbuffer_new();
	buf_init(&c->out, OUTPUT_MAX);
	buf_init(&c->wire, OUTPUT_MAX + WIRE_HIWAT);
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, on_read_ready, c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write_ready, c);
	c->ev_later = event_new(base, -1, 0, on_later, c);
	if (!c->in || !c->ev_read || !c->ev_write || !c->ev_later)
		fatal_bug("conn: out of memory for fd %d", fd);
	evbuffer_add_cb(c->in, input_changed, c);
	return c;
}

static void
destroy(struct conn *c)
{
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_later);
	evbuffer_free(c->in);
	buf_free(&c->out);
	buf_free(&c->wire);
	if (c->ssl)
		SSL_free(c->ssl);
	free(c);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	c->is_freed = true;
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_later);
	if (c->depth == 0)
		destroy(c);
}

/* Handlers hold the conn while they run; it goes when the last returns. */
static void
enter(struct conn *c)
{
	c->depth++;
}

static void
leave(struct conn *c)
{
	if (--c->depth == 0 && c->is_freed)
		destroy(c);
}

static void
set_event(struct conn *c, struct event *ev, bool *added, bool want)
{
	if (want && !*added) {
		event_add(ev, c->has_timeout ? &c->timeout : NULL);
		*added = true;
	} else if (!want && *added) {
		event_del(ev);
		*added = false;
	}
}

static void
update_events(struct conn *c)
{
	if (c->is_freed)
		return;
	bool read =
	    c->is_handshaking || (c->is_reading && evbuffer_get_length(c->in) < c->input_limit);
	bool write = c->is_blocked && (c->wire.len > 0 || c->out.len > 0);

	set_event(c, c->ev_read, &c->is_read_added, read);
	set_event(c, c->ev_write, &c->is_write_added, write);
}

static void
later(struct conn *c, enum later what)
{
	c->later |= what;
	event_active(c->ev_later, EV_TIMEOUT, 0);
}

/* Outside a handler the owner hears of an error only from the loop. */
static void
report_later(struct conn *c, int what)
{
	c->later_what |= what;
	later(c, LATER_EVENT);
}

/* Keep the first OpenSSL error and leave the thread's queue empty. */
static void
note_tls_error(struct conn *c)
{
	unsigned long e = ERR_get_error();

	if (c->tls_err == 0)
		c->tls_err = e;
	c->is_failed = true;
	ERR_clear_error();
}

static void
report(struct conn *c, int what)
{
	c->cb->on_event(c->arg, what);
}

/* ---- reading ---- */

static size_t
read_room(const struct conn *c)
{
	size_t len = evbuffer_get_length(c->in);
	size_t room = len < c->input_limit ? c->input_limit - len : 0;

	return room < READ_CHUNK ? room : READ_CHUNK;
}

static int
read_plain(struct conn *c)
{
	size_t room = read_room(c);
	struct evbuffer_iovec v;

	if (room == 0 || evbuffer_reserve_space(c->in, (ev_ssize_t)room, &v, 1) < 1)
		return 0;
	ssize_t n = read(c->fd, v.iov_base, room);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->in, &v, 1);
		return 0;
	}
	if (n == 0)
		return CONN_EOF | CONN_READING;
	return errno == EAGAIN || errno == EINTR ? 0 : CONN_ERROR | CONN_READING;
}

static int
tls_read_failed(struct conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return CONN_EOF | CONN_READING;
	default:
		note_tls_error(c);
		return CONN_ERROR | CONN_READING;
	}
}

/* Records until the socket has no more or the input is full; whatever
 * OpenSSL read ahead is taken now, not left for an event that never comes. */
static int
read_tls(struct conn *c)
{
	for (;;) {
		size_t room = read_room(c);
		struct evbuffer_iovec v;

		if (room == 0 || evbuffer_reserve_space(c->in, (ev_ssize_t)room, &v, 1) < 1)
			return 0;
		ERR_clear_error();
		int n = SSL_read(c->ssl, v.iov_base, (int)room);
		if (n <= 0)
			return tls_read_failed(c, n);
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->in, &v, 1);
		if (!SSL_has_pending(c->ssl))
			return 0;
	}
}

/* Read what there is and tell the owner. */
static void
read_input(struct conn *c)
{
	size_t before = evbuffer_get_length(c->in);
	int what = c->ssl ? read_tls(c) : read_plain(c);

	update_events(c);
	if (evbuffer_get_length(c->in) > before) {
		c->cb->on_read(c->arg);
		if (c->is_freed)
			return;
	}
	if (what & CONN_ERROR)
		send_wire_now(c); /* a TLS alert, if OpenSSL made one */
	/* An owner that stopped reading learns of the end when it reads again. */
	if (what != 0 && (c->is_reading || (what & CONN_ERROR)))
		report(c, what);
}

static void
handshake(struct conn *c)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(c->ssl);

	if (rc == 1) {
		/* The ticket OpenSSL wrote stays in the wire: it goes out with
		 * whatever the owner answers now (implicit TLS: the greeting). */
		c->is_handshaking = false;
		update_events(c);
		report(c, CONN_CONNECTED);
		/* The client's first command may have come with its Finished. */
		if (!c->is_freed && c->is_reading && SSL_has_pending(c->ssl))
			read_input(c);
		return;
	}
	if (SSL_get_error(c->ssl, rc) != SSL_ERROR_WANT_READ) {
		note_tls_error(c);
		send_wire_now(c); /* the alert, so the client learns why */
		c->is_handshaking = false;
		update_events(c);
		report(c, CONN_ERROR | CONN_READING);
		return;
	}
	update_events(c); /* our flight is in the wire: finish() sends it */
}

/* ---- writing ---- */

static void
consume(struct buf *b, size_t n)
{
	buf_consume(b, n);
	if (b->len == 0 && b->cap > OUTPUT_KEEP)
		buf_free(b); /* an idle session keeps no large buffer */
}

/* Bytes to the socket until it is full; CONN_* on a hard error. */
static int
send_bytes(struct conn *c, struct buf *b)
{
	while (b->len > 0) {
		ssize_t n = write(c->fd, b->data, b->len);
		if (n > 0) {
			consume(b, (size_t)n);
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			c->is_blocked = true;
			return 0;
		} else {
			return CONN_ERROR | CONN_WRITING;
		}
	}
	c->is_blocked = false;
	return 0;
}

/* Best effort, for an alert before the conn reports a TLS error. */
static void
send_wire_now(struct conn *c)
{
	(void)send_bytes(c, &c->wire);
}

/* The owner's output into TLS records, while the wire is not too full. */
static int
encrypt_output(struct conn *c)
{
	while (c->out.len > 0 && c->wire.len < WIRE_HIWAT) {
		size_t n = c->out.len < WRITE_CHUNK ? c->out.len : WRITE_CHUNK;

		ERR_clear_error();
		int rc = SSL_write(c->ssl, c->out.data, (int)n);
		if (rc <= 0) { /* the wire never blocks: this is an error */
			note_tls_error(c);
			return CONN_ERROR | CONN_WRITING;
		}
		consume(&c->out, (size_t)rc);
	}
	return 0;
}

static bool
needs_close_notify(const struct conn *c)
{
	return c->is_closing && !c->is_shut && c->ssl && !c->is_handshaking && !c->is_failed;
}

/* After the last output, TLS 1.3 wants a close_notify before the socket
 * closes (RFC 8446 6.1); it joins the last reply in the same write. */
static void
make_close_notify(struct conn *c)
{
	if (!needs_close_notify(c) || c->out.len > 0)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl); /* 0: sent; we do not wait for the client's */
	ERR_clear_error();
	c->is_shut = true;
}

static bool
can_flush(const struct conn *c)
{
	return !c->is_freed && !c->is_blocked &&
	       (c->wire.len > 0 || (!c->is_handshaking && c->out.len > 0) || needs_close_notify(c));
}

static int
flush(struct conn *c)
{
	int what = 0;

	if (c->ssl && !c->is_handshaking && !c->is_shut)
		what = encrypt_output(c);
	if (what == 0)
		make_close_notify(c);
	if (what == 0)
		what = send_bytes(c, c->ssl ? &c->wire : &c->out);
	if (what == 0 && c->ssl && c->wire.len == 0 && c->out.len > 0 && !c->is_handshaking)
		return flush(c); /* more than WIRE_HIWAT was waiting */
	update_events(c);
	return what;
}

/* The end of a handler: send what the owner wrote meanwhile, all replies
 * to a batch of pipelined commands in one write, and tell it when the
 * output is out (it may write more then). */
static void
finish(struct conn *c)
{
	while (can_flush(c)) {
		int what = flush(c);
		if (what != 0) {
			report(c, what);
			return;
		}
		if (c->out.len > 0 || c->wire.len > 0)
			return; /* the socket is full: the write event goes on */
		if (c->is_handshaking)
			return; /* our flight went out; the owner has nothing to hear */
		c->cb->on_drained(c->arg);
	}
}

/* Send now, unless a handler of this conn runs (it sends when it ends)
 * or the socket is full (the write event sends then). */
static void
flush_unless_busy(struct conn *c)
{
	if (c->depth > 0 || !can_flush(c))
		return;
	int what = flush(c);
	if (what != 0)
		report_later(c, what);
	else if (c->out.len == 0 && c->wire.len == 0)
		later(c, LATER_DRAINED);
}

void
conn_write(struct conn *c, const void *p, size_t n)
{
	if (c->is_freed || c->is_shut)
		return; /* nothing goes after close_notify */
	if (!buf_append(&c->out, p, n)) {
		report_later(c, CONN_ERROR | CONN_WRITING); /* an owner gone wrong */
		return;
	}
	flush_unless_busy(c);
}

/* ---- event handlers ---- */

static void
on_read_ready(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	enter(c);
	if (what & EV_TIMEOUT) {
		c->is_reading = false;
		update_events(c);
		report(c, CONN_TIMEOUT | CONN_READING);
	} else if (c->is_handshaking) {
		handshake(c);
	} else {
		read_input(c);
	}
	finish(c);
	leave(c);
}

static void
on_write_ready(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	enter(c);
	if (what & EV_TIMEOUT) {
		report(c, CONN_TIMEOUT | CONN_WRITING);
	} else {
		c->is_blocked = false; /* finish() sends; the event stays if still full */
	}
	finish(c);
	leave(c);
}

static void
on_later(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int todo = c->later;

	(void)fd;
	(void)what;
	c->later = 0;
	enter(c);
	if (todo & LATER_EVENT) {
		int w = c->later_what;
		c->later_what = 0;
		report(c, w);
	}
	if ((todo & LATER_DRAINED) && !c->is_freed && c->out.len == 0 && c->wire.len == 0)
		c->cb->on_drained(c->arg);
	if ((todo & LATER_READ) && !c->is_freed && !c->is_handshaking)
		read_input(c);
	finish(c);
	leave(c);
}

/* The owner took input: read again once there is room, and take TLS
 * data OpenSSL already holds (the socket will not signal it). */
static void
input_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)buf;
	if (info->n_deleted == 0 || info->orig_size < c->input_limit || c->is_freed)
		return;
	update_events(c);
	if (c->ssl && !c->is_handshaking && c->is_reading && SSL_has_pending(c->ssl))
		later(c, LATER_READ);
}

/* ---- settings ---- */

void
conn_start_tls(struct conn *c, SSL_CTX *ctx)
{
	BIO *rbio = BIO_new_socket(c->fd, BIO_NOCLOSE);
	SSL *ssl = SSL_new(ctx);

	if (rbio == NULL || ssl == NULL)
		fatal_bug("conn: out of memory for TLS");
	c->ssl = ssl;
	memset(&c->hello, 0, sizeof(c->hello));
	SSL_set_app_data(ssl, &c->hello);
	SSL_set_bio(ssl, rbio, wirebio_new(&c->wire));
	SSL_set_accept_state(ssl);
	SSL_set_read_ahead(ssl, 1);
	/* A client that closes without close_notify has still closed. */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	c->is_handshaking = true;
	update_events(c);
}

void
conn_tls_describe(const struct conn *c, char *dst, size_t size)
{
	if (c->ssl == NULL)
		str_copy(dst, size, "none");
	else
		tls_describe(c->ssl, dst, size);
}

bool
conn_tls_resumed(const struct conn *c)
{
	return c->ssl && SSL_session_reused(c->ssl);
}

const struct hello *
conn_tls_hello(const struct conn *c)
{
	return &c->hello;
}

bool
conn_tls_is_not_tls(const struct conn *c)
{
	return !c->hello.is_seen && c->tls_err != 0;
}

void
conn_tls_error_text(const struct conn *c, char *dst, size_t size)
{
	if (c->tls_err)
		ERR_error_string_n(c->tls_err, dst, size);
	else
		str_copy(dst, size, "connection closed during handshake");
}

size_t
conn_output_length(const struct conn *c)
{
	return c->out.len + c->wire.len;
}

void
conn_close_notify(struct conn *c)
{
	if (c->is_freed || c->is_closing)
		return;
	c->is_closing = true;
	flush_unless_busy(c);
}

void
conn_set_reading(struct conn *c, bool on)
{
	c->is_reading = on;
	update_events(c);
	if (on && c->ssl && !c->is_handshaking && SSL_has_pending(c->ssl))
		later(c, LATER_READ);
}

void
conn_set_input_limit(struct conn *c, size_t limit)
{
	c->input_limit = limit;
	update_events(c);
}

void
conn_set_timeout(struct conn *c, unsigned seconds)
{
	bool had_timeout = c->has_timeout;

	if (had_timeout && c->timeout.tv_sec == (time_t)seconds)
		return;
	c->timeout.tv_sec = (time_t)seconds;
	c->timeout.tv_usec = 0;
	c->has_timeout = seconds > 0;
	/* event_add() on an added event moves only its timer (no epoll_ctl);
	 * taking a timeout away needs the event taken off first. */
	if (had_timeout && !c->has_timeout) {
		if (c->is_read_added)
			event_del(c->ev_read);
		if (c->is_write_added)
			event_del(c->ev_write);
	}
	if (c->is_read_added)
		event_add(c->ev_read, c->has_timeout ? &c->timeout : NULL);
	if (c->is_write_added)
		event_add(c->ev_write, c->has_timeout ? &c->timeout : NULL);
}
