/* Unit tests: which connections a worker admits (smtp/admit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "smtp/admit.h"
#include "util/hashmap.h"

static void
test_limits_in_all_and_per_client(void **state)
{
	struct config cfg = {0};
	struct admit a;

	(void)state;
	cfg.max_connections = 3;
	cfg.max_client_connections = 2;
	admit_init(&a, &cfg);
	assert_int_equal(admit_connection(&a, "10.0.0.1", false), ADMIT_OK);
	assert_int_equal(admit_connection(&a, "10.0.0.1", false), ADMIT_OK);
	assert_int_equal(admit_connection(&a, "10.0.0.1", false), ADMIT_TOO_MANY_FROM_THEM);
	assert_int_equal(admit_connection(&a, "10.0.0.2", false), ADMIT_OK);
	assert_int_equal(a.n, 3);
	assert_int_equal(admit_connection(&a, "10.0.0.3", false), ADMIT_TOO_MANY);
	/* a refusal counts nothing; a release makes room for that client */
	admit_release(&a, "10.0.0.1");
	assert_int_equal(a.n, 2);
	assert_int_equal(admit_connection(&a, "10.0.0.1", false), ADMIT_OK);
	admit_release(&a, "10.0.0.2");
	admit_release(&a, "10.0.0.1");
	admit_release(&a, "10.0.0.1");
	assert_int_equal(a.n, 0);
	/* every count back to nothing: the client is forgotten */
	assert_null(hashmap_get(a.by_client, "10.0.0.1"));
	assert_int_equal(admit_connection(&a, "10.0.0.1", true), ADMIT_STOPPING);
	assert_string_equal(admit_verdict_name(ADMIT_TOO_MANY_FROM_THEM), "max-client-connections");
	admit_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_in_all_and_per_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
