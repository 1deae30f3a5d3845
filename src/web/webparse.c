#include "web/webparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one name or value in place: '+' is a space, %XX a byte. Returns
 * the decoded length, or -1 for a bad escape or a decoded NUL. */
static long
url_decode(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char c = s[i];

		if (c == '+') {
			s[o++] = ' ';
			i++;
		} else if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			s[o++] = c;
			i++;
		}
	}
	s[o] = '\0';
	return (long)o;
}

enum form_err
form_parse(char *s, size_t len, struct form *f)
{
	size_t start = 0;

	f->n = 0;
	s[len] = '\0';
	while (start < len) {
		char *pair = s + start;
		char *amp = memchr(pair, '&', len - start);
		size_t plen = amp ? (size_t)(amp - pair) : len - start;
		char *eq = memchr(pair, '=', plen);
		size_t nlen = eq ? (size_t)(eq - pair) : plen;
		long dn, dv;

		start += plen + 1;
		if (plen == 0)
			continue; /* "a=1&&b=2" */
		if (f->n == FORM_FIELDS_MAX)
			return FORM_TOO_MANY;
		pair[nlen] = '\0';
		if ((dn = url_decode(pair, nlen)) < 0)
			return FORM_BAD_ESCAPE;
		if (dn == 0 || dn > FORM_NAME_MAX)
			return FORM_BAD_NAME;
		/* No '=': an empty value, the NUL right after the decoded name. */
		char *value = eq ? eq + 1 : pair + dn;
		size_t vlen = eq ? plen - nlen - 1 : 0;
		if ((dv = url_decode(value, vlen)) < 0)
			return FORM_BAD_ESCAPE;
		f->f[f->n++] = (struct form_field){pair, value};
	}
	return FORM_OK;
}

const char *
form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return f->f[i].value;
	return NULL;
}

static const char *const lang_codes[LANG_N] = {"en", "de"};

const char *
lang_code(enum lang l)
{
	return lang_codes[l];
}

bool
lang_parse(const char *s, enum lang *out)
{
	for (int i = 0; i < LANG_N; i++) {
		if (s && strcmp(s, lang_codes[i]) == 0) {
			*out = (enum lang)i;
			return true;
		}
	}
	return false;
}

/* q of one "tag;q=0.8" item in thousandths; 1000 without q, -1 if bad. */
static int
item_q(const char *params, size_t len)
{
	const char *q = NULL;

	for (size_t i = 0; i + 1 < len; i++)
		if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=')
			q = params + i + 2;
	if (q == NULL)
		return 1000;
	int v = 0, digits = 0;
	if (*q != '0' && *q != '1')
		return -1;
	v = (*q - '0') * 1000;
	q++;
	if (*q == '.') {
		for (q++; *q >= '0' && *q <= '9' && digits < 3; q++, digits++)
			v += (*q - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
	}
	return v > 1000 ? 1000 : v;
}

enum lang
lang_from_accept(const char *h)
{
	int best_q[LANG_N] = {-1, -1};
	size_t best_pos[LANG_N] = {SIZE_MAX, SIZE_MAX}, pos = 0;

	if (h == NULL)
		return LANG_EN;
	for (const char *p = h; *p; pos++) {
		size_t len = strcspn(p, ",");
		size_t tag = strcspn(p, ";,");
		const char *t = p;

		while (tag > 0 && (*t == ' ' || *t == '\t')) {
			t++;
			tag--;
		}
		for (int l = 0; l < LANG_N; l++) {
			bool match = tag >= 2 && str_iprefix(t, lang_codes[l]) &&
			             (tag == 2 || t[2] == '-' || t[2] == ' ');
			int q = match ? item_q(p + (t - p) + tag, len - (size_t)(t - p) - tag) : -1;
			if (match && q > best_q[l]) {
				best_q[l] = q;
				best_pos[l] = pos;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (best_q[LANG_DE] > 0 &&
	    (best_q[LANG_DE] > best_q[LANG_EN] ||
	     (best_q[LANG_DE] == best_q[LANG_EN] && best_pos[LANG_DE] < best_pos[LANG_EN])))
		return LANG_DE;
	return LANG_EN;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 if it is not valid
 * (overlong forms, surrogates and values above U+10FFFF are not). */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Characters that change how the text around them is shown without being
 * seen themselves: bidirectional overrides, embeddings, isolates and marks,
 * zero-width characters, line and paragraph separators. In a device name
 * they let one registration pose as another on the admin page. */
static bool
is_invisible_format(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x061c || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

bool
text_is_clean(const char *s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);

		if (n == 0)
			return false;
		bool is_space = cp == '\t' || cp == '\r' || cp == '\n';
		if ((cp < 0x20 && !(multiline && is_space)) || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0) || is_invisible_format(cp))
			return false;
		p += n;
	}
	return true;
}

size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}
