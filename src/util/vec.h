/*
 * vec: a growable array of items of one size (doubling), the one way
 * mailout collects rows into an array: registrations for a report or a
 * snapshot, entries of a table being built. Allocation failure aborts
 * (util/xmalloc.h).
 */
#ifndef MAILOUT_UTIL_VEC_H
#define MAILOUT_UTIL_VEC_H

#include <stddef.h>

struct vec {
	void *items;
	size_t n, cap;
	size_t size; /* of one item */
};

void vec_init(struct vec *, size_t item_size);
void vec_free(struct vec *);
/* A new zeroed item at the end. Earlier pointers into items are stale. */
void *vec_push(struct vec *);
/* Take the items (the caller frees them); the vec is empty again. */
void *vec_take(struct vec *, size_t *n);

#endif
