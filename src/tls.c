#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "util/fsx.h"
#include "util/str.h"

/* TLS 1.2 suites for everyone (TLS 1.3 suites are OpenSSL's defaults):
 * forward secrecy and AEAD first, CBC with SHA-2 for older TLS 1.2 clients. */
#define CIPHERS_MODERN "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:ECDHE+AES:!aNULL:!SHA1:!3DES:!RC4"
/* A listener that admits TLS 1.0 must really work with old devices: RSA key
 * exchange and SHA-1 suites, at security level 0 (OpenSSL 3 refuses TLS 1.0
 * at its default level). Never SSLv3, RC4, 3DES or export suites. */
#define CIPHERS_LEGACY                                                                             \
	"ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:AES256-SHA:AES128-SHA:AES128-SHA256:"               \
	"AES256-SHA256:!aNULL:!eNULL:!3DES:!RC4:!EXPORT:!MD5:@SECLEVEL=0"

void
tls_last_error(char *dst, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		str_copy(dst, size, "unknown error");
	else
		ERR_error_string_n(e, dst, size);
	ERR_clear_error();
}

/* The private key at path into ctx. Read with read(2) into one buffer that
 * is wiped afterwards, and decoded from memory: no stdio buffer is left
 * behind with the key in it for a child process to inherit. */
static bool
use_key_file(SSL_CTX *ctx, const char *path, char *why, size_t size)
{
	size_t len = 0;
	char *pem = fsx_read_file(path, 1024 * 1024, &len);
	BIO *bio;
	EVP_PKEY *key = NULL;
	bool ok;

	if (pem == NULL) {
		str_copy(why, size, strerror(errno));
		return false;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1;
	if (!ok)
		tls_last_error(why, size);
	EVP_PKEY_free(key);
	BIO_free(bio);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return ok;
}

static bool
load_pairs(SSL_CTX *ctx, const struct config *cfg, char *err, size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < cfg->n_certificate; i++) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg->certificate[i]) != 1) {
			tls_last_error(why, sizeof(why));
			str_fmt(err, errlen, "certificate %s: %s", cfg->certificate[i], why);
			return false;
		}
		if (!use_key_file(ctx, cfg->key[i], why, sizeof(why))) {
			str_fmt(err, errlen, "key %s: %s", cfg->key[i], why);
			return false;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			str_fmt(err, errlen, "key %s does not match certificate %s", cfg->key[i],
			        cfg->certificate[i]);
			return false;
		}
	}
	return true;
}

bool
tls_check_pair(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];
	bool ok = false;

	if (ctx == NULL) {
		str_copy(err, errlen, "SSL_CTX_new failed");
		return false;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_last_error(why, sizeof(why));
		str_fmt(err, errlen, "certificate %s: %s", cert, why);
	} else if (!use_key_file(ctx, key, why, sizeof(why))) {
		str_fmt(err, errlen, "key %s: %s", key, why);
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		str_fmt(err, errlen, "key %s does not match certificate %s", key, cert);
	} else {
		ok = true;
	}
	SSL_CTX_free(ctx);
	return ok;
}

/* What the client offers, into the struct hello its connection gave the
 * SSL as app data (smtp/conn.c), before the version is chosen: so a failed
 * handshake can say why (hello.h). Never refuses anything itself. */
static int
on_client_hello(SSL *ssl, int *alert, void *arg)
{
	struct hello *h = SSL_get_app_data(ssl);
	const unsigned char *p = NULL;
	size_t n = 0;

	(void)alert;
	(void)arg;
	if (h == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	memset(h, 0, sizeof(*h));
	bool has_versions = SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &p, &n);
	hello_versions(h, SSL_client_hello_get0_legacy_version(ssl), has_versions ? p : NULL,
	               has_versions ? n : 0);
	n = SSL_client_hello_get0_ciphers(ssl, &p);
	hello_ciphers(h, p, n);
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n))
		hello_sni(h, p, n);
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_signature_algorithms, &p, &n))
		hello_sigalgs(h, p, n);
	return SSL_CLIENT_HELLO_SUCCESS;
}

static SSL_CTX *
server_ctx(const struct config *cfg, unsigned min_version, const char *name, char *err,
           size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	bool is_legacy = min_version < TLS1_2_VERSION;
	static const unsigned char sid_ctx[] = "mailout";

	if (ctx == NULL) {
		str_copy(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
	if (is_legacy)
		SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_min_proto_version(ctx, (int)min_version) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, is_legacy ? CIPHERS_LEGACY : CIPHERS_MODERN) != 1) {
		str_fmt(err, errlen, "%s: cannot set TLS version or ciphers", name);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Resumption across worker processes: stateless tickets whose keys are
	 * made here, before the fork, so every worker shares them. No server
	 * session cache (per process, and swept every 255 handshakes), and one
	 * ticket per handshake instead of two. */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	if (!load_pairs(ctx, cfg, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_server_ctx_new(const struct config *cfg, const struct listener_conf *l, char *err,
                   size_t errlen)
{
	char name[CONF_NAME_MAX + 16];

	str_fmt(name, sizeof(name), "listener %s", l->name);
	return server_ctx(cfg, l->min_tls_version, name, err, errlen);
}

SSL_CTX *
tls_legacy_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	return server_ctx(cfg, TLS1_VERSION, "legacy TLS", err, errlen);
}

SSL_CTX *
tls_client_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		str_copy(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (cfg->relay_tls == RTLS_VERIFY) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->relay_ca_file, NULL) != 1) {
			char why[256];
			tls_last_error(why, sizeof(why));
			str_fmt(err, errlen, "ca_file %s: %s", cfg->relay_ca_file, why);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

void
tls_describe(const SSL *ssl, char *dst, size_t size)
{
	str_fmt(dst, size, "%s/%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
