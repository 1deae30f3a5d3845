/*
 * outcome: the answer of anything that depends on the outside world.
 * reply.c maps it to 2xx / 4xx / 5xx, in one place.
 */
#ifndef MAILOUT_OUTCOME_H
#define MAILOUT_OUTCOME_H

enum outcome {
	OUT_OK = 0,   /* done, or allowed */
	OUT_TEMPFAIL, /* cannot tell now: busy database, disk full, timeout */
	OUT_PERMFAIL, /* definite no */
};

#endif
