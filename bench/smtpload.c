/*
 * smtpload: an SMTP load generator for benchmarks.
 *
 *   smtpload -p PORT [-H 127.0.0.1] [-m plain|starttls|smtps] [-c CONC] [-n MSGS]
 *            [-k MSGS_PER_CONN] [-s SIZE] [-r RCPTS] [-t SECONDS] [-R] [-N] [-A rsa]
 *
 * Each of CONC threads opens connections and sends messages until MSGS are
 * done or SECONDS passed. Every reply is checked; a wrong one counts as a
 * failure and ends that connection. -R resumes TLS sessions (tickets),
 * -N sets TCP_NODELAY on the client side. Prints one line of key=value:
 * messages/s, MB/s, and p50/p99 of the whole transaction (connect or MAIL
 * to the final 250) and of end-of-DATA to 250, in milliseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { PLAIN, STARTTLS, SMTPS };

static struct {
	const char *host;
	int port;
	enum mode mode;
	int conc, per_conn, rcpts;
	long total, size;
	double seconds;
	bool resume, nodelay, rsa;
} opt = {"127.0.0.1", 0, STARTTLS, 1, 1, 1, 100, 4096, 60, false, false, false};

static atomic_long next_msg, ok_msgs, failures, handshakes, resumed;
static double *txn_ms, *eod_ms;
static atomic_long n_lat;
static SSL_CTX *ctx;
static char *body;
static size_t body_len;
static double t_start;

struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t len;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
c_write(struct conn *c, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, b, (int)n) : send(c->fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read one whole reply; its code, or -1. */
static int
c_reply(struct conn *c)
{
	for (;;) {
		char *start = c->buf;
		for (;;) {
			char *nl = memchr(start, '\n', c->len - (size_t)(start - c->buf));
			if (nl == NULL)
				break;
			if (nl - start >= 3 && (nl - start == 3 || start[3] == ' ' || start[3] == '\r')) {
				int code = (start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0');
				size_t used = (size_t)(nl + 1 - c->buf);
				memmove(c->buf, nl + 1, c->len - used);
				c->len -= used;
				return code;
			}
			start = nl + 1;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		ssize_t r = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
				   : recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static bool
cmd(struct conn *c, const char *line, int want)
{
	return c_write(c, line, strlen(line)) && c_reply(c) == want;
}

static bool
tls_start(struct conn *c, SSL_SESSION **sess)
{
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (opt.resume && *sess)
		SSL_set_session(c->ssl, *sess);
	if (SSL_connect(c->ssl) != 1)
		return false;
	atomic_fetch_add(&handshakes, 1);
	if (SSL_session_reused(c->ssl))
		atomic_fetch_add(&resumed, 1);
	return true;
}

static bool
conn_open(struct conn *c, SSL_SESSION **sess)
{
	struct sockaddr_in sa = {0};
	int one = 1;

	memset(c, 0, sizeof(*c));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return false;
	if (opt.nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A stalled server fails the connection instead of hanging the run. */
	struct timeval tv = {.tv_sec = (time_t)opt.seconds + 10};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return false;
	if (opt.mode == SMTPS && !tls_start(c, sess))
		return false;
	if (c_reply(c) != 220 || !cmd(c, "EHLO bench.test\r\n", 250))
		return false;
	if (opt.mode == STARTTLS &&
	    (!cmd(c, "STARTTLS\r\n", 220) || !tls_start(c, sess) || !cmd(c, "EHLO bench.test\r\n", 250)))
		return false;
	return true;
}

/* TLS 1.3 tickets arrive after the handshake: keep the session at the end. */
static void
conn_close(struct conn *c, SSL_SESSION **sess)
{
	if (c->ssl && opt.resume && SSL_get_session(c->ssl) &&
	    SSL_SESSION_is_resumable(SSL_get_session(c->ssl))) {
		SSL_SESSION_free(*sess);
		*sess = SSL_get1_session(c->ssl);
	}
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
}

static bool
send_message(struct conn *c, long i, double *eod)
{
	char line[256];

	snprintf(line, sizeof(line), "MAIL FROM:<bench@example.org> SIZE=%zu\r\n", body_len);
	if (!cmd(c, line, 250))
		return false;
	for (int r = 0; r < opt.rcpts; r++) {
		snprintf(line, sizeof(line), "RCPT TO:<r%d.%ld@example.edu>\r\n", r, i);
		if (!cmd(c, line, 250))
			return false;
	}
	if (!cmd(c, "DATA\r\n", 354) || !c_write(c, body, body_len))
		return false;
	double t0 = now();
	if (!c_write(c, ".\r\n", 3) || c_reply(c) != 250)
		return false;
	*eod = (now() - t0) * 1000;
	return true;
}

static void *
worker(void *arg)
{
	SSL_SESSION *sess = NULL;
	(void)arg;

	while (now() - t_start < opt.seconds) {
		struct conn c;
		double t0 = now();
		bool ok = conn_open(&c, &sess);

		for (int m = 0; ok && m < opt.per_conn; m++) {
			long i = atomic_fetch_add(&next_msg, 1);
			if (i >= opt.total) {
				atomic_fetch_sub(&next_msg, 1);
				break;
			}
			if (m > 0)
				t0 = now();
			double eod = 0;
			ok = send_message(&c, i, &eod);
			if (ok) {
				long k = atomic_fetch_add(&n_lat, 1);
				txn_ms[k] = (now() - t0) * 1000;
				eod_ms[k] = eod;
				atomic_fetch_add(&ok_msgs, 1);
			} else {
				atomic_fetch_add(&failures, 1);
			}
		}
		if (ok)
			cmd(&c, "QUIT\r\n", 221);
		conn_close(&c, &sess);
		if (!ok && atomic_fetch_add(&failures, 1) > 1000)
			break; /* the server is not there: give up */
		if (!ok)
			usleep(10000);
		if (atomic_load(&next_msg) >= opt.total)
			break;
	}
	SSL_SESSION_free(sess);
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

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "H:p:m:c:n:k:s:r:t:RNA:")) != -1) {
		switch (ch) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = (int)num(optarg); break;
		case 'm': opt.mode = !strcmp(optarg, "plain") ? PLAIN : !strcmp(optarg, "smtps") ? SMTPS : STARTTLS; break;
		case 'c': opt.conc = (int)num(optarg); break;
		case 'n': opt.total = num(optarg); break;
		case 'k': opt.per_conn = (int)num(optarg); break;
		case 's': opt.size = num(optarg); break;
		case 'r': opt.rcpts = (int)num(optarg); break;
		case 't': opt.seconds = (double)num(optarg); break;
		case 'R': opt.resume = true; break;
		case 'N': opt.nodelay = true; break;
		case 'A': opt.rsa = !strcmp(optarg, "rsa"); break;
		default:
			fprintf(stderr, "usage: smtpload -p PORT [-H host] [-m plain|starttls|smtps] [-c conc] [-n msgs] [-k per-conn] [-s size] [-r rcpts] [-t secs] [-R] [-N] [-A rsa]\n");
			return 2;
		}
	}
	if (opt.port <= 0 || opt.conc <= 0 || opt.total <= 0 || opt.per_conn <= 0)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	/* -A rsa: accept only RSA signatures, so the server must use its RSA certificate */
	if (opt.rsa && SSL_CTX_set1_sigalgs_list(ctx, "rsa_pss_rsae_sha256:rsa_pkcs1_sha256") != 1)
		return 2;
	/* body: headers, then 76-octet lines up to the size */
	body = malloc((size_t)opt.size + 256);
	body_len = (size_t)snprintf(body, 256, "Subject: bench\r\nFrom: bench@example.org\r\n\r\n");
	while (body_len + 78 <= (size_t)opt.size) {
		memset(body + body_len, 'x', 76);
		memcpy(body + body_len + 76, "\r\n", 2);
		body_len += 78;
	}
	txn_ms = calloc((size_t)opt.total, sizeof(double));
	eod_ms = calloc((size_t)opt.total, sizeof(double));
	pthread_t *th = calloc((size_t)opt.conc, sizeof(pthread_t));
	t_start = now();
	for (int i = 0; i < opt.conc; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < opt.conc; i++)
		pthread_join(th[i], NULL);
	double secs = now() - t_start;
	long ok = atomic_load(&ok_msgs), n = atomic_load(&n_lat);
	const char *modes[] = {"plain", "starttls", "smtps"};
	printf("cert=%s mode=%s conc=%d per_conn=%d size=%ld rcpts=%d resume=%d msgs=%ld ok=%ld fail=%ld "
	       "secs=%.2f msgs_per_s=%.1f MB_per_s=%.2f handshakes=%ld resumed=%ld "
	       "txn_p50_ms=%.2f txn_p99_ms=%.2f eod_p50_ms=%.2f eod_p99_ms=%.2f\n",
	       opt.rsa ? "rsa" : "ecdsa", modes[opt.mode], opt.conc, opt.per_conn, opt.size, opt.rcpts, opt.resume, opt.total,
	       ok, atomic_load(&failures), secs, (double)ok / secs,
	       (double)ok * (double)body_len / secs / 1e6, atomic_load(&handshakes),
	       atomic_load(&resumed), pct(txn_ms, ok < n ? ok : n, 0.5),
	       pct(txn_ms, ok < n ? ok : n, 0.99), pct(eod_ms, n, 0.5), pct(eod_ms, n, 0.99));
	return atomic_load(&failures) > 0 ? 1 : 0;
}
