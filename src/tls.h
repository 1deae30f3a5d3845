/*
 * tls: OpenSSL contexts. One server context per listener (its minimum
 * version and security level), built in the master before privileges are
 * dropped, and one client context for the relay. Errors are written to
 * the caller's buffer with OpenSSL's reason; nothing is logged here.
 */
#ifndef MAILOUT_TLS_H
#define MAILOUT_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config/config.h"

SSL_CTX *tls_server_ctx_new(const struct config *, const struct listener_conf *, char *err,
                            size_t errlen);
/* The per-device exception: TLS 1.0+, security level 0, a short list of
 * RSA/ECDHE AES suites; only for registered devices allowed legacy TLS. */
SSL_CTX *tls_legacy_ctx_new(const struct config *, char *err, size_t errlen);
SSL_CTX *tls_client_ctx_new(const struct config *, char *err, size_t errlen);
/* Whether cert (a PEM chain) and key (PEM) load and belong together. */
bool tls_check_pair(const char *cert, const char *key, char *err, size_t errlen);
/* "TLSv1.3/TLS_AES_256_GCM_SHA384" for an established connection. */
void tls_describe(const SSL *, char *dst, size_t size);
/* The last OpenSSL error as text (clears the queue). */
void tls_last_error(char *dst, size_t size);

#endif
