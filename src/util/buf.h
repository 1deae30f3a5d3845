/*
 * buf: a growable byte buffer with a hard maximum. Appends that would pass
 * the maximum fail and leave the buffer unchanged; the caller replies.
 * The data is always followed by a spare NUL (not counted in len), so
 * buf_cstr() is valid, but the data itself may hold NULs.
 */
#ifndef MAILOUT_UTIL_BUF_H
#define MAILOUT_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
	size_t max; /* never grow past this */
};

void buf_init(struct buf *, size_t max);
void buf_free(struct buf *);
void buf_reset(struct buf *);
bool buf_append(struct buf *, const void *, size_t);
bool buf_puts(struct buf *, const char *);
bool buf_printf(struct buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Remove the first n bytes. */
void buf_consume(struct buf *, size_t n);
/* NUL-terminated view; valid until the next append. */
const char *buf_cstr(const struct buf *);

#endif
