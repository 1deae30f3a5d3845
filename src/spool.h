/*
 * spool: the on-disk queue. A message in spool/queue/ has been promised to
 * a client with 250; nothing else is ever there.
 *
 *   spool/incoming/ID   being received; removed on abort, swept at start
 *   spool/queue/ID      committed: envelope header, blank line, message
 *   spool/state/ID      delivery progress: "done <rcpt>" / "failed <rcpt> reason"
 *
 * Commit order (why 250 is safe): write all, fsync the file, rename into
 * queue/, fsync queue/. A crash before the rename leaves only incoming/
 * (swept); after the directory fsync the rename survives power loss.
 * Functions here do blocking file I/O; spool_commit() is meant to run off
 * the event loop thread. Errors are returned as errno values, not logged.
 */
#ifndef MAILOUT_SPOOL_H
#define MAILOUT_SPOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "address.h"
#include "smtp_cmd.h"
#include "util/buf.h"

#define SPOOL_ID_MAX     32
#define SPOOL_HEADER_MAX (64 * 1024 * 1024) /* envelope of 100k recipients fits */
#define SPOOL_VERSION    "mailout-spool 1"

struct envelope {
	char id[SPOOL_ID_MAX];
	int64_t arrival; /* seconds since the epoch */
	char listener[64];
	char client[64];
	char helo[256]; /* sanitised: printable ASCII, no spaces */
	char tls[128];  /* "none" or "TLSv1.3/TLS_AES_256_GCM_SHA384" */
	enum smtp_body body;
	bool smtputf8;
	char sender[ADDRESS_MAX]; /* "" is the null sender */
	char (*rcpt)[ADDRESS_MAX];
	bool *rcpt_done; /* filled by spool_load_state() */
	size_t n_rcpt;
	size_t cap_rcpt;
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

/* Make incoming/, queue/, state/ under spool_dir; remove stale incoming files. */
int spool_prepare(const char *spool_dir, unsigned *n_swept);

/* Parse an envelope header from p[0..len); *header_len: bytes up to and
 * including the blank line. False if malformed. (Fuzzed.) */
bool spool_parse_header(const char *p, size_t len, struct envelope *, size_t *header_len);
/* Open queue/ID, parse its header; *fd positioned at the message. */
int spool_load(const char *spool_dir, const char *id, struct envelope *, int *fd,
               off_t *body_offset);
/* Mark recipients already done/failed in env->rcpt_done. */
int spool_load_state(const char *spool_dir, struct envelope *);
/* Append "done <rcpt>" or "failed <rcpt> text" to state/ID and fsync it. */
int spool_mark(const char *spool_dir, const char *id, const char *rcpt, bool is_done,
               const char *text);
/* Remove queue/ID and state/ID. */
int spool_remove(const char *spool_dir, const char *id);
/* A new unique queue id into dst. */
void spool_new_id(char *dst, size_t size);
/* Keep printable ASCII without spaces; replace the rest with '?'. */
void spool_sanitize(char *dst, size_t size, const char *src, size_t len);

#endif
