/* Unit tests: the shared counters (labels, overflow into "other", TLS
 * states) and their Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/counters.h"
#include "metrics/expo.h"

static void
test_counters_and_text(void **state)
{
	struct metrics *m = metrics_create();
	struct metrics_extra x = {.now = 1000,
	                          .n_dates = 1,
	                          .date_name = {"cutover"},
	                          .date_at = {87400},
	                          .phase = "warn"};
	struct buf b;
	char name[32];

	(void)state;
	assert_non_null(m);
	metrics_session_end("nobody", "none"); /* not attached yet: nothing */
	metrics_attach(m);
	metrics_session_start("mailout");
	metrics_session_end("mailout", "TLSv1.3/TLS_AES_256_GCM_SHA384");
	metrics_session_start("mailout");
	metrics_session_end("mailout", "handshake-failed");
	metrics_session_start("mailout-smtps");
	metrics_accepted("mailout");
	metrics_refused(MR_TLS_REQUIRED);
	metrics_auth(MA_FAILED);
	metrics_delivery("mx.\"odd\"\nhost", MD_DELIVERED);
	metrics_queue(3, 400, 1000);
	for (int i = 0; i < METRICS_HOPS + 5; i++) {
		snprintf(name, sizeof(name), "hop%d", i);
		metrics_delivery(name, MD_DEFERRED); /* the last ones share "other" */
	}
	buf_init(&b, 1 << 20);
	metrics_expose(&b, m, &x);
	buf_append(&b, "", 1);
	const char *t = b.data;
	assert_non_null(
	    strstr(t, "mailout_sessions_total{listener=\"mailout\",tls=\"TLSv1.3\"} 1\n"));
	assert_non_null(
	    strstr(t, "mailout_sessions_total{listener=\"mailout\",tls=\"handshake-failed\"} 1\n"));
	assert_non_null(strstr(t, "mailout_sessions_active{listener=\"mailout\"} 0\n"));
	assert_non_null(strstr(t, "mailout_sessions_active{listener=\"mailout-smtps\"} 1\n"));
	assert_non_null(strstr(t, "mailout_messages_accepted_total{listener=\"mailout\"} 1\n"));
	assert_non_null(strstr(t, "mailout_refusals_total{reason=\"tls-required\"} 1\n"));
	assert_non_null(strstr(t, "mailout_auth_total{result=\"failed\"} 1\n"));
	assert_non_null(strstr(t, "next_hop=\"mx.\\\"odd\\\"\\nhost\",result=\"delivered\"} 1\n"));
	/* 64 slots: the odd host took one, so 63 hopN have their own; 6 are "other" */
	assert_non_null(strstr(t, "next_hop=\"other\",result=\"deferred\"} 6\n"));
	assert_non_null(strstr(t, "mailout_queue_messages 3\n"));
	assert_non_null(strstr(t, "mailout_queue_oldest_age_seconds 600\n"));
	assert_non_null(
	    strstr(t, "mailout_transition_remaining_seconds{date=\"cutover\"} 86400\n"));
	assert_non_null(strstr(t, "mailout_transition_phase{phase=\"warn\"} 1\n"));
	assert_non_null(strstr(t, "mailout_transition_phase{phase=\"open\"} 0\n"));
	assert_null(strstr(t, "mailout_devices")); /* not given */
	assert_int_equal(metrics_tls_of("TLSv1/ECDHE-RSA-AES256-SHA"), MT_TLS10);
	assert_int_equal(metrics_tls_of("TLSv1.2/ECDHE"), MT_TLS12);
	assert_int_equal(metrics_tls_of("none"), MT_NONE);
	buf_free(&b);
	metrics_attach(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_counters_and_text)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
