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
#include "master/daemon.h"
#include "master/generation.h"
#include "master/notify.h"
#include "metrics/counters.h"
#include "master/sandbox.h"
#include "master/sockets.h"
#include "spool/spool.h"
#include "tls.h"
#include "util/clock.h"
#include "util/fsx.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/web.h"
#include "smtp/worker.h"

#define CHILDREN_MAX  256 /* with retiring workers of earlier reloads */
#define RESTART_DELAY 1   /* seconds before a crashed child is started again */
#define STOP_TIMEOUT  40  /* seconds for children to stop before SIGKILL */

enum child_role { CHILD_WORKER, CHILD_QUEUE, CHILD_WEB };

static const char *const role_names[] = {"smtp", "queue", "web"};

struct child {
	pid_t pid;
	enum child_role role;
	unsigned generation; /* children of an older config are retiring */
	time_t restart_at;
	bool is_wanted;
};

struct master {
	const char *config_path;
	struct generation gen;
	unsigned generation;
	struct sockets sockets;
	struct child child[CHILDREN_MAX];
	int wake[2];
	bool is_stopping;
	struct spool_hold lock;               /* of the spool */
	struct metrics *metrics;              /* shared with every child */
	long long last_sessions, last_queued; /* in the last STATUS= */
};

/* ---- children ---- */

/* A child keeps only what its job needs (security issue, finding 11): an
 * SMTP worker the SMTP sockets and server keys; the web process its
 * socket, its key and the admins file (and [auth]'s files, for its admins
 * by directory group); the queue runner the client
 * context and no listening socket. The rest is closed, freed and wiped,
 * so that a child taken over finds no other child's secrets in its memory
 * or its descriptors. */
static void
keep_only(struct master *m, enum child_role role)
{
	struct generation *g = &m->gen;

	for (size_t i = 0; i < m->sockets.n_bound; i++) {
		int fd = m->sockets.bound[i].fd;
		if ((role == CHILD_WEB && fd != g->web_fd) || role == CHILD_QUEUE ||
		    (role == CHILD_WORKER && fd == g->web_fd))
			close(fd);
	}
	if (m->lock.fd >= 0)
		close(m->lock.fd);
	close(role == CHILD_QUEUE ? m->wake[1] : m->wake[0]);
	if (role == CHILD_WEB)
		close(m->wake[1]);
	if (role != CHILD_WEB)
		web_files_free(&g->web_files);
	if (role == CHILD_QUEUE)
		auth_files_free(&g->auth_files);
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
	generation_drop_privileges(&m->gen);
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
		return web_run(m->gen.cfg, m->gen.web_fd, &m->gen.web_files, &m->gen.auth_files);
	}
	if (role == CHILD_QUEUE) {
		log_init("mailoutd/queue", log_to_stderr_enabled());
		return queue_run(m->gen.cfg, m->gen.client_ctx, m->wake[0]);
	}
	log_init("mailoutd/smtp", log_to_stderr_enabled());
	return worker_run(m->gen.cfg, m->gen.listeners, m->gen.cfg->n_listener, &m->gen.auth_files,
	                  m->wake[1]);
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

/* False when the new config was refused (the old one stays). */
static bool
reload(struct master *m)
{
	struct generation next;
	struct generation old = m->gen;
	char err[512];

	log_info("event=reload config=%s", m->config_path);
	if (!generation_build(&next, m->config_path, &m->sockets, err, sizeof(err)) ||
	    !generation_claim(&next, &m->lock, false, err, sizeof(err))) {
		log_error("event=reload-failed error=\"%s\" note=\"the old config stays in force\"",
		          err);
		sockets_mark(&m->sockets, true);
		generation_free(&next);
		return false;
	}
	generation_take_lock(&next, &m->lock);
	m->gen = next;
	m->generation++;
	sockets_prune(&m->sockets);
	generation_free(&old);
	/* New children first, so that someone accepts while the old retire.
	 * The new queue runner waits for the old one (queue.c). */
	children_plan(m);
	children_start(m);
	children_retire(m);
	log_info("event=reloaded");
	return true;
}

/* Sessions open now and messages queued, from the shared counters. */
static void
load_now(const struct master *m, long long *sessions, long long *queued)
{
	*sessions = *queued = 0;
	if (m->metrics == NULL)
		return;
	for (size_t i = 0; i <= METRICS_LISTENERS; i++)
		*sessions += (long long)atomic_load(&m->metrics->listener[i].active);
	*queued = (long long)atomic_load(&m->metrics->queue_size);
}

/* STATUS= again when sessions or the queue changed (at most once a tick). */
static void
notify_load(struct master *m)
{
	long long sessions, queued;

	load_now(m, &sessions, &queued);
	if (sessions == m->last_sessions && queued == m->last_queued)
		return;
	m->last_sessions = sessions;
	m->last_queued = queued;
	notify_send("STATUS=running: %lld session%s open, %lld message%s queued", sessions,
	            sessions == 1 ? "" : "s", queued, queued == 1 ? "" : "s");
}

/* READY=1 and the STATUS= line systemd shows: what runs, from which config. */
static void
notify_ready(const struct master *m, const char *state)
{
	const struct config *cfg = m->gen.cfg;

	notify_send("READY=1\nSTATUS=%s: %zu listener%s, %llu worker%s, queue runner%s; config %s "
	            "(generation %u)",
	            state, cfg->n_listener, cfg->n_listener == 1 ? "" : "s",
	            (unsigned long long)cfg->workers, cfg->workers == 1 ? "" : "s",
	            cfg->web_enabled ? ", web pages" : "", m->config_path, m->generation + 1);
}

static int
stop(struct master *m)
{
	time_t deadline = (time_t)clock_now() + STOP_TIMEOUT;

	m->is_stopping = true;
	notify_send("STOPPING=1\nSTATUS=stopping: sessions end, then the children");
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

int
master_run(const char *config_path, bool foreground)
{
	struct master m = {.lock = {.fd = -1}};
	char err[512], abspath[PATH_MAX];
	sigset_t set;

	if (realpath(config_path, abspath) == NULL)
		log_fatal("event=start-error error=\"%s: %s\"", config_path, strerror(errno));
	m.config_path = abspath;
	notify_init();
	signal(SIGPIPE, SIG_IGN);
	daemon_raise_fd_limit();
	if (!generation_build(&m.gen, m.config_path, &m.sockets, err, sizeof(err)))
		log_fatal("event=start-error error=\"%s\"", err);
	if (pipe2(m.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=start-error error=\"pipe: %s\"", strerror(errno));
	daemon_start_logging(foreground);
	if (!generation_claim(&m.gen, &m.lock, true, err, sizeof(err)))
		log_fatal("event=start-error error=\"%s\"", err);
	generation_take_lock(&m.gen, &m.lock);
	daemon_write_pid_file(m.gen.cfg->pid_file);
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
	/* One block of counters for every child, kept across reloads. */
	if ((m.metrics = metrics_create()) == NULL)
		log_warn("event=metrics-error note=\"no shared memory: /metrics stays empty\"");
	metrics_attach(m.metrics);
	children_plan(&m);
	children_start(&m);
	/* Every listener is bound (by this process) and the children run. */
	notify_ready(&m, "running");
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
		if (sig == SIGHUP) {
			notify_reloading();
			notify_ready(&m, reload(&m) ? "running"
			                            : "reload refused, the old config runs");
		}
		children_start(&m);
		notify_load(&m);
	}
}
