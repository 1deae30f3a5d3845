/*
 * fsx: file system calls used for durability, with a fault-injection seam.
 * MAILOUT_FAULT="op:N" (op = write, fsync, rename) makes the Nth call of
 * that op in this process fail with ENOSPC (write) or EIO, so tests can
 * prove that a failed write never becomes a 250. Thread-safe.
 */
#ifndef MAILOUT_UTIL_FSX_H
#define MAILOUT_UTIL_FSX_H

#include <stdbool.h>
#include <stddef.h>

void fsx_init(void);
/* Write all of p; -1 with errno on failure. */
int fsx_write_all(int fd, const void *p, size_t n);
int fsx_fsync(int fd);
int fsx_rename(const char *from, const char *to);
/* fsync the directory that holds path (or the directory path itself). */
int fsx_fsync_dir(const char *dir);
/* The whole file at path, NUL-terminated, at most max bytes (EFBIG above),
 * read with read(2) into one buffer: no stdio buffer keeps a copy, so a
 * caller that holds a secret can wipe the only one. NULL with errno. */
char *fsx_read_file(const char *path, size_t max, size_t *len);
/* mkdir -p of one level, tolerant of EEXIST. */
int fsx_mkdir(const char *path, unsigned mode);

#endif
