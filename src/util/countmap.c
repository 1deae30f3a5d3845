#include "util/countmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define COUNTMAP_BUCKETS 1024

struct entry {
	char *key;
	unsigned count;
	struct entry *next;
};

struct countmap {
	struct entry *bucket[COUNTMAP_BUCKETS];
};

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % COUNTMAP_BUCKETS;
}

struct countmap *
countmap_new(void)
{
	return xcalloc(1, sizeof(struct countmap));
}

void
countmap_free(struct countmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < COUNTMAP_BUCKETS; i++) {
		struct entry *e = m->bucket[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(m);
}

unsigned
countmap_incr(struct countmap *m, const char *key)
{
	unsigned h = hash(key);
	struct entry *e;

	for (e = m->bucket[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return ++e->count;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->count = 1;
	e->next = m->bucket[h];
	m->bucket[h] = e;
	return 1;
}

void
countmap_decr(struct countmap *m, const char *key)
{
	struct entry **pp = &m->bucket[hash(key)];

	for (; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) != 0)
			continue;
		if (--(*pp)->count == 0) {
			struct entry *dead = *pp;
			*pp = dead->next;
			free(dead->key);
			free(dead);
		}
		return;
	}
}
