/* Unit tests: SMTP AUTH's pure parts: base64, the SASL exchanges (PLAIN
 * and LOGIN), the password file, the sender lists and map, the abuse
 * limits, LDAP value escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <crypt.h>

#include "auth/authlimit.h"
#include "auth/ldapauth.h"
#include "auth/pwfile.h"
#include "auth/senders.h"
#include "sasl.h"
#include "util/base64.h"

static void
test_base64(void **state)
{
	unsigned char out[64];
	char text[64];
	size_t n;

	(void)state;
	assert_true(base64_decode("AGFsaWNlAHB3", 12, out, sizeof(out), &n));
	assert_int_equal(n, 9);
	assert_memory_equal(out, "\0alice\0pw", 9);
	assert_true(base64_decode("", 0, out, sizeof(out), &n) && n == 0);
	assert_true(base64_decode("YQ==", 4, out, sizeof(out), &n) && n == 1 && out[0] == 'a');
	assert_true(base64_decode("YWI=", 4, out, sizeof(out), &n) && n == 2);
	/* strict: no missing padding, no white space, no bits after the end */
	static const char *const bad[] = {
	    "YQ", "YQ=", "Y Q==", "YR==", "YQ==YQ==", "=AAA", "A===", "YW*=", "YWJj\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n))
			fail_msg("'%s' decoded", bad[i]);
	assert_false(base64_decode("YWJj", 4, out, 2, &n)); /* does not fit */
	/* every byte string round-trips */
	for (size_t len = 0; len < 20; len++) {
		unsigned char in[20];
		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(i * 37 + len);
		assert_true(base64_encode(in, len, text, sizeof(text)));
		assert_true(base64_decode(text, strlen(text), out, sizeof(out), &n));
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
	}
	assert_false(base64_encode((const unsigned char *)"abc", 3, text, 4));
}

static enum sasl_result
start(struct sasl *s, const char *arg, const char **ch)
{
	return sasl_start(s, arg, strlen(arg), ch);
}

static enum sasl_result
more(struct sasl *s, const char *line, const char **ch)
{
	return sasl_continue(s, line, strlen(line), ch);
}

static void
test_sasl_plain(void **state)
{
	struct sasl s;
	const char *ch = NULL;

	(void)state;
	/* initial response: "\0alice\0pw" */
	assert_int_equal(start(&s, "PLAIN AGFsaWNlAHB3", &ch), SASL_DONE);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.pass, "pw");
	/* authzid equal to the user is fine, another is not */
	assert_int_equal(start(&s, "plain YWxpY2UAYWxpY2UAcHc=", &ch), SASL_DONE);
	assert_int_equal(start(&s, "PLAIN Ym9iAGFsaWNlAHB3", &ch), SASL_BAD_MESSAGE);
	/* continuation: empty challenge, then the message */
	assert_int_equal(start(&s, "PLAIN", &ch), SASL_CHALLENGE);
	assert_string_equal(ch, "");
	assert_int_equal(more(&s, "AGFsaWNlAHB3", &ch), SASL_DONE);
	assert_int_equal(start(&s, "PLAIN", &ch), SASL_CHALLENGE);
	assert_int_equal(more(&s, "*", &ch), SASL_CANCELLED);
	assert_int_equal(start(&s, "PLAIN", &ch), SASL_CHALLENGE);
	assert_int_equal(more(&s, "%%%", &ch), SASL_BAD_BASE64);
	/* no user, no password, one NUL only, "=" (empty) */
	assert_int_equal(start(&s, "PLAIN AABwdw==", &ch), SASL_BAD_MESSAGE);
	assert_int_equal(start(&s, "PLAIN AGFsaWNlAA==", &ch), SASL_BAD_MESSAGE);
	assert_int_equal(start(&s, "PLAIN YWxpY2U=", &ch), SASL_BAD_MESSAGE);
	assert_int_equal(start(&s, "PLAIN =", &ch), SASL_BAD_MESSAGE);
	/* a CR or LF inside the name would reach a log or a header */
	assert_int_equal(start(&s, "PLAIN AGEKYgBwdw==", &ch), SASL_BAD_MESSAGE);
	sasl_clear(&s);
	assert_string_equal(s.pass, "");
}

