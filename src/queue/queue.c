/*
 * The queue runner's scheduler (queue/queue.h): which messages are due, a
 * job list the delivery threads take from, the wake pipe from the workers
 * and the control FIFO from mailoutctl. One attempt at one message is
 * queue/deliver.c.
 */
#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics/counters.h"
#include "queue/deliver.h"
#include "spool/spool.h"
#include "util/clock.h"
#include "util/hashmap.h"
#include "util/lineread.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define QUEUE_TICK_MS   1000 /* rescan at least this often */
#define CONN_IDLE_MS    1000 /* keep an idle connection this long for more mail */
#define JOBS_PER_THREAD 32   /* jobs handed out ahead, per delivery thread */

/* A message in queue/ as the scheduler knows it. */
struct qentry {
	char id[SPOOL_ID_MAX];
	int64_t next_attempt;
	int64_t arrival; /* the queue file's time: when it was accepted */
	bool is_in_flight;
	bool is_seen;
	struct qentry *next; /* all entries */
};

struct qjob {
	struct qentry *e;
	struct qjob *next;
};

struct queue {
	struct delivery dl;   /* what the delivery threads share */
	pthread_mutex_t lock; /* entries and jobs */
	pthread_cond_t cond;  /* a job was added, or stopping */
	struct qentry *entries;
	struct hashmap *by_id; /* of entries */
	struct qjob *jobs, *jobs_tail;
	size_t n_jobs;
	bool is_stopping;
	pthread_t *threads;
	size_t n_threads;
	int control_fd;
	struct lineread control, wake;
	bool need_scan;
	int refill[2]; /* a delivery thread asks the scheduler for more jobs */
};

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* ---- the delivery threads ---- */

/* The next job: waits for one without limit (has_conn false) or up to
 * CONN_IDLE_MS (a connection is open and worth reusing). NULL when
 * stopping or when the wait ran out. Called with q->lock held. */
