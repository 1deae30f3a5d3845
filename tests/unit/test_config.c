/* Unit tests: config reading and validation (config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static struct config cfg;

/* Load text from a temporary file; returns the error count, errors in errs. */
static unsigned
load(const char *text, struct buf *errs)
{
	char path[] = "/tmp/mailout-test-XXXXXX";
	int fd = mkstemp(path);
	unsigned n;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	buf_init(errs, 65536);
	n = config_load(path, &cfg, errs);
	unlink(path);
	return n;
}

#define BASE                                                                                       \
	"[gateway]\nspool = /tmp/x\ninternal_domains = example.edu .Example.Edu\n"                 \
	"[tls]\ncertificate = /c.pem\nkey = /k.pem\n[relay]\nnext_hop = hub.example.edu:25\n"

static void
test_defaults_and_values(void **state)
{
	struct buf errs;

	(void)state;
	assert_int_equal(load(BASE "[listener a]\naddress = 127.0.0.1:587 [::1]:587\n"
	                           "min_tls_version = 1.0\nclients = 10.0.0.0/8\n"
	                           "  192.168.0.0/16\n",
	                      &errs),
	                 0);
	assert_int_equal(cfg.n_listener, 1);
	assert_int_equal(cfg.listener[0].n_addr, 2);
	assert_int_equal(cfg.listener[0].tls, LTLS_REQUIRED);
	assert_int_equal(cfg.listener[0].min_tls_version, 0x0301);
	assert_int_equal(cfg.listener[0].clients, LCLIENTS_NETS);
	assert_int_equal(cfg.listener[0].n_nets, 2); /* continuation line appended */
	assert_int_equal(cfg.max_message_size, 50 * 1024 * 1024);
	assert_int_equal(cfg.max_recipients, 100);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_string_equal(cfg.internal_domains[1], ".example.edu");
	assert_string_equal(cfg.default_route.host, "hub.example.edu");
	assert_int_equal(cfg.default_route.port, 25);
	buf_free(&errs);
}

struct bad_case {
	const char *name;
	const char *text;
	const char *want; /* substring of the errors, with its line number */
};

static const struct bad_case bad_cases[] = {
    {"unknown key", BASE "[listener a]\naddress = 127.0.0.1:1\ncolour = blue\n",
     ":11: unknown key 'colour' in [listener a]"},
    {"bad enum", BASE "[listener a]\naddress = 127.0.0.1:1\ntls = maybe\n",
     ":11: tls = 'maybe': must be one of off | optional | required | implicit"},
    {"number out of range", "[gateway]\nmax_recipients = 0\n[relay]\nnext_hop = h:1\n",
     ":2: max_recipients = '0': must be a number from 1 to 100000"},
    {"off with auth", BASE "[listener a]\naddress = 127.0.0.1:1\ntls = off\nauth = required\n",
     ":9: listener 'a' has tls = off with auth = required"},
    {"no listener", BASE, "no [listener NAME] section"},
    {"bad address", BASE "[listener a]\naddress = localhost:25\n",
     ":10: 'localhost:25' is not an address:port"},
    {"host bits", BASE "[listener a]\naddress = 127.0.0.1:1\nclients = 10.0.0.1/8\n",
     ":11: '10.0.0.1/8' is not any, registered"},
    {"internal without domains",
     "[gateway]\nspool=/x\n[relay]\nnext_hop=h:1\n[listener a]\naddress = 127.0.0.1:1\ntls = "
     "off\nrecipients = internal\n",
     ":5: listener 'a' has recipients = internal but [gateway] internal_domains is empty"},
    {"tls without cert",
     "[gateway]\nspool=/x\n[relay]\nnext_hop=h:1\n[listener a]\naddress = "
     "127.0.0.1:1\n",
     ":5: listener 'a' has tls = required but [tls] names no certificate"},
    {"duplicate key", BASE "[listener a]\naddress = 127.0.0.1:1\ntls = off\ntls = off\n",
     ":12: 'tls' is already set on line 11"},
    {"duplicate address",
     BASE "[listener a]\naddress = 127.0.0.1:1\n[listener b]\naddress = "
          "127.0.0.1:1\n",
     "listener 'b' address 1 is also used by listener 'a'"},
    {"no equals", BASE "[listener a]\naddress = 127.0.0.1:1\njust words\n",
     ":11: expected 'key = value'"},
    {"outside section", "max_recipients = 5\n" BASE "[listener a]\naddress = 127.0.0.1:1\n",
     ":1: 'max_recipients' is outside any section"},
    {"bad next hop", "[relay]\nnext_hop = nowhere\n", ":2: 'nowhere' is not host:port"},
    {"key without cert", "[tls]\nkey = /k.pem\n", "1 key(s)"},
    {"web key without address", BASE "[web]\nclients = 10.0.0.0/8\n",
     ":10: [web] clients is set but [web] address is not"},
    {"web bad address", BASE "[web]\naddress = localhost\n", "is not an address:port"},
    {"web cert without key",
     BASE "[registry]\ndatabase = /r.db\n[web]\naddress = 127.0.0.1:80\n"
          "certificate = /w.pem\n",
     "needs both certificate and key"},
    {"web without registry", BASE "[web]\naddress = 127.0.0.1:80\n", "needs [registry] database"},
    {"web bad prefix", BASE "[web]\naddress = 127.0.0.1:80\nadmin_clients = 10.1.2.3/8\n",
     "'10.1.2.3/8' is not an address or CIDR prefix"},
    {"web bad cutover", BASE "[web]\naddress = 127.0.0.1:80\ncutover = 2026-13-01\n",
     "cutover = '2026-13-01': use YYYY-MM-DD"},
    {"web address of a listener",
     BASE "[registry]\ndatabase = /r.db\n[web]\naddress = 127.0.0.1:25\n[listener a]\n"
          "address = 127.0.0.1:25\n",
     "[web] address is also used by listener 'a'"},
};

