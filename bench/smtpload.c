/*
 * smtpload: an SMTP load generator for benchmarks.
 *
 *   smtpload -p PORT [-H 127.0.0.1] [-m plain|starttls|smtps] [-c CONC] [-n MSGS]
 *            [-k MSGS_PER_CONN] [-s SIZE] [-r RCPTS] [-t SECONDS] [-R] [-N] [-A rsa]
 *            [-j THREADS]
 *
 * Keeps CONC connections busy until MSGS are done or SECONDS passed. Each
 * of THREADS threads (default: one per CPU, at most CONC) runs an epoll loop
 * over its share of the connections with non-blocking sockets and OpenSSL,
 * so the generator's own CPU per message stays small: it shares the cores
 * with the server it measures. Every reply is checked; a wrong one counts
 * as a failure and ends that connection. -R resumes TLS sessions (tickets),
 * -N sets TCP_NODELAY on the client side. Prints one line of key=value:
 * messages/s, MB/s, and p50/p99 of the whole transaction (connect or MAIL
 * to the final 250) and of end-of-DATA to 250, in milliseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { PLAIN, STARTTLS, SMTPS };

static struct {
	const char *host;
	int port;
	enum mode mode;
	int conc, per_conn, rcpts, threads;
	long total, size;
	double seconds;
	bool resume, nodelay, rsa;
} opt = {"127.0.0.1", 0, STARTTLS, 1, 1, 1, 0, 100, 4096, 60, false, false, false};

static atomic_long next_msg, ok_msgs, failures, handshakes, resumed;
static double *txn_ms, *eod_ms;
static atomic_long n_lat;
static SSL_CTX *ctx;
static char *body;
static size_t body_len;
static double t_start;

/* Where a connection is: each phase but P_CONNECT, P_TLS and P_BODY
 * sends one command and waits for its reply. */
enum phase {
	P_IDLE,
	P_CONNECT,
	P_TLS,
	P_GREETING,
	P_EHLO1,
	P_STARTTLS,
	P_EHLO2,
	P_MAIL,
	P_RCPT,
	P_DATA,
	P_BODY,
	P_DOT,
	P_QUIT
};

enum step { STEP_MORE, STEP_WAIT_READ, STEP_WAIT_WRITE, STEP_FAIL, STEP_DONE };

