#include "master/generation.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/registry.h"
#include "log.h"
#include "spool/spool.h"
#include "tls.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/xmalloc.h"

static struct safedir_owner
owner_of(const struct generation *g)
{
	return (struct safedir_owner){g->is_dropping, g->uid, g->gid};
}

/* As root: the spool's folders, the outbox folders of dir: routes and the
 * registry's folder, made and checked without following anything the
 * service user could have put there (util/safedir.h). */
static bool
prepare_dirs(const struct generation *g, char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;
	struct safedir_owner o = owner_of(g);

	if (!spool_prepare_dirs(cfg->spool, &o, err, errlen))
		return false;
	for (size_t i = 0; i <= cfg->n_routes; i++) {
		const struct route_conf *r =
		    i < cfg->n_routes ? &cfg->routes[i] : &cfg->default_route;
		int fd;

		if (r->kind != NEXT_HOP_DIR)
			continue;
		if ((fd = safedir_open(AT_FDCWD, r->dir, 0750, &o, r->dir, err, errlen)) < 0)
			return false;
		close(fd);
	}
	return cfg->registry_db[0] == '\0' ||
	       registry_prepare_dir(cfg->registry_db, &o, err, errlen);
}

/* Take the spool for this daemon, unless the running generation holds it
 * already (the same folder: a second open and close would drop the POSIX
 * lock). */
static bool
lock_spool(const struct spool_hold *m, struct generation *g, char *err, size_t errlen)
{
	struct stat st;

	g->lock_fd = -1;
	if (stat(g->cfg->spool, &st) != 0) {
		str_fmt(err, errlen, "spool %s: %s", g->cfg->spool, strerror(errno));
		return false;
	}
	if (m->fd >= 0 && st.st_dev == m->dev && st.st_ino == m->ino)
		return true;
	return (g->lock_fd = spool_lock(g->cfg->spool, err, errlen)) >= 0;
}

/* The new generation's lock, if it took one, replaces the master's. */
void
generation_take_lock(struct generation *g, struct spool_hold *m)
{
	struct stat st;

	if (g->lock_fd < 0)
		return;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = g->lock_fd;
	g->lock_fd = -1;
	if (stat(g->cfg->spool, &st) == 0) {
		m->dev = st.st_dev;
		m->ino = st.st_ino;
	}
}

/* What the service user does before the children start: at the first
 * start, sweep incoming/; create or migrate the registry. */
static int
user_setup(const struct config *cfg, bool sweep, char *err, size_t errlen)
{
	struct registry *r;
	unsigned swept = 0;
	int rc;

	if (sweep && (rc = spool_sweep(cfg->spool, &swept)) != 0) {
		str_fmt(err, errlen, "spool %s/incoming: %s", cfg->spool, strerror(rc));
		return 1;
	}
	if (swept)
		log_info("event=spool-swept dir=%s/incoming files=%u", cfg->spool, swept);
	if (cfg->registry_db[0] == '\0')
		return 0;
	if ((r = registry_open(cfg->registry_db, 5000, err, errlen)) == NULL)
		return 1;
	/* A shared registry that is away now is no reason not to start: the
	 * workers keep trying, and say "later" until they have read it. */
	if (!registry_is_up(r, err, errlen))
		log_warn("event=registry-error op=open error=\"%s\" note=\"starting without it; "
		         "retrying\"",
		         err);
	registry_close(r);
	return 0;
}

/* Run user_setup() in a child that has become the service user (root
 * never opens files in folders that user owns), and wait for it. */
