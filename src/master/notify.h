/*
 * notify: systemd's readiness protocol (sd_notify(3)) without libsystemd:
 * each message is one datagram to the AF_UNIX socket $NOTIFY_SOCKET names
 * (a path, or '@' for the abstract namespace). Nothing happens when it is
 * not set (not under systemd, or Type= is not notify). The master only:
 * NotifyAccess=main.
 */
#ifndef MAILOUT_MASTER_NOTIFY_H
#define MAILOUT_MASTER_NOTIFY_H

#include <stdbool.h>

/* Take $NOTIFY_SOCKET and remove it from the environment (children and
 * what they run must not speak for the master). */
void notify_init(void);
/* Send "KEY=VALUE\n..." lines; false if the socket is set and the send failed. */
bool notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 with MONOTONIC_USEC, as systemd 253's Type=notify-reload wants it. */
void notify_reloading(void);

#endif
