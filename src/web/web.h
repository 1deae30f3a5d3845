/*
 * web: the registration and admin pages (libmicrohttpd), run in their own
 * unprivileged process started by the master. The master binds the socket
 * and reads the files only root may read (TLS key, admins file) before the
 * fork; this process only serves.
 */
#ifndef MAILOUT_WEB_WEB_H
#define MAILOUT_WEB_WEB_H

#include "auth/authdb.h"
#include "config/config.h"

struct web_files {
	char *cert_pem; /* NULL: plain HTTP */
	char *key_pem;
	char *admins; /* text of [web] admins, NULL if not set */
};

/* Read what web_run() needs from the files cfg names; false with err. */
bool web_files_load(const struct config *, struct web_files *, char *err, size_t errlen);
void web_files_free(struct web_files *);

/* Serve on the listening socket fd until SIGTERM. Returns the exit code.
 * auth: [auth]'s files, for admins by directory group (wiped here). */
int web_run(const struct config *, int fd, const struct web_files *, struct auth_files *auth);

#endif
