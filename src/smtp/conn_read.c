/* The input side of a conn as its owner takes it (smtp/conn.h): whole
 * lines for commands, raw chunks for DATA. Taking input makes room: the
 * conn reads again by itself (conn.c, input_changed). */
#include <string.h>

#include "smtp/conn.h"
#include "smtp/conn_int.h"

size_t
conn_input_length(const struct conn *c)
{
	return evbuffer_get_length(c->in);
}

bool
conn_is_skipping_line(const struct conn *c)
{
	return c->is_skipping_line;
}

enum conn_line
conn_read_line(struct conn *c, char *line, size_t size, size_t *len)
{
	size_t eol_len = 0;
	struct evbuffer_ptr p =
	    evbuffer_search_eol(c->in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);

	if (p.pos < 0) {
		if (evbuffer_get_length(c->in) < size)
			return CONN_LINE_NONE;
		evbuffer_drain(c->in, evbuffer_get_length(c->in)); /* no CRLF within the limit */
		if (c->is_skipping_line)
			return CONN_LINE_NONE;
		c->is_skipping_line = true;
		return CONN_LINE_TOO_LONG;
	}
	if (c->is_skipping_line || (size_t)p.pos >= size) {
		bool was_skipping = c->is_skipping_line;

		evbuffer_drain(c->in, (size_t)p.pos + eol_len);
		c->is_skipping_line = false;
		return was_skipping ? conn_read_line(c, line, size, len) : CONN_LINE_TOO_LONG;
	}
	evbuffer_remove(c->in, line, (size_t)p.pos);
	evbuffer_drain(c->in, eol_len);
	line[p.pos] = '\0';
	*len = (size_t)p.pos;
	return CONN_LINE_OK;
}

const char *
conn_input_peek(struct conn *c, size_t max, size_t *len)
{
	size_t avail = evbuffer_get_length(c->in);

	*len = avail < max ? avail : max;
	return *len ? (const char *)evbuffer_pullup(c->in, (ssize_t)*len) : NULL;
}

void
conn_input_drain(struct conn *c, size_t n)
{
	evbuffer_drain(c->in, n);
}
