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
/* Whether the registration form takes registrations now. */
bool transition_registration_open(const struct config *, int64_t now);

#endif