static struct qjob *
take_job(struct queue *q, bool has_conn)
{
	struct qjob *j;
	struct timespec until;

	if (q->jobs == NULL && !q->is_stopping) {
		char c = 'r';
		(void)!write(q->refill[1], &c, 1); /* the scheduler may have more due */
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (CONN_IDLE_MS % 1000) * 1000000L;
	until.tv_sec += CONN_IDLE_MS / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (q->jobs == NULL && !q->is_stopping) {
		if (!has_conn)
			pthread_cond_wait(&q->cond, &q->lock);
		else if (pthread_cond_timedwait(&q->cond, &q->lock, &until) != 0)
			break;
	}
	if (q->is_stopping || (j = q->jobs) == NULL)
		return NULL;
	q->jobs = j->next;
	if (q->jobs == NULL)
		q->jobs_tail = NULL;
	q->n_jobs--;
	return j;
}

static void *
delivery_thread(void *arg)
{
	struct queue *q = arg;
	struct courier t = {0};
	struct qjob *j;

	pthread_mutex_lock(&q->lock);
	while ((j = take_job(q, t.conn != NULL)) != NULL || t.conn != NULL) {
		if (j == NULL) { /* nothing more for this connection */
			pthread_mutex_unlock(&q->lock);
			courier_release(&q->dl, &t);
			pthread_mutex_lock(&q->lock);
			continue;
		}
		char id[SPOOL_ID_MAX];
		str_copy(id, sizeof(id), j->e->id);
		pthread_mutex_unlock(&q->lock);
		int64_t next = deliver(&q->dl, &t, id);
		pthread_mutex_lock(&q->lock);
		j->e->is_in_flight = false;
		j->e->next_attempt = next;
		if (next == 0)
			j->e->is_seen = false;
		free(j);
	}
	pthread_mutex_unlock(&q->lock);
	courier_free(&q->dl, &t);
	return NULL;
}

/* ---- what is due ---- */

/* A new entry, known to the list and the map. Called with q->lock held. */
static struct qentry *
entry_add(struct queue *q, const char *id)
{
	struct qentry *e = xcalloc(1, sizeof(*e));

	str_copy(e->id, sizeof(e->id), id);
	e->next = q->entries;
	q->entries = e;
	hashmap_put(q->by_id, e->id, e);
	return e;
}

/* A message seen for the first time keeps the schedule it had before a restart. */
static int64_t
saved_next_attempt(struct queue *q, const char *id)
{
	struct envelope e;
	int64_t next;

	envelope_init(&e);
	str_copy(e.id, sizeof(e.id), id);
	spool_load_state(q->dl.cfg->spool, &e);
	next = e.next_attempt;
	envelope_free(&e);
	return next;
}

/* Forget the entries whose files are gone (and that no thread holds). */
static void
forget_unseen(struct queue *q)
{
	for (struct qentry **pp = &q->entries; *pp;) {
		struct qentry *e = *pp;
		if (!e->is_seen && !e->is_in_flight) {
			*pp = e->next;
			hashmap_remove(q->by_id, e->id);
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

/* The queue's size and oldest message, for the metrics. */
static void
count_queue(const struct queue *q)
{
	int64_t n = 0, oldest = 0;

	for (const struct qentry *e = q->entries; e; e = e->next) {
		n++;
		if (oldest == 0 || e->arrival < oldest)
			oldest = e->arrival;
	}
	metrics_queue(n, oldest, clock_now());
}

static void
scan(struct queue *q)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	str_fmt(dir, sizeof(dir), "%s/queue", q->dl.cfg->spool);
	if ((d = opendir(dir)) == NULL) {
		log_error("event=queue-error op=scan dir=%s error=\"%s\"", dir, strerror(errno));
		return;
	}
	for (struct qentry *e = q->entries; e; e = e->next)
		e->is_seen = false;
	while ((de = readdir(d)) != NULL) {
		struct qentry *e;
		struct stat st;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= SPOOL_ID_MAX)
			continue;
		if ((e = hashmap_get(q->by_id, de->d_name)) == NULL) {
			e = entry_add(q, de->d_name);
			e->next_attempt = saved_next_attempt(q, e->id);
			e->arrival = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
			                 ? (int64_t)st.st_mtime
			                 : clock_now();
		}
		e->is_seen = true;
	}
	closedir(d);
	forget_unseen(q);
	count_queue(q);
}

static void
dispatch(struct queue *q)
{
	int64_t now = clock_now();

	for (struct qentry *e = q->entries; e; e = e->next) {
		if (e->is_in_flight || !e->is_seen || e->next_attempt > now ||
		    q->n_jobs >= q->n_threads * JOBS_PER_THREAD)
			continue;
		struct qjob *j = xcalloc(1, sizeof(*j));
		j->e = e;
		e->is_in_flight = true;
		if (q->jobs_tail)
			q->jobs_tail->next = j;
		else
			q->jobs = j;
		q->jobs_tail = j;
		q->n_jobs++;
		pthread_cond_signal(&q->cond);
	}
}

/* ---- what the others say ---- */

/* "flush" or "flush ID" from mailoutctl: try now. */
static void
control_line(const char *line, void *arg)
{
	struct queue *q = arg;
	struct qentry *e = NULL;

	pthread_mutex_lock(&q->lock);
	scan(q); /* a flushed or released message may be new to us */
	if (strcmp(line, "flush") == 0)
		for (e = q->entries; e; e = e->next)
			e->next_attempt = 0;
	else if (strncmp(line, "flush ", 6) == 0 && (e = hashmap_get(q->by_id, line + 6)) != NULL)
		e->next_attempt = 0;
	pthread_mutex_unlock(&q->lock);
	if (strncmp(line, "flush", 5) != 0)
		return;
	hops_flush(&q->dl.hops);
	if (line[5] == '\0')
		log_info("event=flush scope=all");
	else
		log_info("event=flush id=%s known=%s", line + 6, e ? "yes" : "not-yet");
}

/* A queue id from a worker: known at once, without a directory scan. */
static void
wake_line(const char *id, void *arg)
{
	struct queue *q = arg;

	if (id[0] == '\0' || strlen(id) >= SPOOL_ID_MAX || strchr(id, '/')) {
		q->need_scan = true;
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (hashmap_get(q->by_id, id) == NULL)
		entry_add(q, id)->is_seen = true;
	pthread_mutex_unlock(&q->lock);
}

static void
drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- start and stop ---- */

/* The guard, with this host's addresses standing for wildcard listeners. */
static void
guard_init(struct mxguard *g, const struct config *cfg)
{
	struct sockaddr_storage *local = xcalloc(MXGUARD_OWN_MAX, sizeof(*local));
	struct ifaddrs *ifs = NULL;
	size_t n = 0;

	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i && n < MXGUARD_OWN_MAX; i = i->ifa_next)
			if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
			                    i->ifa_addr->sa_family == AF_INET6))
				memcpy(&local[n++], i->ifa_addr,
				       i->ifa_addr->sa_family == AF_INET
				           ? sizeof(struct sockaddr_in)
				           : sizeof(struct sockaddr_in6));
		freeifaddrs(ifs);
	}
	mxguard_init(g, cfg, local, n);
	free(local);
}

