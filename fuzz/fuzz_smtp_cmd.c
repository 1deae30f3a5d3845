/* libFuzzer: one SMTP command line through smtp_cmd_parse(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	struct smtp_cmd c;

	memcpy(line, data, size);
	smtp_cmd_parse(line, size, size > 0 && (data[0] & 1), &c);
	free(line);
	return 0;
}
