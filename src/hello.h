/*
 * hello: what a TLS client offered in its ClientHello, for the operator of
 * a device whose handshake failed: the lowest and highest TLS version, the
 * kinds of cipher suites (AEAD, CBC, 3DES, RC4, export or NULL), the
 * signature algorithms' count, the server name (SNI); and one sentence of
 * diagnosis and advice. Also the two mistakes that are no handshake at
 * all: a TLS record on a plaintext port, plaintext on the implicit-TLS
 * port. Pure: the caller hands in the raw fields (as OpenSSL's ClientHello
 * callback gives them); every parser is bounded and fuzzed.
 */
#ifndef MAILOUT_HELLO_H
#define MAILOUT_HELLO_H

#include <stdbool.h>
#include <stddef.h>

#define HELLO_SNI_MAX 256

struct hello {
	bool is_seen;
	unsigned min_version, max_version; /* 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3) */
	bool is_listed; /* versions from supported_versions; else max is legacy_version */
	unsigned n_ciphers;
	bool has_aead, has_cbc, has_3des, has_rc4, has_weak; /* weak: export, NULL, DES */
	unsigned n_sigalgs;
	char sni[HELLO_SNI_MAX]; /* printable ASCII, "" when none */
};

/* legacy_version and the supported_versions extension's body (NULL if the
 * client sent none): TLS 1.3 clients list their versions there. */
void hello_versions(struct hello *, unsigned legacy_version, const unsigned char *ext, size_t len);
/* The cipher suite list: two bytes each. */
void hello_ciphers(struct hello *, const unsigned char *list, size_t len);
/* The server_name extension's body. */
void hello_sni(struct hello *, const unsigned char *ext, size_t len);
/* The signature_algorithms extension's body. */
void hello_sigalgs(struct hello *, const unsigned char *ext, size_t len);

/* "TLS 1.0", "TLS 1.2", "SSL 3.0", ... */
const char *hello_version_name(unsigned version);
/* One sentence for the operator: what was offered and what to do, given
 * the listener's lowest version (0x0301 .. 0x0304). */
void hello_diagnose(const struct hello *, unsigned server_min_version, char *out, size_t size);

#endif
