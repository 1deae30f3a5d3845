#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "log.h"
#include "queue/queue.h"
#include "db/registry.h"
#include "master/sandbox.h"
#include "spool/spool.h"
#include "tls.h"
#include "util/clock.h"
#include "util/fsx.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/web.h"
#include "smtp/worker.h"

#define LISTEN_BACKLOG 1024
#define BOUND_MAX      (CONF_LISTENERS_MAX * CONF_ADDRS_MAX)
#define CHILDREN_MAX   256 /* with retiring workers of earlier reloads */
#define RESTART_DELAY  1   /* seconds before a crashed child is started again */
#define STOP_TIMEOUT   40  /* seconds for children to stop before SIGKILL */

enum child_role { CHILD_WORKER, CHILD_QUEUE, CHILD_WEB };

static const char *const role_names[] = {"smtp", "queue", "web"};

struct child {
	pid_t pid;
	enum child_role role;
	unsigned generation; /* children of an older config are retiring */
	time_t restart_at;
	bool is_wanted;
};

struct bound {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;
	bool is_used;
};

/* Everything built from one config. */
struct generation {
	struct config *cfg;
	struct listener *listeners;
	SSL_CTX *client_ctx;
	SSL_CTX *legacy_ctx; /* shared by every listener with TLS */
	int web_fd;          /* -1: no [web] */
	struct web_files web_files;
	uid_t uid;
	gid_t gid;
	bool is_dropping;
	int lock_fd; /* a new spool lock this generation took, or -1 */
};

struct master {
	const char *config_path;
	struct generation gen;
	unsigned generation;
	struct bound bound[BOUND_MAX];
	size_t n_bound;
	struct child child[CHILDREN_MAX];
	int wake[2];
	bool is_stopping;
	bool has_started; /* the first generation is running */
	int lock_fd;      /* the spool lock (spool_lock()), -1 before the first */
	dev_t lock_dev;   /* the locked spool folder */
	ino_t lock_ino;
};

static void generation_free(struct generation *);

/* ---- sockets ---- */

static int
bind_one(const struct sockaddr_storage *ss, socklen_t len, char *err, size_t errlen)
{
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char addr[80];

	sockaddr_format((const struct sockaddr *)ss, addr, sizeof(addr));
	if (fd < 0) {
		str_fmt(err, errlen, "socket for %s: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		str_fmt(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The socket for an address: one bound earlier (reload), or a new one. */
static int
socket_for(struct master *m, const struct sockaddr_storage *ss, socklen_t len, char *err,
           size_t errlen)
{
	for (size_t i = 0; i < m->n_bound; i++) {
		if (m->bound[i].len == len && memcmp(&m->bound[i].addr, ss, len) == 0) {
			m->bound[i].is_used = true;
			return m->bound[i].fd;
		}
	}
	if (m->n_bound == BOUND_MAX) {
		str_copy(err, errlen, "too many addresses");
		return -1;
	}
	int fd = bind_one(ss, len, err, errlen);
	if (fd < 0)
		return -1;
	m->bound[m->n_bound++] = (struct bound){*ss, len, fd, true};
	return fd;
}

/* Close sockets no listener of the current config uses. */
static void
sockets_prune(struct master *m)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n_bound; i++) {
		if (m->bound[i].is_used)
			m->bound[j++] = m->bound[i];
		else
			close(m->bound[i].fd);
	}
	m->n_bound = j;
}

/* ---- building a generation ---- */

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
lock_spool(struct master *m, struct generation *g, char *err, size_t errlen)
{
	struct stat st;

	g->lock_fd = -1;
	if (stat(g->cfg->spool, &st) != 0) {
		str_fmt(err, errlen, "spool %s: %s", g->cfg->spool, strerror(errno));
		return false;
	}
	if (m->lock_fd >= 0 && st.st_dev == m->lock_dev && st.st_ino == m->lock_ino)
		return true;
	return (g->lock_fd = spool_lock(g->cfg->spool, err, errlen)) >= 0;
}

/* The new generation's lock, if it took one, replaces the master's. */
static void
lock_commit(struct master *m, struct generation *g)
{
	struct stat st;

	if (g->lock_fd < 0)
		return;
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = g->lock_fd;
	g->lock_fd = -1;
	if (stat(g->cfg->spool, &st) == 0) {
		m->lock_dev = st.st_dev;
		m->lock_ino = st.st_ino;
	}
}

static void drop_privileges(const struct generation *);

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
		drop_privileges(g);
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
build_listeners(struct master *m, struct generation *g, char *err, size_t errlen)
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
			    socket_for(m, &l->conf->addr[a], l->conf->addr_len[a], err, errlen);
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
prepare_web(struct master *m, struct generation *g, char *err, size_t errlen)
{
	const struct config *cfg = g->cfg;

	g->web_fd = -1;
	if (!cfg->web_enabled)
		return true;
	if (!web_files_load(cfg, &g->web_files, err, errlen))
		return false;
	g->web_fd = socket_for(m, &cfg->web_addr, cfg->web_addr_len, err, errlen);
	return g->web_fd >= 0;
}

/* Load path and build everything the children need; false with err. */
static bool
generation_build(struct master *m, struct generation *g, char *err, size_t errlen)
{
	struct buf errs;
	unsigned n;

	memset(g, 0, sizeof(*g));
	g->web_fd = -1;
	g->lock_fd = -1;
	g->cfg = xcalloc(1, sizeof(*g->cfg));
	buf_init(&errs, 64 * 1024);
	n = config_load(m->config_path, g->cfg, &errs);
	if (n > 0) {
		/* One log line per config error. */
		for (char *line = errs.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			log_error("event=config-error error=\"%s\"", line);
		}
		str_fmt(err, errlen, "%u error(s) in %s", n, m->config_path);
		buf_free(&errs);
		return false;
	}
	buf_free(&errs);
	for (size_t i = 0; i < m->n_bound; i++)
		m->bound[i].is_used = false;
	if (cfg_has_tls(g->cfg) && cfg_has_registry(g->cfg) &&
	    (g->legacy_ctx = tls_legacy_ctx_new(g->cfg, err, errlen)) == NULL)
		return false;
	if (!resolve_user(g, err, errlen) || !prepare_dirs(g, err, errlen) ||
	    !build_listeners(m, g, err, errlen) || !prepare_web(m, g, err, errlen))
		return false;
	if ((g->client_ctx = tls_client_ctx_new(g->cfg, err, errlen)) == NULL)
		return false;
	return true;
}

/* Take the spool and let the service user prepare it (sweep at the first
 * start only): in the process that stays, after daemonize(), since the
 * spool's POSIX lock belongs to one process. */
static bool
generation_claim(struct master *m, struct generation *g, char *err, size_t errlen)
{
	return lock_spool(m, g, err, errlen) && prepare_as_user(g, !m->has_started, err, errlen);
}

static void
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
	if (g->lock_fd >= 0)
		close(g->lock_fd); /* a reload that failed: another folder's lock */
	free(g->cfg);
	memset(g, 0, sizeof(*g));
}

