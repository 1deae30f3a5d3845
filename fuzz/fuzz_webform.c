/* libFuzzer: what a browser sends to the web pages. The input is split at
 * the first NUL: before it a form body or query (form_parse), after it an
 * Accept-Language header (lang_from_accept). Every decoded field is also
 * checked by text_is_clean() and written through html_escape(), whose
 * output must not hold a character that could open markup or end an
 * attribute. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "web/html.h"
#include "web/webparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_escaped(const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024 * 6);
	html_escape(&b, s);
	if (memchr(b.data, '<', b.len) || memchr(b.data, '>', b.len) ||
	    memchr(b.data, '"', b.len) || memchr(b.data, '\'', b.len))
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t blen = nul ? (size_t)(nul - data) : size;
	char *body = malloc(blen + 1), *hdr;
	struct form f;

	memcpy(body, data, blen);
	if (form_parse(body, blen, &f) == FORM_OK) {
		for (size_t i = 0; i < f.n; i++) {
			size_t n = strlen(f.f[i].name);
			if (n == 0 || n > FORM_NAME_MAX || strlen(f.f[i].value) > blen)
				abort();
			text_is_clean(f.f[i].value, i & 1);
			utf8_chars(f.f[i].value);
			check_escaped(f.f[i].value);
		}
	}
	free(body);
	if (nul) {
		size_t hlen = size - blen - 1;
		hdr = malloc(hlen + 1);
		memcpy(hdr, nul + 1, hlen);
		hdr[hlen] = '\0';
		enum lang l = lang_from_accept(hdr);
		if (l != LANG_EN && l != LANG_DE)
			abort();
		free(hdr);
	}
	return 0;
}
