/*
 * client: deliver one spooled message to the next hop, either over SMTP
 * (host:port, STARTTLS per the relay's tls policy) or into a directory
 * (one .eml file per message, written atomically). Blocking I/O with
 * timeouts: it runs on the queue runner's delivery threads, never on an
 * event loop. Results come back per recipient; nothing is logged here.
 */
#ifndef MAILOUT_CLIENT_CLIENT_H
#define MAILOUT_CLIENT_CLIENT_H

#include <openssl/ssl.h>
#include <sys/types.h>

#include "config/config.h"
#include "outcome.h"
#include "queue/route.h"
#include "spool/spool.h"

#define CLIENT_REPLY_MAX 256

struct client_result {
	enum outcome *rcpt;                   /* per envelope recipient; skipped if done */
	char (*rcpt_reply)[CLIENT_REPLY_MAX]; /* what the next hop said */
	char tls[128];                        /* "none" or version/cipher */
	char (*rcpt_relay)[CLIENT_REPLY_MAX]; /* which host each recipient went to */
	char (*rcpt_tls)[128];
	char error[CLIENT_REPLY_MAX]; /* whole-transaction failure, if any */
	unsigned n_accepted;
};

void client_result_init(struct client_result *, size_t n_rcpt);
void client_result_free(struct client_result *);

/* Write env (message at fd, positioned at the body) for its pending
 * recipients as DIR/ID.eml, atomically (temporary file, fsync, rename). */
enum outcome client_deliver_dir(const char *dir, const struct envelope *, int fd,
                                struct client_result *res);

/* A connection to the SMTP next hop that can carry several messages. */
struct client_conn;

/* Try the targets in order (every address of each): connect, greeting,
 * EHLO, STARTTLS per tls. NULL with res->error set when none can be used. */
struct client_conn *client_open(const struct config *, SSL_CTX *, enum relay_tls tls,
                                const struct route_target *targets, size_t n,
                                struct client_result *res);
/* One transaction (RSET first if the connection carried one before). */
enum outcome client_send(struct client_conn *, const struct envelope *, int fd,
                         struct client_result *res);
/* False once the connection broke or the next hop closed it. */
bool client_is_usable(const struct client_conn *);
unsigned client_messages_sent(const struct client_conn *);
const char *client_tls(const struct client_conn *);
/* The host name of the target that answered. */
const char *client_peer(const struct client_conn *);
/* QUIT if still usable, then free. NULL is fine. */
void client_close(struct client_conn *);
/* Every pending recipient gets o and text (a whole-transaction failure). */
void client_fail_all(const struct envelope *, struct client_result *, enum outcome,
                     const char *text);

#endif
