#include "spool/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fsx.h"
#include "util/num.h"
#include "util/str.h"

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
