#include "util/safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"

/* The checks every entry passes: its kind, not a link, its owner, and
 * nobody else may write to it. */
static bool
check_entry(const struct stat *st, mode_t kind, const struct safedir_owner *o, const char *shown,
            char *err, size_t errlen)
{
	if ((st->st_mode & S_IFMT) != kind) {
		str_fmt(err, errlen, "%s is not a %s", shown, kind == S_IFDIR ? "folder" : "FIFO");
		return false;
	}
	if (st->st_uid != 0 && st->st_uid != o->uid && o->do_chown) {
		str_fmt(err, errlen,
		        "%s belongs to uid %u, not to root or the service user (uid %u)", shown,
		        (unsigned)st->st_uid, (unsigned)o->uid);
		return false;
	}
	if (st->st_mode & S_IWOTH) {
		str_fmt(err, errlen, "%s may be written by anyone (mode %03o)", shown,
		        (unsigned)(st->st_mode & 0777));
		return false;
	}
	return true;
}

/* Why openat(O_NOFOLLOW) failed, in words. */
static void
open_error(int e, const char *shown, char *err, size_t errlen)
{
	if (e == ELOOP || e == ENOTDIR)
		str_fmt(err, errlen,
		        "%s is a symbolic link or not a folder: refusing to follow it (remove it, "
		        "or give the real path)",
		        shown);
	else
		str_fmt(err, errlen, "%s: %s", shown, strerror(e));
}

int
safedir_open(int at, const char *name, mode_t mode, const struct safedir_owner *o,
             const char *shown, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdirat(at, name, mode) != 0 && errno != EEXIST) {
		str_fmt(err, errlen, "cannot make %s: %s", shown, strerror(errno));
		return -1;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		open_error(errno, shown, err, errlen);
		return -1;
	}
	if (fstat(fd, &st) != 0 || !check_entry(&st, S_IFDIR, o, shown, err, errlen) ||
	    (o->do_chown && (fchown(fd, o->uid, o->gid) != 0 || fchmod(fd, mode) != 0))) {
		if (!err[0])
			str_fmt(err, errlen, "%s: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

bool
safedir_fifo(int dirfd, const char *name, mode_t mode, const struct safedir_owner *o,
             const char *shown, char *err, size_t errlen)
{
	struct stat st;
	int fd;
	bool ok;

	if (mkfifoat(dirfd, name, mode) != 0 && errno != EEXIST) {
		str_fmt(err, errlen, "cannot make %s: %s", shown, strerror(errno));
		return false;
	}
	/* O_PATH: opening a FIFO for reading or writing would block or act. */
	if ((fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		open_error(errno, shown, err, errlen);
		return false;
	}
	ok = fstat(fd, &st) == 0 && check_entry(&st, S_IFIFO, o, shown, err, errlen);
	/* On the descriptor, never by name: the name may be a link by now. */
	if (ok && o->do_chown && fchownat(fd, "", o->uid, o->gid, AT_EMPTY_PATH) != 0) {
		str_fmt(err, errlen, "%s: %s", shown, strerror(errno));
		ok = false;
	}
	close(fd);
	return ok;
}
