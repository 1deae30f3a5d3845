/* Unit tests: the queue runner's pure decisions: the retry schedule,
 * giving up, returning to the sender (queue/retry.h), next-hop backoff and
 * its table (queue/hops.h), recipients grouped by next hop (queue/group.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "queue/group.h"
#include "queue/hops.h"
#include "queue/retry.h"
#include "util/str.h"

static struct config
schedule(uint64_t first, uint64_t factor, uint64_t max)
{
	struct config cfg = {0};

	cfg.retry_interval = first;
	cfg.retry_factor = factor;
	cfg.retry_max = max;
	cfg.max_queue_lifetime = 5 * 86400;
	return cfg;
}

static void
test_backoff_grows_to_its_cap_with_a_tenth_of_spread(void **state)
{
	struct config cfg = schedule(60, 2, 3600);

	(void)state;
	/* random 500: the middle of 0.9 .. 1.1, so the plain schedule */
	assert_int_equal(retry_backoff(&cfg, 1, 500), 60);
	assert_int_equal(retry_backoff(&cfg, 2, 500), 120);
	assert_int_equal(retry_backoff(&cfg, 3, 500), 240);
	assert_int_equal(retry_backoff(&cfg, 6, 500), 1920);
	assert_int_equal(retry_backoff(&cfg, 7, 500), 3600); /* 3840 capped */
	assert_int_equal(retry_backoff(&cfg, 1000, 500), 3600);
	/* the spread: 0.9 at 0, 1.1 - 0.0002 at 999, only the remainder counts */
	assert_int_equal(retry_backoff(&cfg, 1, 0), 54);
	assert_int_equal(retry_backoff(&cfg, 1, 999), 66);
	assert_int_equal(retry_backoff(&cfg, 1, 1000), 54);
	assert_int_equal(retry_backoff(&cfg, 7, 999), 3959);
	/* never below a second */
	cfg = schedule(1, 1, 1);
	assert_int_equal(retry_backoff(&cfg, 5, 0), 1);
}

static void
envelope_of(struct envelope *e, const char *const *rcpts, size_t n)
{
	envelope_init(e);
	str_copy(e->sender, sizeof(e->sender), "s@example.edu");
	for (size_t i = 0; i < n; i++)
		envelope_add_rcpt(e, rcpts[i]);
}

static void
test_give_up_after_the_lifetime_keeps_done_and_failed(void **state)
{
	static const char *const to[] = {"a@x.test", "b@x.test", "c@x.test", "d@x.test"};
	struct config cfg = schedule(60, 2, 3600);
	struct envelope e;
	struct client_result res;

	(void)state;
	envelope_of(&e, to, 4);
	e.arrival = 1000;
	e.rcpt_done[0] = true;
	client_result_init(&res, 4);
	res.rcpt[1] = OUT_TEMPFAIL;
	str_copy(res.rcpt_reply[1], CLIENT_REPLY_MAX, "451 busy");
	res.rcpt[2] = OUT_PERMFAIL;
	str_copy(res.rcpt_reply[2], CLIENT_REPLY_MAX, "550 no");
	res.rcpt[3] = OUT_OK;
	retry_give_up_if_old(&cfg, &e, 1000 + 5 * 86400 - 1, &res); /* a second early */
	assert_int_equal(res.rcpt[1], OUT_TEMPFAIL);
	retry_give_up_if_old(&cfg, &e, 1000 + 5 * 86400, &res);
	assert_int_equal(res.rcpt[1], OUT_PERMFAIL);
	assert_string_equal(res.rcpt_reply[1],
	                    "550 5.4.7 gave up after 120 hours in the queue; last error: 451 busy");
	assert_string_equal(res.rcpt_reply[2], "550 no");
	assert_int_equal(res.rcpt[3], OUT_OK);
	/* returned by the admin: the pending ones fail with their last error */
	str_copy(e.rcpt_note[3], sizeof(e.rcpt_note[3]), "451 4.4.1 down");
	retry_return_to_sender(&e, &res);
	assert_int_equal(res.rcpt[3], OUT_PERMFAIL);
	assert_string_equal(res.rcpt_reply[3], "550 5.0.0 returned to the sender by the mail "
	                                       "administrator; last error: 451 4.4.1 down");
	assert_int_equal(res.rcpt[0], OUT_OK); /* done: untouched (zeroed) */
	client_result_free(&res);
	envelope_free(&e);
}