struct conn {
	int ep, fd;
	SSL *ssl;
	SSL_SESSION *sess; /* kept for -R, one per connection slot */
	enum phase phase;
	uint32_t events; /* epoll interest now */
	const char *out; /* bytes still to send */
	size_t out_len;
	int want; /* reply code expected after the output; 0: none */
	char cmd[256];
	char in[8192];
	size_t in_len;
	int rcpt_i, msgs_done;
	long msg; /* index of the message in progress, -1: none */
	double t0, t_eod, retry_at;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_cmd(struct conn *c, enum phase next, int want, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
send_cmd(struct conn *c, enum phase next, int want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(c->cmd, sizeof(c->cmd), fmt, ap);
	va_end(ap);
	c->out = c->cmd;
	c->out_len = n < 0 ? 0 : (size_t)n;
	c->want = want;
	c->phase = next;
}

static void
tls_begin(struct conn *c)
{
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	if (opt.resume && c->sess)
		SSL_set_session(c->ssl, c->sess);
	c->phase = P_TLS;
}

static void
expect(struct conn *c, enum phase next, int want)
{
	c->out_len = 0;
	c->want = want;
	c->phase = next;
}

/* The next message on this connection, or QUIT. */
static void
begin_message(struct conn *c)
{
	long i = -1;

	if (c->msgs_done < opt.per_conn && now() - t_start < opt.seconds) {
		i = atomic_fetch_add(&next_msg, 1);
		if (i >= opt.total) {
			atomic_fetch_sub(&next_msg, 1);
			i = -1;
		}
	}
	if (i < 0) {
		send_cmd(c, P_QUIT, 221, "QUIT\r\n");
		return;
	}
	if (c->msgs_done > 0)
		c->t0 = now();
	c->msg = i;
	c->rcpt_i = 0;
	send_cmd(c, P_MAIL, 250, "MAIL FROM:<bench@example.org> SIZE=%zu\r\n", body_len);
}

static void
message_done(struct conn *c)
{
	long k = atomic_fetch_add(&n_lat, 1);
	double t = now();

	txn_ms[k] = (t - c->t0) * 1000;
	eod_ms[k] = (t - c->t_eod) * 1000;
	atomic_fetch_add(&ok_msgs, 1);
	c->msg = -1;
	c->msgs_done++;
}

/* A reply with the expected code arrived: what comes next. */
static enum step
advance(struct conn *c)
{
	switch (c->phase) {
	case P_GREETING:
		send_cmd(c, P_EHLO1, 250, "EHLO bench.test\r\n");
		break;
	case P_EHLO1:
		if (opt.mode == STARTTLS)
			send_cmd(c, P_STARTTLS, 220, "STARTTLS\r\n");
		else
			begin_message(c);
		break;
	case P_STARTTLS:
		tls_begin(c);
		break;
	case P_EHLO2:
		begin_message(c);
		break;
	case P_MAIL:
	case P_RCPT:
		if (c->phase == P_RCPT)
			c->rcpt_i++;
		if (c->rcpt_i < opt.rcpts)
			send_cmd(c, P_RCPT, 250, "RCPT TO:<r%d.%ld@example.edu>\r\n", c->rcpt_i,
			         c->msg);
		else
			send_cmd(c, P_DATA, 354, "DATA\r\n");
		break;
	case P_DATA:
		c->out = body;
		c->out_len = body_len;
		c->want = 0;
		c->phase = P_BODY;
		break;
	case P_BODY: /* the body is out: the dot on its own, as a device sends it */
		c->t_eod = now();
		send_cmd(c, P_DOT, 250, ".\r\n");
		break;
	case P_DOT:
		message_done(c);
		begin_message(c);
		break;
	case P_QUIT:
		return STEP_DONE;
	default:
		return STEP_FAIL;
	}
	return STEP_MORE;
}

static enum step
ssl_wait(struct conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return STEP_WAIT_READ;
	case SSL_ERROR_WANT_WRITE:
		return STEP_WAIT_WRITE;
	default:
		return STEP_FAIL;
	}
}

static enum step
step_tls(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (r != 1)
		return ssl_wait(c, r);
	atomic_fetch_add(&handshakes, 1);
	if (SSL_session_reused(c->ssl))
		atomic_fetch_add(&resumed, 1);
	if (opt.mode == SMTPS)
		expect(c, P_GREETING, 220);
	else
		send_cmd(c, P_EHLO2, 250, "EHLO bench.test\r\n");
	return STEP_MORE;
}

static enum step
step_write(struct conn *c)
{
	ssize_t w;

	if (c->ssl) {
		int r = SSL_write(c->ssl, c->out, (int)c->out_len);
		if (r <= 0)
			return ssl_wait(c, r);
		w = r;
	} else {
		w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? STEP_WAIT_WRITE : STEP_FAIL;
	}
	c->out += w;
	c->out_len -= (size_t)w;
	if (c->out_len == 0 && c->want == 0)
		return advance(c);
	return STEP_MORE;
}

/* The code of the first whole reply in the input, 0 if none yet. */
static int
take_reply(struct conn *c)
{
	char *start = c->in;

	for (;;) {
		char *nl = memchr(start, '\n', c->in_len - (size_t)(start - c->in));
		if (nl == NULL)
			return 0;
		if (nl - start >= 3 && (nl - start == 3 || start[3] == ' ' || start[3] == '\r')) {
			int code =
			    (start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0');
			size_t used = (size_t)(nl + 1 - c->in);
			memmove(c->in, nl + 1, c->in_len - used);
			c->in_len -= used;
			return code;
		}
		start = nl + 1;
	}
}

static enum step
step_read(struct conn *c)
{
	int code = take_reply(c);
	ssize_t r;

	if (code != 0)
		return code == c->want ? advance(c) : STEP_FAIL;
	if (c->in_len == sizeof(c->in))
		return STEP_FAIL;
	if (c->ssl) {
		int n = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
		if (n <= 0)
			return ssl_wait(c, n);
		r = n;
	} else {
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (r < 0 && errno == EAGAIN)
			return STEP_WAIT_READ;
		if (r <= 0)
			return STEP_FAIL;
	}
	c->in_len += (size_t)r;
	return STEP_MORE;
}

static enum step
step(struct conn *c)
{
	switch (c->phase) {
	case P_CONNECT: {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0)
			return STEP_FAIL;
		if (opt.mode == SMTPS)
			tls_begin(c);
		else
			expect(c, P_GREETING, 220);
		return STEP_MORE;
	}
	case P_TLS:
		return step_tls(c);
	default:
		return c->out_len > 0 ? step_write(c) : step_read(c);
	}
}

static void
set_interest(struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(c->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e);
	c->events = ev;
}

/* TLS 1.3 tickets arrive after the handshake: keep the session at the end. */
static void
conn_close(struct conn *c)
{
	if (c->ssl && opt.resume && SSL_get_session(c->ssl) &&
	    SSL_SESSION_is_resumable(SSL_get_session(c->ssl))) {
		SSL_SESSION_free(c->sess);
		c->sess = SSL_get1_session(c->ssl);
	}
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->phase = P_IDLE;
}

/* Open the slot's next connection; false when no message is left. */
static bool
conn_open(struct conn *c)
{
	struct sockaddr_in sa = {0};
	int one = 1;

	if (atomic_load(&next_msg) >= opt.total || now() - t_start >= opt.seconds ||
	    atomic_load(&failures) > 1000)
		return false;
	c->in_len = 0;
	c->msgs_done = 0;
	c->msg = -1;
	c->t0 = now();
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return false;
	if (opt.nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->phase = P_CONNECT;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		c->phase = P_IDLE;
		atomic_fetch_add(&failures, 1);
		c->retry_at = now() + 0.01;
		return true;
	}
	set_interest(c, EPOLLOUT);
	return true;
}

static void
conn_fail(struct conn *c)
{
	atomic_fetch_add(&failures, 1);
	conn_close(c);
	c->retry_at = now() + 0.01; /* do not spin against a refusing server */
}

/* Run the connection until it has to wait; false when the slot is done. */
static void
conn_run(struct conn *c)
{
	for (;;) {
		switch (step(c)) {
		case STEP_MORE:
			continue;
		case STEP_WAIT_READ:
			set_interest(c, EPOLLIN);
			return;
		case STEP_WAIT_WRITE:
			set_interest(c, EPOLLOUT);
			return;
		case STEP_FAIL:
			conn_fail(c);
			return;
		case STEP_DONE:
			conn_close(c);
			c->retry_at = 0;
			return;
		}
	}
}

struct loop {
	pthread_t th;
	int n;
	struct conn *conns;
};

static void *
loop_run(void *arg)
{
	struct loop *lp = arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	double give_up = t_start + opt.seconds + 10; /* a stalled server fails the run */

	for (int i = 0; i < lp->n; i++) {
		lp->conns[i] = (struct conn){.ep = ep, .fd = -1};
		conn_open(&lp->conns[i]);
	}
	for (;;) {
		struct epoll_event ev[64];
		int active = 0;
		double t = now();

		for (int i = 0; i < lp->n; i++) { /* idle slots: the next connection */
			struct conn *c = &lp->conns[i];
			if (c->phase == P_IDLE && t >= c->retry_at && !conn_open(c))
				continue;
			active++;
		}
		if (active == 0)
			break;
		if (t > give_up) {
			for (int i = 0; i < lp->n; i++)
				if (lp->conns[i].phase != P_IDLE)
					conn_fail(&lp->conns[i]);
			break;
		}
		int n = epoll_wait(ep, ev, 64, 10);
		for (int i = 0; i < n; i++)
			conn_run(ev[i].data.ptr);
	}
	for (int i = 0; i < lp->n; i++)
		SSL_SESSION_free(lp->conns[i].sess);
	close(ep);
	return NULL;
}

/* A positive number from the command line, or exit. */
static long
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "smtpload: '%s' is not a positive number\n", s);
		exit(2);
	}
	return v;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
