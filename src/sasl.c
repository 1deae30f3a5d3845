#include "sasl.h"

#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"

#define PLAIN_MAX (3 * SASL_USER_MAX + SASL_PASS_MAX) /* authzid, authcid, passwd */

static const char CHALLENGE_EMPTY[] = "";
static const char CHALLENGE_USER[] = "VXNlcm5hbWU6"; /* "Username:" */
static const char CHALLENGE_PASS[] = "UGFzc3dvcmQ6"; /* "Password:" */

const char *
sasl_mech_name(enum sasl_mech m)
{
	return m == SASL_PLAIN ? "PLAIN" : m == SASL_LOGIN ? "LOGIN" : "none";
}

/* A name or password may hold any UTF-8 but no NUL and no line end. */
static bool
text_ok(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return false;
	return true;
}

static bool
take(char *dst, size_t size, const unsigned char *p, size_t n)
{
	if (n >= size || !text_ok(p, n))
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. An authzid other than the
 * user itself would ask to act for someone else: refused. */
static enum sasl_result
plain_message(struct sasl *s, const unsigned char *m, size_t n)
{
	const unsigned char *nul1 = memchr(m, '\0', n);
	const unsigned char *nul2 =
	    nul1 ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - m)) : NULL;

	if (nul2 == NULL)
		return SASL_BAD_MESSAGE;
	size_t zlen = (size_t)(nul1 - m), ulen = (size_t)(nul2 - nul1 - 1);
	size_t plen = n - (size_t)(nul2 + 1 - m);
	if (ulen == 0 || plen == 0 || !take(s->user, sizeof(s->user), nul1 + 1, ulen) ||
	    !take(s->pass, sizeof(s->pass), nul2 + 1, plen))
		return SASL_BAD_MESSAGE;
	if (zlen > 0 && (zlen != ulen || memcmp(m, nul1 + 1, zlen) != 0))
		return SASL_BAD_MESSAGE;
	return SASL_DONE;
}

/* One decoded answer for the current step. */
static enum sasl_result
answer(struct sasl *s, const unsigned char *m, size_t n, const char **challenge)
{
	if (s->mech == SASL_PLAIN)
		return plain_message(s, m, n);
	if (s->step == 0) {
		if (n == 0 || !take(s->user, sizeof(s->user), m, n))
			return SASL_BAD_MESSAGE;
		s->step = 1;
		*challenge = CHALLENGE_PASS;
		return SASL_CHALLENGE;
	}
	if (n == 0 || !take(s->pass, sizeof(s->pass), m, n))
		return SASL_BAD_MESSAGE;
	return SASL_DONE;
}

/* Decode a response ("=" alone is the empty one) and take it. */
static enum sasl_result
response(struct sasl *s, const char *text, size_t len, const char **challenge)
{
	unsigned char m[PLAIN_MAX];
	size_t n = 0;

	if (!(len == 1 && text[0] == '=') && !base64_decode(text, len, m, sizeof(m), &n))
		return SASL_BAD_BASE64;
	enum sasl_result r = answer(s, m, n, challenge);
	OPENSSL_cleanse(m, sizeof(m));
	return r;
}

enum sasl_result
sasl_start(struct sasl *s, const char *arg, size_t len, const char **challenge)
{
	size_t mlen = 0;

	memset(s, 0, sizeof(*s));
	while (mlen < len && arg[mlen] != ' ')
		mlen++;
	if (mlen == 0)
		return SASL_SYNTAX;
	if (mlen == 5 && strncasecmp(arg, "PLAIN", 5) == 0)
		s->mech = SASL_PLAIN;
	else if (mlen == 5 && strncasecmp(arg, "LOGIN", 5) == 0)
		s->mech = SASL_LOGIN;
	else
		return SASL_BAD_MECH;
	if (mlen == len) {
		*challenge = s->mech == SASL_PLAIN ? CHALLENGE_EMPTY : CHALLENGE_USER;
		return SASL_CHALLENGE;
	}
	const char *ir = arg + mlen + 1;
	size_t irlen = len - mlen - 1;
	if (irlen == 0 || memchr(ir, ' ', irlen) != NULL)
		return SASL_SYNTAX;
	return response(s, ir, irlen, challenge);
}

enum sasl_result
sasl_continue(struct sasl *s, const char *line, size_t len, const char **challenge)
{
	if (len == 1 && line[0] == '*')
		return SASL_CANCELLED;
	return response(s, line, len, challenge);
}

void
sasl_clear(struct sasl *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}
