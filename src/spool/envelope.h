/*
 * envelope: a message's envelope (sender, recipients, where and how it
 * came in, and the delivery state read back from spool/state/) and its
 * header in the spool file: "mailout-spool 1", one "key value" line per
 * field, one "rcpt ADDRESS" line per recipient, a blank line; written and
 * read back equal (fuzz/fuzz_spool_header.c). No I/O.
 */
#ifndef MAILOUT_SPOOL_ENVELOPE_H
#define MAILOUT_SPOOL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "smtp_cmd.h"
#include "util/buf.h"

#define SPOOL_ID_MAX     32
#define SPOOL_HEADER_MAX (64 * 1024 * 1024) /* envelope of 100k recipients fits */
#define SPOOL_VERSION    "mailout-spool 1"
#define SPOOL_NOTE_MAX   256 /* last reply or error kept per recipient */

enum rcpt_state { RCPT_PENDING, RCPT_DONE, RCPT_FAILED };

struct envelope {
	char id[SPOOL_ID_MAX];
	int64_t arrival; /* seconds since the epoch */
	char listener[64];
	char client[64];
	char helo[256]; /* sanitised: printable ASCII, no spaces */
	char tls[128];  /* "none" or "TLSv1.3/TLS_AES_256_GCM_SHA384" */
	enum smtp_body body;
	bool smtputf8;
	bool is_internal_only;    /* accepted on an internal-only listener (or legacy TLS) */
	char sender[ADDRESS_MAX]; /* "" is the null sender */
	char (*rcpt)[ADDRESS_MAX];
	bool *rcpt_done;           /* done or failed: not to be tried again (spool_load_state) */
	unsigned char *rcpt_state; /* enum rcpt_state */
	char (*rcpt_note)[SPOOL_NOTE_MAX]; /* last reply or error */
	size_t n_rcpt;
	size_t cap_rcpt;
	/* delivery state, from spool/state/ID */
	unsigned attempts;
	int64_t next_attempt;
	bool is_warned;           /* the delay notice went out */
	bool is_bounce_requested; /* the admin asked to bounce it */
};

void envelope_init(struct envelope *);
void envelope_free(struct envelope *);
/* Forget sender and recipients (RSET, end of a transaction). */
void envelope_reset(struct envelope *);
void envelope_add_rcpt(struct envelope *, const char *addr);

struct spool_msg;

/* The fields before the recipients, into b. */
bool spool_header_fields(struct buf *b, const struct envelope *);
/* The envelope header as spool_create() writes it, into b. */
bool spool_format_header(struct buf *b, const struct envelope *);
/* Parse an envelope header from p[0..len); *header_len: bytes up to and
 * including the blank line. False if malformed. (Fuzzed.) */
bool spool_parse_header(const char *p, size_t len, struct envelope *, size_t *header_len);
/* Keep printable ASCII without spaces; replace the rest with '?'. */
void spool_sanitize(char *dst, size_t size, const char *src, size_t len);

#endif
