/*
 * authdb: who may authenticate and as which senders, as [auth] says: the
 * backend (a password file or the directory), and the sender policy
 * (any, own, map). Built from the files' texts the master read as root
 * (struct auth_files); checks block (crypt, LDAP) and run on a pool
 * thread, never on an event loop.
 */
#ifndef MAILOUT_AUTH_AUTHDB_H
#define MAILOUT_AUTH_AUTHDB_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/ldapauth.h"
#include "auth/senders.h"
#include "config/config.h"

/* What only root may read, read by the master before the fork. */
struct auth_files {
	char *passwd;           /* [auth] passwd */
	char *sender_map;       /* [auth] sender_map */
	char *service_password; /* first line of ldap_service_password_file */
};

/* Read the files cfg names (none without [auth]); false with err. */
bool auth_files_load(const struct config *, struct auth_files *, char *err, size_t errlen);
void auth_files_free(struct auth_files *);

struct authdb;

/* NULL with err when a file does not parse; NULL without [auth] too (err ""). */
struct authdb *authdb_new(const struct config *, const struct auth_files *, char *err,
                          size_t errlen);
void authdb_free(struct authdb *);

struct auth_answer {
	enum auth_status status;
	bool any_sender;        /* senders = any */
	struct senders senders; /* otherwise: what MAIL FROM may say */
	char why[256];          /* for the log: why not, or from where ("file", "directory") */
};

/* Check a password and learn the senders (on a pool thread). The answer
 * is initialised here; free it with auth_answer_free(). */
void authdb_check(struct authdb *, const char *user, const char *password, struct auth_answer *);
void auth_answer_free(struct auth_answer *);
/* A web admin by the directory: the password, and membership of group_dn. */
enum auth_status authdb_check_group(struct authdb *, const char *user, const char *password,
                                    const char *group_dn, char *why, size_t whylen);

#endif
