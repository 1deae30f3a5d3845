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
 */
#ifndef MAILOUT_SPOOL_SPOOL_H
#define MAILOUT_SPOOL_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "address.h"
#include "smtp_cmd.h"
#include "util/buf.h"
#include "util/safedir.h"

#define SPOOL_ID_MAX         32
#define SPOOL_HEADER_MAX     (64 * 1024 * 1024) /* envelope of 100k recipients fits */
#define SPOOL_VERSION        "mailout-spool 1"
#define SPOOL_NOTE_MAX       256 /* last reply or error kept per recipient */
#define SPOOL_STATE_LINE_MAX (ADDRESS_MAX + SPOOL_NOTE_MAX + 64) /* with a legacy address */

enum rcpt_state { RCPT_PENDING, RCPT_DONE, RCPT_FAILED };

struct envelope {
	char id[SPOOL_ID_MAX];
	int64_t arrival; /* seconds since the epoch */
	char listener[64];
	char client[64];
	char helo[256]; /* sanitised: printable ASCII, no spaces */
	char tls[128];  /* "none" or "TLSv1.3/TLS_AES_256_GCM_SHA384" */
	enum smtp_body body;
	bool smtputf8;
	bool is_internal_only;    /* accepted on an internal-only listener (or legacy TLS) */
	char sender[ADDRESS_MAX]; /* "" is the null sender */
	char (*rcpt)[ADDRESS_MAX];
	bool *rcpt_done;           /* done or failed: not to be tried again (spool_load_state) */
	unsigned char *rcpt_state; /* enum rcpt_state */
	char (*rcpt_note)[SPOOL_NOTE_MAX]; /* last reply or error */
	size_t n_rcpt;
	size_t cap_rcpt;
	/* delivery state, from spool/state/ID */
	unsigned attempts;
	int64_t next_attempt;
	bool is_warned;           /* the delay notice went out */
	bool is_bounce_requested; /* the admin asked to bounce it */
};

void envelope_init(struct envelope *);
void envelope_free(struct envelope *);
/* Forget sender and recipients (RSET, end of a transaction). */
void envelope_reset(struct envelope *);
void envelope_add_rcpt(struct envelope *, const char *addr);

struct spool_msg;

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

/* The envelope header as spool_create() writes it, into b. */
bool spool_format_header(struct buf *b, const struct envelope *);
/* Parse an envelope header from p[0..len); *header_len: bytes up to and
 * including the blank line. False if malformed. (Fuzzed.) */
bool spool_parse_header(const char *p, size_t len, struct envelope *, size_t *header_len);
/* Open queue/ID, parse its header; *fd positioned at the message. */
int spool_load(const char *spool_dir, const char *id, struct envelope *, int *fd,
               off_t *body_offset);
/* The same for a message in another folder of the spool ("hold"). */
int spool_load_from(const char *spool_dir, const char *folder, const char *id, struct envelope *,
                    int *fd, off_t *body_offset);
/* Read state/ID into env (recipient states, attempts, flags). */
int spool_load_state(const char *spool_dir, struct envelope *);
/* Apply the state lines in p[0..len) to env, whose recipients are loaded.
 * Lines that do not parse are skipped. (Fuzzed: what the writers below
 * write reads back equal.) */
void spool_parse_state(const char *p, size_t len, struct envelope *);
/* State lines of one delivery attempt, gathered in a buffer and made
 * durable together: one append and one fsync, however many recipients.
 * A recipient is named by its index in the envelope; text is kept as
 * spool_clean_note() leaves it. */
bool spool_state_rcpt(struct buf *, enum rcpt_state, size_t rcpt, const char *text);
/* text as it is kept in a state line: control characters become spaces,
 * cut to fit size. */
void spool_clean_note(char *dst, size_t size, const char *src);
bool spool_state_attempt(struct buf *, unsigned attempts, int64_t next);
int spool_state_write(const char *spool_dir, const char *id, const struct buf *);
int spool_mark_warned(const char *spool_dir, const char *id);
int spool_mark_bounce(const char *spool_dir, const char *id, const char *actor);
/* Remove queue/ID (into a free/ slot, for reuse by spool_create()), then
 * (only if that worked) state/ID. */
int spool_remove(const char *spool_dir, const char *id);
/* Move queue/ID to hold/ID (is_hold) or back. 0 or an errno. */
int spool_hold(const char *spool_dir, const char *id, bool is_hold);
/* Write one control line to spool/control; ENXIO when no queue runner listens. */
int spool_control(const char *spool_dir, const char *line);
/* A new unique queue id into dst. */
void spool_new_id(char *dst, size_t size);
/* Keep printable ASCII without spaces; replace the rest with '?'. */
void spool_sanitize(char *dst, size_t size, const char *src, size_t len);

#endif