/* One queue runner owns the spool at any moment: after a reload the new
 * one waits here until the old one has finished its deliveries and gone
 * (the lock on queue/ goes with its process). -1 if told to stop meanwhile. */
static int
own_the_queue(const struct config *cfg)
{
	char path[PATH_MAX];
	int fd;

	str_fmt(path, sizeof(path), "%s/queue", cfg->spool);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		log_fatal("event=queue-error op=lock path=%s error=\"%s\"", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	log_info("event=queue-waiting note=\"the previous queue runner is finishing\"");
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR || got_term) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void
queue_start(struct queue *q, const struct config *cfg, SSL_CTX *ctx)
{
	char path[PATH_MAX];

	q->dl.cfg = cfg;
	q->dl.ctx = ctx;
	hops_init(&q->dl.hops, cfg);
	guard_init(&q->dl.guard, cfg);
	q->by_id = hashmap_new();
	q->need_scan = true;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (pipe2(q->refill, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=queue-error error=\"pipe: %s\"", strerror(errno));
	/* O_RDWR: the FIFO never reports end-of-file when mailoutctl closes it. */
	str_fmt(path, sizeof(path), "%s/control", cfg->spool);
	if ((q->control_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		log_warn("event=queue-error op=control path=%s error=\"%s\"", path,
		         strerror(errno));
	q->n_threads = cfg->relay_connections;
	q->threads = xcalloc(q->n_threads, sizeof(*q->threads));
	for (size_t i = 0; i < q->n_threads; i++)
		if (pthread_create(&q->threads[i], NULL, delivery_thread, q) != 0)
			log_fatal("event=queue-error error=\"cannot start delivery thread\"");
	log_info("event=queue-started threads=%zu next_hop=%s", q->n_threads,
	         cfg->default_route.kind == NEXT_HOP_DIR ? cfg->default_route.dir
	                                                 : cfg->default_route.host);
}

static void
queue_stop(struct queue *q)
{
	log_info("event=queue-stopping");
	pthread_mutex_lock(&q->lock);
	q->is_stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	hops_stop(&q->dl.hops);
	for (size_t i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	while (q->entries) {
		struct qentry *e = q->entries;
		q->entries = e->next;
		free(e);
	}
	while (q->jobs) {
		struct qjob *j = q->jobs;
		q->jobs = j->next;
		free(j);
	}
	hashmap_free(q->by_id);
	hops_destroy(&q->dl.hops);
	if (q->control_fd >= 0)
		close(q->control_fd);
	close(q->refill[0]);
	close(q->refill[1]);
	free(q->threads);
}

int
queue_run(const struct config *cfg, SSL_CTX *ctx, int wake_fd)
{
	struct queue *q;
	struct sigaction sa = {0};
	int64_t last_scan = 0;
	int lock_fd;

	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((lock_fd = own_the_queue(cfg)) < 0)
		return 0;
	q = xcalloc(1, sizeof(*q));
	queue_start(q, cfg, ctx);
	while (!got_term) {
		struct pollfd pfd[3] = {
		    {wake_fd, POLLIN, 0}, {q->refill[0], POLLIN, 0}, {q->control_fd, POLLIN, 0}};
		int64_t now_ms = clock_monotonic_ms();

		pthread_mutex_lock(&q->lock);
		/* A full scan each tick catches what the wake pipe did not say. */
		if (q->need_scan || now_ms - last_scan >= QUEUE_TICK_MS) {
			scan(q);
			last_scan = now_ms;
			q->need_scan = false;
		}
		dispatch(q);
		pthread_mutex_unlock(&q->lock);
		if (poll(pfd, q->control_fd >= 0 ? 3 : 2, QUEUE_TICK_MS) <= 0)
			continue;
		if (pfd[0].revents && !lineread(wake_fd, &q->wake, wake_line, q))
			q->need_scan = true;
		if (pfd[1].revents)
			drain(q->refill[0]);
		if (q->control_fd >= 0 && pfd[2].revents)
			lineread(q->control_fd, &q->control, control_line, q);
	}
	queue_stop(q);
	free(q);
	close(lock_fd);
	return 0;
}
