/* Unit tests: the registry's SQL for PostgreSQL (db/pgsql.h): SQLite's
 * parameters (?, ?NNN, :name) numbered as SQLite numbers them, quotes
 * copied as they are, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db/pgsql.h"

static const char *
tr(const char *sql, struct pgsql_params *p)
{
	static char out[512];

	assert_true(pgsql_translate(sql, out, sizeof(out), p));
	return out;
}

static void
test_positional(void **state)
{
	struct pgsql_params p;

	(void)state;
	assert_string_equal(tr("SELECT a FROM t WHERE b = ? AND c = ?", &p),
	                    "SELECT a FROM t WHERE b = $1 AND c = $2");
	assert_int_equal(p.n, 2);
	/* a bare ? after ?N is the largest so far plus one, as in SQLite */
	assert_string_equal(tr("x = ?, y = ?, z = CASE WHEN l > ?4 THEN l ELSE ?4 END, w = ?", &p),
	                    "x = $1, y = $2, z = CASE WHEN l > $4 THEN l ELSE $4 END, w = $5");
	assert_int_equal(p.n, 5);
	assert_string_equal(tr("net = ?1 AND prefix = ?2 OR (?3 = 1 AND net >= ?1)", &p),
	                    "net = $1 AND prefix = $2 OR ($3 = 1 AND net >= $1)");
	assert_int_equal(p.n, 3);
	assert_string_equal(tr("SELECT 1", &p), "SELECT 1");
	assert_int_equal(p.n, 0);
}

static void
test_named(void **state)
{
	struct pgsql_params p;

	(void)state;
	assert_string_equal(
	    tr("WHERE expires_at > :now AND (x <= :now OR id > :after) LIMIT :limit", &p),
	    "WHERE expires_at > $1 AND (x <= $1 OR id > $2) LIMIT $3");
	assert_int_equal(pgsql_param_index(&p, ":now"), 1);
	assert_int_equal(pgsql_param_index(&p, ":after"), 2);
	assert_int_equal(pgsql_param_index(&p, ":limit"), 3);
	assert_int_equal(pgsql_param_index(&p, ":offset"), 0);
	/* a name after numbers takes the next number */
	assert_string_equal(tr("a = ?2 AND b = :eb", &p), "a = $2 AND b = $3");
	assert_int_equal(pgsql_param_index(&p, ":eb"), 3);
	/* a colon not before a name stays */
	assert_string_equal(tr("SELECT '12:30', 1 :: 2", &p), "SELECT '12:30', 1 :: 2");
}

static void
test_quotes(void **state)
{
	struct pgsql_params p;

	(void)state;
	assert_string_equal(tr("WHERE a = '?' AND b = 'it''s ?' AND \"user\" = ?", &p),
	                    "WHERE a = '?' AND b = 'it''s ?' AND \"user\" = $1");
	assert_string_equal(tr("SELECT ':name', \"a\"\"?\"", &p), "SELECT ':name', \"a\"\"?\"");
	assert_int_equal(p.n, 0);
}

static void
test_refused(void **state)
{
	struct pgsql_params p;
	char out[16], big[4096];

	(void)state;
	assert_false(pgsql_translate("WHERE a = 'open", out, sizeof(out), &p));
	assert_false(pgsql_translate("a = ?0", out, sizeof(out), &p));
	assert_false(pgsql_translate("a = ?65", out, sizeof(out), &p));
	assert_false(pgsql_translate("a = ?99999999999999999999", out, sizeof(out), &p));
	assert_false(pgsql_translate("SELECT 1234567890123456", out, sizeof(out), &p));
	assert_true(pgsql_translate("SELECT 12345678", out, sizeof(out), &p)); /* 15 + NUL */
	assert_false(pgsql_translate("x", out, 0, &p));
	memset(big, 0, sizeof(big));
	strcpy(big, "a = :");
	memset(big + 5, 'n', PGSQL_NAME_MAX);
	assert_false(pgsql_translate(big, big + 2048, 2048, &p));
	/* more than PGSQL_MAX_PARAMS bare parameters */
	size_t n = 0;
	for (int i = 0; i <= PGSQL_MAX_PARAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) / 2 - n, "?,");
	assert_false(pgsql_translate(big, big + 2048, 2048, &p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positional),
	    cmocka_unit_test(test_named),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
