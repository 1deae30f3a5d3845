/*
 * tlsdiag: why TLS did not start in a session, in one sentence for the
 * device's operator (hello.h): what its ClientHello offered, plaintext on
 * the implicit-TLS port, or a ClientHello where SMTP was expected. Sets
 * s->tls_diag, which the session's record carries to `report sessions`
 * and /check.
 */
#ifndef MAILOUT_SMTP_TLSDIAG_H
#define MAILOUT_SMTP_TLSDIAG_H

#include <stdbool.h>

#include "smtp/session_core.h"

/* The handshake failed: what the client offered, and what to do. */
void tlsdiag_handshake_failed(struct session *);
/* True (diagnosis set and logged) when the client's first bytes are a TLS
 * record on a port that expects SMTP: the caller closes the session. */
bool tlsdiag_tls_on_plaintext_port(struct session *);

#endif
