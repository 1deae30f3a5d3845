/*
 * str: bounded string helpers. Truncation is always reported, never silent.
 */
#ifndef MAILOUT_UTIL_STR_H
#define MAILOUT_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Copy src into dst (size bytes). Returns false if src did not fit; dst is
 * then truncated but NUL-terminated. */
bool str_copy(char *dst, size_t size, const char *src);
/* Same for the first len bytes of src. */
bool str_copyn(char *dst, size_t size, const char *src, size_t len);
/* The same, keeping printable ASCII only: every other byte (CR, LF, NUL,
 * controls, non-ASCII) becomes '?'. For text from the network that ends up
 * in a log, a DSN, the spool or a page. */
bool str_copy_printable(char *dst, size_t size, const char *src, size_t len);
/* snprintf that returns false on error or truncation. */
bool str_fmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool str_ieq(const char *a, const char *b);
bool str_iprefix(const char *s, const char *prefix);
/* Lower-case ASCII letters in place. */
void str_lower(char *s);
/* Split s at ASCII whitespace into at most max words (pointers into s,
 * which is modified). Returns the count, or max + 1 if there were more. */
size_t str_split(char *s, char **words, size_t max);
/* Remove spaces, tabs and CRs at both ends, in place. */
void str_trim(char *s);

#endif
