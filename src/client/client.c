#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls.h"
#include "util/cidr.h"
#include "util/fsx.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define READ_CHUNK  (64 * 1024)
#define LINE_MAX_IN 4096 /* longest reply line we accept from the next hop */

struct conn {
	int fd;
	SSL *ssl;
	char peer[256]; /* the host name we connected to */
	bool is_broken;
	unsigned n_sent;
	char tls[128];
	char rbuf[8192];
	size_t rlen, rpos;
	/* EHLO extensions */
	bool has_starttls, has_8bitmime, has_smtputf8, has_size, has_pipelining;
};

struct smtp_reply {
	int code;
	char text[CLIENT_REPLY_MAX]; /* the last line, for logs and DSNs */
	char ext[2048];              /* every line of a multi-line reply, '\n' separated */
};

void
client_result_init(struct client_result *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->rcpt = xcalloc(n ? n : 1, sizeof(*r->rcpt));
	r->rcpt_reply = xcalloc(n ? n : 1, sizeof(*r->rcpt_reply));
	r->rcpt_relay = xcalloc(n ? n : 1, sizeof(*r->rcpt_relay));
	r->rcpt_tls = xcalloc(n ? n : 1, sizeof(*r->rcpt_tls));
	str_copy(r->tls, sizeof(r->tls), "none");
}

void
client_result_free(struct client_result *r)
{
	free(r->rcpt);
	free(r->rcpt_reply);
	free(r->rcpt_relay);
	free(r->rcpt_tls);
}

/* ---- connection ---- */

/* Non-blocking connect with a timeout, then a blocking socket with
 * send/receive timeouts. -1 with errno-text in err. */
static int
connect_addr(const struct sockaddr *sa, socklen_t len, unsigned timeout, char *err, size_t errlen)
{
	struct pollfd pfd;
	int soerr = 0, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socklen_t slen = sizeof(soerr);
	char addr[80];

	if (fd < 0) {
		str_fmt(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, sa, len) != 0 && errno != EINPROGRESS) {
		soerr = errno;
	} else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)timeout * 1000) != 1)
			soerr = ETIMEDOUT;
		else
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
	}
	if (soerr != 0) {
		sockaddr_format(sa, addr, sizeof(addr));
		str_fmt(err, errlen, "connect to %s: %s", addr, strerror(soerr));
		close(fd);
		return -1;
	}
	struct timeval tv = {(time_t)timeout, 0};
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The first address of the target that accepts a connection. */
static int
connect_target(const struct route_target *t, unsigned timeout, char *err, size_t errlen)
{
	int fd = -1;

	for (size_t i = 0; i < t->n_addr && fd < 0; i++)
		fd = connect_addr((const struct sockaddr *)&t->addr[i], t->addr_len[i], timeout,
		                  err, errlen);
	return fd;
}
static bool
conn_write(struct conn *c, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w;

		if (c->ssl) {
			int r = SSL_write(c->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n);
			w = r > 0 ? r : -1;
		} else {
			w = send(c->fd, b, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->rlen == sizeof(c->rbuf))
		return false;
	if (c->ssl) {
		int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof(c->rbuf) - c->rlen));
		n = r > 0 ? r : -1;
	} else {
		do
			n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
		while (n < 0 && errno == EINTR);
	}
	if (n <= 0)
		return false;
	c->rlen += (size_t)n;
	return true;
}

/* One reply line into line (without CRLF); false on EOF/timeout/garbage. */
static bool
conn_read_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);

		if (nl) {
			size_t len = (size_t)(nl - (c->rbuf + c->rpos));
			if (len > 0 && c->rbuf[c->rpos + len - 1] == '\r')
				len--;
			/* A next hop's text goes to logs, the spool and DSNs: a bare
			 * CR or LF in it must never become a line end there. */
			str_copy_printable(line, size, c->rbuf + c->rpos, len);
			c->rpos = (size_t)(nl - c->rbuf) + 1;
			return true;
		}
		if (!conn_fill(c))
			return false;
	}
}

