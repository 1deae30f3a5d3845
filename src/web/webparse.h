/*
 * webparse: the parsers of what a browser sends to the web pages:
 * application/x-www-form-urlencoded bodies and query strings, the
 * Accept-Language header, and checks of submitted text. Pure functions on
 * bounded input; no I/O. Fuzzed by fuzz/fuzz_webform.c.
 */
#ifndef MAILOUT_WEB_WEBPARSE_H
#define MAILOUT_WEB_WEBPARSE_H

#include <stdbool.h>
#include <stddef.h>

#define FORM_FIELDS_MAX 128 /* a page of ticked registrations and a few more */
#define FORM_NAME_MAX   32  /* longest field name, decoded */

struct form_field {
	const char *name;
	const char *value;
};

struct form {
	struct form_field f[FORM_FIELDS_MAX];
	size_t n;
};

enum form_err {
	FORM_OK,
	FORM_TOO_MANY,   /* more than FORM_FIELDS_MAX fields */
	FORM_BAD_ESCAPE, /* "%" not followed by two hex digits, or a decoded NUL */
	FORM_BAD_NAME,   /* empty or longer than FORM_NAME_MAX */
};

/* Decode s (len bytes, modified in place and NUL-terminated by the caller:
 * s[len] must be writable) into f; names and values point into s. */
enum form_err form_parse(char *s, size_t len, struct form *f);
/* The value of the first field called name, or NULL. */
const char *form_get(const struct form *, const char *name);

enum lang { LANG_EN, LANG_DE, LANG_N };

/* The language for an Accept-Language header (NULL: none): German when
 * it ranks "de" above "en" (q-values, then order), else English. */
enum lang lang_from_accept(const char *header);
/* "en" / "de" to a language; false for anything else. */
bool lang_parse(const char *s, enum lang *out);
const char *lang_code(enum lang);

/* Valid UTF-8 without C0/C1 control characters (tabs, CR and LF are
 * allowed only when multiline) and without invisible formatting characters
 * (bidi overrides and isolates, zero-width characters, soft hyphen): fit
 * for a one-line registry field that an admin reads. */
bool text_is_clean(const char *s, bool multiline);
/* Characters (not bytes) in valid UTF-8 s. */
size_t utf8_chars(const char *s);

#endif
