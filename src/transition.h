/*
 * transition: the migration calendar ([transition]) as decisions: which
 * phase a moment is in (plaintext on a `tls = required` listener accepted,
 * warned, answered 450, refused), the next date to come, and whether the
 * registration form is open. Phases change at midnight UTC on their own:
 * every decision takes the time. Pure: no I/O.
 */
#ifndef MAILOUT_TRANSITION_H
#define MAILOUT_TRANSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum transition_phase {
	TP_NONE,     /* no calendar that ever accepts plaintext: refused, as always */
	TP_OPEN,     /* before warn_from: plaintext accepted silently */
	TP_WARN,     /* accepted, with a warning */
	TP_TEMPFAIL, /* 450 4.7.0 */
	TP_REFUSE,   /* from the cutover: 530 5.7.0 */
};

enum transition_phase transition_phase(const struct config *, int64_t now);
const char *transition_phase_name(enum transition_phase);
/* The next configured date after now (false if none is left). */
bool transition_next(const struct config *, int64_t now, enum transition_date *);
/* "phase warn; next: tempfail_from on 2027-01-15", for check and reports. */
void transition_describe(const struct config *, int64_t now, char *out, size_t size);
/* The re-evaluation's suggestion for a registration, from its use. */
enum reeval_action { RA_LET_EXPIRE, RA_END_EXCEPTION, RA_RENEW_OR_REPLACE };
#define REEVAL_UNUSED_DAYS 90
/* last_seen: its last session (0 never); tls_days: days it sent with TLS 1.2
 * or better. */
enum reeval_action transition_suggest(int64_t last_seen, int64_t now, int64_t tls_days);
const char *transition_action_name(enum reeval_action);
/* Whether the registration form takes registrations now. */
bool transition_registration_open(const struct config *, int64_t now);

#endif
