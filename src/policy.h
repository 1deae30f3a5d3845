/*
 * policy: the gateway's verdicts, each at the earliest point that has the
 * facts: client address at connect, TLS state at MAIL, recipient at RCPT.
 * Pure decisions: no I/O, no logging; the session replies and logs.
 */
#ifndef MAILOUT_POLICY_H
#define MAILOUT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "address.h"
#include "config/config.h"
#include "outcome.h"
#include "device.h"
#include "smtp_cmd.h"

enum policy_rcpt {
	POLICY_RCPT_OK,
	POLICY_RCPT_NOT_INTERNAL, /* external domain on an internal-only interface */
	POLICY_RCPT_ROUTING,      /* '%', '!' or quoted '@' on an internal-only interface */
};

struct device;

/* OUT_PERMFAIL: why holds a sentence for the 554 greeting. dev: the most
 * specific registered device covering the client (any status), or NULL. */
enum outcome policy_check_connect(const struct config *, const struct listener_conf *,
                                  const struct sockaddr *, const struct device *dev, int64_t now,
                                  char *why, size_t why_size);
/* A device that may use the unencrypted interface (or legacy TLS) now. */
bool policy_device_is_valid(const struct device *, int64_t now);
/* What plaintext on a listener gets now (MAIL, RCPT, DATA without TLS):
 * the listener allows it, or a `tls = required` listener by the calendar's
 * phase (transition.h): accepted silently, with a warning, 450, or 530. */
enum policy_plain { PP_OK, PP_WARN, PP_TEMPFAIL, PP_REFUSE };
enum policy_plain policy_plaintext(const struct config *, const struct listener_conf *, bool is_tls,
                                   int64_t now);
/* Whether the recipient may be accepted on this listener. */
/* is_restricted: the session counts as unencrypted whatever the listener
 * says (a device on legacy TLS): internal recipients only. */
enum policy_rcpt policy_check_rcpt(const struct config *, const struct listener_conf *,
                                   const struct address *, bool is_restricted);
bool policy_is_internal(const struct config *, const char *domain);
/* The mailbox a parsed RCPT names: its address, or for "<postmaster>"
 * (no domain) the configured [gateway] postmaster. */
void policy_rcpt_address(const struct config *, const struct smtp_cmd *, struct address *out);
const char *policy_rcpt_name(enum policy_rcpt);

#endif
