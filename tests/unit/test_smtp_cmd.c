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
};

static const struct cmd_case cases[] = {
    {"ehlo", "EHLO client.example", SMTP_CMD_OK, SMTP_EHLO, NULL},
    {"lower case verb", "ehlo client.example", SMTP_CMD_OK, SMTP_EHLO, NULL},
    {"helo without name", "HELO", SMTP_CMD_ERR_SYNTAX, SMTP_HELO, NULL},
    {"mail", "MAIL FROM:<a@example.org>", SMTP_CMD_OK, SMTP_MAIL, "a@example.org"},
    {"mail space after colon", "MAIL FROM: <a@example.org>", SMTP_CMD_OK, SMTP_MAIL,
     "a@example.org"},
    {"mail size", "MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME", SMTP_CMD_OK, SMTP_MAIL,
     "a@example.org"},
    {"mail bad size", "MAIL FROM:<a@example.org> SIZE=lots", SMTP_CMD_ERR_PARAM_VALUE, SMTP_MAIL,
     NULL},
    {"mail unknown param", "MAIL FROM:<a@example.org> RET=FULL", SMTP_CMD_ERR_PARAM, SMTP_MAIL,
     NULL},
    {"mail null", "MAIL FROM:<>", SMTP_CMD_OK, SMTP_MAIL, ""},
    {"mail no colon", "MAIL <a@example.org>", SMTP_CMD_ERR_SYNTAX, SMTP_MAIL, NULL},
    {"rcpt", "RCPT TO:<b@Example.EDU>", SMTP_CMD_OK, SMTP_RCPT, "b@example.edu"},
    {"rcpt param refused", "RCPT TO:<b@example.edu> NOTIFY=NEVER", SMTP_CMD_ERR_PARAM, SMTP_RCPT,
     NULL},
    {"rcpt quoted gt", "RCPT TO:<\"a>b\"@example.edu>", SMTP_CMD_OK, SMTP_RCPT,
     "\"a>b\"@example.edu"},
    {"rcpt bad address", "RCPT TO:<b@@example.edu>", SMTP_CMD_ERR_ADDRESS, SMTP_RCPT, NULL},
    {"data", "DATA", SMTP_CMD_OK, SMTP_DATA, NULL},
    {"data with arg", "DATA now", SMTP_CMD_ERR_SYNTAX, SMTP_DATA, NULL},
    {"starttls", "STARTTLS", SMTP_CMD_OK, SMTP_STARTTLS, NULL},
    {"unknown", "FROB x", SMTP_CMD_ERR_VERB, SMTP_UNKNOWN, NULL},
    {"bare lf", "NOOP\nRSET", SMTP_CMD_ERR_BARE_EOL, SMTP_UNKNOWN, NULL},
    {"bare cr", "NOOP\rRSET", SMTP_CMD_ERR_BARE_EOL, SMTP_UNKNOWN, NULL},
    {"empty", "", SMTP_CMD_ERR_VERB, SMTP_UNKNOWN, NULL},
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cmd_case *c = &cases[i];
		struct smtp_cmd cmd;
		enum smtp_cmd_err e = smtp_cmd_parse(c->line, strlen(c->line), &cmd);
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
	assert_int_equal(smtp_cmd_parse(line, strlen(line), &c), SMTP_CMD_OK);
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
	assert_int_equal(smtp_cmd_parse("NOOP\0x", 6, &c), SMTP_CMD_ERR_NUL);
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