/* ---- children ---- */

static void
drop_privileges(const struct generation *g)
{
	if (!g->is_dropping)
		return;
	if (setgroups(1, &g->gid) != 0 || setgid(g->gid) != 0 || setuid(g->uid) != 0)
		log_fatal("event=child-error error=\"cannot drop privileges to %s: %s\"",
		          g->cfg->user, strerror(errno));
	if (setuid(0) == 0)
		log_fatal("event=child-error error=\"privileges were not dropped\"");
}

/* A child keeps only what its job needs (security issue, finding 11): an
 * SMTP worker the SMTP sockets and server keys; the web process its
 * socket, its key and the admins file; the queue runner the client
 * context and no listening socket. The rest is closed, freed and wiped,
 * so that a child taken over finds no other child's secrets in its memory
 * or its descriptors. */
static void
keep_only(struct master *m, enum child_role role)
{
	struct generation *g = &m->gen;

	for (size_t i = 0; i < m->n_bound; i++)
		if ((role == CHILD_WEB && m->bound[i].fd != g->web_fd) || role == CHILD_QUEUE ||
		    (role == CHILD_WORKER && m->bound[i].fd == g->web_fd))
			close(m->bound[i].fd);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	close(role == CHILD_QUEUE ? m->wake[1] : m->wake[0]);
	if (role == CHILD_WEB)
		close(m->wake[1]);
	if (role != CHILD_WEB)
		web_files_free(&g->web_files);
	if (role != CHILD_WORKER) {
		for (size_t i = 0; g->listeners && i < g->cfg->n_listener; i++) {
			SSL_CTX_free(g->listeners[i].ctx);
			g->listeners[i].ctx = g->listeners[i].legacy_ctx = NULL;
		}
		SSL_CTX_free(g->legacy_ctx);
		g->legacy_ctx = NULL;
	}
	if (role != CHILD_QUEUE) {
		SSL_CTX_free(g->client_ctx);
		g->client_ctx = NULL;
	}
}

