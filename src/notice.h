/*
 * notice: the mail `mailoutctl notify` sends, as decisions and texts.
 * Which reminder of a registration is due (N days before its expiry, one
 * more on the day it ends), the key that makes each go out once, and the
 * messages in the registration's language (English or German): header
 * (RFC 5322, the subject RFC 2047-encoded, Auto-Submitted: auto-generated)
 * and body, CRLF lines. Text from the registry is cleaned of control
 * characters before it reaches a message. Pure: no I/O.
 */
#ifndef MAILOUT_NOTICE_H
#define MAILOUT_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "util/buf.h"

#define NOTICE_EXPIRED_GRACE (7 * 86400) /* the notice of an expiry goes out for a week */
#define NOTICE_KEY_MAX       128

enum notice_kind { NOTICE_REMIND, NOTICE_EXPIRED, NOTICE_PLAINTEXT, NOTICE_DIGEST };

struct notice {
	enum notice_kind kind;
	uint64_t before; /* NOTICE_REMIND: the reminder's distance to the expiry */
	char key[NOTICE_KEY_MAX];
};

/* What every message names besides the registration. */
struct notice_ctx {
	const char *from, *hostname;
	const char *help_url; /* "" none */
	const char *support;  /* [web] support, "" none */
	int64_t now;
};

/* The reminder of d due at now: the smallest of remind[] (seconds, largest
 * first) whose distance to the expiry has been reached, or the expiry
 * itself (during NOTICE_EXPIRED_GRACE). Only approved (or expired)
 * registrations with an expiry and an owner address get one. A renewal
 * changes the expiry and so the keys: its reminders go out again. */
bool notice_due(const struct device *d, const uint64_t *remind, size_t n_remind, int64_t now,
                struct notice *out);
/* The ISO 8601 week of t ("2026-W49"): weekly notices are keyed by it. */
void notice_week(int64_t t, char *dst, size_t size);
/* "7d", "12h": a reminder's distance as configured. */
void notice_duration(uint64_t seconds, char *dst, size_t size);

/* The header of a message to `to` with subject (UTF-8), keyed by key (the
 * Message-ID is made from it). */
bool notice_header(struct buf *, const struct notice_ctx *, const char *to, const char *subject,
                   const char *key);
/* A reminder or the notice of an expiry for d's owner. */
bool notice_write_expiry(struct buf *, const struct notice_ctx *, const struct notice *,
                         const struct device *d);
/* What a client of d sent in clear to a `tls = required` listener. */
struct plain_use {
	const char *client, *listener;
	int64_t sessions, messages;
	int64_t cutover; /* 0: none configured */
};
/* The warning to d's owner that it still sends in clear. */
bool notice_write_plaintext(struct buf *, const struct notice_ctx *, const struct notice *,
                            const struct device *d, const struct plain_use *);
/* Text from the registry for one line of a message: control characters
 * (and so CR and LF) become spaces. */
void notice_clean(char *dst, size_t size, const char *src);

#endif
