#include "util/lineread.h"

#include <string.h>
#include <unistd.h>

bool
lineread(int fd, struct lineread *r, void (*fn)(const char *line, void *arg), void *arg)
{
	bool ok = true;
	ssize_t n;
	char *nl;

	while ((n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len - 1)) > 0) {
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
		while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
			*nl = '\0';
			if (!r->is_skipping)
				fn(r->buf, arg);
			r->is_skipping = false;
			r->len -= (size_t)(nl + 1 - r->buf);
			memmove(r->buf, nl + 1, r->len);
		}
		if (r->len == sizeof(r->buf) - 1) { /* a line too long to be ours */
			r->len = 0;
			r->is_skipping = true;
			ok = false;
		}
	}
	return ok;
}
