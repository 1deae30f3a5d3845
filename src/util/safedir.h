/*
 * safedir: folders and FIFOs that a process running as root makes for a
 * less privileged user, without following anything that user could have
 * put in their place. Every step works on descriptors: the last component
 * is opened with O_NOFOLLOW, entries inside with openat()/mkdirat(), and
 * ownership is changed with fchown() on what was opened, so a symlink,
 * a FIFO where a folder belongs, or a folder of another owner is refused
 * with a sentence instead of being followed, chowned or deleted.
 * Mail-agnostic; errors go to the caller's buffer, nothing is logged.
 */
#ifndef MAILOUT_UTIL_SAFEDIR_H
#define MAILOUT_UTIL_SAFEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct safedir_owner {
	bool do_chown; /* running as root: give what is made to uid:gid */
	uid_t uid;
	gid_t gid;
};

/* Make the folder name (relative to at, or a path with at = AT_FDCWD) if it
 * is missing, open it and check it: a folder, not a symlink, owned by root
 * or by the owner's uid, not writable by others. With do_chown it becomes
 * uid:gid with mode. Returns an O_DIRECTORY descriptor, or -1 with err
 * naming shown. */
int safedir_open(int at, const char *name, mode_t mode, const struct safedir_owner *,
                 const char *shown, char *err, size_t errlen);
/* The same for a FIFO name inside the folder dirfd (its mode is set only
 * when it is made). */
bool safedir_fifo(int dirfd, const char *name, mode_t mode, const struct safedir_owner *,
                  const char *shown, char *err, size_t errlen);

#endif
