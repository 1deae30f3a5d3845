/*
 * xmalloc: allocation wrappers that abort on exhaustion.
 * For small, bounded allocations only; anything a client can make grow
 * goes through struct buf with a maximum (buf.h).
 */
#ifndef MAILOUT_UTIL_XMALLOC_H
#define MAILOUT_UTIL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
/* n items of size bytes; aborts on overflow too. */
void *xreallocarray(void *, size_t n, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);

#endif
