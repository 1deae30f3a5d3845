/*
 * clock: the one source of wall-clock time. Every "what time is it" that
 * mailout acts on (expiry, the web page's dates, the retry schedule,
 * Received:, DSN dates, log stamps, registry times) comes from here, so a
 * test can move the whole gateway in time: MAILOUT_CLOCK_OFFSET, a signed
 * duration ("548d", "-30d", "3600s"), is added to the system clock. It is
 * read once per process, and every process of a gateway (and mailoutctl)
 * inherits the same value, so they agree on "now". Waits and timeouts use
 * CLOCK_MONOTONIC and are not affected. Thread-safe.
 */
#ifndef MAILOUT_UTIL_CLOCK_H
#define MAILOUT_UTIL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Seconds since the epoch, shifted by the offset. */
int64_t clock_now(void);
/* The same with nanoseconds. */
void clock_now_ts(struct timespec *);
/* The offset in seconds (0 unless a test set one). */
int64_t clock_offset(void);
/* Milliseconds of CLOCK_MONOTONIC: for intervals, never shifted. */
int64_t clock_monotonic_ms(void);
/* Parse "[+-]DURATION" ("548d", "-30d", "90") into seconds. */
bool clock_parse_offset(const char *s, int64_t *out);

#endif
