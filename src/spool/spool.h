/*
 * spool: the on-disk queue. A message in spool/queue/ has been promised to
 * a client with 250; nothing else is ever there.
 *
 *   spool/incoming/ID   being received; removed on abort, swept at start
 *   spool/queue/ID      committed: envelope header, blank line, message
 *   spool/state/ID      delivery progress, appended: "done|failed|deferred #N REPLY"
 *                       (N: the recipient's index in the envelope),
 *                       "attempt N NEXT", "warned TIME", "bounce ACTOR"
 *   spool/hold/ID       put on hold by the admin; not delivered until released
 *   spool/control       a FIFO: "flush" or "flush ID" lines wake the queue runner
 *
 * Commit order (why 250 is safe): write all, fsync the file, rename into
 * queue/, fsync queue/. A crash before the rename leaves only incoming/
 * (swept); after the directory fsync the rename survives power loss.
 * Functions here do blocking file I/O; spool_commit() is meant to run off
 * the event loop thread. Errors are returned as errno values, not logged.
 * The envelope and the header format are spool/envelope.h, the state lines
 * spool/state.h.
 */
#ifndef MAILOUT_SPOOL_SPOOL_H
#define MAILOUT_SPOOL_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool/envelope.h"
#include "spool/state.h"
#include "util/buf.h"
#include "util/safedir.h"

/* Create spool/incoming/ID for env (env->id is set here) and write the
 * envelope header. NULL with *err = errno on failure. */
struct spool_msg *spool_create(const char *spool_dir, struct envelope *env, int *err);
/* Buffered append of message bytes; false after the first failure. */
bool spool_write(struct spool_msg *, const void *, size_t);
/* Bytes of message written so far (header excluded). */
uint64_t spool_body_size(const struct spool_msg *);
/* Flush, fsync file, rename to queue/, fsync queue/. 0 or an errno. */
int spool_commit(struct spool_msg *);
/* The errno of the first failed write, or 0. */
int spool_error(const struct spool_msg *);
const char *spool_id(const struct spool_msg *);
/* Close and unlink the incoming file unless committed; free. NULL is ok. */
void spool_msg_free(struct spool_msg *);

/* An envelope for mail made here (a DSN, a reminder): arrived now, from
 * listener and client "local", no TLS; env is initialised here. */
void spool_local_envelope(struct envelope *env, const char *hostname);
/* Queue a message made here: sender, n recipients, text (header and body,
 * CRLF lines, not dot-stuffed). The id into id. 0 or an errno. */
int spool_submit(const char *spool_dir, const char *hostname, const char *sender,
                 const char *const *rcpt, size_t n, const char *text, size_t len, char *id,
                 size_t id_size);

/* As root (or as the user when not started as root): make the spool
 * folder, incoming/, queue/, state/, hold/, free/ and the control FIFO,
 * refusing symlinks and foreign owners (util/safedir.h), and give them to
 * the service user. False with err. */
bool spool_prepare_dirs(const char *spool_dir, const struct safedir_owner *, char *err,
                        size_t errlen);
/* As the service user, at start only: remove incoming files of sessions
 * that died before their 250. 0 or an errno. */
int spool_sweep(const char *spool_dir, unsigned *n_swept);
/* Take the spool for this process (the master): a POSIX lock on
 * spool/lock, which holds the pid. The descriptor, or -1 with err ("spool
 * X is in use by pid N" when another daemon has it). Keep the descriptor
 * open and never open the file again in this process: closing any
 * descriptor of it would drop the lock. */
int spool_lock(const char *spool_dir, char *err, size_t errlen);

/* Open queue/ID, parse its header; *fd positioned at the message. */
int spool_load(const char *spool_dir, const char *id, struct envelope *, int *fd,
               off_t *body_offset);
/* The same for a message in another folder of the spool ("hold"). */
int spool_load_from(const char *spool_dir, const char *folder, const char *id, struct envelope *,
                    int *fd, off_t *body_offset);
/* Remove queue/ID (into a free/ slot, for reuse by spool_create()), then
 * (only if that worked) state/ID. */
int spool_remove(const char *spool_dir, const char *id);
/* Move queue/ID to hold/ID (is_hold) or back. 0 or an errno. */
int spool_hold(const char *spool_dir, const char *id, bool is_hold);
/* Write one control line to spool/control; ENXIO when no queue runner listens. */
int spool_control(const char *spool_dir, const char *line);
/* A new unique queue id into dst. */
void spool_new_id(char *dst, size_t size);
#endif
