/* Unit tests: the web pages' parsers (forms, Accept-Language, text
 * checks), the HTML writer, sessions, login limit, CSRF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "web/html.h"
#include "web/webauth.h"
#include "web/webparse.h"
#include "web/words.h"

static enum form_err
parse(const char *in, struct form *f, char *store, size_t size)
{
	size_t len = strlen(in);

	assert_true(len < size);
	memcpy(store, in, len + 1);
	return form_parse(store, len, f);
}

static void
test_form_decoding(void **state)
{
	char s[512];
	struct form f;

	(void)state;
	assert_int_equal(
	    parse("name=Copier+3rd%20floor&owner_email=a%40b.edu&empty=&flag", &f, s, sizeof(s)),
	    FORM_OK);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "name"), "Copier 3rd floor");
	assert_string_equal(form_get(&f, "owner_email"), "a@b.edu");
	assert_string_equal(form_get(&f, "empty"), "");
	assert_string_equal(form_get(&f, "flag"), "");
	assert_null(form_get(&f, "missing"));
	/* the first of two wins; empty pairs are skipped */
	assert_int_equal(parse("a=1&&a=2&", &f, s, sizeof(s)), FORM_OK);
	assert_int_equal(f.n, 2);
	assert_string_equal(form_get(&f, "a"), "1");
	/* a '=' in the value stays; %3D decodes to '=' */
	assert_int_equal(parse("q=a=b%3Dc", &f, s, sizeof(s)), FORM_OK);
	assert_string_equal(form_get(&f, "q"), "a=b=c");
	/* UTF-8 passes through as bytes */
	assert_int_equal(parse("n=M%C3%BCller", &f, s, sizeof(s)), FORM_OK);
	assert_string_equal(form_get(&f, "n"), "Müller");
	assert_int_equal(parse("", &f, s, sizeof(s)), FORM_OK);
	assert_int_equal(f.n, 0);
}

static void
test_form_errors(void **state)
{
	static const struct {
		const char *in;
		enum form_err want;
	} cases[] = {
	    {"a=%", FORM_BAD_ESCAPE},
	    {"a=%4", FORM_BAD_ESCAPE},
	    {"a=%zz", FORM_BAD_ESCAPE},
	    {"a=%00", FORM_BAD_ESCAPE},
	    {"%00=1", FORM_BAD_ESCAPE},
	    {"=1", FORM_BAD_NAME},
	    {"%41%4=1", FORM_BAD_ESCAPE},
	    {"a=%41&b=%g1", FORM_BAD_ESCAPE},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", FORM_BAD_NAME}, /* 33 > FORM_NAME_MAX */
	};
	char s[512];
	struct form f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].in, &f, s, sizeof(s)) != cases[i].want)
			fail_msg("'%s' did not give %d", cases[i].in, cases[i].want);
	}
	char many[1024] = "";
	for (int i = 0; i <= FORM_FIELDS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "f%d=1&", i);
	char store[sizeof(many)];
	assert_int_equal(parse(many, &f, store, sizeof(store)), FORM_TOO_MANY);
}

static void
test_accept_language(void **state)
{
	static const struct {
		const char *h;
		enum lang want;
	} cases[] = {
	    {NULL, LANG_EN},
	    {"", LANG_EN},
	    {"de", LANG_DE},
	    {"de-DE,de;q=0.9,en;q=0.8", LANG_DE},
	    {"en-US,en;q=0.9,de;q=0.8", LANG_EN},
	    {"fr-FR,de;q=0.5", LANG_DE},
	    {"fr-FR,fr;q=0.9", LANG_EN},
	    {"en;q=0.5, de;q=0.7", LANG_DE},
	    {"de;q=0, en", LANG_EN},
	    {"de;q=0", LANG_EN},
	    {"DE-AT", LANG_DE},
	    {"dex", LANG_EN}, /* not German */
	    {"de, en", LANG_DE},
	    {"en, de", LANG_EN},
	    {"*", LANG_EN},
	    {"de;q=1.5", LANG_DE},
	    {"de;q=x", LANG_EN},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lang_from_accept(cases[i].h) != cases[i].want)
			fail_msg("Accept-Language '%s'", cases[i].h ? cases[i].h : "(none)");
	enum lang l;
	assert_true(lang_parse("de", &l) && l == LANG_DE);
	assert_false(lang_parse("fr", &l));
	assert_false(lang_parse(NULL, &l));
}

