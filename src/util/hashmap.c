#include "util/hashmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define FIRST_BUCKETS 64

struct entry {
	char *key;
	void *value;
	uint32_t hash;
	struct entry *next;
};

struct hashmap {
	struct entry **bucket;
	size_t n_buckets; /* a power of two */
	size_t n;
};

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct hashmap *
hashmap_new(void)
{
	struct hashmap *m = xcalloc(1, sizeof(*m));

	m->n_buckets = FIRST_BUCKETS;
	m->bucket = xcalloc(m->n_buckets, sizeof(*m->bucket));
	return m;
}

void
hashmap_free(struct hashmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_buckets; i++) {
		for (struct entry *e = m->bucket[i], *next; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(m->bucket);
	free(m);
}

/* The link that points at key's entry (or the NULL at its chain's end). */
static struct entry **
find(const struct hashmap *m, const char *key, uint32_t h)
{
	struct entry **pp = &m->bucket[h & (m->n_buckets - 1)];

	while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

static void
grow(struct hashmap *m)
{
	size_t n = m->n_buckets * 2;
	struct entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->n_buckets; i++) {
		for (struct entry *e = m->bucket[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->bucket);
	m->bucket = b;
	m->n_buckets = n;
}

void *
hashmap_get(const struct hashmap *m, const char *key)
{
	struct entry *e = *find(m, key, hash(key));

	return e ? e->value : NULL;
}

void
hashmap_put(struct hashmap *m, const char *key, void *value)
{
	uint32_t h = hash(key);
	struct entry **pp = find(m, key, h), *e;

	if (*pp) {
		(*pp)->value = value;
		return;
	}
	e = xmalloc(sizeof(*e));
	*e = (struct entry){xstrdup(key), value, h, NULL};
	*pp = e;
	if (++m->n > m->n_buckets)
		grow(m);
}

void *
hashmap_remove(struct hashmap *m, const char *key)
{
	struct entry **pp = find(m, key, hash(key)), *e = *pp;
	void *value;

	if (e == NULL)
		return NULL;
	*pp = e->next;
	value = e->value;
	free(e->key);
	free(e);
	m->n--;
	return value;
}

size_t
hashmap_count(const struct hashmap *m)
{
	return m->n;
}

void
hashmap_each(const struct hashmap *m, void (*fn)(const char *key, void *value, void *arg),
             void *arg)
{
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct entry *e = m->bucket[i]; e; e = e->next)
			fn(e->key, e->value, arg);
}
