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
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

void
envelope_free(struct envelope *e)
{
	free(e->rcpt);
	free(e->rcpt_done);
	free(e->rcpt_state);
	free(e->rcpt_note);
	envelope_init(e);
}

void
envelope_reset(struct envelope *e)
{
	e->sender[0] = '\0';
	e->n_rcpt = 0;
	e->body = SMTP_BODY_UNSPEC;
	e->smtputf8 = false;
}

void
envelope_add_rcpt(struct envelope *e, const char *addr)
{
	if (e->n_rcpt == e->cap_rcpt) {
		e->cap_rcpt = e->cap_rcpt ? e->cap_rcpt * 2 : 8;
		e->rcpt = xrealloc(e->rcpt, e->cap_rcpt * sizeof(*e->rcpt));
		e->rcpt_done = xrealloc(e->rcpt_done, e->cap_rcpt * sizeof(*e->rcpt_done));
		e->rcpt_state = xrealloc(e->rcpt_state, e->cap_rcpt * sizeof(*e->rcpt_state));
		e->rcpt_note = xrealloc(e->rcpt_note, e->cap_rcpt * sizeof(*e->rcpt_note));
	}
	str_copy(e->rcpt[e->n_rcpt], ADDRESS_MAX, addr);
	e->rcpt_done[e->n_rcpt] = false;
	e->rcpt_state[e->n_rcpt] = RCPT_PENDING;
	e->rcpt_note[e->n_rcpt][0] = '\0';
	e->n_rcpt++;
}

void
spool_new_id(char *dst, size_t size)
{
	static unsigned counter;
	struct timespec ts;

	clock_now_ts(&ts);
	str_fmt(dst, size, "%08llX%05lX%04X%03X", (unsigned long long)ts.tv_sec,
	        (unsigned long)(ts.tv_nsec / 1000), (unsigned)getpid() & 0xffff, counter++ & 0xfff);
}

