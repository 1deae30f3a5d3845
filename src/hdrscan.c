#include "hdrscan.h"

#include <ctype.h>

static const char field[] = "received:";

void
hdrscan_init(struct hdrscan *h)
{
	*h = (struct hdrscan){.is_line_start = true};
}

static void
byte(struct hdrscan *h, char c)
{
	if (h->is_line_start) {
		h->is_line_start = false;
		h->prefix_len = 0;
		h->is_other = false;
		if (c == '\r') { /* an empty line: the header section ends */
			h->is_done = true;
			return;
		}
	}
	if (c == '\n') {
		h->is_line_start = true;
		return;
	}
	if (h->is_other)
		return;
	if (tolower((unsigned char)c) != field[h->prefix_len]) {
		h->is_other = true;
		return;
	}
	if (++h->prefix_len == sizeof(field) - 1) {
		h->received++;
		h->is_other = true; /* counted; the rest of the line is its value */
	}
}

void
hdrscan_feed(struct hdrscan *h, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !h->is_done; i++)
		byte(h, p[i]);
}
