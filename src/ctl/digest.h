/*
 * digest: the weekly digest `mailoutctl notify` mails to [transition]
 * admins: the calendar's phase, pending requests, registrations that
 * expire within 30 days, and the top senders in clear and with legacy TLS
 * of the last 7 days (from the registry's counters), each with the
 * registration that covers it. Also the senders in clear that notify warns
 * the owners of. Reads the registry; writes only into a buffer.
 */
#ifndef MAILOUT_CTL_DIGEST_H
#define MAILOUT_CTL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "ctl/devindex.h"
#include "db/stats.h"
#include "notice.h"
#include "util/buf.h"

#define DIGEST_TOP      10
#define DIGEST_DAYS     7
#define DIGEST_EXPIRING (30 * 86400)

/* The senders of the last DIGEST_DAYS, per client and listener. */
struct senders {
	struct client_stat *plain; /* in clear to a `tls = required` listener or any */
	size_t n_plain;
	struct client_stat *legacy; /* with TLS 1.0 or 1.1 */
	size_t n_legacy;
};

/* Read them from the registry (the largest first). */
enum outcome digest_senders(struct registry *, int64_t now, struct senders *, char *err,
                            size_t errlen);
void digest_senders_free(struct senders *);
/* Whether a client's row was in clear on a `tls = required` listener:
 * warned in the warn phase. */
bool digest_is_warned(const struct config *, const struct client_stat *);
/* The whole message for the admins (n_to addresses) into b. */
bool digest_write(struct buf *, const struct config *, const struct notice_ctx *, const char *key,
                  const struct devindex *, const struct senders *);

#endif
