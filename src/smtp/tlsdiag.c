#include "smtp/tlsdiag.h"

#include "hello.h"
#include "log.h"
#include "util/str.h"

/* What a failed handshake says about the client (hello.h). */
void
tlsdiag_handshake_failed(struct session *s)
{
	const struct hello *h = conn_tls_hello(s->conn);
	unsigned min = s->is_legacy_device ? TLS1_VERSION : s->l->conf->min_tls_version;

	if (conn_tls_is_not_tls(s->conn) && s->l->conf->tls == LTLS_IMPLICIT)
		str_copy(s->tls_diag, sizeof(s->tls_diag),
		         "plaintext on the implicit-TLS port: set the device to \"SSL\" (SSL/TLS) "
		         "for this port, or to STARTTLS (\"TLS\") on the submission port");
	else if (h->is_seen)
		hello_diagnose(h, min, s->tls_diag, sizeof(s->tls_diag));
}

/* A ClientHello where SMTP was expected: the device wants implicit TLS. */
bool
tlsdiag_tls_on_plaintext_port(struct session *s)
{
	size_t n;
	const unsigned char *p = (const unsigned char *)conn_input_peek(s->conn, 3, &n);

	if (s->is_tls || s->has_helo || p == NULL || n < 3 || p[0] != 0x16 || p[1] != 0x03 ||
	    p[2] > 0x04)
		return false;
	str_copy(s->tls_diag, sizeof(s->tls_diag),
	         "a TLS ClientHello on a port without implicit TLS: set the device to STARTTLS "
	         "(\"TLS\") here, or to \"SSL\" on the implicit-TLS port");
	log_info("event=tls-failed " SFMT " reason=\"TLS record on a plaintext port\" "
	         "offered=\"%s\"",
	         SARG(s), s->tls_diag);
	return true;
}