static void
test_hop_table_backoff_and_eviction(void **state)
{
	static struct hoptab t;
	char key[32];

	(void)state;
	struct hop *h = hoptab_get(&t, "smtp:a:25");
	h->down_until = 1100;
	assert_ptr_equal(hoptab_get(&t, "smtp:a:25"), h);
	assert_int_equal(hoptab_wait(&t, "smtp:a:25", 1000), 100);
	assert_int_equal(hoptab_wait(&t, "smtp:a:25", 1100), 0);
	assert_int_equal(hoptab_wait(&t, "smtp:b:25", 1000), 0); /* unknown: now */
	hoptab_clear_backoff(&t);
	assert_int_equal(hoptab_wait(&t, "smtp:a:25", 1000), 0);
	/* full: the idle hop that came back longest ago makes room; one with
	 * open connections never does */
	for (int i = 1; i < HOPS_MAX; i++) {
		str_fmt(key, sizeof(key), "k%d", i);
		h = hoptab_get(&t, key);
		h->down_until = 5000 + i;
		h->open = i == 1;
	}
	t.hop[0].down_until = 9999; /* smtp:a:25 */
	h = hoptab_get(&t, "new");
	assert_string_equal(h->key, "new");
	assert_int_equal(h->failures, 0);
	assert_ptr_equal(h, &t.hop[2]); /* k2: k1 has a connection open */
	assert_int_equal(t.n, HOPS_MAX);
}

static void
test_hops_limit_and_failures(void **state)
{
	struct config cfg = schedule(60, 2, 3600);
	struct hops h;
	int64_t wait;

	(void)state;
	cfg.connections_per_host = 2;
	hops_init(&h, &cfg);
	assert_true(hops_acquire(&h, "smtp:a:25"));
	assert_true(hops_acquire(&h, "smtp:a:25"));
	assert_int_equal(hoptab_get(&h.tab, "smtp:a:25")->open, 2);
	hops_release(&h, "smtp:a:25");
	assert_true(hops_acquire(&h, "smtp:a:25"));
	assert_int_equal(hops_failed(&h, "smtp:b:25", 500, &wait), 1);
	assert_int_equal(wait, 60);
	assert_int_equal(hops_failed(&h, "smtp:b:25", 500, &wait), 2);
	assert_int_equal(wait, 120);
	assert_true(hops_wait(&h, "smtp:b:25") > 100);
	hops_ok(&h, "smtp:b:25");
	assert_int_equal(hops_wait(&h, "smtp:b:25"), 0);
	assert_int_equal(hops_failed(&h, "smtp:b:25", 500, &wait), 1); /* counts again */
	hops_flush(&h);
	assert_int_equal(hops_wait(&h, "smtp:b:25"), 0);
	hops_stop(&h);
	assert_false(hops_acquire(&h, "smtp:a:25")); /* full, and stopping: no wait */
	hops_destroy(&h);
}

static void
route(struct config *cfg, const char *domain, enum next_hop_kind kind, const char *host)
{
	struct route_conf *r = &cfg->routes[cfg->n_routes++];

	str_copy(r->domain, sizeof(r->domain), domain);
	r->kind = kind;
	str_copy(r->host, sizeof(r->host), host);
	str_copy(r->dir, sizeof(r->dir), host);
	r->port = 25;
}

static void
test_recipients_grouped_by_next_hop(void **state)
{
	static const char *const to[] = {"a@lab.example.edu",  "b@example.edu",   "c@other.test",
	                                 "d@lab.example.edu",  "e@x.example.edu", "f@mx.test",
	                                 "g@mx.test",          "h@mx2.test",      "i@example.edu",
	                                 "j@files.example.edu"};
	static struct config cfg;
	struct envelope e;
	size_t group[10];

	(void)state;
	cfg.default_route.kind = NEXT_HOP_HOST;
	str_copy(cfg.default_route.host, sizeof(cfg.default_route.host), "hub.example.edu");
	cfg.default_route.port = 25;
	route(&cfg, ".example.edu", NEXT_HOP_HOST, "inner.example.edu");
	route(&cfg, "lab.example.edu", NEXT_HOP_HOST, "lab-mx.example.edu");
	route(&cfg, "example.edu", NEXT_HOP_HOST,
	      "inner.example.edu"); /* same hop as .example.edu */
	route(&cfg, "mx.test", NEXT_HOP_MX, "");
	route(&cfg, "mx2.test", NEXT_HOP_MX, "");
	route(&cfg, "files.example.edu", NEXT_HOP_DIR, "/var/out");
	envelope_of(&e, to, 10);
	e.rcpt_done[8] = true;
	assert_int_equal(group_by_hop(&cfg, &e, group), 6);
	size_t want[10] = {0, 1, 2, 0, 1, 3, 3, 4, GROUP_NONE, 5};
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(group[i], want[i]);
	assert_string_equal(group_domain("x@y.z"), "y.z");
	assert_string_equal(group_domain("postmaster"), "");
	envelope_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_grows_to_its_cap_with_a_tenth_of_spread),
	    cmocka_unit_test(test_give_up_after_the_lifetime_keeps_done_and_failed),
	    cmocka_unit_test(test_hop_table_backoff_and_eviction),
	    cmocka_unit_test(test_hops_limit_and_failures),
	    cmocka_unit_test(test_recipients_grouped_by_next_hop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
