/*
 * devices: a worker's view of the device registry. Holds a snapshot of
 * every registered device, refreshed when the database changed (checked
 * at every connection, and every DEVICES_POLL_MS), so a change made by
 * mailoutctl or the web page takes effect for the next connection,
 * without a reload.
 * A busy or broken database never refuses a connection: the last good
 * snapshot stays in force and the problem is logged once.
 * Usage (sessions, messages, last TLS state) is counted in memory and
 * written in one transaction every DEVICES_FLUSH_MS, never per message.
 * Runs on the worker's event loop thread only.
 */
#ifndef MAILOUT_DEVICES_H
#define MAILOUT_DEVICES_H

#include <event2/event.h>
#include <sys/socket.h>

#include "registry.h"

#define DEVICES_POLL_MS  250
#define DEVICES_FLUSH_MS 2000

struct devices;

/* NULL when db_path is empty (no registry configured). */
struct devices *devices_new(struct event_base *, const char *db_path);
/* Flushes pending usage, then frees. NULL is fine. */
void devices_free(struct devices *);
/* The most specific device covering addr, any status; NULL if none. The
 * pointer is valid until control returns to the event loop: copy what you
 * keep. */
const struct device *devices_match(struct devices *, const struct sockaddr *);
/* Count one finished session of any client (for `mailoutctl report tls`). */
void devices_note_client(struct devices *, const char *client, const char *listener,
                         const char *tls, unsigned messages, bool is_refused);
/* Remember one finished session for `mailoutctl report sessions`. */
void devices_note_recent(struct devices *, const char *client, const char *listener,
                         const char *tls, const char *result);
/* Count one finished session of a device. */
void devices_note_session(struct devices *, int64_t device_id, time_t started, const char *tls,
                          const char *listener, unsigned messages);

#endif
