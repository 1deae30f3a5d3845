/*
 * client: deliver one spooled message to the next hop, either over SMTP
 * (host:port, STARTTLS per the relay's tls policy) or into a directory
 * (one .eml file per message, written atomically). Blocking I/O with
 * timeouts: it runs on the queue runner's delivery threads, never on an
 * event loop. Results come back per recipient; nothing is logged here.
 */
#ifndef MAILOUT_CLIENT_H
#define MAILOUT_CLIENT_H

#include <openssl/ssl.h>
#include <sys/types.h>

#include "config.h"
#include "outcome.h"
#include "spool.h"

#define CLIENT_REPLY_MAX 256

struct client_result {
	enum outcome *rcpt;                   /* per envelope recipient; skipped if done */
	char (*rcpt_reply)[CLIENT_REPLY_MAX]; /* what the next hop said */
	char tls[128];                        /* "none" or version/cipher */
	char error[CLIENT_REPLY_MAX];         /* whole-transaction failure, if any */
	unsigned n_accepted;
};

void client_result_init(struct client_result *, size_t n_rcpt);
void client_result_free(struct client_result *);

/* Deliver env (message at fd, positioned at the body) to its recipients
 * that are not done. Fills res; returns OUT_OK when every attempted
 * recipient was accepted. */
enum outcome client_deliver(const struct config *, SSL_CTX *, const struct envelope *, int fd,
                            struct client_result *res);

#endif
