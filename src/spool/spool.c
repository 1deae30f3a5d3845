#include "spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fsx.h"
#include "util/num.h"
#include "util/safedir.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define WBUF_FLUSH (64 * 1024) /* write() in chunks of this size */
#define WBUF_MAX   (WBUF_FLUSH + 4096)
#define FREE_SLOTS 256 /* files kept in free/ for reuse */
#define FREE_TRIES 8   /* slots a new message looks at before it creates a file */

/* Recycled files: a delivered message's file is renamed to free/SLOT and
 * the next message received reuses it, because on ext4 without a journal
 * creating a file scans past every inode deleted in the last seconds
 * (recently_deleted()), which at hundreds of messages a second was a
 * tenth of the workers' CPU. The queue runner fills slots in order, the
 * workers take them in the same order; a worker that finds no file in
 * FREE_TRIES slots creates one as before. */
static atomic_uint free_put, free_take;

struct spool_msg {
	char id[SPOOL_ID_MAX];
	char dir[PATH_MAX];
	char incoming[PATH_MAX];
	int fd;
	struct buf wbuf;
	uint64_t body_size;
	uint64_t written; /* bytes in the file: a reused file is cut to this */
	bool is_reused;
	int err;
	bool is_committed;
};

void
spool_new_id(char *dst, size_t size)
{
	static unsigned counter;
	struct timespec ts;

	clock_now_ts(&ts);
	str_fmt(dst, size, "%08llX%05lX%04X%03X", (unsigned long long)ts.tv_sec,
	        (unsigned long)(ts.tv_nsec / 1000), (unsigned)getpid() & 0xffff, counter++ & 0xfff);
}

/* The same into the file, flushed as it grows: 100,000 recipients do not
 * sit in memory at once. */
static bool
write_header(struct spool_msg *m, const struct envelope *e)
{
	struct buf *b = &m->wbuf;
	bool ok = spool_header_fields(b, e);

	for (size_t i = 0; ok && i < e->n_rcpt; i++) {
		ok = buf_printf(b, "rcpt %s\n", e->rcpt[i]);
		if (ok && b->len >= WBUF_FLUSH) {
			ok = fsx_write_all(m->fd, b->data, b->len) == 0;
			buf_reset(b);
		}
	}
	return ok && buf_puts(b, "\n");
}

/* Move a free file to path; false if none was found in FREE_TRIES slots. */
static bool
take_free_file(const char *spool_dir, const char *path)
{
	unsigned start = atomic_load(&free_take);

	for (unsigned i = 0; i < FREE_TRIES; i++) {
		char slot[PATH_MAX];
		unsigned k = (start + i) % FREE_SLOTS;

		if (!str_fmt(slot, sizeof(slot), "%s/free/%u", spool_dir, k))
			return false;
		if (rename(slot, path) == 0) {
			atomic_store(&free_take, start + i + 1);
			return true;
		}
		if (errno != ENOENT)
			return false;
	}
	return false;
}

