/* libFuzzer: an AUTH exchange through sasl_start() and sasl_continue():
 * the input's lines are the AUTH argument and the client's answers.
 * Properties: a finished exchange yields a non-empty user and password
 * without NUL, CR or LF; and base64 text we encode decodes to the same
 * bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_done(const struct sasl *s)
{
	if (s->user[0] == '\0' || s->pass[0] == '\0' || strpbrk(s->user, "\r\n") ||
	    strpbrk(s->pass, "\r\n"))
		abort();
}

static void
check_base64(const uint8_t *data, size_t size)
{
	char text[4 * 64 + 8];
	unsigned char back[3 * 64];
	size_t n = size > 3 * 64 ? 3 * 64 : size, got;

	if (!base64_encode(data, n, text, sizeof(text)) ||
	    !base64_decode(text, strlen(text), back, sizeof(back), &got) || got != n ||
	    memcmp(back, data, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl s;
	const char *ch = NULL;
	size_t pos = 0;
	bool first = true;
	enum sasl_result r = SASL_CHALLENGE;

	check_base64(data, size);
	while (pos <= size && r == SASL_CHALLENGE) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		char *line = malloc(len ? len : 1); /* exact size: ASan sees overreads */
		memcpy(line, data + pos, len);
		r = first ? sasl_start(&s, line, len, &ch) : sasl_continue(&s, line, len, &ch);
		free(line);
		first = false;
		pos += len + 1;
		if (r == SASL_CHALLENGE && (ch == NULL || strlen(ch) > 16))
			abort();
	}
	if (r == SASL_DONE)
		check_done(&s);
	sasl_clear(&s);
	return 0;
}
