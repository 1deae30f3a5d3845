/*
 * generation: everything the children of one config need, built by the
 * master as root: the config, the listeners with their TLS contexts and
 * sockets (master/sockets.h), the relay's client context, the web files
 * only root may read, [auth]'s files, the service user; the spool's and outboxes'
 * folders made safely (util/safedir.h); then, in the process that stays,
 * the spool lock and what the service user prepares itself (the sweep of
 * incoming/, the registry's migration). A reload builds the next
 * generation beside the running one and switches only when it is whole.
 */
#ifndef MAILOUT_MASTER_GENERATION_H
#define MAILOUT_MASTER_GENERATION_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/types.h>

#include "auth/authdb.h"
#include "config/config.h"
#include "master/sockets.h"
#include "smtp/listener.h"
#include "web/web.h"

/* The spool lock the master holds (spool_lock()), -1 before the first. */
struct spool_hold {
	int fd;
	dev_t dev; /* of the locked spool folder */
	ino_t ino;
};

struct generation {
	struct config *cfg;
	struct listener *listeners;
	SSL_CTX *client_ctx;
	SSL_CTX *legacy_ctx; /* shared by every listener with TLS */
	int web_fd;          /* -1: no [web] */
	struct web_files web_files;
	struct auth_files auth_files; /* [auth]'s files, for the workers and the web */
	uid_t uid;
	gid_t gid;
	bool is_dropping;
	int lock_fd; /* a new spool lock this generation took, or -1 */
};

/* Load config_path and build everything the children need; false with
 * err (config errors are logged one per line). */
bool generation_build(struct generation *, const char *config_path, struct sockets *, char *err,
                      size_t errlen);
/* Take the spool (unless held already holds this folder) and let the
 * service user prepare it (the sweep only when is_first): in the process
 * that stays, after daemonizing, since the POSIX lock is one process's. */
bool generation_claim(struct generation *, const struct spool_hold *held, bool is_first, char *err,
                      size_t errlen);
/* The generation's new lock, if it took one, becomes the held one. */
void generation_take_lock(struct generation *, struct spool_hold *);
void generation_free(struct generation *);
/* In a child: become the service user for good (fatal if it fails). */
void generation_drop_privileges(const struct generation *);

#endif
