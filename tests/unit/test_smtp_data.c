/* Unit tests: the DATA decoder (smtp_data.c), fed whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hdrscan.h"
#include "smtp_data.h"

struct data_case {
	const char *name;
	const char *in;
	bool want_done;
	const char *want_out;
	size_t want_consumed; /* 0: all */
	bool want_bare;
};

static const struct data_case cases[] = {
    {"simple", "a\r\nb\r\n.\r\n", true, "a\r\nb\r\n", 0, false},
    {"empty message", ".\r\n", true, "", 0, false},
    {"dot stuffing", "..a\r\n...\r\n.\r\n", true, ".a\r\n..\r\n", 0, false},
    {"stops at the end", "a\r\n.\r\nQUIT\r\n", true, "a\r\n", 6, false},
    {"lf dot lf is content", "a\n.\nb\r\n.\r\n", true, "a\r\n.\r\nb\r\n", 0, true},
    {"cr dot cr is content", "a\r.\rb\r\n.\r\n", true, "a\r\n.\r\nb\r\n", 0, true},
    {"lf dot crlf is content", "a\n.\r\nb\r\n.\r\n", true, "a\r\n.\r\nb\r\n", 0, true},
    {"crlf dot lf is content", "a\r\n.\nb\r\n.\r\n", true, "a\r\n.\r\nb\r\n", 0, true},
    {"crlf dot cr x", "a\r\n.\rb\r\n.\r\n", true, "a\r\n.\r\nb\r\n", 0, true},
    {"not yet done", "a\r\n.", false, "a\r\n", 0, false},
    {"dot inside line", "a.b\r\n.\r\n", true, "a.b\r\n", 0, false},
};

static void
run_case(const struct data_case *c, bool bytewise)
{
	struct smtp_data d;
	char out[4096];
	size_t in_len = strlen(c->in), out_len = 0, consumed = 0;

	smtp_data_init(&d, 1000);
	if (!bytewise) {
		consumed = smtp_data_feed(&d, c->in, in_len, out, &out_len);
	} else {
		for (size_t i = 0; i < in_len && d.state != SMTP_DATA_DONE; i++) {
			size_t n;
			consumed += smtp_data_feed(&d, c->in + i, 1, out + out_len, &n);
			out_len += n;
		}
	}
	if ((d.state == SMTP_DATA_DONE) != c->want_done)
		fail_msg("%s (%s): done=%d", c->name, bytewise ? "bytewise" : "whole",
		         d.state == SMTP_DATA_DONE);
	if (out_len != strlen(c->want_out) || memcmp(out, c->want_out, out_len) != 0)
		fail_msg("%s (%s): got %zu bytes '%.*s'", c->name, bytewise ? "bytewise" : "whole",
		         out_len, (int)out_len, out);
	if (consumed != (c->want_consumed ? c->want_consumed : in_len))
		fail_msg("%s: consumed %zu", c->name, consumed);
	if (d.saw_bare_eol != c->want_bare)
		fail_msg("%s: saw_bare_eol=%d", c->name, d.saw_bare_eol);
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], false);
		run_case(&cases[i], true);
	}
}

static void
test_line_limit(void **state)
{
	struct smtp_data d;
	char in[1100], out[4400];
	size_t n;

	(void)state;
	memset(in, 'x', 998);
	memcpy(in + 998, "\r\n.\r\n", 5);
	smtp_data_init(&d, 1000);
	smtp_data_feed(&d, in, 1003, out, &n);
	assert_false(d.is_line_too_long); /* 998 + CRLF = 1000 is allowed */
	memset(in, 'x', 999);
	memcpy(in + 999, "\r\n.\r\n", 5);
	smtp_data_init(&d, 1000);
	smtp_data_feed(&d, in, 1004, out, &n);
	assert_true(d.is_line_too_long);
}

/* hdrscan counts Received: fields of the header section only, in any
 * case, at any split of the input. */
static void
test_received_count(void **state)
{
	static const struct {
		const char *msg;
		unsigned want;
	} msgs[] = {
	    {"Received: a\r\nRECEIVED: b\r\n\tfolded\r\nSubject: x\r\n\r\nReceived: body\r\n", 2},
	    {"Subject: Received: not at line start\r\n\r\n", 0},
	    {"Received:\r\nReceivedX: no\r\nReceive: no\r\n received: folded\r\n", 1},
	    {"\r\nReceived: after the blank line\r\n", 0},
	    {"received: a\r\nreceived: b", 2},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		size_t len = strlen(msgs[i].msg);
		for (size_t split = 0; split <= len; split++) {
			struct hdrscan h;
			hdrscan_init(&h);
			hdrscan_feed(&h, msgs[i].msg, split);
			hdrscan_feed(&h, msgs[i].msg + split, len - split);
			if (h.received != msgs[i].want)
				fail_msg("case %zu split %zu: got %u, want %u", i, split,
				         h.received, msgs[i].want);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_received_count),
	};
	return cmocka_run_group_tests_name("smtp_data", tests, NULL, NULL);
}