static void
test_text_checks(void **state)
{
	(void)state;
	assert_true(text_is_clean("Kopierer Büro 3", false));
	assert_true(text_is_clean("", false));
	assert_false(text_is_clean("a\nb", false));
	assert_true(text_is_clean("a\r\nb\tc", true));
	assert_false(text_is_clean("a\x01", true));
	assert_false(text_is_clean("\x7f", false));
	assert_false(text_is_clean("\xc2\x85", false));     /* C1 NEL */
	assert_false(text_is_clean("\xc3", false));         /* cut sequence */
	assert_false(text_is_clean("\xc0\xaf", false));     /* overlong '/' */
	assert_false(text_is_clean("\xed\xa0\x80", false)); /* surrogate */
	/* security issue, finding 15: names that pose as other names */
	static const char *const spoofs[] = {
	    "Copier \xe2\x80\xae"
	    "reifpoC",            /* U+202E right-to-left override */
	    "Copier\xe2\x80\x8b", /* U+200B zero width space */
	    "Cop\xe2\x80\x8dier", /* U+200D zero width joiner */
	    "\xef\xbb\xbf"
	    "Copier",                           /* U+FEFF */
	    "Copier \xe2\x81\xa6x\xe2\x81\xa9", /* U+2066 .. U+2069 isolates */
	    "Copier\xe2\x80\x8e",               /* U+200E left-to-right mark */
	    "Co\xc2\xadpier",                   /* U+00AD soft hyphen */
	    "a\xe2\x80\xa8"
	    "b", /* U+2028 line separator */
	};
	for (size_t i = 0; i < sizeof(spoofs) / sizeof(spoofs[0]); i++)
		if (text_is_clean(spoofs[i], false))
			fail_msg("spoof %zu was taken", i);
	assert_true(text_is_clean("Dr\xc3\xbc"
	                          "cker \xe2\x80\x94 Raum 3 \xe6\x97\xa5",
	                          false));
	assert_false(text_is_clean("\xf4\x90\x80\x80", false));
	assert_true(text_is_clean("\xf0\x9f\x96\xa8", false)); /* printer emoji */
	assert_int_equal(utf8_chars("Büro"), 4);
}

static void
test_html_escaping(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	html(&b, "<td title=\"%s\">%s</td>%R %d %u %L %Z 100%%", "a\"b'c", "<script>&x</script>",
	     "<b>ok</b>", -3, 7u, (int64_t)1 << 40, (size_t)9);
	assert_string_equal(buf_cstr(&b), "<td title=\"a&quot;b&#39;c\">&lt;script&gt;&amp;x&lt;/"
	                                  "script&gt;</td><b>ok</b> -3 7 1099511627776 9 100%");
	buf_reset(&b);
	html(&b, "%s|%q", NULL);
	assert_string_equal(buf_cstr(&b), "|[bad format]");
	buf_free(&b);
}

static void
test_sessions(void **state)
{
	static struct sessions ss;
	char id[TOKEN_HEX + 1], other[TOKEN_HEX + 1];

	(void)state;
	ss.timeout = 1800;
	assert_true(websession_start(&ss, "alice", 1000, id));
	assert_int_equal(strlen(id), TOKEN_HEX);
	assert_string_equal(websession_user(&ss, id, 1500), "alice");
	assert_string_equal(websession_user(&ss, id, 3200), "alice"); /* idle 1700 s: alive */
	assert_null(websession_user(&ss, id, 5001));                  /* idle 1801 s: gone */
	assert_null(websession_user(&ss, id, 5002));
	assert_true(websession_start(&ss, "bob", 6000, other));
	assert_null(websession_user(&ss, "0123", 6000));
	assert_null(websession_user(&ss, NULL, 6000));
	websession_end(&ss, other);
	assert_null(websession_user(&ss, other, 6001));
	/* a full table drops the least recently used */
	char first[TOKEN_HEX + 1], last[TOKEN_HEX + 1];
	assert_true(websession_start(&ss, "u0", 7000, first));
	for (int i = 1; i < SESSIONS_MAX; i++)
		assert_true(websession_start(&ss, "u", 7000 + i, last));
	assert_non_null(websession_user(&ss, first, 7000 + SESSIONS_MAX));
	assert_true(websession_start(&ss, "new", 7000 + SESSIONS_MAX, last));
	assert_non_null(websession_user(&ss, first, 7001 + SESSIONS_MAX)); /* used just now */
	assert_string_equal(websession_user(&ss, last, 7001 + SESSIONS_MAX), "new");
}