static void
test_sasl_login_and_errors(void **state)
{
	struct sasl s;
	const char *ch = NULL;

	(void)state;
	assert_int_equal(start(&s, "LOGIN", &ch), SASL_CHALLENGE);
	assert_string_equal(ch, "VXNlcm5hbWU6");
	assert_int_equal(more(&s, "YWxpY2U=", &ch), SASL_CHALLENGE);
	assert_string_equal(ch, "UGFzc3dvcmQ6");
	assert_int_equal(more(&s, "cHc=", &ch), SASL_DONE);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.pass, "pw");
	/* the user name as initial response */
	assert_int_equal(start(&s, "LOGIN YWxpY2U=", &ch), SASL_CHALLENGE);
	assert_string_equal(ch, "UGFzc3dvcmQ6");
	assert_int_equal(more(&s, "", &ch), SASL_BAD_MESSAGE); /* empty password */
	assert_int_equal(start(&s, "CRAM-MD5", &ch), SASL_BAD_MECH);
	assert_int_equal(start(&s, "", &ch), SASL_SYNTAX);
	assert_int_equal(start(&s, "PLAIN a b", &ch), SASL_SYNTAX);
	assert_int_equal(start(&s, "PLAIN ", &ch), SASL_SYNTAX);
	/* longer than a name can be */
	char big[2048];
	memset(big, 'Q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "LOGIN ", 6);
	assert_int_equal(start(&s, big, &ch), SASL_BAD_BASE64);
}

static void
test_pwfile(void **state)
{
	struct pwfile *pw;
	char line[600], err[256], text[1400];

	(void)state;
	assert_true(pwfile_make_line("alice", "correct horse", line, sizeof(line)));
	assert_true(strncmp(line, "alice:$y$", 9) == 0);
	/* a bcrypt hash made with libcrypt, beside the yescrypt one */
	const char *hash = crypt("copier-admin", crypt_gensalt("$2b$", 5, NULL, 0));
	assert_non_null(hash);
	snprintf(text, sizeof(text), "# users\n\n%s\r\ncarol:%s\n", line, hash);
	assert_non_null(pw = pwfile_parse(text, "mk", err, sizeof(err)));
	assert_int_equal(pwfile_count(pw), 2);
	assert_true(pwfile_check(pw, "alice", "correct horse"));
	assert_false(pwfile_check(pw, "alice", "correct horse "));
	assert_false(pwfile_check(pw, "mallory", "correct horse"));
	assert_true(pwfile_check(pw, "carol", "copier-admin"));
	assert_false(pwfile_check(pw, "carol", "copier-admim"));
	pwfile_free(pw);
	assert_false(pwfile_check(NULL, "alice", "x"));

	assert_null(pwfile_parse("alice\n", "mk", err, sizeof(err)));
	assert_non_null(strstr(err, "line 1"));
	assert_null(
	    pwfile_parse("ok:$y$x\nbob:plain\n", "mailoutctl auth passwd", err, sizeof(err)));
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "mailoutctl auth passwd"));
	assert_null(pwfile_parse(":$y$x\n", "mk", err, sizeof(err)));
	assert_null(pwfile_parse("a:$y$x\na:$y$z\n", "mk", err, sizeof(err)));
	assert_non_null(strstr(err, "twice"));
	/* Every name the writer takes reads back as itself. */
	static const char *const bad_names[] = {"a:b",     "",        "#alice",      "al ice",
	                                        "alice\n", "alice\r", "bob\nmallory"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		if (pwfile_make_line(bad_names[i], "pw", line, sizeof(line)))
			fail_msg("name '%s' was taken", bad_names[i]);
	assert_true(pwfile_make_line("j.doe+adm@example.edu", "pw", line, sizeof(line)));
	assert_non_null(pw = pwfile_parse(line, "mk", err, sizeof(err)));
	assert_true(pwfile_check(pw, "j.doe+adm@example.edu", "pw"));
	pwfile_free(pw);
}

