/*
 * webauth: who may use the admin pages once they logged in (the admins
 * file is an auth/pwfile.h): admin sessions
 * (random ids, idle timeout, bounded table), the per-address limit on
 * failed logins, and CSRF tokens (HMAC of the visitor's cookie). No I/O;
 * the caller gives the time.
 */
#ifndef MAILOUT_WEB_WEBAUTH_H
#define MAILOUT_WEB_WEBAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/pwfile.h"

#define ADMIN_NAME_MAX      PWFILE_NAME_MAX
#define SESSIONS_MAX        256
#define TOKEN_HEX           32 /* random ids: 16 bytes as hex */
#define CSRF_HEX            64
#define LINK_HEX            32 /* the signature of a mailed link */
#define LOGIN_SLOTS         1024
#define LOGIN_FAILURES      5   /* failed logins per address ... */
#define LOGIN_USER_FAILURES 10  /* ... and per user name, from any address ... */
#define LOGIN_WINDOW        900 /* ... within this many seconds */

struct session {
	char id[TOKEN_HEX + 1];
	char user[ADMIN_NAME_MAX];
	int64_t last_used;
};

struct sessions {
	struct session s[SESSIONS_MAX];
	int64_t timeout;
};

/* A random id as hex (TOKEN_HEX characters); false if the random source failed. */
bool token_new(char out[TOKEN_HEX + 1]);
/* Start a session for user (the oldest is dropped when the table is full). */
bool websession_start(struct sessions *, const char *user, int64_t now, char id[TOKEN_HEX + 1]);
/* The user of a live session (its idle time starts again), or NULL. */
const char *websession_user(struct sessions *, const char *id, int64_t now);
void websession_end(struct sessions *, const char *id);

/* Failed logins, counted per client address and per user name. An entry
 * is never taken over by another key while its window runs: when the table
 * is full, the oldest entry goes (its key loses at most what is left of
 * its window), so no address can reset another's count. */
struct login_slot {
	char key[ADMIN_NAME_MAX + 8]; /* "a:ADDRESS" or "u:USER"; "" free */
	unsigned failures;
	int64_t first;
};

struct login_limit {
	struct login_slot slot[LOGIN_SLOTS];
};

/* 0 if addr may try to log in as user now, else the seconds until it may
 * (the longer of the address's and the user name's wait). */
int64_t login_wait(const struct login_limit *, const char *addr, const char *user, int64_t now);
void login_failed(struct login_limit *, const char *addr, const char *user, int64_t now);
void login_succeeded(struct login_limit *, const char *addr, const char *user);

/* The CSRF token of a visitor (and admin session, "" if none). */
void csrf_token(const unsigned char secret[32], const char *visitor, const char *session,
                char out[CSRF_HEX + 1]);
/* A link's signature: HMAC-SHA256 of msg with key (a registry key). */
void link_sign(const unsigned char key[32], const char *msg, char out[LINK_HEX + 1]);
bool link_valid(const unsigned char key[32], const char *msg, const char *sig);
bool csrf_valid(const unsigned char secret[32], const char *visitor, const char *session,
                const char *token);

#endif
