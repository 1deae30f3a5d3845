/*
 * isodate: ISO 8601 dates for registration expiries, in UTC.
 * "2019-12-31" is valid through the end of that day; "2019-12-31T18:00:00Z"
 * (or with +HH:MM / -HH:MM) until that instant.
 */
#ifndef MAILOUT_UTIL_ISODATE_H
#define MAILOUT_UTIL_ISODATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *until: the first second (Unix time) at which s is no longer valid. */
bool isodate_parse_expiry(const char *s, int64_t *until);
/* "since" for a report: a duration back from now ("30d", "12h") or a date
 * (YYYY-MM-DD: from the start of that day, UTC). False for anything else. */
bool isodate_parse_since(const char *s, int64_t now, int64_t *since);
/* "2026-11-28T17:31:06Z" */
void isodate_format(int64_t t, char *dst, size_t size);
/* "2026-11-28" */
void isodate_format_day(int64_t t, char *dst, size_t size);
/* "Wed, 02 Dec 2026 10:00:00 +0000" (RFC 5322 3.3, in UTC) */
void isodate_rfc5322(int64_t t, char *dst, size_t size);
/* The day in a sentence: "1 February 2027", German "1. Februar 2027". */
void isodate_prose(int64_t t, bool is_german, char *dst, size_t size);

#endif
