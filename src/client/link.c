#include "client/link.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"
#include "util/cidr.h"
#include "util/str.h"

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

bool
link_connect(struct link *l, const struct target *t, unsigned timeout, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	for (size_t i = 0; i < t->n_addr && l->fd < 0; i++)
		l->fd = connect_addr((const struct sockaddr *)&t->addr[i], t->addr_len[i], timeout,
		                     err, errlen);
	return l->fd >= 0;
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

bool
link_start_tls(struct link *l, SSL_CTX *ctx, const char *name, const char *verify_against,
               char *err, size_t errlen)
{
	char why[200];

	l->ssl = SSL_new(ctx);
	SSL_set_fd(l->ssl, l->fd);
	SSL_set_tlsext_host_name(l->ssl, name);
	if (SSL_connect(l->ssl) != 1) {
		tls_last_error(why, sizeof(why));
		str_fmt(err, errlen, "TLS handshake failed: %s", why);
		return false;
	}
	if (verify_against && !verify_host(l->ssl, name)) {
		str_fmt(err, errlen, "certificate of %s does not verify against %s", name,
		        verify_against);
		return false;
	}
	return true;
}

bool
link_write(struct link *l, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w;

		if (l->ssl) {
			int r = SSL_write(l->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n);
			w = r > 0 ? r : -1;
		} else {
			w = send(l->fd, b, n, MSG_NOSIGNAL);
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
fill(struct link *l)
{
	ssize_t n;

	if (l->rpos > 0) {
		memmove(l->rbuf, l->rbuf + l->rpos, l->rlen - l->rpos);
		l->rlen -= l->rpos;
		l->rpos = 0;
	}
	if (l->rlen == sizeof(l->rbuf))
		return false;
	if (l->ssl) {
		int r = SSL_read(l->ssl, l->rbuf + l->rlen, (int)(sizeof(l->rbuf) - l->rlen));
		n = r > 0 ? r : -1;
	} else {
		do
			n = recv(l->fd, l->rbuf + l->rlen, sizeof(l->rbuf) - l->rlen, 0);
		while (n < 0 && errno == EINTR);
	}
	if (n <= 0)
		return false;
	l->rlen += (size_t)n;
	return true;
}

bool
link_read_line(struct link *l, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(l->rbuf + l->rpos, '\n', l->rlen - l->rpos);

		if (nl) {
			size_t len = (size_t)(nl - (l->rbuf + l->rpos));
			if (len > 0 && l->rbuf[l->rpos + len - 1] == '\r')
				len--;
			/* A bare CR or LF in a next hop's text must never become a
			 * line end in a log, the spool or a DSN. */
			str_copy_printable(line, size, l->rbuf + l->rpos, len);
			l->rpos = (size_t)(nl - l->rbuf) + 1;
			return true;
		}
		if (!fill(l))
			return false;
	}
}

void
link_close(struct link *l, bool graceful)
{
	if (l->ssl) {
		if (graceful)
			SSL_shutdown(l->ssl);
		SSL_free(l->ssl);
		l->ssl = NULL;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