static bool
prepare_as_user(const struct generation *g, bool sweep, char *err, size_t errlen)
{
	int p[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		str_fmt(err, errlen, "pipe: %s", strerror(errno));
		return false;
	}
	if ((pid = fork()) < 0) {
		str_fmt(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		char e[512] = "";
		close(p[0]);
		generation_drop_privileges(g);
		int rc = user_setup(g->cfg, sweep, e, sizeof(e));
		(void)!write(p[1], e, strlen(e));
		_exit(rc);
	}
	close(p[1]);
	err[0] = '\0';
	n = read(p[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (err[0] == '\0')
		str_fmt(err, errlen, "preparing as %s failed (status %d)", g->cfg->user, status);
	return false;
}

static bool
resolve_user(struct generation *g, char *err, size_t errlen)
{
	struct passwd *pw;

	g->is_dropping = geteuid() == 0;
	if (!g->is_dropping)
		return true;
	if ((pw = getpwnam(g->cfg->user)) == NULL) {
		str_fmt(err, errlen, "[gateway] user '%s' does not exist", g->cfg->user);
		return false;
	}
	if (pw->pw_uid == 0) {
		str_fmt(err, errlen, "[gateway] user must not be root");
		return false;
	}
	g->uid = pw->pw_uid;
	g->gid = pw->pw_gid;
	return true;
}

static bool
build_listeners(struct sockets *m, struct generation *g, char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;

	g->listeners = xcalloc(cfg->n_listener, sizeof(*g->listeners));
	for (size_t i = 0; i < cfg->n_listener; i++) {
		struct listener *l = &g->listeners[i];

		l->conf = &cfg->listener[i];
		if (l->conf->tls != LTLS_OFF &&
		    (l->ctx = tls_server_ctx_new(cfg, l->conf, err, errlen)) == NULL)
			return false;
		if (l->conf->tls != LTLS_OFF)
			l->legacy_ctx = g->legacy_ctx;
		for (size_t a = 0; a < l->conf->n_addr; a++) {
			int fd =
			    sockets_get(m, &l->conf->addr[a], l->conf->addr_len[a], err, errlen);
			if (fd < 0)
				return false;
			l->fd[l->n_fd++] = fd;
		}
	}
	return true;
}

static bool
cfg_has_tls(const struct config *cfg)
{
	return cfg->n_certificate > 0;
}

static bool
cfg_has_registry(const struct config *cfg)
{
	return cfg->registry_db[0] != '\0';
}

static bool
prepare_web(struct sockets *m, struct generation *g, char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;

	g->web_fd = -1;
	if (!cfg->web_enabled)
		return true;
	if (!web_files_load(cfg, &g->web_files, err, errlen))
		return false;
	g->web_fd = sockets_get(m, &cfg->web_addr, cfg->web_addr_len, err, errlen);
	return g->web_fd >= 0;
}

bool
generation_build(struct generation *g, const char *config_path, struct sockets *m, char *err,
                 size_t errlen)
{
	struct buf errs;
	unsigned n;

	memset(g, 0, sizeof(*g));
	g->web_fd = -1;
	g->lock_fd = -1;
	g->cfg = xcalloc(1, sizeof(*g->cfg));
	buf_init(&errs, 64 * 1024);
	n = config_load(config_path, g->cfg, &errs);
	if (n > 0) {
		/* One log line per config error. */
		for (char *line = errs.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			log_error("event=config-error error=\"%s\"", line);
		}
		str_fmt(err, errlen, "%u error(s) in %s", n, config_path);
		buf_free(&errs);
		return false;
	}
	buf_free(&errs);
	sockets_mark(m, false);
	if (cfg_has_tls(g->cfg) && cfg_has_registry(g->cfg) &&
	    (g->legacy_ctx = tls_legacy_ctx_new(g->cfg, err, errlen)) == NULL)
		return false;
	if (!resolve_user(g, err, errlen) || !prepare_dirs(g, err, errlen) ||
	    !build_listeners(m, g, err, errlen) || !prepare_web(m, g, err, errlen) ||
	    !auth_files_load(g->cfg, &g->auth_files, err, errlen))
		return false;
	if ((g->client_ctx = tls_client_ctx_new(g->cfg, err, errlen)) == NULL)
		return false;
	return true;
}

bool
generation_claim(struct generation *g, const struct spool_hold *held, bool is_first, char *err,
                 size_t errlen)
{
	return lock_spool(held, g, err, errlen) && prepare_as_user(g, is_first, err, errlen);
}

void
generation_free(struct generation *g)
{
	if (g->listeners) {
		for (size_t i = 0; i < g->cfg->n_listener; i++)
			SSL_CTX_free(g->listeners[i].ctx);
		free(g->listeners);
	}
	SSL_CTX_free(g->client_ctx);
	SSL_CTX_free(g->legacy_ctx);
	web_files_free(&g->web_files);
	auth_files_free(&g->auth_files);
	if (g->lock_fd >= 0)
		close(g->lock_fd); /* a reload that failed: another folder's lock */
	free(g->cfg);
	memset(g, 0, sizeof(*g));
}

void
generation_drop_privileges(const struct generation *g)
{
	if (!g->is_dropping)
		return;
	if (setgroups(1, &g->gid) != 0 || setgid(g->gid) != 0 || setuid(g->uid) != 0)
		log_fatal("event=child-error error=\"cannot drop privileges to %s: %s\"",
		          g->cfg->user, strerror(errno));
	if (setuid(0) == 0)
		log_fatal("event=child-error error=\"privileges were not dropped\"");
}
