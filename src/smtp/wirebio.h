/*
 * wirebio: an OpenSSL BIO that appends every record OpenSSL writes to a
 * struct buf and never blocks, so the owner decides when the bytes go to
 * the socket (smtp/conn.c: a ticket and the reply after it, or several
 * replies, leave in one write). A full buffer is a write error.
 */
#ifndef MAILOUT_SMTP_WIREBIO_H
#define MAILOUT_SMTP_WIREBIO_H

#include <openssl/bio.h>

#include "util/buf.h"

BIO *wirebio_new(struct buf *);

#endif