static void
test_login_limit(void **state)
{
	static struct login_limit l;
	char addr[32], user[32];

	(void)state;
	for (int i = 0; i < LOGIN_FAILURES; i++) {
		assert_int_equal(login_wait(&l, "192.0.2.1", "alice", 100 + i), 0);
		login_failed(&l, "192.0.2.1", "alice", 100 + i);
	}
	assert_int_equal(login_wait(&l, "192.0.2.1", "bob", 110), LOGIN_WINDOW - 10);
	assert_int_equal(login_wait(&l, "192.0.2.2", "alice", 110), 0);
	assert_int_equal(login_wait(&l, "192.0.2.1", "bob", 100 + LOGIN_WINDOW), 0);
	login_failed(&l, "192.0.2.3", "carol", 200);
	login_succeeded(&l, "192.0.2.3", "carol");
	assert_int_equal(login_wait(&l, "192.0.2.3", "carol", 201), 0);

	/* security issue, finding 6: failures from other addresses (the old
	 * hash slots collided for 127.0.0.50 and 127.0.1.22) never reset an
	 * address's count */
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < 16; i++) {
		const char *from = i % 4 == 3 ? "127.0.1.22" : "127.0.0.50";
		if (i >= 6 && strcmp(from, "127.0.0.50") == 0)
			assert_true(login_wait(&l, from, "x", 300 + i) > 0);
		login_failed(&l, from, i % 2 ? "y" : "x", 300 + i);
	}
	/* ... and a flood of other addresses neither: the oldest entries go */
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < LOGIN_FAILURES; i++)
		login_failed(&l, "198.51.100.7", "dave", 500);
	for (int i = 0; i < LOGIN_SLOTS / 2 - 10; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250, i % 250);
		snprintf(user, sizeof(user), "u%d", i);
		login_failed(&l, addr, user, 501);
	}
	assert_true(login_wait(&l, "198.51.100.7", "dave", 502) > 0);
	/* a user name is limited from any address */
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < LOGIN_USER_FAILURES; i++) {
		snprintf(addr, sizeof(addr), "10.1.0.%d", i);
		login_failed(&l, addr, "admin", 600);
	}
	assert_true(login_wait(&l, "10.9.9.9", "admin", 601) > 0);
	assert_int_equal(login_wait(&l, "10.9.9.9", "alice", 601), 0);
}

static void
test_csrf(void **state)
{
	unsigned char secret[32] = {1, 2, 3}, other[32] = {9};
	char tok[CSRF_HEX + 1];
	const char *v = "00112233445566778899aabbccddeeff";

	(void)state;
	csrf_token(secret, v, "", tok);
	assert_int_equal(strlen(tok), CSRF_HEX);
	assert_true(csrf_valid(secret, v, "", tok));
	assert_false(csrf_valid(other, v, "", tok));
	assert_false(csrf_valid(secret, "ffeeddccbbaa99887766554433221100", "", tok));
	assert_false(csrf_valid(secret, v, "somesession", tok)); /* bound to the session */
	assert_false(csrf_valid(secret, v, "", NULL));
	assert_false(csrf_valid(secret, "", "", tok));
	tok[5] ^= 1;
	assert_false(csrf_valid(secret, v, "", tok));
	tok[CSRF_HEX - 1] = '\0';
	assert_false(csrf_valid(secret, v, "", tok));
}