static bool
read_reply(struct conn *c, struct smtp_reply *r)
{
	char line[LINE_MAX_IN];
	size_t elen = 0;

	r->ext[0] = '\0';
	for (int lines = 0; lines < 100; lines++) {
		if (!conn_read_line(c, line, sizeof(line)) || strlen(line) < 3 || line[0] < '2' ||
		    line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
			return false;
		r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		str_copy(r->text, sizeof(r->text), line);
		if (elen + strlen(line) + 2 < sizeof(r->ext)) {
			elen += (size_t)snprintf(r->ext + elen, sizeof(r->ext) - elen, "%s\n",
			                         line + (line[3] ? 4 : 3));
		}
		if (line[3] != '-')
			return true;
	}
	return false;
}

static bool command(struct conn *c, struct smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
command(struct conn *c, struct smtp_reply *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return false;
	memcpy(line + n, "\r\n", 2);
	return conn_write(c, line, (size_t)n + 2) && read_reply(c, r);
}

static void
parse_ehlo(struct conn *c, const char *ext)
{
	c->has_starttls = strstr(ext, "\nSTARTTLS") || strncmp(ext, "STARTTLS", 8) == 0;
	c->has_8bitmime = strstr(ext, "\n8BITMIME") != NULL;
	c->has_smtputf8 = strstr(ext, "\nSMTPUTF8") != NULL;
	c->has_size = strstr(ext, "\nSIZE") != NULL;
	c->has_pipelining = strstr(ext, "\nPIPELINING") != NULL;
}

static bool
verify_host(SSL *ssl, const char *host)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	bool ok = cert && SSL_get_verify_result(ssl) == X509_V_OK &&
	          X509_check_host(cert, host, 0, 0, NULL) == 1;

	X509_free(cert);
	return ok;
}

/* STARTTLS and the second EHLO. */
static enum outcome
start_tls(struct conn *c, const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
          const char *name, struct smtp_reply *r, struct client_result *res)
{
	if (!command(c, r, "STARTTLS") || r->code != 220) {
		str_fmt(res->error, sizeof(res->error), "STARTTLS refused: %s", r->text);
		return OUT_TEMPFAIL;
	}
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, name);
	if (SSL_connect(c->ssl) != 1) {
		char why[200];
		tls_last_error(why, sizeof(why));
		str_fmt(res->error, sizeof(res->error), "TLS handshake failed: %s", why);
		return OUT_TEMPFAIL;
	}
	if (tls == RTLS_VERIFY && !verify_host(c->ssl, name)) {
		str_fmt(res->error, sizeof(res->error),
		        "certificate of %s does not verify against %s", name, cfg->relay_ca_file);
		return OUT_TEMPFAIL;
	}
	tls_describe(c->ssl, res->tls, sizeof(res->tls));
	if (!command(c, r, "EHLO %s", cfg->hostname) || r->code != 250) {
		str_fmt(res->error, sizeof(res->error), "EHLO after STARTTLS: %s", r->text);
		return OUT_TEMPFAIL;
	}
	parse_ehlo(c, r->ext);
	return OUT_OK;
}

static enum outcome
outcome_of(int code)
{
	return code < 400 ? OUT_OK : code < 500 ? OUT_TEMPFAIL : OUT_PERMFAIL;
}

/* Send the message with dot-stuffing; the spool holds CRLF lines. Whole
 * lines are copied at once; a line that starts with '.' gets one more.
 * Each chunk is sent when the next one has been read, so the last goes
 * out together with the final dot: one segment fewer per message. */
