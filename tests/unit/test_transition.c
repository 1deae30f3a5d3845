/* Unit tests: the re-evaluation's suggestion, the calendar's next date,
 * and the reminders (which is due, their keys, their texts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "notice.h"
#include "transition.h"
#include "util/isodate.h"

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

static const uint64_t remind[] = {30 * DAY, 7 * DAY, DAY};

static void
copier(struct device *d)
{
	memset(d, 0, sizeof(*d));
	d->id = 6;
	d->status = DEVICE_APPROVED;
	d->expires_at = 100 * DAY;
	strcpy(d->owner_email, "anna@example.edu");
	strcpy(d->address, "10.1.2.3");
}

static void
test_reminder_due(void **state)
{
	struct device d;
	struct notice n;

	(void)state;
	copier(&d);
	assert_false(notice_due(&d, remind, 3, 69 * DAY, &n)); /* 31 days before */
	assert_true(notice_due(&d, remind, 3, 70 * DAY, &n));
	assert_int_equal(n.kind, NOTICE_REMIND);
	assert_int_equal(n.before, 30 * DAY);
	assert_string_equal(n.key, "remind:6:8640000:30d");
	/* made 5 days before its end: only the nearest reminder, 7d */
	assert_true(notice_due(&d, remind, 3, 95 * DAY, &n));
	assert_string_equal(n.key, "remind:6:8640000:7d");
	assert_true(notice_due(&d, remind, 3, 100 * DAY - 1, &n));
	assert_string_equal(n.key, "remind:6:8640000:1d");
	assert_true(
	    notice_due(&d, remind, 3, 100 * DAY, &n)); /* the first second it is not valid */
	assert_int_equal(n.kind, NOTICE_EXPIRED);
	assert_string_equal(n.key, "expired:6:8640000");
	assert_false(notice_due(&d, remind, 3, 107 * DAY, &n)); /* a week later: too late */
	d.status = DEVICE_EXPIRED; /* after `device expire`: still told */
	assert_true(notice_due(&d, remind, 3, 101 * DAY, &n));
	assert_false(notice_due(&d, remind, 3, 95 * DAY, &n)); /* expired early: no reminder */
	copier(&d);
	assert_false(notice_due(&d, remind, 0, 99 * DAY, &n)); /* remind = none */
	d.owner_email[0] = '\0';
	assert_false(notice_due(&d, remind, 3, 99 * DAY, &n)); /* nobody to tell */
	copier(&d);
	d.status = DEVICE_REVOKED;
	assert_false(notice_due(&d, remind, 3, 99 * DAY, &n));
	d.status = DEVICE_APPROVED;
	d.expires_at = 0;
	assert_false(notice_due(&d, remind, 3, 99 * DAY, &n)); /* no expiry */
}

static void
test_week_and_prose(void **state)
{
	char s[64];

	(void)state;
	notice_week(1796169600, s, sizeof(s)); /* 2026-12-02, a Wednesday */
	assert_string_equal(s, "2026-W49");
	notice_week(1798761600, s, sizeof(s)); /* 2027-01-01: still ISO week 53 of 2026 */
	assert_string_equal(s, "2026-W53");
	isodate_prose(1801353600, true, s, sizeof(s)); /* 2027-01-31 */
	assert_string_equal(s, "31. Januar 2027");
	isodate_prose(1804032000 - 1, false, s, sizeof(s));
	assert_string_equal(s, "2 March 2027");
	isodate_prose(1804032000, true, s, sizeof(s));
	assert_string_equal(s, "3. M\xc3\xa4rz 2027");
	notice_duration(7 * DAY, s, sizeof(s));
	assert_string_equal(s, "7d");
	notice_duration(12 * 3600, s, sizeof(s));
	assert_string_equal(s, "12h");
}

static void
test_texts(void **state)
{
	struct notice_ctx c = {"postmaster@example.edu", "mailout.test", "https://mailout.test/",
	                       "IT desk", 95 * DAY};
	struct device d;
	struct notice n;
	struct buf b;

	(void)state;
	copier(&d);
	strcpy(d.name, "Kopierer\r\nBcc: evil@example.com");
	strcpy(d.language, "de");
	assert_true(notice_due(&d, remind, 3, c.now, &n));
	buf_init(&b, 65536);
	assert_true(notice_write_expiry(&b, &c, &n, &d));
	const char *m = buf_cstr(&b);
	/* the subject is not ASCII: RFC 2047 words, no raw UTF-8 in the header */
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
	assert_null(strstr(m, "\nBcc:")); /* the name cannot add a header */
	assert_non_null(strstr(m, "Kopierer  Bcc: evil@example.com"));
	assert_non_null(strstr(m, "(noch 5 Tage)"));
	assert_non_null(strstr(m, "Message-ID: <remind.6.8640000.7d@mailout.test>"));
	assert_non_null(strstr(m, "Hilfe bei der Einrichtung: IT desk"));
	const char *body = strstr(m, "\r\n\r\n");
	assert_non_null(body);
	for (const char *p = m; p < body; p++)
		assert_true((unsigned char)*p < 0x80);
	buf_reset(&b);
	strcpy(d.language, "en");
	assert_true(notice_write_expiry(&b, &c, &n, &d));
	assert_non_null(strstr(buf_cstr(&b), "Subject: The registration 6 of your device is valid "
	                                     "until 10 April 1970\r\n"));
	buf_free(&b);
}

static void
test_clean(void **state)
{
	char s[7];

	(void)state;
	notice_clean(s, sizeof(s), "a\tb\x7f");
	assert_string_equal(s, "a b ");
	notice_clean(s, sizeof(s), "abcde\xc3\xa4"); /* 6 bytes fit: no half of the ä */
	assert_string_equal(s, "abcde");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suggest),      cmocka_unit_test(test_next_and_describe),
	    cmocka_unit_test(test_reminder_due), cmocka_unit_test(test_week_and_prose),
	    cmocka_unit_test(test_texts),        cmocka_unit_test(test_clean)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
