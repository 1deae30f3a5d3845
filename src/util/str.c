#include "util/str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool
str_copyn(char *dst, size_t size, const char *src, size_t len)
{
	if (size == 0)
		return false;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

bool
str_copy(char *dst, size_t size, const char *src)
{
	return str_copyn(dst, size, src, strlen(src));
}

bool
str_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

bool
str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool
str_iprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

size_t
str_split(char *s, char **words, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return max + 1;
		words[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
}

bool
str_copy_printable(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	if (size == 0)
		return false;
	for (; n < len && n + 1 < size; n++) {
		unsigned char c = (unsigned char)src[n];
		dst[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
	return n == len;
}

void
str_trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	memmove(s, s + start, n - start + 1);
}