static int
child_main(struct master *m, enum child_role role)
{
	sigset_t retire;
	pid_t parent = getppid();

	/* SIGUSR1 (retire) waits until the worker's handler is in place:
	 * worker_run() unblocks it. Its default action would end the worker. */
	sigemptyset(&retire);
	sigaddset(&retire, SIGUSR1);
	sigprocmask(SIG_SETMASK, &retire, NULL);
	signal(SIGHUP, SIG_IGN);
	keep_only(m, role);
	drop_privileges(&m->gen);
	/* No setuid program can give this process privileges back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("event=child-error error=\"no_new_privs: %s\"", strerror(errno));
	/* If the master dies, so do we: no orphan keeps the ports. Set after
	 * setuid(), which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	char err[256];
	if (!sandbox_enter(role == CHILD_WEB     ? SANDBOX_WEB
	                   : role == CHILD_QUEUE ? SANDBOX_QUEUE
	                                         : SANDBOX_SMTP,
	                   err, sizeof(err)))
		log_fatal("event=child-error error=\"sandbox: %s\"", err);
	if (role == CHILD_WEB) {
		log_init("mailoutd/web", log_to_stderr_enabled());
		return web_run(m->gen.cfg, m->gen.web_fd, &m->gen.web_files);
	}
	if (role == CHILD_QUEUE) {
		log_init("mailoutd/queue", log_to_stderr_enabled());
		return queue_run(m->gen.cfg, m->gen.client_ctx, m->wake[0]);
	}
	log_init("mailoutd/smtp", log_to_stderr_enabled());
	return worker_run(m->gen.cfg, m->gen.listeners, m->gen.cfg->n_listener, m->wake[1]);
}

static void
child_start(struct master *m, struct child *c)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("event=fork-error error=\"%s\"", strerror(errno));
		c->restart_at = (time_t)clock_now() + RESTART_DELAY;
		return;
	}
	if (pid == 0)
		_exit(child_main(m, c->role));
	c->pid = pid;
	c->generation = m->generation;
	log_info("event=child-started pid=%d role=%s", (int)pid, role_names[c->role]);
}

/* Plan the slots the current generation wants: its workers, one queue
 * runner and the web process if [web] is set. Slots of older generations
 * are let go as their children exit. */
static void
children_plan(struct master *m)
{
	bool has_web = m->gen.cfg->web_enabled;
	size_t want = m->gen.cfg->workers + 1 + has_web, k = 0;

	for (size_t i = 0; i < CHILDREN_MAX; i++)
		if (m->child[i].generation != m->generation)
			m->child[i].is_wanted = false;
	for (size_t i = 0; i < CHILDREN_MAX && k < want; i++) {
		struct child *c = &m->child[i];

		if (c->pid != 0 || c->is_wanted)
			continue;
		enum child_role role = k == 0              ? CHILD_QUEUE
		                       : k == 1 && has_web ? CHILD_WEB
		                                           : CHILD_WORKER;
		*c = (struct child){.role = role, .generation = m->generation, .is_wanted = true};
		k++;
	}
}

static void
children_start(struct master *m)
{
	time_t now = (time_t)clock_now();

	for (size_t i = 0; i < CHILDREN_MAX; i++) {
		struct child *c = &m->child[i];
		if (c->is_wanted && c->pid == 0 && c->restart_at <= now && !m->is_stopping)
			child_start(m, c);
	}
}

static void
children_signal(struct master *m, int sig)
{
	for (size_t i = 0; i < CHILDREN_MAX; i++)
		if (m->child[i].pid > 0)
			kill(m->child[i].pid, sig);
}

/* After a reload: workers of older generations retire (their sessions end
 * on their own), the queue runner and the web process stop. */
static void
children_retire(struct master *m)
{
	for (size_t i = 0; i < CHILDREN_MAX; i++) {
		struct child *c = &m->child[i];
		if (c->pid > 0 && c->generation != m->generation)
			kill(c->pid, c->role == CHILD_WORKER ? SIGUSR1 : SIGTERM);
	}
}

static size_t
children_reap(struct master *m)
{
	size_t alive = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < CHILDREN_MAX; i++) {
			struct child *c = &m->child[i];
			if (c->pid != pid)
				continue;
			c->pid = 0;
			bool is_crash = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
			if (is_crash && !m->is_stopping && c->generation == m->generation)
				log_error("event=child-crashed pid=%d role=%s status=%d signal=%d",
				          (int)pid, role_names[c->role],
				          WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				          WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			else
				log_info("event=child-exited pid=%d", (int)pid);
			c->restart_at = (time_t)clock_now() + (is_crash ? RESTART_DELAY : 0);
			if (c->generation != m->generation)
				c->is_wanted = false;
		}
	}
	for (size_t i = 0; i < CHILDREN_MAX; i++)
		alive += m->child[i].pid > 0;
	return alive;
}

