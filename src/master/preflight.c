#include "master/preflight.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/registry.h"
#include "auth/authdb.h"
#include "tls.h"
#include "util/str.h"
#include "web/web.h"

/* A folder mailoutd makes (one level) or takes as it is. */
static void
check_folder(const char *what, const char *path, struct buf *errs, unsigned *n)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			buf_printf(errs,
			           "%s %s is a symbolic link: mailoutd does not follow it; give "
			           "the real path\n",
			           what, path);
			(*n)++;
		} else if (!S_ISDIR(st.st_mode)) {
			buf_printf(errs, "%s %s is not a folder\n", what, path);
			(*n)++;
		}
		return;
	}
	if (errno != ENOENT) {
		buf_printf(errs, "%s %s: %s\n", what, path, strerror(errno));
		(*n)++;
		return;
	}
	str_copyn(parent, sizeof(parent), path,
	          slash && slash != path ? (size_t)(slash - path) : 1);
	if (slash == NULL)
		str_copy(parent, sizeof(parent), ".");
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
		buf_printf(errs,
		           "%s %s does not exist, nor does its folder %s (mailoutd makes only "
		           "the last one)\n",
		           what, path, parent);
		(*n)++;
	}
}

static void
check_file_folder(const char *what, const char *file, struct buf *errs, unsigned *n)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');
	struct stat st;

	str_copyn(dir, sizeof(dir), file, slash && slash != file ? (size_t)(slash - file) : 1);
	if (slash == NULL)
		str_copy(dir, sizeof(dir), ".");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		buf_printf(errs, "%s %s: its folder %s does not exist\n", what, file, dir);
		(*n)++;
	}
}

static void
check_tls(const struct config *cfg, struct buf *errs, unsigned *n)
{
	char err[512];
	SSL_CTX *ctx;

	for (size_t i = 0; i < cfg->n_listener; i++) {
		if (cfg->listener[i].tls == LTLS_OFF)
			continue;
		if ((ctx = tls_server_ctx_new(cfg, &cfg->listener[i], err, sizeof(err))) == NULL) {
			buf_printf(errs, "listener '%s': %s\n", cfg->listener[i].name, err);
			(*n)++;
			return; /* the same files for every listener: once is enough */
		}
		SSL_CTX_free(ctx);
	}
	if ((ctx = tls_client_ctx_new(cfg, err, sizeof(err))) == NULL) {
		buf_printf(errs, "[relay]: %s\n", err);
		(*n)++;
	}
	SSL_CTX_free(ctx);
}

/* An address mailoutd could not listen on: not on this host. In use is
 * fine (the daemon may be running); a privileged port as a user is too. */
static void
check_addresses(const struct config *cfg, struct buf *errs, unsigned *n)
{
	for (size_t i = 0; i < cfg->n_listener; i++) {
		const struct listener_conf *l = &cfg->listener[i];

		for (size_t a = 0; a < l->n_addr; a++) {
			int fd = socket(l->addr[a].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0),
			    one = 1;
			char addr[80];

			if (fd < 0)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (const struct sockaddr *)&l->addr[a], l->addr_len[a]) != 0 &&
			    errno != EADDRINUSE && errno != EACCES) {
				sockaddr_format((const struct sockaddr *)&l->addr[a], addr,
				                sizeof(addr));
				buf_printf(errs, "listener '%s': cannot listen on %s: %s\n",
				           l->name, addr, strerror(errno));
				(*n)++;
			}
			close(fd);
		}
	}
}

static void
check_web(const struct config *cfg, struct buf *errs, unsigned *n)
{
	struct web_files wf;
	char err[512];

	if (!cfg->web_enabled)
		return;
	if (!web_files_load(cfg, &wf, err, sizeof(err))) {
		buf_printf(errs, "[web]: %s\n", err);
		(*n)++;
		return;
	}
	if (cfg->web_certificate[0] &&
	    !tls_check_pair(cfg->web_certificate, cfg->web_key, err, sizeof(err))) {
		buf_printf(errs, "[web]: %s\n", err);
		(*n)++;
	}
	web_files_free(&wf);
}

static void
check_auth(const struct config *cfg, struct buf *errs, unsigned *n)
{
	struct auth_files af;
	char err[512];

	if (!auth_files_load(cfg, &af, err, sizeof(err))) {
		buf_printf(errs, "[auth]: %s\n", err);
		(*n)++;
		return;
	}
	auth_files_free(&af);
}

/* A listener that relays to any recipient for the whole internet,
 * without asking who sends. */
static void
warn_open_relay(const struct config *cfg, struct buf *warns)
{
	for (size_t i = 0; i < cfg->n_listener; i++) {
		const struct listener_conf *l = &cfg->listener[i];

		for (size_t k = 0; l->clients == LCLIENTS_NETS && k < l->n_nets; k++)
			if (l->nets[k].prefix == 0 && l->recipients == LRCPTS_ANY &&
			    l->auth != LAUTH_REQUIRED)
				buf_printf(
				    warns,
				    "listener '%s' relays to any recipient for every address "
				    "(clients = %s): anyone who reaches it can send mail "
				    "anywhere through it\n",
				    l->name, l->nets[k].family == AF_INET ? "0.0.0.0/0" : "::/0");
	}
}

unsigned
preflight(const struct config *cfg, struct buf *errs, struct buf *warns)
{
	unsigned n = 0;

	check_tls(cfg, errs, &n);
	if (getpwnam(cfg->user) == NULL) {
		buf_printf(errs,
		           "[gateway] user '%s' does not exist (mailoutd started as root "
		           "switches to it; make it with useradd --system)\n",
		           cfg->user);
		n++;
	}
	check_folder("spool", cfg->spool, errs, &n);
	if (cfg->registry_db[0] && !registry_is_shared(cfg->registry_db)) {
		char dir[PATH_MAX];
		const char *slash = strrchr(cfg->registry_db, '/');
		str_copyn(dir, sizeof(dir), cfg->registry_db,
		          slash && slash != cfg->registry_db ? (size_t)(slash - cfg->registry_db)
		                                             : 1);
		check_folder("[registry] database's folder", slash ? dir : ".", errs, &n);
	}
	for (size_t i = 0; i <= cfg->n_routes; i++) {
		const struct route_conf *r =
		    i < cfg->n_routes ? &cfg->routes[i] : &cfg->default_route;
		if (r->kind == NEXT_HOP_DIR)
			check_folder("next hop dir:", r->dir, errs, &n);
	}
	if (cfg->pid_file[0])
		check_file_folder("[gateway] pid_file", cfg->pid_file, errs, &n);
	check_addresses(cfg, errs, &n);
	check_web(cfg, errs, &n);
	check_auth(cfg, errs, &n);
	warn_open_relay(cfg, warns);
	if (cfg->web_cutover[0])
		buf_printf(warns, "[web] cutover is deprecated: write it as [transition] cutover "
		                  "(it is read as that)\n");
	if (geteuid() != 0)
		buf_printf(warns, "not run as root: files only root may read were not checked as "
		                  "mailoutd will see them\n");
	return n;
}