/* What the German pages make of what the registry keeps in English. */
static void
test_words(void **state)
{
	char s[1024];

	(void)state;
	words_result("accepted 2 messages", true, true, s, sizeof(s));
	assert_string_equal(s, "2 Nachrichten angenommen");
	words_result("accepted 1 message", true, false, s, sizeof(s));
	assert_string_equal(s, "1 Nachricht angenommen");
	words_result("no message sent", true, true, s, sizeof(s));
	assert_string_equal(s, "keine Nachricht gesendet");
	words_result("refused: 530 5.7.0 Must issue a STARTTLS command first", true, true, s,
	             sizeof(s));
	assert_string_equal(
	    s, "abgewiesen: 530 5.7.0, das Gerät muss zuerst verschlüsseln (STARTTLS)");
	words_result(
	    "refused: 550 5.7.1 <x@gmail.com>: this interface (u) delivers only to internal "
	    "addresses",
	    true, false, s, sizeof(s));
	assert_string_equal(s, "abgewiesen: 550 5.7.1"); /* someone else's: no address, no reason */
	words_result("refused: 550 5.7.1 <x@gmail.com>: nope", false, false, s, sizeof(s));
	assert_string_equal(s, "refused: 550 5.7.1");
	words_result("refused at connect: Device 10.1.2.3 is not registered for unencrypted mail; "
	             "send ...",
	             true, true, s, sizeof(s));
	assert_non_null(strstr(s, "bei der Verbindung abgewiesen: das Gerät ist nicht für"));
	words_result("refused at connect: Device 10.1.2.3 is not registered", true, false, s,
	             sizeof(s));
	assert_string_equal(s, "bei der Verbindung abgewiesen");
	words_result(
	    "TLS handshake failed: offers only TLS 1.0 (4 cipher suites, CBC, 3DES and RC4; "
	    "no SNI): a firmware update is needed, or register it with legacy TLS",
	    true, true, s, sizeof(s));
	assert_string_equal(s,
	                    "TLS-Aufbau fehlgeschlagen: bietet nur TLS 1.0 (4 Verfahren, CBC, 3DES "
	                    "und RC4; kein SNI): ein Firmware-Update ist nötig, oder "
	                    "registrieren Sie es mit altem TLS");
	words_diagnosis("offers TLS 1.0 to TLS 1.2 (9 cipher suites, AEAD; SNI mailout.test): the "
	                "versions fit: check the device's certificate settings and clock",
	                true, s, sizeof(s));
	assert_string_equal(s,
	                    "bietet TLS 1.0 bis TLS 1.2 (9 Verfahren, AEAD; SNI mailout.test): die "
	                    "Versionen passen: prüfen Sie die Zertifikatseinstellungen und die "
	                    "Uhr des Geräts");
	words_diagnosis("plaintext on the implicit-TLS port: set ...", true, s, sizeof(s));
	assert_non_null(strstr(s, "unverschlüsselt am Port mit implizitem TLS"));
	words_result("something new", true, true, s, sizeof(s)); /* no rule: as written */
	assert_string_equal(s, "something new");
	words_reason("It rejects the server certificate: since 2024", true, s, sizeof(s));
	assert_string_equal(s, "Es lehnt das Server-Zertifikat ab: since 2024");
	words_reason("It rejects the server certificate", false, s, sizeof(s));
	assert_string_equal(s, "It rejects the server certificate");
	assert_string_equal(words_status(DEVICE_EXPIRED, true), "abgelaufen");
	assert_string_equal(words_status(DEVICE_PENDING, false), "pending");
	words_error("the expiry 2020-01-01 has passed; give a later date (or --force)", true, s,
	            sizeof(s));
	assert_string_equal(s, "Das Datum liegt in der Vergangenheit; geben Sie ein späteres an.");
	words_error("something else", true, s, sizeof(s));
	assert_string_equal(s, "Die Aktion war so nicht möglich.");
	words_error("something else", false, s, sizeof(s));
	assert_string_equal(s, "something else");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form_decoding),   cmocka_unit_test(test_form_errors),
	    cmocka_unit_test(test_accept_language), cmocka_unit_test(test_text_checks),
	    cmocka_unit_test(test_html_escaping),   cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_login_limit),     cmocka_unit_test(test_csrf),
	    cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
