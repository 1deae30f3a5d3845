/* libFuzzer: a session's recorded result (which holds text from the
 * network: a client's SNI in a handshake diagnosis, the reasons of
 * refusals) through web/words.c, in both languages, full and public.
 * Properties: the output ends within its buffer; the public form never
 * holds more of a refusal than its codes; what no rule knows comes back
 * as written. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[600], out[1024];

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	for (int de = 0; de < 2; de++) {
		for (int full = 0; full < 2; full++) {
			memset(out, 'x', sizeof(out));
			words_result(in, de, full, out, sizeof(out));
			assert(memchr(out, '\0', sizeof(out)) != NULL);
			if (!full && strncmp(in, "refused: ", 9) == 0)
				assert(strlen(out) <= strlen("abgewiesen: ") + 8 + 1 + 11);
		}
		words_diagnosis(in, de, out, sizeof(out));
		assert(memchr(out, '\0', sizeof(out)) != NULL);
		words_reason(in, de, out, sizeof(out));
		assert(memchr(out, '\0', sizeof(out)) != NULL);
	}
	words_result(in, false, true, out, sizeof(out));
	if (strncmp(in, "refused", 7) != 0)
		assert(strcmp(out, in) == 0);
	return 0;
}
