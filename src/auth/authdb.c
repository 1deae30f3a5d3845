#include "auth/authdb.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pwfile.h"
#include "util/fsx.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define AUTH_FILE_MAX (16 * 1024 * 1024)
#define PASSWD_MAKER  "mailoutctl auth passwd"

struct authdb {
	enum auth_backend backend;
	enum auth_senders senders;
	struct pwfile *pw;
	struct sendermap *map;
	struct ldapauth *ldap;
};

static bool
read_file(const char *key, const char *path, char **out, char *err, size_t errlen)
{
	size_t n;

	if (path[0] == '\0')
		return true;
	if ((*out = fsx_read_file(path, AUTH_FILE_MAX, &n)) == NULL) {
		str_fmt(err, errlen, "[auth] %s %s: %s", key, path,
		        errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		return false;
	}
	return true;
}

bool
auth_files_load(const struct config *cfg, struct auth_files *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (cfg->auth_backend == AUTHB_NONE)
		return true;
	if (!read_file("passwd", cfg->auth_passwd, &f->passwd, err, errlen) ||
	    !read_file("sender_map", cfg->auth_sender_map, &f->sender_map, err, errlen) ||
	    !read_file("ldap_service_password_file", cfg->ldap_service_password_file,
	               &f->service_password, err, errlen)) {
		auth_files_free(f);
		return false;
	}
	if (f->service_password)
		f->service_password[strcspn(f->service_password, "\r\n")] = '\0';
	/* Parse once here, so that a bad file stops a start or a reload. */
	struct authdb *check = authdb_new(cfg, f, err, errlen);
	if (check == NULL) {
		auth_files_free(f);
		return false;
	}
	authdb_free(check);
	return true;
}

static void
wipe(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
	}
	*p = NULL;
}

void
auth_files_free(struct auth_files *f)
{
	wipe(&f->passwd);
	wipe(&f->sender_map);
	wipe(&f->service_password);
}

struct authdb *
authdb_new(const struct config *cfg, const struct auth_files *f, char *err, size_t errlen)
{
	struct authdb *a;
	char why[256];

	err[0] = '\0';
	if (cfg->auth_backend == AUTHB_NONE)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->backend = cfg->auth_backend;
	a->senders = cfg->auth_senders;
	if (f->passwd &&
	    (a->pw = pwfile_parse(f->passwd, PASSWD_MAKER, why, sizeof(why))) == NULL) {
		str_fmt(err, errlen, "[auth] passwd %s: %s", cfg->auth_passwd, why);
		authdb_free(a);
		return NULL;
	}
	if (f->sender_map && (a->map = sendermap_parse(f->sender_map, why, sizeof(why))) == NULL) {
		str_fmt(err, errlen, "[auth] sender_map %s: %s", cfg->auth_sender_map, why);
		authdb_free(a);
		return NULL;
	}
	if (a->backend == AUTHB_LDAP)
		a->ldap = ldapauth_new(cfg, f->service_password);
	return a;
}

void
authdb_free(struct authdb *a)
{
	if (a == NULL)
		return;
	pwfile_free(a->pw);
	sendermap_free(a->map);
	ldapauth_free(a->ldap);
	free(a);
}

void
authdb_check(struct authdb *a, const char *user, const char *password, struct auth_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	senders_init(&ans->senders);
	ans->any_sender = a->senders == AUTHS_ANY;
	if (a->backend == AUTHB_FILE) {
		ans->status = pwfile_check(a->pw, user, password) ? AUTH_OK : AUTH_BAD;
		str_copy(ans->why, sizeof(ans->why),
		         ans->status == AUTH_OK ? "password file"
		                                : "not in the password file, or "
		                                  "a wrong password");
	} else {
		ans->status = ldapauth_check(a->ldap, user, password, NULL,
		                             a->senders == AUTHS_OWN ? &ans->senders : NULL,
		                             ans->why, sizeof(ans->why));
		if (ans->status == AUTH_OK)
			str_copy(ans->why, sizeof(ans->why), "directory");
	}
	if (ans->status == AUTH_OK && a->senders != AUTHS_ANY)
		sendermap_get(a->map, user, &ans->senders);
}

void
auth_answer_free(struct auth_answer *ans)
{
	senders_free(&ans->senders);
}

enum auth_status
authdb_check_group(struct authdb *a, const char *user, const char *password, const char *group_dn,
                   char *why, size_t whylen)
{
	if (a == NULL || a->ldap == NULL) {
		str_copy(why, whylen, "no directory");
		return AUTH_BAD;
	}
	return ldapauth_check(a->ldap, user, password, group_dn, NULL, why, whylen);
}
