#include "util/vec.h"

#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

void
vec_init(struct vec *v, size_t item_size)
{
	memset(v, 0, sizeof(*v));
	v->size = item_size;
}

void
vec_free(struct vec *v)
{
	free(v->items);
	v->items = NULL;
	v->n = v->cap = 0;
}

void *
vec_push(struct vec *v)
{
	char *item;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->items = xreallocarray(v->items, v->cap, v->size);
	}
	item = (char *)v->items + v->n++ * v->size;
	memset(item, 0, v->size);
	return item;
}

void *
vec_take(struct vec *v, size_t *n)
{
	void *items = v->items;

	*n = v->n;
	v->items = NULL;
	v->n = v->cap = 0;
	return items;
}
