/* libFuzzer: address_parse_path(); the first byte picks SMTPUTF8. Checks
 * that the normal form parses again to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address a, b;
	char norm[ADDRESS_MAX + 2], *p;
	size_t used;
	bool utf8;

	if (size == 0)
		return 0;
	utf8 = data[0] & 1;
	p = malloc(size - 1 ? size - 1 : 1);
	memcpy(p, data + 1, size - 1);
	if (address_parse_path(p, size - 1, utf8, &a, &used) == ADDRESS_OK && !a.is_null) {
		norm[0] = '<';
		address_format(&a, norm + 1, sizeof(norm) - 2);
		strcat(norm, ">");
		if (address_parse_path(norm, strlen(norm), true, &b, &used) != ADDRESS_OK)
			abort(); /* the normal form must be valid */
		if (strcmp(a.domain, b.domain) != 0 || strcmp(a.local, b.local) != 0)
			abort(); /* and stable */
	}
	free(p);
	return 0;
}
