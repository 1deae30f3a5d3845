#include "web/webauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "util/str.h"

/* ---- sessions ---- */

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

bool
token_new(char out[TOKEN_HEX + 1])
{
	unsigned char raw[TOKEN_HEX / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	hex(raw, sizeof(raw), out);
	return true;
}

bool
websession_start(struct sessions *ss, const char *user, int64_t now, char id[TOKEN_HEX + 1])
{
	struct session *slot = &ss->s[0];

	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &ss->s[i];
		if (s->id[0] == '\0' || now - s->last_used > ss->timeout) {
			slot = s;
			break;
		}
		if (s->last_used < slot->last_used)
			slot = s;
	}
	if (!token_new(id))
		return false;
	memcpy(slot->id, id, TOKEN_HEX + 1);
	str_copy(slot->user, sizeof(slot->user), user);
	slot->last_used = now;
	return true;
}

static struct session *
session_find(struct sessions *ss, const char *id)
{
	if (id == NULL || strlen(id) != TOKEN_HEX)
		return NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		if (ss->s[i].id[0] && CRYPTO_memcmp(ss->s[i].id, id, TOKEN_HEX) == 0)
			return &ss->s[i];
	return NULL;
}

const char *
websession_user(struct sessions *ss, const char *id, int64_t now)
{
	struct session *s = session_find(ss, id);

	if (s == NULL)
		return NULL;
	if (now - s->last_used > ss->timeout) {
		memset(s, 0, sizeof(*s));
		return NULL;
	}
	s->last_used = now;
	return s->user;
}

void
websession_end(struct sessions *ss, const char *id)
{
	struct session *s = session_find(ss, id);

	if (s)
		memset(s, 0, sizeof(*s));
}

/* ---- failed logins ---- */

static void
login_key(char *dst, size_t size, char kind, const char *name)
{
	str_fmt(dst, size, "%c:%s", kind, name);
}

/* The live entry of key, or NULL. */
static const struct login_slot *
entry_find(const struct login_limit *l, const char *key, int64_t now)
{
	for (size_t i = 0; i < LOGIN_SLOTS; i++)
		if (strcmp(l->slot[i].key, key) == 0 && now - l->slot[i].first < LOGIN_WINDOW)
			return &l->slot[i];
	return NULL;
}

static int64_t
wait_for_key(const struct login_limit *l, const char *key, unsigned max, int64_t now)
{
	const struct login_slot *e = entry_find(l, key, now);

	if (e == NULL || e->failures < max)
		return 0;
	return LOGIN_WINDOW - (now - e->first);
}

int64_t
login_wait(const struct login_limit *l, const char *addr, const char *user, int64_t now)
{
	char ka[ADMIN_NAME_MAX + 8], ku[ADMIN_NAME_MAX + 8];
	int64_t a, u;

	login_key(ka, sizeof(ka), 'a', addr);
	login_key(ku, sizeof(ku), 'u', user);
	a = wait_for_key(l, ka, LOGIN_FAILURES, now);
	u = wait_for_key(l, ku, LOGIN_USER_FAILURES, now);
	return a > u ? a : u;
}

/* Count one failure of key: its live entry, else a free or expired slot,
 * else the oldest entry. Never another key's live entry otherwise. */
static void
count_failure(struct login_limit *l, const char *key, int64_t now)
{
	size_t pick = LOGIN_SLOTS, oldest = 0;

	for (size_t i = 0; i < LOGIN_SLOTS; i++) {
		bool is_live = l->slot[i].key[0] && now - l->slot[i].first < LOGIN_WINDOW;

		if (is_live && strcmp(l->slot[i].key, key) == 0) {
			l->slot[i].failures++;
			return;
		}
		if (!is_live && pick == LOGIN_SLOTS)
			pick = i;
		if (l->slot[i].first < l->slot[oldest].first)
			oldest = i;
	}
	if (pick == LOGIN_SLOTS)
		pick = oldest;
	str_copy(l->slot[pick].key, sizeof(l->slot[pick].key), key);
	l->slot[pick].failures = 1;
	l->slot[pick].first = now;
}

void
login_failed(struct login_limit *l, const char *addr, const char *user, int64_t now)
{
	char k[ADMIN_NAME_MAX + 8];

	login_key(k, sizeof(k), 'a', addr);
	count_failure(l, k, now);
	login_key(k, sizeof(k), 'u', user);
	count_failure(l, k, now);
}

void
login_succeeded(struct login_limit *l, const char *addr, const char *user)
{
	char ka[ADMIN_NAME_MAX + 8], ku[ADMIN_NAME_MAX + 8];

	login_key(ka, sizeof(ka), 'a', addr);
	login_key(ku, sizeof(ku), 'u', user);
	for (size_t i = 0; i < LOGIN_SLOTS; i++)
		if (strcmp(l->slot[i].key, ka) == 0 || strcmp(l->slot[i].key, ku) == 0)
			memset(&l->slot[i], 0, sizeof(l->slot[i]));
}

/* ---- CSRF ---- */

void
csrf_token(const unsigned char secret[32], const char *visitor, const char *session,
           char out[CSRF_HEX + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char msg[256];

	str_fmt(msg, sizeof(msg), "csrf|%s|%s", visitor, session ? session : "");
	HMAC(EVP_sha256(), secret, 32, (const unsigned char *)msg, strlen(msg), mac, &len);
	hex(mac, CSRF_HEX / 2, out);
}

bool
csrf_valid(const unsigned char secret[32], const char *visitor, const char *session,
           const char *token)
{
	char want[CSRF_HEX + 1];

	if (visitor == NULL || visitor[0] == '\0' || token == NULL || strlen(token) != CSRF_HEX)
		return false;
	csrf_token(secret, visitor, session, want);
	return CRYPTO_memcmp(want, token, CSRF_HEX) == 0;
}

/* ---- signed links ---- */

void
link_sign(const unsigned char key[32], const char *msg, char out[LINK_HEX + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), key, 32, (const unsigned char *)msg, strlen(msg), mac, &len);
	hex(mac, LINK_HEX / 2, out);
}

bool
link_valid(const unsigned char key[32], const char *msg, const char *sig)
{
	char want[LINK_HEX + 1];

	if (sig == NULL || strlen(sig) != LINK_HEX)
		return false;
	link_sign(key, msg, want);
	return CRYPTO_memcmp(want, sig, LINK_HEX) == 0;
}
