/*
 * pwfile: a password file of `user:crypt-hash` lines (yescrypt, bcrypt,
 * anything libcrypt knows), as [auth] passwd and [web] admins use it:
 * parsed from its text (the master reads the file as root), checked with
 * crypt_r() so any thread may check at once, and written one line at a
 * time by mailoutctl. No I/O.
 */
#ifndef MAILOUT_AUTH_PWFILE_H
#define MAILOUT_AUTH_PWFILE_H

#include <stdbool.h>
#include <stddef.h>

#define PWFILE_NAME_MAX 256 /* a user name, with its NUL */
#define PWFILE_HASH_MAX 256

struct pwfile;

/* Parse the text; blank lines and lines starting with '#' are skipped.
 * NULL with "line N: ..." in err (maker: the command that makes a line,
 * named in the message). */
struct pwfile *pwfile_parse(const char *text, const char *maker, char *err, size_t errlen);
void pwfile_free(struct pwfile *);
size_t pwfile_count(const struct pwfile *);
/* True if user is listed and password matches its hash. Takes as long for
 * an unknown user as for a wrong password. Read-only: thread-safe. NULL
 * (no file) knows nobody. */
bool pwfile_check(const struct pwfile *, const char *user, const char *password);
/* A name that reads back from the file as written: printable ASCII
 * without spaces or ':', not starting with '#', shorter than PWFILE_NAME_MAX. */
bool pwfile_name_valid(const char *user);
/* "user:hash" for password with a new yescrypt salt; false on failure or
 * for a name pwfile_name_valid() refuses. */
bool pwfile_make_line(const char *user, const char *password, char *out, size_t size);

#endif