/* ---- signals ---- */

static void
reload(struct master *m)
{
	struct generation next;
	struct generation old = m->gen;
	char err[512];

	log_info("event=reload config=%s", m->config_path);
	if (!generation_build(m, &next, err, sizeof(err)) ||
	    !generation_claim(m, &next, err, sizeof(err))) {
		log_error("event=reload-failed error=\"%s\" note=\"the old config stays in force\"",
		          err);
		for (size_t i = 0; i < m->n_bound; i++)
			m->bound[i].is_used = true;
		generation_free(&next);
		return;
	}
	lock_commit(m, &next);
	m->gen = next;
	m->generation++;
	sockets_prune(m);
	generation_free(&old);
	/* New children first, so that someone accepts while the old retire.
	 * The new queue runner waits for the old one (queue.c). */
	children_plan(m);
	children_start(m);
	children_retire(m);
	log_info("event=reloaded");
}

static int
stop(struct master *m)
{
	time_t deadline = (time_t)clock_now() + STOP_TIMEOUT;

	m->is_stopping = true;
	log_info("event=stopping");
	children_signal(m, SIGTERM);
	while (children_reap(m) > 0) {
		if ((time_t)clock_now() > deadline) {
			log_warn("event=stop-timeout note=\"killing children\"");
			children_signal(m, SIGKILL);
			deadline = (time_t)clock_now() + 5;
		}
		usleep(50 * 1000);
	}
	log_info("event=stopped");
	return 0;
}

/* One descriptor per session (two with a commit in flight): use what the
 * hard limit allows, so max_connections is the limit and not EMFILE. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Into the background. Without a syslog daemon the log goes on to
 * stderr (a container's log), so stderr stays open then. */
static void
daemonize(bool keep_stderr)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		log_fatal("event=start-error error=\"fork: %s\"", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (!keep_stderr)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void
start_logging(bool foreground)
{
	if (foreground)
		return;
	bool has_syslog = log_syslog_available();
	daemonize(!has_syslog);
	if (has_syslog)
		log_init("mailoutd", false);
	else
		log_warn("event=log-fallback reason=\"no syslog socket at %s\" note=\"logging to "
		         "stderr\"",
		         LOG_SYSLOG_SOCKET);
}

/* The pid file, made new (never through a link someone left there). */
static void
pid_file_write(const char *path)
{
	char pid[32];
	int fd;

	if (path[0] == '\0')
		return;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	str_fmt(pid, sizeof(pid), "%d\n", (int)getpid());
	if (fd < 0 || fsx_write_all(fd, pid, strlen(pid)) != 0)
		log_fatal("event=start-error error=\"pid_file %s: %s\"", path, strerror(errno));
	close(fd);
}

int
master_run(const char *config_path, bool foreground)
{
	struct master m = {.lock_fd = -1};
	char err[512], abspath[PATH_MAX];
	sigset_t set;

	if (realpath(config_path, abspath) == NULL)
		log_fatal("event=start-error error=\"%s: %s\"", config_path, strerror(errno));
	m.config_path = abspath;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (!generation_build(&m, &m.gen, err, sizeof(err)))
		log_fatal("event=start-error error=\"%s\"", err);
	if (pipe2(m.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=start-error error=\"pipe: %s\"", strerror(errno));
	start_logging(foreground);
	if (!generation_claim(&m, &m.gen, err, sizeof(err)))
		log_fatal("event=start-error error=\"%s\"", err);
	lock_commit(&m, &m.gen);
	m.has_started = true;
	pid_file_write(m.gen.cfg->pid_file);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	log_info("event=started config=%s listeners=%zu workers=%llu user=%s", abspath,
	         m.gen.cfg->n_listener, (unsigned long long)m.gen.cfg->workers,
	         m.gen.is_dropping ? m.gen.cfg->user : "(unchanged)");
	if (clock_offset() != 0)
		log_warn("event=clock-shifted offset=%lld reason=MAILOUT_CLOCK_OFFSET",
		         (long long)clock_offset());
	children_plan(&m);
	children_start(&m);
	for (;;) {
		struct timespec tick = {1, 0};
		int sig = sigtimedwait(&set, NULL, &tick);

		children_reap(&m);
		if (sig == SIGTERM || sig == SIGINT) {
			int rc = stop(&m);
			if (m.gen.cfg->pid_file[0])
				unlink(m.gen.cfg->pid_file);
			generation_free(&m.gen);
			return rc;
		}
		if (sig == SIGHUP)
			reload(&m);
		children_start(&m);
	}
}
