#include "smtp/devsnap.h"

#include <stdlib.h>
#include <string.h>

#include "util/cidrtab.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/vec.h"
#include "util/xmalloc.h"

struct entry {
	int64_t id;
	int64_t expires_at;
	uint32_t expires_off; /* into the pool; 0 is "" */
	uint32_t note_off;
	uint32_t sender_off;
	unsigned char status;
	bool legacy_tls;
	int rank;
};

/* A registration with its network, for sorting. */
struct pair {
	struct entry e;
	struct cidr net;
};

struct devsnap_builder {
	struct vec pairs; /* of struct pair */
	struct buf pool;  /* the texts, each NUL-ended; "" at 0 */
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

	vec_init(&b->pairs, sizeof(struct pair));
	buf_init(&b->pool, UINT32_MAX);
	buf_append(&b->pool, "", 1);
	return b;
}

/* s in the pool (the shared "" at 0, also when the pool is full). */
static uint32_t
pool_add(struct devsnap_builder *b, const char *s)
{
	uint32_t off = (uint32_t)b->pool.len;

	return s[0] && buf_append(&b->pool, s, strlen(s) + 1) ? off : 0;
}

void
devsnap_add(struct devsnap_builder *b, const struct device_brief *d)
{
	struct pair *p = vec_push(&b->pairs);

	p->e = (struct entry){.id = d->id,
	                      .expires_at = d->expires_at,
	                      .expires_off = pool_add(b, d->expires),
	                      .note_off = pool_add(b, d->note),
	                      .sender_off = pool_add(b, d->sender),
	                      .status = (unsigned char)d->status,
	                      .legacy_tls = d->legacy_tls};
	p->net = d->net;
}

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
	size_t n;
	struct pair *p = vec_take(&b->pairs, &n);

	for (size_t i = 0; i < n; i++)
		p[i].e.rank = device_rank(p[i].e.status, p[i].e.expires_at, now);
	if (n > 1)
		qsort(p, n, sizeof(*p), pair_cmp);
	s->e = xcalloc(n ? n : 1, sizeof(*s->e));
	s->net = xcalloc(n ? n : 1, sizeof(*s->net));
	for (size_t i = 0; i < n; i++) {
		if (s->n > 0 && same_net(&s->net[s->n - 1], &p[i].net))
			continue; /* a less relevant registration of the same network */
		s->e[s->n] = p[i].e;
		s->net[s->n++] = p[i].net;
	}
	free(p);
	s->tab = cidrtab_new(s->net, s->n);
	s->pool = b->pool.data; /* the snapshot owns the texts now */
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
	str_copy(out->sender, sizeof(out->sender), s->pool + e->sender_off);
	return true;
}
