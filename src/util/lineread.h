/*
 * lineread: lines from a non-blocking descriptor (a pipe, a FIFO), '\n'
 * ended, a partial line kept for the next read. A line longer than the
 * buffer is dropped (and said), never cut into two.
 */
#ifndef MAILOUT_UTIL_LINEREAD_H
#define MAILOUT_UTIL_LINEREAD_H

#include <stdbool.h>
#include <stddef.h>

#define LINEREAD_MAX 4096

struct lineread {
	char buf[LINEREAD_MAX];
	size_t len;
	bool is_skipping; /* inside a line that was too long */
};

/* Read what fd has and call fn for each whole line (without '\n').
 * False when a line was too long (the rest of it is skipped). */
bool lineread(int fd, struct lineread *, void (*fn)(const char *line, void *arg), void *arg);

#endif