static int
open_incoming(struct spool_msg *m)
{
	if (take_free_file(m->dir, m->incoming)) {
		int fd = open(m->incoming, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			m->is_reused = true;
			return fd;
		}
		unlink(m->incoming);
	}
	return open(m->incoming, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

struct spool_msg *
spool_create(const char *spool_dir, struct envelope *e, int *err)
{
	struct spool_msg *m = xcalloc(1, sizeof(*m));

	m->fd = -1;
	buf_init(&m->wbuf, WBUF_MAX);
	str_copy(m->dir, sizeof(m->dir), spool_dir);
	for (int tries = 0; tries < 5; tries++) {
		spool_new_id(e->id, sizeof(e->id));
		str_copy(m->id, sizeof(m->id), e->id);
		if (!str_fmt(m->incoming, sizeof(m->incoming), "%s/incoming/%s", spool_dir,
		             e->id)) {
			*err = ENAMETOOLONG;
			goto fail;
		}
		m->fd = open_incoming(m);
		if (m->fd >= 0 || errno != EEXIST)
			break;
	}
	if (m->fd < 0) {
		*err = errno;
		goto fail;
	}
	if (!write_header(m, e)) {
		*err = errno ? errno : EIO;
		spool_msg_free(m);
		return NULL;
	}
	return m;
fail:
	buf_free(&m->wbuf);
	free(m);
	return NULL;
}

static bool
wbuf_flush(struct spool_msg *m)
{
	if (m->err)
		return false;
	if (m->wbuf.len > 0 && fsx_write_all(m->fd, m->wbuf.data, m->wbuf.len) != 0) {
		m->err = errno ? errno : EIO;
		return false;
	}
	m->written += m->wbuf.len;
	buf_reset(&m->wbuf);
	return true;
}

bool
spool_write(struct spool_msg *m, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0 && m->err == 0) {
		size_t room = WBUF_FLUSH - (m->wbuf.len < WBUF_FLUSH ? m->wbuf.len : WBUF_FLUSH);
		size_t take = n < room ? n : room;

		if (take == 0 || !buf_append(&m->wbuf, c, take)) {
			if (!wbuf_flush(m))
				return false;
			continue;
		}
		c += take;
		n -= take;
		m->body_size += take;
		if (m->wbuf.len >= WBUF_FLUSH && !wbuf_flush(m))
			return false;
	}
	return m->err == 0;
}

uint64_t
spool_body_size(const struct spool_msg *m)
{
	return m->body_size;
}

int
spool_error(const struct spool_msg *m)
{
	return m->err;
}

const char *
spool_id(const struct spool_msg *m)
{
	return m->id;
}

/* Group commit of the queue folder: an fsync of the folder makes durable
 * every rename that completed before it began, so concurrent commits share
 * one folder fsync instead of each doing its own. */
static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dir_cond = PTHREAD_COND_INITIALIZER;
static uint64_t dir_renamed, dir_synced, dir_failed_upto;
static int dir_failed_errno;
static bool is_dir_syncing;

static int
sync_queue_dir(const char *qdir)
{
	uint64_t mine;
	int rc = 0;

	pthread_mutex_lock(&dir_lock);
	mine = ++dir_renamed; /* called after our rename completed */
	while (dir_synced < mine && rc == 0) {
		if (mine <= dir_failed_upto) {
			rc = dir_failed_errno;
			break;
		}
		if (is_dir_syncing) {
			pthread_cond_wait(&dir_cond, &dir_lock);
			continue;
		}
		uint64_t target = dir_renamed;
		is_dir_syncing = true;
		pthread_mutex_unlock(&dir_lock);
		int err = fsx_fsync_dir(qdir) == 0 ? 0 : errno;
		pthread_mutex_lock(&dir_lock);
		is_dir_syncing = false;
		if (err == 0) {
			dir_synced = target;
		} else {
			dir_failed_upto = target;
			dir_failed_errno = err;
			rc = err;
		}
		pthread_cond_broadcast(&dir_cond);
	}
	pthread_mutex_unlock(&dir_lock);
	return rc;
}

int
spool_commit(struct spool_msg *m)
{
	char queued[PATH_MAX], qdir[PATH_MAX];

	if (!wbuf_flush(m))
		return m->err;
	if (!str_fmt(queued, sizeof(queued), "%s/queue/%s", m->dir, m->id) ||
	    !str_fmt(qdir, sizeof(qdir), "%s/queue", m->dir))
		return ENAMETOOLONG;
	/* A reused file may be longer than this message: cut the rest. */
	if (m->is_reused && ftruncate(m->fd, (off_t)m->written) != 0)
		return errno;
	/* File data first: after the rename the message must be complete. */
	if (fsx_fsync(m->fd) != 0)
		return errno;
	if (fsx_rename(m->incoming, queued) != 0)
		return errno;
	m->is_committed = true;
	/* Then the directory entry, or a power loss could undo the rename. If
	 * that fails the client gets 4xx and sends again: take the file back. */
	int rc = sync_queue_dir(qdir);
	if (rc != 0) {
		unlink(queued);
		return rc;
	}
	return 0;
}

void
spool_msg_free(struct spool_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (!m->is_committed)
		unlink(m->incoming);
	buf_free(&m->wbuf);
	free(m);
}

bool
spool_prepare_dirs(const char *spool_dir, const struct safedir_owner *o, char *err, size_t errlen)
{
	static const char *const subdirs[] = {"incoming", "queue", "state", "hold", "free"};
	char shown[PATH_MAX + 16];
	int top, fd;
	bool ok = true;

	if ((top = safedir_open(AT_FDCWD, spool_dir, 0750, o, spool_dir, err, errlen)) < 0)
		return false;
	for (size_t i = 0; ok && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		str_fmt(shown, sizeof(shown), "%s/%s", spool_dir, subdirs[i]);
		if ((fd = safedir_open(top, subdirs[i], 0750, o, shown, err, errlen)) < 0)
			ok = false;
		else
			close(fd);
	}
	str_fmt(shown, sizeof(shown), "%s/control", spool_dir);
	ok = ok && safedir_fifo(top, "control", 0660, o, shown, err, errlen);
	close(top);
	return ok;
}

int
spool_sweep(const char *spool_dir, unsigned *n_swept)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int fd;

	*n_swept = 0;
	if (!str_fmt(path, sizeof(path), "%s/incoming", spool_dir))
		return ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return errno;
	}
	/* Incoming files belong to sessions that died before their 250. */
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && unlinkat(fd, de->d_name, 0) == 0)
			(*n_swept)++;
	closedir(d);
	return 0;
}