static void
test_senders(void **state)
{
	struct senders s;
	struct sendermap *m;
	char err[256], text[256];

	(void)state;
	senders_init(&s);
	senders_add(&s, "Jane.Doe@example.edu");
	senders_add(&s, "@scan.example.edu");
	assert_true(senders_allow(&s, "jane.doe@EXAMPLE.edu"));
	assert_true(senders_allow(&s, "x@scan.example.edu"));
	assert_true(senders_allow(&s, "")); /* the null sender */
	assert_false(senders_allow(&s, "x@sub.scan.example.edu"));
	assert_false(senders_allow(&s, "jane.doe@example.edu.evil"));
	assert_false(senders_allow(&s, "president@example.edu"));
	senders_format(&s, text, sizeof(text));
	assert_string_equal(text, "Jane.Doe@example.edu, @scan.example.edu");
	senders_free(&s);

	m = sendermap_parse("# map\nscanner: a@example.edu, @scan.example.edu\n  bob :b@x.org\n",
	                    err, sizeof(err));
	assert_non_null(m);
	senders_init(&s);
	sendermap_get(m, "scanner", &s);
	assert_int_equal(s.items.n, 2);
	assert_true(senders_allow(&s, "q@scan.example.edu"));
	sendermap_get(m, "nobody", &s);
	assert_int_equal(s.items.n, 2);
	sendermap_get(m, "bob", &s);
	assert_true(senders_allow(&s, "b@x.org"));
	senders_free(&s);
	sendermap_free(m);
	assert_null(sendermap_parse("scanner a@b\n", err, sizeof(err)));
	assert_null(sendermap_parse("s: not-an-address\n", err, sizeof(err)));
	assert_non_null(strstr(err, "line 1"));
	assert_null(sendermap_parse("s: a@b\ns: c@d\n", err, sizeof(err)));
	assert_null(sendermap_parse("s: a@b@c\n", err, sizeof(err)));
}

static void
test_authlimit(void **state)
{
	struct authlimit_conf c = {.max_failures = 3,
	                           .window = 600,
	                           .messages_per_hour = 2,
	                           .recipients_per_hour = 5,
	                           .max_entries = 4};
	struct authlimit *l = authlimit_new(&c);
	uint64_t m, r;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_false(authlimit_blocked(l, "10.0.0.1", NULL, 1000));
		authlimit_failed(l, "10.0.0.1", "u", 1000 + i);
	}
	assert_true(authlimit_blocked(l, "10.0.0.1", NULL, 1010));
	assert_true(authlimit_blocked(l, "10.9.9.9", "u", 1010)); /* the user, elsewhere */
	assert_false(authlimit_blocked(l, "10.9.9.9", "v", 1010));
	assert_false(authlimit_blocked(l, "10.0.0.1", NULL, 1600)); /* the window ended */
	/* the table is bounded: old entries go, the newest stay */
	for (int i = 0; i < 20; i++)
		authlimit_failed(l, "10.0.0.2", NULL, 2000 + i);
	assert_true(authlimit_blocked(l, "10.0.0.2", NULL, 2020));

	assert_true(authlimit_may_send(l, "u", 0, 5000));
	assert_true(authlimit_may_send(l, "u", 5, 5000));
	assert_false(authlimit_may_send(l, "u", 6, 5000));
	authlimit_sent(l, "u", 4, 5000);
	authlimit_sent(l, "u", 1, 5001);
	authlimit_usage(l, "u", 5002, &m, &r);
	assert_int_equal(m, 2);
	assert_int_equal(r, 5);
	assert_false(authlimit_may_send(l, "u", 0, 5002));
	assert_false(authlimit_may_send(l, "u", 1, 5002));
	assert_true(authlimit_may_send(l, "u", 0, 5000 + 3600)); /* a new hour */
	assert_true(authlimit_may_send(l, "other", 0, 5002));
	authlimit_free(l);
}

static void
test_ldap_escape(void **state)
{
	char out[64];

	(void)state;
	assert_true(ldap_escape_value("j.doe-1_x@example.edu", out, sizeof(out)));
	assert_string_equal(out, "j.doe-1_x@example.edu");
	assert_true(ldap_escape_value("*)(uid=*", out, sizeof(out)));
	assert_string_equal(out, "\\2a\\29\\28uid\\3d\\2a");
	assert_true(ldap_escape_value("a,b+c", out, sizeof(out)));
	assert_string_equal(out, "a\\2cb\\2bc");
	assert_false(ldap_escape_value("((((((((((((((((((((((((", out, sizeof(out)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_sasl_plain),
	    cmocka_unit_test(test_sasl_login_and_errors),
	    cmocka_unit_test(test_pwfile),
	    cmocka_unit_test(test_senders),
	    cmocka_unit_test(test_authlimit),
	    cmocka_unit_test(test_ldap_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
