/*
 * sasl: the server side of SMTP AUTH's exchanges (RFC 4954) for PLAIN
 * (RFC 4616) and LOGIN: the mechanism and its initial response, the
 * base64 challenges and answers, '*' to cancel. Yields a user name and a
 * password; checking them is the caller's (auth/). Pure: no I/O, no
 * logging; the password is wiped by sasl_clear().
 */
#ifndef MAILOUT_SASL_H
#define MAILOUT_SASL_H

#include <stddef.h>

#define SASL_USER_MAX 256 /* with the NUL */
#define SASL_PASS_MAX 256

enum sasl_mech { SASL_NONE, SASL_PLAIN, SASL_LOGIN };

enum sasl_result {
	SASL_CHALLENGE,   /* send "334 " and the challenge, read one more line */
	SASL_DONE,        /* user and password are set */
	SASL_CANCELLED,   /* the client sent '*' */
	SASL_BAD_BASE64,  /* not base64, or too long */
	SASL_BAD_MESSAGE, /* decoded, but not what the mechanism takes */
	SASL_BAD_MECH,    /* a mechanism we do not offer */
	SASL_SYNTAX,      /* AUTH without a mechanism, or with more than one response */
};

struct sasl {
	enum sasl_mech mech;
	unsigned step;
	char user[SASL_USER_MAX];
	char pass[SASL_PASS_MAX];
};

/* AUTH's argument: "MECH" or "MECH initial-response" ("=" for empty).
 * On SASL_CHALLENGE, *challenge is the base64 text for the 334 reply. */
enum sasl_result sasl_start(struct sasl *, const char *arg, size_t len, const char **challenge);
/* The client's next line (without CRLF). */
enum sasl_result sasl_continue(struct sasl *, const char *line, size_t len, const char **challenge);
/* Forget the exchange; the password's bytes are overwritten. */
void sasl_clear(struct sasl *);
const char *sasl_mech_name(enum sasl_mech);

#endif
