/* libFuzzer: the spool envelope header reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e;
	char *p = malloc(size ? size : 1);
	size_t hlen;

	memcpy(p, data, size);
	envelope_init(&e);
	if (spool_parse_header(p, size, &e, &hlen) && hlen > size)
		abort();
	envelope_free(&e);
	free(p);
	return 0;
}