int
spool_lock(const char *spool_dir, char *err, size_t errlen)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct stat st;
	char pid[32];
	int dir, fd;

	if ((dir = open(spool_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		str_fmt(err, errlen, "spool %s: %s", spool_dir, strerror(errno));
		return -1;
	}
	fd = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	close(dir);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		str_fmt(err, errlen, "spool %s: lock file: %s", spool_dir,
		        fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* A POSIX lock belongs to this process alone: children do not hold it,
	 * and the second daemon learns the holder's pid from F_GETLK. */
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		fl.l_type = F_WRLCK;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			str_fmt(err, errlen, "spool %s is in use by pid %d", spool_dir,
			        (int)fl.l_pid);
		else
			str_fmt(err, errlen, "spool %s: cannot lock: %s", spool_dir,
			        strerror(errno));
		close(fd);
		return -1;
	}
	/* The lock is what counts; the pid in the file is for people. */
	str_fmt(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, strlen(pid), 0);
	return fd;
}

/* ---- reading ---- */

static int
read_header(int fd, struct buf *b)
{
	char chunk[8192];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EINVAL;
		if (!buf_append(b, chunk, (size_t)n))
			return EFBIG;
		if (memmem(b->data, b->len, "\n\n", 2) != NULL)
			return 0;
	}
}

int
spool_load(const char *spool_dir, const char *id, struct envelope *e, int *fd_out,
           off_t *body_offset)
{
	return spool_load_from(spool_dir, "queue", id, e, fd_out, body_offset);
}

int
spool_load_from(const char *spool_dir, const char *folder, const char *id, struct envelope *e,
                int *fd_out, off_t *body_offset)
{
	char path[PATH_MAX];
	struct buf b;
	size_t hlen;
	int fd, rc;

	if (!str_fmt(path, sizeof(path), "%s/%s/%s", spool_dir, folder, id))
		return ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	buf_init(&b, SPOOL_HEADER_MAX);
	rc = read_header(fd, &b);
	if (rc == 0 && !spool_parse_header(b.data, b.len, e, &hlen))
		rc = EINVAL;
	buf_free(&b);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*body_offset = (off_t)hlen;
	if (lseek(fd, *body_offset, SEEK_SET) < 0) {
		rc = errno;
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int
spool_remove(const char *spool_dir, const char *id)
{
	char path[PATH_MAX];

	char slot[PATH_MAX];
	unsigned k = atomic_fetch_add(&free_put, 1) % FREE_SLOTS;

	if (!str_fmt(path, sizeof(path), "%s/queue/%s", spool_dir, id) ||
	    !str_fmt(slot, sizeof(slot), "%s/free/%u", spool_dir, k))
		return ENAMETOOLONG;
	/* Into a free slot for reuse (replacing what was there), else away. */
	if (rename(path, slot) != 0 && (errno == ENOENT || unlink(path) != 0))
		return errno; /* held or deleted meanwhile: keep its state */
	if (str_fmt(path, sizeof(path), "%s/state/%s", spool_dir, id))
		unlink(path);
	return 0;
}

int
spool_hold(const char *spool_dir, const char *id, bool is_hold)
{
	char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];

	if (strchr(id, '/') || id[0] == '.' ||
	    !str_fmt(from, sizeof(from), "%s/%s/%s", spool_dir, is_hold ? "queue" : "hold", id) ||
	    !str_fmt(to, sizeof(to), "%s/%s/%s", spool_dir, is_hold ? "hold" : "queue", id) ||
	    !str_fmt(dir, sizeof(dir), "%s/%s", spool_dir, is_hold ? "hold" : "queue"))
		return EINVAL;
	if (fsx_rename(from, to) != 0 || fsx_fsync_dir(dir) != 0)
		return errno;
	return 0;
}

int
spool_control(const char *spool_dir, const char *line)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	if (!str_fmt(path, sizeof(path), "%s/control", spool_dir))
		return ENAMETOOLONG;
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno;
	if (fsx_write_all(fd, line, strlen(line)) != 0)
		rc = errno;
	close(fd);
	return rc;
}

void
spool_local_envelope(struct envelope *env, const char *hostname)
{
	envelope_init(env);
	env->arrival = clock_now();
	str_copy(env->listener, sizeof(env->listener), "local");
	str_copy(env->client, sizeof(env->client), "local");
	str_copy(env->helo, sizeof(env->helo), hostname);
	str_copy(env->tls, sizeof(env->tls), "none");
}

int
spool_submit(const char *spool_dir, const char *hostname, const char *sender,
             const char *const *rcpt, size_t n, const char *text, size_t len, char *id,
             size_t id_size)
{
	struct envelope env;
	struct spool_msg *m;
	int err = 0;

	spool_local_envelope(&env, hostname);
	str_copy(env.sender, sizeof(env.sender), sender);
	for (size_t i = 0; i < n; i++)
		envelope_add_rcpt(&env, rcpt[i]);
	if ((m = spool_create(spool_dir, &env, &err)) != NULL) {
		spool_write(m, text, len);
		err = spool_error(m) ? spool_error(m) : spool_commit(m);
		str_copy(id, id_size, env.id);
		spool_msg_free(m);
	}
	envelope_free(&env);
	return err;
}