static bool
send_body(struct conn *c, int fd)
{
	char in[READ_CHUNK], out[READ_CHUNK * 2 + 8];
	bool at_line_start = true;
	char last[2] = {'\r', '\n'};
	size_t o = 0; /* bytes of out not sent yet */
	ssize_t n;

	while ((n = read(fd, in, sizeof(in))) > 0) {
		const char *p = in, *end = in + n;

		if (o > 0 && !conn_write(c, out, o))
			return false;
		o = 0;
		while (p < end) {
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			size_t run = (size_t)((lf ? lf + 1 : end) - p);

			if (at_line_start && *p == '.')
				out[o++] = '.';
			memcpy(out + o, p, run);
			o += run;
			p += run;
			at_line_start = lf != NULL;
		}
		if (n >= 2) {
			last[0] = in[n - 2];
			last[1] = in[n - 1];
		} else {
			last[0] = last[1];
			last[1] = in[0];
		}
	}
	if (n < 0)
		return false;
	/* out holds at most 2 * READ_CHUNK bytes: the terminator fits. */
	if (last[0] != '\r' || last[1] != '\n') {
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	memcpy(out + o, ".\r\n", 3);
	return conn_write(c, out, o + 3);
}

void
client_fail_all(const struct envelope *env, struct client_result *res, enum outcome o,
                const char *text)
{
	/* Nothing was delivered: every pending recipient gets o, except that
	 * a recipient the next hop already refused for good keeps its reply. */
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i] || (res->rcpt[i] == OUT_PERMFAIL && res->rcpt_reply[i][0]))
			continue;
		res->rcpt[i] = o;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, text);
	}
	if (res->error[0] == '\0')
		str_copy(res->error, sizeof(res->error), text);
}

/* The recipients the next hop accepted at RCPT share the DATA outcome. */
static void
set_accepted(const struct envelope *env, struct client_result *res, enum outcome o,
             const char *text)
{
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i] || res->rcpt[i] != OUT_OK)
			continue;
		res->rcpt[i] = o;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, text);
	}
}

/* With PIPELINING (RFC 2920): RSET (on a reused connection), MAIL, every
 * RCPT and DATA in one write, then the replies in order. One round trip
 * instead of two plus one per recipient. */
static enum outcome
transaction_pipelined(struct conn *c, const struct envelope *env, int fd, bool needs_rset,
                      const char *params, struct smtp_reply *r, struct client_result *res)
{
	struct buf out;
	int mail_code;
	bool ok;

	buf_init(&out, SPOOL_HEADER_MAX);
	ok = (!needs_rset || buf_puts(&out, "RSET\r\n")) &&
	     buf_printf(&out, "MAIL FROM:<%s>%s\r\n", env->sender, params);
	for (size_t i = 0; ok && i < env->n_rcpt; i++)
		if (!env->rcpt_done[i])
			ok = buf_printf(&out, "RCPT TO:<%s>\r\n", env->rcpt[i]);
	ok = ok && buf_puts(&out, "DATA\r\n") && conn_write(c, out.data, out.len);
	buf_free(&out);
	if (!ok || (needs_rset && (!read_reply(c, r) || r->code != 250)) || !read_reply(c, r)) {
		c->is_broken = true;
		client_fail_all(env, res, OUT_TEMPFAIL, "connection lost after MAIL FROM");
		return OUT_TEMPFAIL;
	}
	mail_code = r->code;
	if (mail_code != 250)
		client_fail_all(env, res, outcome_of(mail_code), r->text);
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i])
			continue;
		if (!read_reply(c, r)) {
			c->is_broken = true;
			client_fail_all(env, res, OUT_TEMPFAIL, "connection lost after RCPT TO");
			return OUT_TEMPFAIL;
		}
		if (mail_code != 250)
			continue;
		res->rcpt[i] = outcome_of(r->code);
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, r->text);
		if (r->code < 300)
			res->n_accepted++;
	}
	if (!read_reply(c, r)) {
		c->is_broken = true;
		set_accepted(env, res, OUT_TEMPFAIL, "connection lost after DATA");
		return OUT_TEMPFAIL;
	}
	if (r->code == 354 && (mail_code != 250 || res->n_accepted == 0)) {
		/* Nobody to deliver to, but the server wants data: end it empty. */
		if (!conn_write(c, ".\r\n", 3) || !read_reply(c, r))
			c->is_broken = true;
		return OUT_PERMFAIL;
	}
	if (mail_code != 250 || res->n_accepted == 0)
		return outcome_of(mail_code != 250 ? mail_code : 550);
	if (r->code != 354) {
		enum outcome o = r->code >= 500 ? OUT_PERMFAIL : OUT_TEMPFAIL;
		set_accepted(env, res, o, r->text);
		return o;
	}
	if (!send_body(c, fd) || !read_reply(c, r)) {
		c->is_broken = true;
		set_accepted(env, res, OUT_TEMPFAIL, "connection lost during DATA");
		return OUT_TEMPFAIL;
	}
	set_accepted(env, res, outcome_of(r->code), r->text);
	return outcome_of(r->code);
}

