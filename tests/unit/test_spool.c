/* Unit tests: spool files are reused through free/ and a reused file holds
 * exactly the new message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

static char dir[] = "/tmp/mailout-spool-test-XXXXXX";

static void
commit_message(const char *body, size_t len, char *id, size_t idsize)
{
	struct envelope e;
	struct spool_msg *m;
	int err = 0;

	envelope_init(&e);
	strcpy(e.sender, "copier@example.edu");
	envelope_add_rcpt(&e, "lab@example.edu");
	strcpy(e.tls, "none");
	m = spool_create(dir, &e, &err);
	assert_non_null(m);
	assert_true(spool_write(m, body, len));
	assert_int_equal(spool_commit(m), 0);
	snprintf(id, idsize, "%s", spool_id(m));
	spool_msg_free(m);
	envelope_free(&e);
}

static ino_t
inode_of(const char *sub, const char *id)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, id);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void
test_reuse(void **state)
{
	char a[SPOOL_ID_MAX], b[SPOOL_ID_MAX], path[512];
	static char big[100000];
	const char small[] = "Subject: short\r\n\r\nsmall body\r\n";
	struct envelope e;
	unsigned swept;
	int fd;
	off_t off;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(spool_prepare(dir, &swept), 0);
	memset(big, 'x', sizeof(big));
	commit_message(big, sizeof(big), a, sizeof(a));
	ino_t ino = inode_of("queue", a);
	assert_int_equal(spool_remove(dir, a), 0);
	snprintf(path, sizeof(path), "%s/queue/%s", dir, a);
	assert_int_not_equal(access(path, F_OK), 0);

	commit_message(small, strlen(small), b, sizeof(b));
	assert_string_not_equal(a, b);
	assert_true(inode_of("queue", b) == ino); /* the same file, reused */

	/* and it holds exactly the new message: no tail of the old one */
	envelope_init(&e);
	assert_int_equal(spool_load(dir, b, &e, &fd, &off), 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((size_t)st.st_size, off + strlen(small));
	char got[sizeof(small)];
	assert_int_equal(pread(fd, got, strlen(small), (off_t)off), (ssize_t)strlen(small));
	assert_memory_equal(got, small, strlen(small));
	assert_string_equal(e.rcpt[0], "lab@example.edu");
	close(fd);
	envelope_free(&e);

	/* an uncommitted message leaves nothing in incoming/ */
	envelope_init(&e);
	int err = 0;
	struct spool_msg *m = spool_create(dir, &e, &err);
	assert_non_null(m);
	spool_msg_free(m);
	envelope_free(&e);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_reuse)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
