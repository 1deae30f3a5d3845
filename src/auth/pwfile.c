#include "auth/pwfile.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util/hashmap.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define LINE_MAX_PW (PWFILE_NAME_MAX + PWFILE_HASH_MAX + 2)

struct pwfile {
	struct hashmap *hash_of;     /* user -> char *hash */
	char dummy[PWFILE_HASH_MAX]; /* checked for an unknown user: same cost */
};

static bool
take_line(struct pwfile *pw, char *line, unsigned n, const char *maker, char *err, size_t errlen)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || colon == line) {
		str_fmt(err, errlen, "line %u: expected user:crypt-hash", n);
		return false;
	}
	*colon = '\0';
	const char *hash = colon + 1;
	if (hash[0] != '$' || strchr(hash, ':') != NULL) {
		str_fmt(err, errlen, "line %u: '%s' has no crypt hash (make one with %s)", n, line,
		        maker);
		return false;
	}
	if (!pwfile_name_valid(line) || strlen(hash) >= PWFILE_HASH_MAX) {
		str_fmt(err, errlen, "line %u: user name or hash not valid or too long", n);
		return false;
	}
	if (hashmap_get(pw->hash_of, line) != NULL) {
		str_fmt(err, errlen, "line %u: '%s' is listed twice", n, line);
		return false;
	}
	hashmap_put(pw->hash_of, line, xstrdup(hash));
	if (pw->dummy[0] == '\0')
		str_copy(pw->dummy, sizeof(pw->dummy), hash);
	return true;
}

struct pwfile *
pwfile_parse(const char *text, const char *maker, char *err, size_t errlen)
{
	struct pwfile *pw = xcalloc(1, sizeof(*pw));
	unsigned n = 0;

	pw->hash_of = hashmap_new();
	while (*text) {
		size_t len = strcspn(text, "\n");
		char line[LINE_MAX_PW];
		const char *next = text[len] ? text + len + 1 : text + len;

		n++;
		if (len >= sizeof(line)) {
			str_fmt(err, errlen, "line %u: too long", n);
			pwfile_free(pw);
			return NULL;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		text = next;
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		bool ok = take_line(pw, line, n, maker, err, errlen);
		OPENSSL_cleanse(line, sizeof(line)); /* a hash: no copy left behind */
		if (!ok) {
			pwfile_free(pw);
			return NULL;
		}
	}
	return pw;
}

static void
free_hash(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	OPENSSL_cleanse(value, strlen(value));
	free(value);
}

void
pwfile_free(struct pwfile *pw)
{
	if (pw == NULL)
		return;
	hashmap_each(pw->hash_of, free_hash, NULL);
	hashmap_free(pw->hash_of);
	OPENSSL_cleanse(pw, sizeof(*pw));
	free(pw);
}

size_t
pwfile_count(const struct pwfile *pw)
{
	return pw ? hashmap_count(pw->hash_of) : 0;
}

bool
pwfile_check(const struct pwfile *pw, const char *user, const char *password)
{
	const char *hash = pw ? hashmap_get(pw->hash_of, user) : NULL;
	const char *dummy = pw && pw->dummy[0] ? pw->dummy : "$y$j9T$AAAAAAAAAAAAAAAAAAAAAA$";
	struct crypt_data *cd = xcalloc(1, sizeof(*cd)); /* 32 KiB: not on a thread's stack */
	bool ok;

	/* An unknown user costs one hash too, so timing does not tell. */
	const char *out = crypt_r(password, hash ? hash : dummy, cd);
	ok = hash != NULL && out != NULL && out[0] != '*' && strlen(out) == strlen(hash) &&
	     CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool
pwfile_name_valid(const char *user)
{
	size_t n = strlen(user);

	if (n == 0 || n >= PWFILE_NAME_MAX || user[0] == '#')
		return false;
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ':')
			return false;
	return true;
}

bool
pwfile_make_line(const char *user, const char *password, char *out, size_t size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	bool ok;

	if (!pwfile_name_valid(user) ||
	    crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return false;
	cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, salt, cd);
	ok = h && h[0] == '$' && str_fmt(out, size, "%s:%s", user, h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}