/* The transaction after EHLO (and TLS): MAIL, RCPT each, DATA. */
static enum outcome
transaction(struct conn *c, const struct envelope *env, int fd, bool needs_rset,
            struct smtp_reply *r, struct client_result *res)
{
	char params[64] = "";

	if (env->smtputf8 && !c->has_smtputf8) {
		client_fail_all(env, res, OUT_PERMFAIL,
		                "554 5.6.7 next hop does not support SMTPUTF8");
		return OUT_PERMFAIL;
	}
	str_fmt(params, sizeof(params), "%s%s",
	        env->body == SMTP_BODY_8BITMIME && c->has_8bitmime ? " BODY=8BITMIME" : "",
	        env->smtputf8 ? " SMTPUTF8" : "");
	if (c->has_pipelining)
		return transaction_pipelined(c, env, fd, needs_rset, params, r, res);
	if (needs_rset && (!command(c, r, "RSET") || r->code != 250)) {
		c->is_broken = true;
		client_fail_all(env, res, OUT_TEMPFAIL,
		                "next hop refused RSET on a reused connection");
		return OUT_TEMPFAIL;
	}
	if (!command(c, r, "MAIL FROM:<%s>%s", env->sender, params)) {
		client_fail_all(env, res, OUT_TEMPFAIL, "connection lost after MAIL FROM");
		return OUT_TEMPFAIL;
	}
	if (r->code != 250) {
		client_fail_all(env, res, outcome_of(r->code), r->text);
		return outcome_of(r->code);
	}
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i])
			continue;
		if (!command(c, r, "RCPT TO:<%s>", env->rcpt[i])) {
			client_fail_all(env, res, OUT_TEMPFAIL, "connection lost after RCPT TO");
			return OUT_TEMPFAIL;
		}
		res->rcpt[i] = outcome_of(r->code);
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, r->text);
		if (r->code < 300)
			res->n_accepted++;
	}
	if (res->n_accepted == 0) {
		command(c, r, "RSET");
		return OUT_PERMFAIL; /* per-recipient outcomes say more */
	}
	if (!command(c, r, "DATA") || r->code != 354) {
		enum outcome o = r->code >= 500 ? OUT_PERMFAIL : OUT_TEMPFAIL;
		set_accepted(env, res, o, r->code ? r->text : "connection lost after DATA");
		return o;
	}
	if (!send_body(c, fd) || !read_reply(c, r)) {
		set_accepted(env, res, OUT_TEMPFAIL, "connection lost during DATA");
		return OUT_TEMPFAIL;
	}
	set_accepted(env, res, outcome_of(r->code), r->text);
	return outcome_of(r->code);
}

/* Greeting, EHLO and STARTTLS on a connected socket. */
static bool
conn_start(struct conn *c, const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
           const char *name, struct client_result *res)
{
	struct smtp_reply r = {0};

	if (!read_reply(c, &r) || r.code != 220) {
		str_fmt(res->error, sizeof(res->error), "%s: %s", name,
		        r.code ? r.text : "no greeting");
		return false;
	}
	if (!command(c, &r, "EHLO %s", cfg->hostname) || r.code != 250) {
		str_fmt(res->error, sizeof(res->error), "%s: %s", name,
		        r.code ? r.text : "EHLO failed");
		return false;
	}
	parse_ehlo(c, r.ext);
	if (tls != RTLS_NONE && c->has_starttls) {
		if (start_tls(c, cfg, ctx, tls, name, &r, res) != OUT_OK)
			return false;
		str_copy(c->tls, sizeof(c->tls), res->tls);
	} else if (tls == RTLS_REQUIRED || tls == RTLS_VERIFY) {
		str_fmt(res->error, sizeof(res->error),
		        "%s does not offer STARTTLS and the route's tls policy requires it", name);
		return false;
	}
	return true;
}

