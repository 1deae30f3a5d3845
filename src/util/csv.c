#include "util/csv.h"

#include <string.h>

void
csv_field(struct buf *b, const char *s)
{
	bool is_formula = (s[0] && strchr("=+@\t\r", s[0])) || (s[0] == '-' && s[1]);

	buf_puts(b, is_formula ? "\"'" : "\"");
	while (*s) {
		size_t run = strcspn(s, "\"");

		buf_append(b, s, run);
		s += run;
		if (*s == '"') {
			buf_puts(b, "\"\"");
			s++;
		}
	}
	buf_puts(b, "\"");
}
