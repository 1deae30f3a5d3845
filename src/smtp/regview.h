/*
 * regview: a worker's view of the device registry.
 *
 * A thread of its own owns the worker's SQLite connection: it looks for
 * changes every REGVIEW_POLL_MS (PRAGMA data_version, a shared-memory read),
 * builds a compact snapshot of every registration (one per network, the
 * most relevant: valid approval, then pending, expired, revoked, rejected)
 * with a prefix table for O(log n) lookups, and publishes it; the event
 * loop picks it up at the next connection. A connection that finds the
 * registrations changed since its snapshot waits (without blocking the
 * loop) for the next one: a change made by mailoutctl or the web page
 * applies to the next connection, without a reload. The event loop never
 * reads a registration, never waits for a writer and never builds a list. A database that is busy,
 * locked or gone never ends the worker: the thread retries, and the last snapshot stays in force
 * (logged once). Usage counters are gathered on the loop and written by the thread in one
 * transaction every REGVIEW_FLUSH_MS, never per message.
 * Everything but the thread runs on the worker's event loop thread.
 */
#ifndef MAILOUT_SMTP_REGVIEW_H
#define MAILOUT_SMTP_REGVIEW_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "db/devices.h"
#include "smtp/regthread.h"

struct regview;

/* NULL when db_path is empty (no registry configured). Starts the thread
 * and waits up to REGVIEW_FIRST_WAIT_MS for the first snapshot. on_fresh
 * (if set) runs on the loop whenever a new snapshot arrived. */
struct regview *regview_new(struct event_base *, const char *db_path, const struct regview_limits *,
                            void (*on_fresh)(void *), void *arg);
/* Hands over pending usage, stops the thread (which writes it), frees.
 * NULL is fine. */
void regview_free(struct regview *);
/* False while no snapshot was ever read: the registry cannot be judged. */
bool regview_ready(struct regview *);
/* Whether the snapshot holds every change committed before this call. A
 * connection decides only on a current snapshot ("changes apply to the next
 * connection"): if not, the thread is asked for one and on_fresh tells when
 * it is there. The check on the loop is SQLite's data_version (shared
 * memory) and, after some commit, one row of meta; never a wait (busy 0:
 * if SQLite is busy, the snapshot counts as current). */
bool regview_is_current(struct regview *);
/* The registration covering addr (most specific network; the most
 * relevant one of that network), any status; NULL if none. Valid until the
 * next call: copy what you keep. */
const struct device *regview_match(struct regview *, const struct sockaddr *);
/* One finished session, as the registry's statistics count it. */
struct session_record {
	const char *client, *listener;
	const char *tls;   /* "none", "handshake-failed" or version/cipher */
	int64_t device_id; /* the registration that covered the client, or 0 */
	time_t started;
	unsigned messages;
	bool is_refused;    /* some policy refusal */
	const char *result; /* "accepted 2 messages", "refused at connect: ...", ... */
};

/* Count it for `mailoutctl report tls`, its device's usage, and keep it
 * for `mailoutctl report sessions` and the check page. Gathered on the
 * loop, written by the thread (never SQLite on the loop). */
void regview_note_end(struct regview *, const struct session_record *);

/* SMTP AUTH of one client as user ("" if the exchange gave none): a
 * failure or a success, or a message with its recipients. For `mailoutctl
 * report auth`; gathered on the loop like the rest. */
struct auth_note {
	const char *client, *user;
	unsigned failures, successes, messages, recipients;
};
void regview_note_auth(struct regview *, const struct auth_note *);

#endif
