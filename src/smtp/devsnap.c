#include "smtp/devsnap.h"

#include <stdlib.h>
#include <string.h>

#include "util/cidrtab.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct entry {
	int64_t id;
	int64_t expires_at;
	uint32_t expires_off; /* into the pool; 0 is "" */
	uint32_t note_off;
	unsigned char status;
	bool legacy_tls;
	int rank;
};

struct devsnap_builder {
	struct entry *e;
	struct cidr *net;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
};

struct devsnap {
	struct entry *e; /* in the order the table was built from */
	struct cidr *net;
	size_t n;
	char *pool;
	struct cidrtab *tab;
};

struct devsnap_builder *
devsnap_builder_new(void)
{
	struct devsnap_builder *b = xcalloc(1, sizeof(*b));

	b->pool = xmalloc(1);
	b->pool[0] = '\0';
	b->pool_len = b->pool_cap = 1;
	return b;
}

/* s in the pool (shared "" at 0). */
static uint32_t
pool_add(struct devsnap_builder *b, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t off = (uint32_t)b->pool_len;

	if (n == 1)
		return 0;
	while (b->pool_len + n > b->pool_cap) {
		b->pool_cap *= 2;
		b->pool = xrealloc(b->pool, b->pool_cap);
	}
	memcpy(b->pool + b->pool_len, s, n);
	b->pool_len += n;
	return off;
}

void
devsnap_add(struct devsnap_builder *b, const struct device_brief *d)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->e = xrealloc(b->e, b->cap * sizeof(*b->e));
		b->net = xrealloc(b->net, b->cap * sizeof(*b->net));
	}
	b->e[b->n] = (struct entry){.id = d->id,
	                            .expires_at = d->expires_at,
	                            .expires_off = pool_add(b, d->expires),
	                            .note_off = pool_add(b, d->note),
	                            .status = (unsigned char)d->status,
	                            .legacy_tls = d->legacy_tls};
	b->net[b->n++] = d->net;
}

/* A registration with its network, for sorting. */
struct pair {
	struct entry e;
	struct cidr net;
};

static int
pair_cmp(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	int c;

	if (a->net.family != b->net.family)
		return a->net.family < b->net.family ? -1 : 1;
	if (a->net.prefix != b->net.prefix)
		return a->net.prefix < b->net.prefix ? -1 : 1;
	if ((c = memcmp(a->net.addr, b->net.addr, sizeof(a->net.addr))) != 0)
		return c;
	if (a->e.rank != b->e.rank)
		return a->e.rank < b->e.rank ? -1 : 1;
	return a->e.id > b->e.id ? -1 : a->e.id < b->e.id; /* newest first */
}

static bool
same_net(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

struct devsnap *
devsnap_build(struct devsnap_builder *b, int64_t now)
{
	struct devsnap *s = xcalloc(1, sizeof(*s));
	struct pair *p = xcalloc(b->n ? b->n : 1, sizeof(*p));

	for (size_t i = 0; i < b->n; i++) {
		p[i].e = b->e[i];
		p[i].e.rank = device_rank(b->e[i].status, b->e[i].expires_at, now);
		p[i].net = b->net[i];
	}
	qsort(p, b->n, sizeof(*p), pair_cmp);
	s->e = xcalloc(b->n ? b->n : 1, sizeof(*s->e));
	s->net = xcalloc(b->n ? b->n : 1, sizeof(*s->net));
	for (size_t i = 0; i < b->n; i++) {
		if (s->n > 0 && same_net(&s->net[s->n - 1], &p[i].net))
			continue; /* a less relevant registration of the same network */
		s->e[s->n] = p[i].e;
		s->net[s->n++] = p[i].net;
	}
	free(p);
	s->tab = cidrtab_new(s->net, s->n);
	s->pool = b->pool;
	free(b->e);
	free(b->net);
	free(b);
	return s;
}

void
devsnap_free(struct devsnap *s)
{
	if (s == NULL)
		return;
	cidrtab_free(s->tab);
	free(s->e);
	free(s->net);
	free(s->pool);
	free(s);
}

size_t
devsnap_count(const struct devsnap *s)
{
	return s->n;
}

bool
devsnap_match(const struct devsnap *s, const struct sockaddr *sa, struct device *out)
{
	long i = cidrtab_lookup(s->tab, sa);
	const struct entry *e;

	if (i < 0)
		return false;
	e = &s->e[i];
	memset(out, 0, sizeof(*out));
	out->id = e->id;
	out->net = s->net[i];
	cidr_format(&out->net, out->address, sizeof(out->address));
	out->status = (enum device_status)e->status;
	out->legacy_tls = e->legacy_tls;
	out->expires_at = e->expires_at;
	str_copy(out->expires, sizeof(out->expires), s->pool + e->expires_off);
	str_copy(out->note, sizeof(out->note), s->pool + e->note_off);
	return true;
}
