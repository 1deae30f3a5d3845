/*
 * smtp_data: the DATA decoder. Feeds raw bytes from the client, emits the
 * message as it will be stored: dot-unstuffed, every line ending CRLF.
 *
 * End of data is exactly CRLF "." CRLF (RFC 5321 4.1.1.4); the CRLF that
 * opens it is the one that ended the previous line (or the 354 reply).
 * A bare LF or bare CR is never a line end for that test (SMTP smuggling:
 * "\n.\n", "\r.\r", "\n.\r\n" are all message content); in the stored
 * message each bare CR or LF is normalised to CRLF, and the relay
 * dot-stuffs again, so no next hop can read a different end.
 * Pure: no I/O, no allocation.
 */
#ifndef MAILOUT_SMTP_DATA_H
#define MAILOUT_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Worst-case output per input byte; size the output buffer with it. */
#define SMTP_DATA_EXPANSION 4

enum smtp_data_state {
	SMTP_DATA_LINE_START, /* after CRLF */
	SMTP_DATA_MID,        /* inside a line */
	SMTP_DATA_CR,         /* after a CR, inside a line */
	SMTP_DATA_DOT,        /* "." at line start */
	SMTP_DATA_DOT_CR,     /* "." CR at line start */
	SMTP_DATA_DONE,
};

struct smtp_data {
	enum smtp_data_state state;
	size_t line_len;    /* octets of the current output line so far */
	size_t line_max;    /* with CRLF; longer lines set is_line_too_long */
	uint64_t out_total; /* octets emitted */
	bool is_line_too_long;
	bool saw_bare_eol; /* a bare CR or LF was normalised */
};

void smtp_data_init(struct smtp_data *, size_t line_max);
/* Decode in[0..len). Writes at most SMTP_DATA_EXPANSION * len bytes to out
 * and sets *out_len. Returns the input bytes consumed: all of them, or up
 * to and including the final LF when the end was seen (state DONE). */
size_t smtp_data_feed(struct smtp_data *, const char *in, size_t len, char *out, size_t *out_len);

#endif
