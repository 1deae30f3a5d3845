/*
 * client: deliver one spooled message to the next hop, for some of its
 * recipients (a batch): over SMTP (client/smtp.c: a connection that can
 * carry several messages, STARTTLS per the route's tls policy, PIPELINING
 * when offered) or into a directory (client/dir.c: one .eml file per
 * message, written atomically). Blocking I/O with timeouts: it runs on the
 * queue runner's delivery threads, never on an event loop. Results come
 * back per recipient; nothing is logged here.
 */
#ifndef MAILOUT_CLIENT_CLIENT_H
#define MAILOUT_CLIENT_CLIENT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/types.h>

#include "client/target.h"
#include "config/config.h"
#include "outcome.h"
#include "spool/spool.h"

#define CLIENT_REPLY_MAX 256

/* The recipients one transaction carries: those of env not done yet and,
 * if want is not NULL, with want[i] (the recipients of one next hop). */
struct client_batch {
	const struct envelope *env;
	const bool *want;
};

bool client_batch_has(const struct client_batch *, size_t i);

struct client_result {
	enum outcome *rcpt;                   /* per envelope recipient; those of the batch */
	char (*rcpt_reply)[CLIENT_REPLY_MAX]; /* what the next hop said */
	char tls[128];                        /* "none" or version/cipher */
	char (*rcpt_relay)[CLIENT_REPLY_MAX]; /* which host each recipient went to */
	char (*rcpt_tls)[128];
	char error[CLIENT_REPLY_MAX]; /* whole-transaction failure, if any */
	unsigned n_accepted;
};

void client_result_init(struct client_result *, size_t n_rcpt);
void client_result_free(struct client_result *);
/* Every recipient of the batch gets o and text (a whole-transaction
 * failure), except one the next hop already refused for good. */
void client_fail_all(const struct client_batch *, struct client_result *, enum outcome,
                     const char *text);
/* The recipients of the batch the next hop accepted at RCPT get the
 * outcome of DATA. */
void client_set_accepted(const struct client_batch *, struct client_result *, enum outcome,
                         const char *text);

/* Write the message at fd (positioned at the body) for the batch as
 * DIR/ID.eml, atomically (temporary file, fsync, rename). */
enum outcome client_deliver_dir(const char *dir, const struct client_batch *, int fd,
                                struct client_result *res);

/* A connection to the SMTP next hop that can carry several messages. */
struct client_conn;

/* Try the targets in order (every address of each): connect, greeting,
 * EHLO, STARTTLS per tls. NULL with res->error set when none can be used. */
struct client_conn *client_open(const struct config *, SSL_CTX *, enum relay_tls tls,
                                const struct target *targets, size_t n, struct client_result *res);
/* One transaction for the batch (RSET first if the connection carried one
 * before); the message at fd is positioned at the body. */
enum outcome client_send(struct client_conn *, const struct client_batch *, int fd,
                         struct client_result *res);
/* False once the connection broke or the next hop closed it. */
bool client_is_usable(const struct client_conn *);
unsigned client_messages_sent(const struct client_conn *);
const char *client_tls(const struct client_conn *);
/* The host name of the target that answered. */
const char *client_peer(const struct client_conn *);
/* QUIT if still usable, then free. NULL is fine. */
void client_close(struct client_conn *);

#endif
