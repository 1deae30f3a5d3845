#include "util/fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/num.h"

enum fsx_op { FSX_WRITE, FSX_FSYNC, FSX_RENAME, FSX_NOPS };

static const char *const op_names[FSX_NOPS] = {"write", "fsync", "rename"};
static atomic_ulong op_count[FSX_NOPS];
static unsigned long fail_at[FSX_NOPS];

void
fsx_init(void)
{
	const char *spec = getenv("MAILOUT_FAULT");
	uint64_t n;

	if (spec == NULL)
		return;
	for (int op = 0; op < FSX_NOPS; op++) {
		size_t len = strlen(op_names[op]);

		if (strncmp(spec, op_names[op], len) == 0 && spec[len] == ':' &&
		    num_parse_u64(spec + len + 1, 1, 1000000000, &n))
			fail_at[op] = (unsigned long)n;
	}
}

/* True when this call of op is the one chosen to fail. */
static bool
fault(enum fsx_op op)
{
	unsigned long n = atomic_fetch_add(&op_count[op], 1) + 1;

	return fail_at[op] != 0 && n == fail_at[op];
}

int
fsx_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	if (fault(FSX_WRITE)) {
		errno = ENOSPC;
		return -1;
	}
	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsx_fsync(int fd)
{
	if (fault(FSX_FSYNC)) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

int
fsx_rename(const char *from, const char *to)
{
	if (fault(FSX_RENAME)) {
		errno = EIO;
		return -1;
	}
	return rename(from, to);
}

int
fsx_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = fsx_fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fsx_mkdir(const char *path, unsigned mode)
{
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

char *
fsx_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	text = malloc(max + 1);
	if (text == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	while (n <= max && (r = read(fd, text + n, max + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(text);
			errno = e;
			return NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(text);
		errno = EFBIG;
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
}
