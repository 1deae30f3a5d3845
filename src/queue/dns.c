#include "queue/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "util/str.h"
#include "util/xmalloc.h"

#define TYPE_A    1
#define TYPE_MX   15
#define TYPE_AAAA 28
#define CLASS_IN  1

struct dns {
	struct ub_ctx *ctx;
};

struct dns *
dns_new(const char *resolver, char *err, size_t errlen)
{
	struct dns *d = xcalloc(1, sizeof(*d));
	char fwd[300];
	int rc = 0;

	if ((d->ctx = ub_ctx_create()) == NULL) {
		str_copy(err, errlen, "dns: cannot create a resolver context");
		free(d);
		return NULL;
	}
	if (resolver && resolver[0]) {
		/* "127.0.0.1:5353" -> unbound's "127.0.0.1@5353" */
		const char *colon = strrchr(resolver, ':');
		if (colon && strchr(resolver, '.'))
			str_fmt(fwd, sizeof(fwd), "%.*s@%s", (int)(colon - resolver), resolver,
			        colon + 1);
		else
			str_copy(fwd, sizeof(fwd), resolver);
		/* A forwarder on loopback is what the admin asked for. */
		rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:", "no");
		if (rc == 0)
			rc = ub_ctx_set_fwd(d->ctx, fwd);
	} else {
		rc = ub_ctx_resolvconf(d->ctx, NULL);
	}
	if (rc != 0) {
		str_fmt(err, errlen, "dns: resolver %s: %s",
		        resolver && resolver[0] ? resolver : "resolv.conf", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	ub_ctx_delete(d->ctx);
	free(d);
}

/* One query; OUT_OK with *res set (maybe without data). */
static enum outcome
query(struct dns *d, const char *name, int type, struct ub_result **res, char *err, size_t errlen)
{
	int rc = ub_resolve(d->ctx, name, type, CLASS_IN, res);

	if (rc != 0) {
		str_fmt(err, errlen, "dns: %s: %s", name, ub_strerror(rc));
		return OUT_TEMPFAIL;
	}
	if ((*res)->nxdomain) {
		str_fmt(err, errlen, "dns: %s does not exist", name);
		ub_resolve_free(*res);
		return OUT_PERMFAIL;
	}
	if ((*res)->rcode != 0) {
		str_fmt(err, errlen, "dns: %s: server failure (rcode %d)", name, (*res)->rcode);
		ub_resolve_free(*res);
		return OUT_TEMPFAIL;
	}
	return OUT_OK;
}

/* A wire-format name (uncompressed, as libunbound returns rdata) to text. */
static bool
wire_name(const unsigned char *p, size_t len, char *out, size_t size)
{
	size_t o = 0, i = 0;

	while (i < len && p[i] != 0) {
		size_t l = p[i++];
		if (l > 63 || i + l > len || o + l + 2 > size)
			return false;
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	if (i >= len)
		return false;
	out[o] = '\0';
	return true;
}

static int
cmp_mx(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

enum outcome
dns_mx(struct dns *d, const char *domain, struct dns_mx *out, size_t max, size_t *n, char *err,
       size_t errlen)
{
	struct ub_result *res;
	enum outcome o = query(d, domain, TYPE_MX, &res, err, errlen);

	*n = 0;
	if (o != OUT_OK)
		return o;
	for (int i = 0; res->havedata && res->data[i] && *n < max; i++) {
		const unsigned char *r = (const unsigned char *)res->data[i];
		if (res->len[i] < 3 ||
		    !wire_name(r + 2, (size_t)res->len[i] - 2, out[*n].host, sizeof(out[*n].host)))
			continue;
		out[*n].pref = (unsigned)(r[0] << 8 | r[1]);
		if (out[*n].host[0] == '\0') { /* "0 ." : the domain takes no mail */
			str_fmt(err, errlen, "%s does not accept mail (null MX, RFC 7505)", domain);
			ub_resolve_free(res);
			*n = 0;
			return OUT_PERMFAIL;
		}
		(*n)++;
	}
	ub_resolve_free(res);
	qsort(out, *n, sizeof(*out), cmp_mx);
	return OUT_OK;
}

enum outcome
dns_addrs(struct dns *d, const char *host, unsigned port, struct sockaddr_storage *out,
          socklen_t *lens, size_t max, size_t *n, char *err, size_t errlen)
{
	static const int types[] = {TYPE_AAAA, TYPE_A};
	enum outcome last = OUT_OK;

	*n = 0;
	for (size_t t = 0; t < 2; t++) {
		struct ub_result *res;
		enum outcome o = query(d, host, types[t], &res, err, errlen);

		if (o != OUT_OK) {
			last = o;
			continue;
		}
		for (int i = 0; res->havedata && res->data[i] && *n < max; i++) {
			memset(&out[*n], 0, sizeof(out[*n]));
			if (types[t] == TYPE_A && res->len[i] == 4) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&out[*n];
				s4->sin_family = AF_INET;
				s4->sin_port = htons((uint16_t)port);
				memcpy(&s4->sin_addr, res->data[i], 4);
				lens[(*n)++] = sizeof(*s4);
			} else if (types[t] == TYPE_AAAA && res->len[i] == 16) {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[*n];
				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons((uint16_t)port);
				memcpy(&s6->sin6_addr, res->data[i], 16);
				lens[(*n)++] = sizeof(*s6);
			}
		}
		ub_resolve_free(res);
	}
	if (*n == 0 && last == OUT_OK)
		str_fmt(err, errlen, "dns: %s has no address", host);
	return *n > 0 ? OUT_OK : (last == OUT_OK ? OUT_PERMFAIL : last);
}
