/*
 * link: the client's byte stream to one next hop: a TCP connection made
 * with a timeout (blocking afterwards, with send and receive timeouts),
 * TLS on it when asked, whole writes, and reply lines read through a
 * buffer. A line from the next hop is made printable before anyone sees it
 * (its text reaches logs, the spool and DSNs). Knows nothing of SMTP.
 */
#ifndef MAILOUT_CLIENT_LINK_H
#define MAILOUT_CLIENT_LINK_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/target.h"

struct link {
	int fd;
	SSL *ssl;
	char rbuf[8192];
	size_t rlen, rpos;
};

/* Connect to the first address of t that answers; false with a sentence. */
bool link_connect(struct link *, const struct target *t, unsigned timeout, char *err,
                  size_t errlen);
/* TLS client handshake (SNI name); with verify_against (the CA file, for
 * the sentence) also the certificate chain and name. False with a sentence. */
bool link_start_tls(struct link *, SSL_CTX *, const char *name, const char *verify_against,
                    char *err, size_t errlen);
bool link_write(struct link *, const void *, size_t);
/* One line without its CRLF (printable, cut to size); false at EOF, a
 * timeout or a line longer than the buffer. */
bool link_read_line(struct link *, char *line, size_t size);
/* TLS close_notify when graceful, then the socket. */
void link_close(struct link *, bool graceful);

#endif
