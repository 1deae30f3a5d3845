/*
 * hashmap: values by string key (FNV-1a, chained, doubling at load 1), the
 * one hash table of mailout: queue entries by message id, connections per
 * client address. Keys are copied; values are the caller's (never NULL).
 * Not thread-safe: the owner locks.
 */
#ifndef MAILOUT_UTIL_HASHMAP_H
#define MAILOUT_UTIL_HASHMAP_H

#include <stddef.h>

struct hashmap;

struct hashmap *hashmap_new(void);
/* Frees the map and its keys, not the values. */
void hashmap_free(struct hashmap *);
void *hashmap_get(const struct hashmap *, const char *key);
/* Set key to value (not NULL), replacing what it had. */
void hashmap_put(struct hashmap *, const char *key, void *value);
/* Remove key; its value, or NULL if it had none. */
void *hashmap_remove(struct hashmap *, const char *key);
size_t hashmap_count(const struct hashmap *);
/* Call fn for every entry (in no order); fn must not change the map. */
void hashmap_each(const struct hashmap *, void (*fn)(const char *key, void *value, void *arg),
                  void *arg);

#endif
