#include "util/clock.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/num.h"

#define OFFSET_MAX (200LL * 365 * 86400) /* two centuries either way */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int64_t offset;

bool
clock_parse_offset(const char *s, int64_t *out)
{
	int sign = 1;
	uint64_t v;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!num_parse_duration(s, 0, OFFSET_MAX, &v))
		return false;
	*out = sign * (int64_t)v;
	return true;
}

/* A malformed value is ignored rather than fatal: the variable is a test
 * seam, and a daemon must not refuse to start over it. */
static void
read_offset(void)
{
	const char *s = getenv("MAILOUT_CLOCK_OFFSET");

	if (s == NULL || !clock_parse_offset(s, &offset))
		offset = 0;
}

int64_t
clock_offset(void)
{
	pthread_once(&once, read_offset);
	return offset;
}

void
clock_now_ts(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)clock_offset();
}

int64_t
clock_now(void)
{
	struct timespec ts;

	clock_now_ts(&ts);
	return (int64_t)ts.tv_sec;
}

int64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