void
spool_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[n++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

static const char *
body_name(enum smtp_body b)
{
	return b == SMTP_BODY_8BITMIME ? "8BITMIME" : b == SMTP_BODY_7BIT ? "7BIT" : "-";
}

/* The envelope fields before the recipients. */
static bool
header_fields(struct buf *b, const struct envelope *e)
{
	return buf_printf(b,
	                  SPOOL_VERSION "\nid %s\narrival %lld\nlistener %s\nclient %s\n"
	                                "helo %s\ntls %s\nbody %s\nsmtputf8 %d\n%ssender %s\n",
	                  e->id, (long long)e->arrival, e->listener, e->client, e->helo, e->tls,
	                  body_name(e->body), e->smtputf8 ? 1 : 0,
	                  e->is_internal_only ? "internal-only 1\n" : "", e->sender);
}

bool
spool_format_header(struct buf *b, const struct envelope *e)
{
	bool ok = header_fields(b, e);

	for (size_t i = 0; ok && i < e->n_rcpt; i++)
		ok = buf_printf(b, "rcpt %s\n", e->rcpt[i]);
	return ok && buf_puts(b, "\n");
}

/* The same into the file, flushed as it grows: 100,000 recipients do not
 * sit in memory at once. */
static bool
write_header(struct spool_msg *m, const struct envelope *e)
{
	struct buf *b = &m->wbuf;
	bool ok = header_fields(b, e);

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

static bool
parse_body(const char *v, enum smtp_body *out)
{
	if (strcmp(v, "8BITMIME") == 0)
		*out = SMTP_BODY_8BITMIME;
	else if (strcmp(v, "7BIT") == 0)
		*out = SMTP_BODY_7BIT;
	else if (strcmp(v, "-") == 0)
		*out = SMTP_BODY_UNSPEC;
	else
		return false;
	return true;
}

/* One "key value" header line; false if unknown or malformed. */
static bool
parse_header_line(struct envelope *e, const char *key, const char *v)
{
	uint64_t n;

	if (strcmp(key, "id") == 0)
		return v[0] && str_copy(e->id, sizeof(e->id), v);
	if (strcmp(key, "arrival") == 0) {
		if (!num_parse_u64(v, 0, INT64_MAX, &n))
			return false;
		e->arrival = (int64_t)n;
		return true;
	}
	if (strcmp(key, "listener") == 0)
		return str_copy(e->listener, sizeof(e->listener), v);
	if (strcmp(key, "client") == 0)
		return str_copy(e->client, sizeof(e->client), v);
	if (strcmp(key, "helo") == 0)
		return str_copy(e->helo, sizeof(e->helo), v);
	if (strcmp(key, "tls") == 0)
		return str_copy(e->tls, sizeof(e->tls), v);
	if (strcmp(key, "body") == 0)
		return parse_body(v, &e->body);
	if (strcmp(key, "smtputf8") == 0) {
		if (!num_parse_u64(v, 0, 1, &n))
			return false;
		e->smtputf8 = n == 1;
		return true;
	}
	if (strcmp(key, "internal-only") == 0) {
		if (!num_parse_u64(v, 0, 1, &n))
			return false;
		e->is_internal_only = n == 1;
		return true;
	}
	if (strcmp(key, "sender") == 0)
		return str_copy(e->sender, sizeof(e->sender), v);
	if (strcmp(key, "rcpt") == 0) {
		if (v[0] == '\0' || strlen(v) >= ADDRESS_MAX)
			return false;
		envelope_add_rcpt(e, v);
		return true;
	}
	return false;
}

bool
spool_parse_header(const char *p, size_t len, struct envelope *e, size_t *header_len)
{
	const char *cur = p, *end = p + len;
	size_t vlen = strlen(SPOOL_VERSION);
	char line[ADDRESS_MAX + 16];

	envelope_free(e);
	if (len < vlen + 1 || memcmp(p, SPOOL_VERSION "\n", vlen + 1) != 0)
		return false;
	cur += vlen + 1;
	while (cur < end) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		char *sp;

		if (nl == NULL)
			return false;
		if (nl == cur) { /* blank line: end of the header */
			*header_len = (size_t)(nl + 1 - p);
			return e->id[0] != '\0' && e->n_rcpt > 0;
		}
		if (!str_copyn(line, sizeof(line), cur, (size_t)(nl - cur)) ||
		    memchr(cur, '\0', (size_t)(nl - cur)) || (sp = strchr(line, ' ')) == NULL)
			return false;
		*sp = '\0';
		if (!parse_header_line(e, line, sp + 1))
			return false;
		cur = nl + 1;
	}
	return false;
}

/* Read the header part of fd into b (up to the blank line). */
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

static void
set_rcpt_state(struct envelope *e, size_t i, int st, const char *note)
{
	e->rcpt_state[i] = (unsigned char)st;
	e->rcpt_done[i] = st != RCPT_PENDING;
	str_copy(e->rcpt_note[i], SPOOL_NOTE_MAX, note);
}

/* A recipient's line: "#INDEX TEXT" (what this version writes, so that any
 * address round-trips, spaces in quoted local parts included), or "ADDRESS
 * TEXT" from spools of earlier versions, split at the first space (an
 * address always holds an '@', so the two cannot be confused). Done and
 * failed are final: later lines do not change them. */
static void
apply_rcpt_state(struct envelope *e, int st, char *arg)
{
	char *rest = strchr(arg, ' ');
	uint64_t i;

	if (rest)
		*rest++ = '\0';
	if (arg[0] == '#') {
		if (e->n_rcpt > 0 && num_parse_u64(arg + 1, 0, e->n_rcpt - 1, &i) &&
		    !e->rcpt_done[i])
			set_rcpt_state(e, (size_t)i, st, rest ? rest : "");
		return;
	}
	for (size_t k = 0; k < e->n_rcpt; k++)
		if (!e->rcpt_done[k] && strcmp(e->rcpt[k], arg) == 0)
			set_rcpt_state(e, k, st, rest ? rest : "");
}

/* Apply one state line (without its newline); unknown lines are skipped
 * (newer versions). */
static void
apply_state_line(struct envelope *e, char *line)
{
	char *arg = strchr(line, ' '), *rest;
	uint64_t n, t;

	if (arg == NULL)
		return;
	*arg++ = '\0';
	if (strcmp(line, "attempt") == 0) {
		if ((rest = strchr(arg, ' ')) == NULL)
			return;
		*rest++ = '\0';
		if (num_parse_u64(arg, 0, UINT32_MAX, &n) &&
		    num_parse_u64(rest, 0, INT64_MAX, &t)) {
			e->attempts = (unsigned)n;
			e->next_attempt = (int64_t)t;
		}
	} else if (strcmp(line, "warned") == 0) {
		e->is_warned = true;
	} else if (strcmp(line, "bounce") == 0) {
		e->is_bounce_requested = true;
	} else if (strcmp(line, "done") == 0) {
		apply_rcpt_state(e, RCPT_DONE, arg);
	} else if (strcmp(line, "failed") == 0) {
		apply_rcpt_state(e, RCPT_FAILED, arg);
	} else if (strcmp(line, "deferred") == 0) {
		apply_rcpt_state(e, RCPT_PENDING, arg);
	}
}

void
spool_parse_state(const char *p, size_t len, struct envelope *e)
{
	char line[SPOOL_STATE_LINE_MAX];

	for (const char *cur = p, *end = p + len; cur < end;) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		size_t n = (size_t)((nl ? nl : end) - cur);

		/* A torn last line (a crash mid-append) or a foreign one is skipped. */
		if (nl != NULL && memchr(cur, '\0', n) == NULL &&
		    str_copyn(line, sizeof(line), cur, n))
			apply_state_line(e, line);
		cur += n + 1;
	}
}

