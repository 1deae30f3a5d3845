/*
 * num: the one bounded number parser. Every number read from a file, the
 * command line or the network goes through here.
 */
#ifndef MAILOUT_UTIL_NUM_H
#define MAILOUT_UTIL_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only, no sign, no spaces; min <= value <= max. */
bool num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A size: digits with an optional K, M or G suffix (powers of 1024). */
bool num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A duration in seconds: digits with an optional s, m, h or d suffix. */
bool num_parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
