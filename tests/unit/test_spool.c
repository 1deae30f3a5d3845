/* Unit tests: spool files are reused through free/ and a reused file holds
 * exactly the new message; delivery state lines read back equal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool/spool.h"

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
	struct safedir_owner own = {0};
	char why[256] = "";
	int fd;
	off_t off;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(spool_prepare_dirs(dir, &own, why, sizeof(why)));
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

static void
state_envelope(struct envelope *e)
{
	envelope_init(e);
	envelope_add_rcpt(e, "tempfail@example.org");
	envelope_add_rcpt(e, "\"a b\"@victim.example");
	envelope_add_rcpt(e, "\"nosuch x\"@victim.example");
	envelope_add_rcpt(e, "plain@victim.example");
}

/* Issue 12: a recipient with a space in a quoted local part was matched by
 * the text up to its first space, so its "done" line never applied. */
static void
test_state_round_trip(void **state)
{
	struct envelope e;
	struct buf b;
	static const struct {
		size_t i;
		unsigned st;
		bool done;
		const char *note;
	} want[] = {
	    {0, RCPT_PENDING, false, "451 4.2.1 busy"},
	    {1, RCPT_DONE, true, "250 2.0.0 OK"},
	    {2, RCPT_FAILED, true, "550 5.1.1 no such user"},
	    {3, RCPT_DONE, true, "250 2.0.0 OK  with a tab"},
	};

	(void)state;
	state_envelope(&e);
	buf_init(&b, 4096);
	spool_state_rcpt(&b, RCPT_PENDING, 1, "451 first try");
	spool_state_rcpt(&b, RCPT_DONE, 1, "250 2.0.0 OK");
	spool_state_rcpt(&b, RCPT_PENDING, 1, "451 must not undo done");
	spool_state_rcpt(&b, RCPT_FAILED, 2, "550 5.1.1 no such user");
	spool_state_rcpt(&b, RCPT_DONE, 3, "250 2.0.0 OK\r\twith a tab");
	spool_state_rcpt(&b, RCPT_PENDING, 0, "451 4.2.1 busy");
	spool_state_attempt(&b, 3, 1795890000);
	buf_puts(&b, "done #9 out of range\ndone #x junk\nattempt 4"); /* torn last line */
	spool_parse_state(b.data, b.len, &e);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		size_t i = want[k].i;
		if (e.rcpt_state[i] != want[k].st || e.rcpt_done[i] != want[k].done ||
		    strcmp(e.rcpt_note[i], want[k].note) != 0)
			fail_msg("<%s>: got state %u '%s', want %u '%s'", e.rcpt[i],
			         e.rcpt_state[i], e.rcpt_note[i], want[k].st, want[k].note);
	}
	assert_int_equal(e.attempts, 3);
	assert_int_equal(e.next_attempt, 1795890000);
	buf_free(&b);
	envelope_free(&e);
}

/* Spools written by earlier versions name the recipient by address. */
static void
test_state_legacy_lines(void **state)
{
	struct envelope e;
	const char old[] = "deferred tempfail@example.org 451 busy\n"
	                   "done plain@victim.example 250 OK\nwarned 1795890000\nbounce alice\n";

	(void)state;
	state_envelope(&e);
	spool_parse_state(old, strlen(old), &e);
	assert_int_equal(e.rcpt_state[0], RCPT_PENDING);
	assert_string_equal(e.rcpt_note[0], "451 busy");
	assert_true(e.rcpt_done[3] && !e.rcpt_done[1] && !e.rcpt_done[2]);
	assert_true(e.is_warned && e.is_bounce_requested);
	envelope_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_reuse),
	                                   cmocka_unit_test(test_state_round_trip),
	                                   cmocka_unit_test(test_state_legacy_lines)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