pct(double *v, long n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(double), cmp);
	long i = (long)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void
make_body(void)
{
	/* headers, then 76-octet lines up to the size */
	body = malloc((size_t)opt.size + 256);
	body_len = (size_t)snprintf(body, 256, "Subject: bench\r\nFrom: bench@example.org\r\n\r\n");
	while (body_len + 78 <= (size_t)opt.size) {
		memset(body + body_len, 'x', 76);
		memcpy(body + body_len + 76, "\r\n", 2);
		body_len += 78;
	}
}

static void
run_loops(void)
{
	int nt = opt.threads ? opt.threads : 1;

	if (nt < 1)
		nt = 1;
	if (nt > opt.conc)
		nt = opt.conc;
	struct loop *lps = calloc((size_t)nt, sizeof(*lps));
	struct conn *conns = calloc((size_t)opt.conc, sizeof(*conns));
	for (int i = 0, first = 0; i < nt; i++) {
		lps[i].n = opt.conc / nt + (i < opt.conc % nt);
		lps[i].conns = conns + first;
		first += lps[i].n;
		pthread_create(&lps[i].th, NULL, loop_run, &lps[i]);
	}
	for (int i = 0; i < nt; i++)
		pthread_join(lps[i].th, NULL);
	free(conns);
	free(lps);
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "H:p:m:c:n:k:s:r:t:RNA:j:")) != -1) {
		switch (ch) {
		case 'H':
			opt.host = optarg;
			break;
		case 'p':
			opt.port = (int)num(optarg);
			break;
		case 'm':
			opt.mode = !strcmp(optarg, "plain")   ? PLAIN
			           : !strcmp(optarg, "smtps") ? SMTPS
			                                      : STARTTLS;
			break;
		case 'c':
			opt.conc = (int)num(optarg);
			break;
		case 'n':
			opt.total = num(optarg);
			break;
		case 'k':
			opt.per_conn = (int)num(optarg);
			break;
		case 's':
			opt.size = num(optarg);
			break;
		case 'r':
			opt.rcpts = (int)num(optarg);
			break;
		case 't':
			opt.seconds = (double)num(optarg);
			break;
		case 'R':
			opt.resume = true;
			break;
		case 'N':
			opt.nodelay = true;
			break;
		case 'A':
			opt.rsa = !strcmp(optarg, "rsa");
			break;
		case 'j':
			opt.threads = (int)num(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: smtpload -p PORT [-H host] [-m plain|starttls|smtps] [-c "
			        "conc] [-n msgs] [-k per-conn] [-s size] [-r rcpts] [-t secs] [-R] "
			        "[-N] [-A rsa] [-j threads]\n");
			return 2;
		}
	}
	if (opt.port <= 0 || opt.conc <= 0 || opt.total <= 0 || opt.per_conn <= 0)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* -A rsa: accept only RSA signatures, so the server must use its RSA certificate */
	if (opt.rsa && SSL_CTX_set1_sigalgs_list(ctx, "rsa_pss_rsae_sha256:rsa_pkcs1_sha256") != 1)
		return 2;
	make_body();
	txn_ms = calloc((size_t)opt.total, sizeof(double));
	eod_ms = calloc((size_t)opt.total, sizeof(double));
	t_start = now();
	run_loops();
	double secs = now() - t_start;
	long ok = atomic_load(&ok_msgs), n = atomic_load(&n_lat);
	const char *modes[] = {"plain", "starttls", "smtps"};
	printf("cert=%s mode=%s conc=%d per_conn=%d size=%ld rcpts=%d resume=%d msgs=%ld ok=%ld "
	       "fail=%ld "
	       "secs=%.2f msgs_per_s=%.1f MB_per_s=%.2f handshakes=%ld resumed=%ld "
	       "txn_p50_ms=%.2f txn_p99_ms=%.2f eod_p50_ms=%.2f eod_p99_ms=%.2f\n",
	       opt.rsa ? "rsa" : "ecdsa", modes[opt.mode], opt.conc, opt.per_conn, opt.size,
	       opt.rcpts, opt.resume, opt.total, ok, atomic_load(&failures), secs,
	       (double)ok / secs, (double)ok * (double)body_len / secs / 1e6,
	       atomic_load(&handshakes), atomic_load(&resumed), pct(txn_ms, ok < n ? ok : n, 0.5),
	       pct(txn_ms, ok < n ? ok : n, 0.99), pct(eod_ms, n, 0.5), pct(eod_ms, n, 0.99));
	return atomic_load(&failures) > 0 ? 1 : 0;
}
