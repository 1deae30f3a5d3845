#include "master/sockets.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "util/cidr.h"
#include "util/str.h"

#define LISTEN_BACKLOG 1024

static int
bind_one(const struct sockaddr_storage *ss, socklen_t len, char *err, size_t errlen)
{
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char addr[80];

	sockaddr_format((const struct sockaddr *)ss, addr, sizeof(addr));
	if (fd < 0) {
		str_fmt(err, errlen, "socket for %s: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		str_fmt(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The socket for an address: one bound earlier (reload), or a new one. */
int
sockets_get(struct sockets *m, const struct sockaddr_storage *ss, socklen_t len, char *err,
            size_t errlen)
{
	for (size_t i = 0; i < m->n_bound; i++) {
		if (m->bound[i].len == len && memcmp(&m->bound[i].addr, ss, len) == 0) {
			m->bound[i].is_used = true;
			return m->bound[i].fd;
		}
	}
	if (m->n_bound == BOUND_MAX) {
		str_copy(err, errlen, "too many addresses");
		return -1;
	}
	int fd = bind_one(ss, len, err, errlen);
	if (fd < 0)
		return -1;
	m->bound[m->n_bound++] = (struct bound){*ss, len, fd, true};
	return fd;
}

/* Close sockets no listener of the current config uses. */
void
sockets_prune(struct sockets *m)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n_bound; i++) {
		if (m->bound[i].is_used)
			m->bound[j++] = m->bound[i];
		else
			close(m->bound[i].fd);
	}
	m->n_bound = j;
}

void
sockets_mark(struct sockets *m, bool is_used)
{
	for (size_t i = 0; i < m->n_bound; i++)
		m->bound[i].is_used = is_used;
}
