/*
 * state: the delivery progress of a message in spool/state/ID, appended
 * and fsynced after each attempt: "done|failed|deferred #N REPLY" per
 * recipient (N: its index in the envelope), "attempt N NEXT",
 * "warned TIME", "bounce ACTOR". Read back into the envelope (a torn last
 * line is skipped); every state written reads back equal
 * (fuzz/fuzz_spool_state.c).
 */
#ifndef MAILOUT_SPOOL_STATE_H
#define MAILOUT_SPOOL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool/envelope.h"
#include "util/buf.h"

#define SPOOL_STATE_LINE_MAX (ADDRESS_MAX + SPOOL_NOTE_MAX + 64) /* with a legacy address */

/* Read state/ID into env (recipient states, attempts, flags). */
int spool_load_state(const char *spool_dir, struct envelope *);
/* Apply the state lines in p[0..len) to env, whose recipients are loaded.
 * Lines that do not parse are skipped. (Fuzzed: what the writers below
 * write reads back equal.) */
void spool_parse_state(const char *p, size_t len, struct envelope *);
/* State lines of one delivery attempt, gathered in a buffer and made
 * durable together: one append and one fsync, however many recipients.
 * A recipient is named by its index in the envelope; text is kept as
 * spool_clean_note() leaves it. */
bool spool_state_rcpt(struct buf *, enum rcpt_state, size_t rcpt, const char *text);
/* text as it is kept in a state line: control characters become spaces,
 * cut to fit size. */
void spool_clean_note(char *dst, size_t size, const char *src);
bool spool_state_attempt(struct buf *, unsigned attempts, int64_t next);
int spool_state_write(const char *spool_dir, const char *id, const struct buf *);
int spool_mark_warned(const char *spool_dir, const char *id);
int spool_mark_bounce(const char *spool_dir, const char *id, const char *actor);
#endif