struct client_conn *
client_open(const struct config *cfg, SSL_CTX *ctx, enum relay_tls tls,
            const struct route_target *targets, size_t n, struct client_result *res)
{
	for (size_t i = 0; i < n; i++) {
		struct conn *c = calloc(1, sizeof(*c));

		if (c == NULL)
			return NULL;
		str_copy(c->tls, sizeof(c->tls), "none");
		str_copy(c->peer, sizeof(c->peer), targets[i].name);
		c->fd = connect_target(&targets[i], (unsigned)cfg->relay_timeout, res->error,
		                       sizeof(res->error));
		if (c->fd >= 0 && conn_start(c, cfg, ctx, tls, targets[i].name, res))
			return (struct client_conn *)c;
		c->is_broken = true; /* the next MX host, if any */
		client_close((struct client_conn *)c);
	}
	return NULL;
}

enum outcome
client_send(struct client_conn *cc, const struct envelope *env, int fd, struct client_result *res)
{
	struct conn *c = (struct conn *)cc;
	struct smtp_reply r = {0};
	enum outcome o;

	str_copy(res->tls, sizeof(res->tls), c->tls);
	res->n_accepted = 0;
	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i])
			res->rcpt[i] = OUT_TEMPFAIL; /* until the next hop says otherwise */
	o = transaction(c, env, fd, c->n_sent > 0, &r, res);
	c->n_sent++;
	if (r.code == 421 || (o == OUT_TEMPFAIL && res->n_accepted == 0 && r.code == 0))
		c->is_broken = true;
	return o;
}

bool
client_is_usable(const struct client_conn *cc)
{
	return cc && !((const struct conn *)cc)->is_broken;
}

unsigned
client_messages_sent(const struct client_conn *cc)
{
	return ((const struct conn *)cc)->n_sent;
}

const char *
client_tls(const struct client_conn *cc)
{
	return ((const struct conn *)cc)->tls;
}

const char *
client_peer(const struct client_conn *cc)
{
	return ((const struct conn *)cc)->peer;
}

void
client_close(struct client_conn *cc)
{
	struct conn *c = (struct conn *)cc;
	struct smtp_reply r;

	if (c == NULL)
		return;
	if (!c->is_broken && c->fd >= 0)
		command(c, &r, "QUIT");
	if (c->ssl) {
		if (!c->is_broken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* dir:PATH - write PATH/ID.eml via a temporary file, fsync, rename. */
enum outcome
client_deliver_dir(const char *dir, const struct envelope *env, int fd, struct client_result *res)
{
	char tmp[PATH_MAX], final[PATH_MAX], buf[READ_CHUNK];
	struct buf hdr;
	ssize_t n = 0;
	int out;
	bool ok = true;

	if (!str_fmt(tmp, sizeof(tmp), "%s/.%s.tmp", dir, env->id) ||
	    !str_fmt(final, sizeof(final), "%s/%s.eml", dir, env->id)) {
		client_fail_all(env, res, OUT_TEMPFAIL, "outbox path too long");
		return OUT_TEMPFAIL;
	}
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		str_fmt(res->error, sizeof(res->error), "open %s: %s", tmp, strerror(errno));
		client_fail_all(env, res, OUT_TEMPFAIL, res->error);
		return OUT_TEMPFAIL;
	}
	buf_init(&hdr, SPOOL_HEADER_MAX);
	buf_printf(&hdr, "Return-Path: <%s>\r\n", env->sender);
	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i])
			buf_printf(&hdr, "X-Envelope-To: <%s>\r\n", env->rcpt[i]);
	ok = fsx_write_all(out, hdr.data, hdr.len) == 0;
	buf_free(&hdr);
	while (ok && (n = read(fd, buf, sizeof(buf))) > 0)
		ok = fsx_write_all(out, buf, (size_t)n) == 0;
	ok = ok && n == 0 && fsx_fsync(out) == 0;
	close(out);
	ok = ok && fsx_rename(tmp, final) == 0 && fsx_fsync_dir(dir) == 0;
	if (!ok) {
		str_fmt(res->error, sizeof(res->error), "writing %s: %s", final, strerror(errno));
		unlink(tmp);
		client_fail_all(env, res, OUT_TEMPFAIL, res->error);
		return OUT_TEMPFAIL;
	}
	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i]) {
			res->rcpt[i] = OUT_OK;
			str_fmt(res->rcpt_reply[i], CLIENT_REPLY_MAX, "written to %s", final);
		}
	return OUT_OK;
}
