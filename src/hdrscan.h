/*
 * hdrscan: what mailout needs to know of a message's header section while
 * it streams by: how many Received: fields it has (RFC 5321 6.3: a message
 * that passed too many hops is in a loop). Fed with the decoder's output
 * (CRLF line ends only); stops looking at the blank line. Pure.
 */
#ifndef MAILOUT_HDRSCAN_H
#define MAILOUT_HDRSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define HDRSCAN_RECEIVED_MAX 50 /* more hops than this: a loop (Postfix uses 50 too) */

struct hdrscan {
	bool is_done;        /* the blank line was seen */
	bool is_line_start;  /* the next byte starts a line */
	unsigned prefix_len; /* bytes of this line matched against "received:" so far */
	bool is_other;       /* this line is not a Received: field */
	unsigned received;
};

void hdrscan_init(struct hdrscan *);
void hdrscan_feed(struct hdrscan *, const char *p, size_t len);

#endif
