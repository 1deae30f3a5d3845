/* Unit tests: the SMTP command parser (smtp_cmd.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_cmd.h"

struct cmd_case {
	const char *name;
	const char *line;
	enum smtp_cmd_err want_err;
	enum smtp_verb want_verb;
	const char *want_addr; /* MAIL/RCPT normal form */
	bool is_utf8_txn;      /* the transaction's MAIL had SMTPUTF8 */
};

static const struct cmd_case cases[] = {
    {"ehlo", "EHLO client.example", SMTP_CMD_OK, SMTP_EHLO, NULL, false},
    {"lower case verb", "ehlo client.example", SMTP_CMD_OK, SMTP_EHLO, NULL, false},
    {"helo without name", "HELO", SMTP_CMD_ERR_SYNTAX, SMTP_HELO, NULL, false},
    {"mail", "MAIL FROM:<a@example.org>", SMTP_CMD_OK, SMTP_MAIL, "a@example.org", false},
    {"mail space after colon", "MAIL FROM: <a@example.org>", SMTP_CMD_OK, SMTP_MAIL,
     "a@example.org", false},
    {"mail size", "MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME", SMTP_CMD_OK, SMTP_MAIL,
     "a@example.org", false},
    {"mail bad size", "MAIL FROM:<a@example.org> SIZE=lots", SMTP_CMD_ERR_PARAM_VALUE, SMTP_MAIL,
     NULL, false},
    {"mail unknown param", "MAIL FROM:<a@example.org> RET=FULL", SMTP_CMD_ERR_PARAM, SMTP_MAIL,
     NULL, false},
    {"mail null", "MAIL FROM:<>", SMTP_CMD_OK, SMTP_MAIL, "", false},
    {"mail no colon", "MAIL <a@example.org>", SMTP_CMD_ERR_SYNTAX, SMTP_MAIL, NULL, false},
    {"rcpt", "RCPT TO:<b@Example.EDU>", SMTP_CMD_OK, SMTP_RCPT, "b@example.edu", false},
    {"rcpt param refused", "RCPT TO:<b@example.edu> NOTIFY=NEVER", SMTP_CMD_ERR_PARAM, SMTP_RCPT,
     NULL, false},
    {"rcpt quoted gt", "RCPT TO:<\"a>b\"@example.edu>", SMTP_CMD_OK, SMTP_RCPT,
     "\"a>b\"@example.edu", false},
    {"rcpt bad address", "RCPT TO:<b@@example.edu>", SMTP_CMD_ERR_ADDRESS, SMTP_RCPT, NULL, false},
    {"data", "DATA", SMTP_CMD_OK, SMTP_DATA, NULL, false},
    {"data with arg", "DATA now", SMTP_CMD_ERR_SYNTAX, SMTP_DATA, NULL, false},
    {"starttls", "STARTTLS", SMTP_CMD_OK, SMTP_STARTTLS, NULL, false},
    {"unknown", "FROB x", SMTP_CMD_ERR_VERB, SMTP_UNKNOWN, NULL, false},
    {"bare lf", "NOOP\nRSET", SMTP_CMD_ERR_BARE_EOL, SMTP_UNKNOWN, NULL, false},
    {"bare cr", "NOOP\rRSET", SMTP_CMD_ERR_BARE_EOL, SMTP_UNKNOWN, NULL, false},
    {"empty", "", SMTP_CMD_ERR_VERB, SMTP_UNKNOWN, NULL, false},
    /* correctness issue: RCPT took SMTPUTF8 from its own line, not the MAIL's */
    {"rcpt utf8 local part in a utf8 transaction", "RCPT TO:<j\xc3\xbcrgen@example.edu>",
     SMTP_CMD_OK, SMTP_RCPT, "j\xc3\xbcrgen@example.edu", true},
    {"rcpt utf8 domain in a utf8 transaction", "RCPT TO:<you@m\xc3\xbcnchen.example.edu>",
     SMTP_CMD_OK, SMTP_RCPT, "you@xn--mnchen-3ya.example.edu", true},
    {"rcpt utf8 without SMTPUTF8 on MAIL", "RCPT TO:<j\xc3\xbcrgen@example.edu>",
     SMTP_CMD_ERR_ADDRESS, SMTP_RCPT, NULL, false},
    {"rcpt SMTPUTF8 is no RCPT parameter", "RCPT TO:<a@example.edu> SMTPUTF8", SMTP_CMD_ERR_PARAM,
     SMTP_RCPT, NULL, true},
    {"mail utf8 with its own SMTPUTF8", "MAIL FROM:<j\xc3\xbcrgen@example.org> SMTPUTF8",
     SMTP_CMD_OK, SMTP_MAIL, "j\xc3\xbcrgen@example.org", false},
    /* RFC 5321 4.5.1: <postmaster> without a domain must be accepted */
    {"rcpt postmaster", "RCPT TO:<Postmaster>", SMTP_CMD_OK, SMTP_RCPT, NULL, false},
    {"rcpt postmaster lower", "RCPT TO:<postmaster>", SMTP_CMD_OK, SMTP_RCPT, NULL, false},
    {"rcpt other local part without domain", "RCPT TO:<root>", SMTP_CMD_ERR_ADDRESS, SMTP_RCPT,
     NULL, false},
    {"mail postmaster without domain", "MAIL FROM:<postmaster>", SMTP_CMD_ERR_ADDRESS, SMTP_MAIL,
     NULL, false},
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cmd_case *c = &cases[i];
		struct smtp_cmd cmd;
		enum smtp_cmd_err e =
		    smtp_cmd_parse(c->line, strlen(c->line), c->is_utf8_txn, &cmd);
		char addr[ADDRESS_MAX];

		if (e != c->want_err)
			fail_msg("%s: got error %d, want %d", c->name, e, c->want_err);
		if (c->want_err != SMTP_CMD_ERR_BARE_EOL && cmd.verb != c->want_verb)
			fail_msg("%s: got verb %d, want %d", c->name, cmd.verb, c->want_verb);
		if (c->want_addr) {
			address_format(&cmd.addr, addr, sizeof(addr));
			if (strcmp(addr, c->want_addr) != 0)
				fail_msg("%s: got address '%s', want '%s'", c->name, addr,
				         c->want_addr);
		}
	}
}

static void
test_mail_params(void **state)
{
	struct smtp_cmd c;
	const char *line = "MAIL FROM:<a@example.org> SIZE=12345 BODY=8BITMIME SMTPUTF8";

	(void)state;
	assert_int_equal(smtp_cmd_parse(line, strlen(line), false, &c), SMTP_CMD_OK);
	assert_true(c.has_size);
	assert_int_equal(c.size, 12345);
	assert_int_equal(c.body, SMTP_BODY_8BITMIME);
	assert_true(c.smtputf8);
}

static void
test_nul_refused(void **state)
{
	struct smtp_cmd c;

	(void)state;
	assert_int_equal(smtp_cmd_parse("NOOP\0x", 6, false, &c), SMTP_CMD_ERR_NUL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_mail_params),
	    cmocka_unit_test(test_nul_refused),
	};
	return cmocka_run_group_tests_name("smtp_cmd", tests, NULL, NULL);
}