static void
test_web_section(void **state)
{
	struct buf errs;

	(void)state;
	assert_int_equal(load(BASE "[registry]\ndatabase = /r.db\n[listener a]\n"
	                           "address = 127.0.0.1:587\n",
	                      &errs),
	                 0);
	assert_false(cfg.web_enabled);
	buf_free(&errs);
	assert_int_equal(load(BASE "[registry]\ndatabase = /r.db\n[web]\naddress = [::1]:8025\n"
	                           "clients = 10.0.0.0/8\n  192.0.2.0/24\nregister_networks = "
	                           "10.1.0.0/16\ncutover = 2026-12-01\n[listener a]\n"
	                           "address = 127.0.0.1:587\n",
	                      &errs),
	                 0);
	assert_true(cfg.web_enabled);
	assert_int_equal(cfg.n_web_clients, 2); /* the default list is replaced */
	assert_int_equal(cfg.n_web_register, 1);
	assert_int_equal(cfg.n_web_admin_clients, 2); /* this host only: 127.0.0.1 ::1 */
	assert_string_equal(cfg.web_cutover, "2026-12-01");
	assert_int_equal(cfg.web_session_timeout, 1800);
	buf_free(&errs);
	assert_int_equal(load(BASE "[registry]\ndatabase = /r.db\n[web]\naddress = 127.0.0.1:8025\n"
	                           "[listener a]\naddress = 127.0.0.1:587\n",
	                      &errs),
	                 0);
	assert_int_equal(cfg.n_web_clients, 2); /* default: 127.0.0.0/8 ::1 */
	buf_free(&errs);
}

static void
test_bad_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct buf errs;
		unsigned n = load(bad_cases[i].text, &errs);

		if (n == 0 || strstr(buf_cstr(&errs), bad_cases[i].want) == NULL)
			fail_msg("%s: want '%s', got %u error(s):\n%s", bad_cases[i].name,
			         bad_cases[i].want, n, buf_cstr(&errs));
		buf_free(&errs);
	}
}

static void
test_all_errors_reported(void **state)
{
	struct buf errs;

	(void)state;
	assert_int_equal(load(BASE "[listener a]\naddress = 127.0.0.1:1\ntls = no\nauth = no\n"
	                           "bogus = 1\n",
	                      &errs),
	                 3);
	buf_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_values),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_web_section),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