int
spool_load_state(const char *spool_dir, struct envelope *e)
{
	char path[PATH_MAX], chunk[8192];
	struct buf b;
	ssize_t n;
	int fd, rc = 0;

	if (!str_fmt(path, sizeof(path), "%s/state/%s", spool_dir, e->id))
		return ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : errno;
	buf_init(&b, SPOOL_HEADER_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || !buf_append(&b, chunk, (size_t)n)) {
			rc = n < 0 ? errno : EFBIG;
			break;
		}
	}
	close(fd);
	if (rc == 0)
		spool_parse_state(b.data, b.len, e);
	buf_free(&b);
	return rc;
}

/* Append one line to state/ID and fsync it. */
static int
append_state(const char *spool_dir, const char *id, const char *line)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	if (!str_fmt(path, sizeof(path), "%s/state/%s", spool_dir, id))
		return ENAMETOOLONG;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return errno;
	if (fsx_write_all(fd, line, strlen(line)) != 0 || fsx_fsync(fd) != 0)
		rc = errno;
	close(fd);
	return rc;
}

bool
spool_state_rcpt(struct buf *b, enum rcpt_state st, size_t rcpt, const char *text)
{
	const char *kind = st == RCPT_DONE ? "done" : st == RCPT_FAILED ? "failed" : "deferred";
	char clean[SPOOL_NOTE_MAX];

	spool_clean_note(clean, sizeof(clean), text ? text : "");
	return buf_printf(b, "%s #%zu %s\n", kind, rcpt, clean);
}

void
spool_clean_note(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	/* One line per record: keep spaces, turn control characters into one. */
	for (const char *p = src; *p && n + 1 < size; p++)
		dst[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? ' ' : *p;
	dst[n] = '\0';
}

bool
spool_state_attempt(struct buf *b, unsigned attempts, int64_t next)
{
	return buf_printf(b, "attempt %u %lld\n", attempts, (long long)next);
}

int
spool_state_write(const char *spool_dir, const char *id, const struct buf *b)
{
	return b->len ? append_state(spool_dir, id, buf_cstr(b)) : 0;
}

int
spool_mark_warned(const char *spool_dir, const char *id)
{
	char line[64];

	str_fmt(line, sizeof(line), "warned %lld\n", (long long)clock_now());
	return append_state(spool_dir, id, line);
}

int
spool_mark_bounce(const char *spool_dir, const char *id, const char *actor)
{
	char line[128], who[64];

	spool_sanitize(who, sizeof(who), actor, strlen(actor));
	str_fmt(line, sizeof(line), "bounce %s\n", who);
	return append_state(spool_dir, id, line);
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
