#include "ctl/format.h"

#include <string.h>

#include "util/csv.h"

void
ctl_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void
ctl_csv_str(FILE *out, const char *s)
{
	struct buf b;

	buf_init(&b, 2 * strlen(s) + 8);
	csv_field(&b, s);
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}
