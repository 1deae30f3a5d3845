/*
 * workq: run blocking jobs (fsync, rename) on a few threads and complete
 * them on the event loop thread. run() executes on a pool thread and must
 * touch only its argument; done() executes on the loop thread.
 */
#ifndef MAILOUT_UTIL_WORKQ_H
#define MAILOUT_UTIL_WORKQ_H

#include <event2/event.h>

struct workq;

struct workq *workq_new(struct event_base *, unsigned threads);
void workq_submit(struct workq *, void (*run)(void *), void (*done)(void *), void *arg);
/* Stop the threads after the queued jobs ran; completes nothing more. */
void workq_free(struct workq *);

#endif
