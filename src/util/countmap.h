/*
 * countmap: counts per string key (connections per client address).
 * Entries whose count drops to zero are removed, so the map holds only
 * live keys.
 */
#ifndef MAILOUT_UTIL_COUNTMAP_H
#define MAILOUT_UTIL_COUNTMAP_H

struct countmap;

struct countmap *countmap_new(void);
void countmap_free(struct countmap *);
/* Increment and return the new count. */
unsigned countmap_incr(struct countmap *, const char *key);
void countmap_decr(struct countmap *, const char *key);

#endif
