#include "smtp/proxywait.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics/counters.h"
#include "proxyproto.h"
#include "util/cidr.h"
#include "util/xmalloc.h"

struct proxywait {
	struct listener *l;
	int fd;
	struct sockaddr_storage peer;
	char peer_text[64];
	unsigned char hb[PROXY_V2_MAX];
	size_t have;
	struct event *ev;
	proxywait_admit_fn *admit;
};

static void
finish(struct proxywait *pw, const char *why)
{
	if (why) {
		log_warn("event=refuse-connection listener=%s client=%s reason=\"%s\"",
		         pw->l->conf->name, pw->peer_text, why);
		metrics_refused(MR_CLIENT);
		close(pw->fd);
	}
	event_free(pw->ev);
	free(pw);
}

/* Peek at what came, consume exactly the header's bytes of it. */
static void
on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct proxywait *pw = arg;
	struct proxy_hdr h;
	size_t n;

	if (what & EV_TIMEOUT) {
		finish(pw, "no PROXY header in time");
		return;
	}
	ssize_t got = recv(fd, pw->hb + pw->have, sizeof(pw->hb) - pw->have, MSG_PEEK);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (got <= 0) {
		finish(pw, "closed before its PROXY header");
		return;
	}
	enum proxy_state st = proxy_header_length(pw->hb, pw->have + (size_t)got, &n);
	if (st == PROXY_BAD) {
		finish(pw, "no valid PROXY header");
		return;
	}
	if (recv(fd, pw->hb + pw->have, n - pw->have, 0) != (ssize_t)(n - pw->have)) {
		finish(pw, "could not read its PROXY header");
		return;
	}
	pw->have = n;
	if (st == PROXY_MORE)
		return;
	if (!proxy_parse(pw->hb, pw->have, &h)) {
		finish(pw, "a malformed PROXY header");
		return;
	}
	const struct sockaddr_storage *client = h.is_local ? &pw->peer : &h.src;
	socklen_t len = client->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                              : sizeof(struct sockaddr_in);
	struct sockaddr_storage copy = *client;
	struct listener *l = pw->l;
	proxywait_admit_fn *admit = pw->admit;
	finish(pw, NULL);
	admit(l, fd, (const struct sockaddr *)&copy, len, h.is_local);
}

void
proxywait_start(struct event_base *base, struct listener *l, int fd, const struct sockaddr *peer,
                socklen_t len, proxywait_admit_fn *admit)
{
	const struct listener_conf *c = l->conf;
	bool is_allowed = false;
	struct timeval tv = {PROXYWAIT_TIMEOUT, 0};

	for (size_t i = 0; i < c->n_proxy_from && !is_allowed; i++)
		is_allowed = cidr_contains(&c->proxy_from[i], peer);
	struct proxywait *pw = xcalloc(1, sizeof(*pw));
	pw->l = l;
	pw->fd = fd;
	pw->admit = admit;
	memcpy(&pw->peer, peer, len < sizeof(pw->peer) ? len : sizeof(pw->peer));
	sockaddr_format_addr(peer, pw->peer_text, sizeof(pw->peer_text));
	pw->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_ready, pw);
	if (!is_allowed) {
		finish(pw, "not in proxy_from: only the load balancers may connect here");
		return;
	}
	event_add(pw->ev, &tv);
}
