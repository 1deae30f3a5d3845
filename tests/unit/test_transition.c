/* Unit tests: the re-evaluation's suggestion and the calendar's next date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "transition.h"

#define DAY 86400

static void
test_suggest(void **state)
{
	int64_t now = 1000 * DAY;

	(void)state;
	assert_int_equal(transition_suggest(0, now, 5), RA_LET_EXPIRE); /* never seen */
	assert_int_equal(transition_suggest(now - 90 * DAY, now, 5), RA_LET_EXPIRE);
	assert_int_equal(transition_suggest(now - 89 * DAY, now, 1), RA_END_EXCEPTION);
	assert_int_equal(transition_suggest(now - DAY, now, 0), RA_RENEW_OR_REPLACE);
	assert_string_equal(transition_action_name(RA_END_EXCEPTION), "end-exception");
}

static void
test_next_and_describe(void **state)
{
	static struct config cfg; /* large: not on the stack */
	enum transition_date next;
	char text[160];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.tr_date[TD_WARN_FROM], "1970-01-11");
	strcpy(cfg.tr_date[TD_CUTOVER], "1970-01-31");
	cfg.tr_at[TD_WARN_FROM] = 10 * DAY;
	cfg.tr_at[TD_CUTOVER] = 30 * DAY;
	assert_int_equal(transition_phase(&cfg, 5 * DAY), TP_OPEN);
	assert_true(transition_next(&cfg, 5 * DAY, &next) && next == TD_WARN_FROM);
	transition_describe(&cfg, 20 * DAY, text, sizeof(text));
	assert_string_equal(text, "phase warn; next: cutover on 1970-01-31");
	assert_false(transition_next(&cfg, 30 * DAY, &next));
	assert_true(transition_registration_open(&cfg, 0)); /* no register_from */
	cfg.tr_at[TD_WARN_FROM] = 0; /* only a cut-over: refused at any date */
	assert_int_equal(transition_phase(&cfg, 5 * DAY), TP_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_suggest),
	                                   cmocka_unit_test(test_next_and_describe)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
