#include "util/cidrtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

struct entry {
	uint8_t addr[16]; /* host bits clear */
	int family;
	unsigned prefix;
	size_t idx; /* in the builder's array */
};

/* A run of entries with one family and one prefix length. */
struct group {
	int family;
	unsigned prefix;
	size_t start, n;
};

struct cidrtab {
	struct entry *e;
	size_t n;
	struct group *g; /* longest prefix first */
	size_t n_groups;
};

/* Family, then longer prefixes first, then address, then array order. */
static int
entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix > b->prefix ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, 16)) != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void
make_groups(struct cidrtab *t)
{
	t->g = xcalloc(t->n ? t->n : 1, sizeof(*t->g));
	for (size_t i = 0; i < t->n; i++) {
		struct group *last = t->n_groups ? &t->g[t->n_groups - 1] : NULL;

		if (last && last->family == t->e[i].family && last->prefix == t->e[i].prefix) {
			last->n++;
			continue;
		}
		t->g[t->n_groups++] = (struct group){t->e[i].family, t->e[i].prefix, i, 1};
	}
}

struct cidrtab *
cidrtab_new(const struct cidr *nets, size_t n)
{
	struct cidrtab *t = xcalloc(1, sizeof(*t));

	t->e = xcalloc(n ? n : 1, sizeof(*t->e));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		memcpy(t->e[i].addr, nets[i].addr, 16);
		t->e[i].family = nets[i].family;
		t->e[i].prefix = nets[i].prefix;
		t->e[i].idx = i;
	}
	qsort(t->e, n, sizeof(*t->e), entry_cmp);
	make_groups(t);
	return t;
}

void
cidrtab_free(struct cidrtab *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->g);
	free(t);
}

static void
mask(uint8_t *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * i : 0;
		a[i] &= keep >= 8 ? 0xff : (uint8_t)(0xff << (8 - keep));
	}
}

/* The first entry of g whose address is key (the earliest in the array). */
static long
group_find(const struct cidrtab *t, const struct group *g, const uint8_t *key)
{
	size_t lo = g->start, hi = g->start + g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(t->e[mid].addr, key, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->start + g->n && memcmp(t->e[lo].addr, key, 16) == 0)
		return (long)t->e[lo].idx;
	return -1;
}

long
cidrtab_lookup(const struct cidrtab *t, const struct sockaddr *sa)
{
	uint8_t addr[16] = {0};
	int family = cidr_sockaddr_bytes(sa, addr);

	for (size_t i = 0; i < t->n_groups; i++) {
		uint8_t key[16];
		long hit;

		if (t->g[i].family != family)
			continue;
		memcpy(key, addr, 16);
		mask(key, t->g[i].prefix);
		if ((hit = group_find(t, &t->g[i], key)) >= 0)
			return hit;
	}
	return -1;
}
