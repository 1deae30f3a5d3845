/*
 * expo: the metrics in Prometheus' text format (version 0.0.4): the shared
 * counters (metrics/counters.h) and what the caller adds from elsewhere
 * (registrations by status, the transition's dates and phase). Pure: no I/O.
 */
#ifndef MAILOUT_METRICS_EXPO_H
#define MAILOUT_METRICS_EXPO_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "metrics/counters.h"
#include "util/buf.h"

struct metrics_extra {
	int64_t now;
	bool has_devices;
	int64_t devices[DEVICE_NSTATUS]; /* registrations by status now */
	size_t n_dates;                  /* the transition's dates ([transition]) */
	const char *date_name[8];
	int64_t date_at[8]; /* the start of that day, Unix time */
	const char *phase;  /* the transition's phase now, or NULL */
};

void metrics_expose(struct buf *out, const struct metrics *, const struct metrics_extra *);

#endif
