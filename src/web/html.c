#include "web/html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

void
html_escape(struct buf *b, const char *s)
{
	while (*s) {
		size_t run = strcspn(s, "&<>\"'");

		buf_append(b, s, run);
		s += run;
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			return;
		}
		s++;
	}
}

void
html(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		size_t run = pct ? (size_t)(pct - fmt) : strlen(fmt);

		buf_append(b, fmt, run);
		fmt += run;
		if (*fmt == '\0')
			break;
		switch (fmt[1]) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			html_escape(b, s ? s : "");
			break;
		}
		case 'R':
			buf_puts(b, va_arg(ap, const char *));
			break;
		case 'd':
			buf_printf(b, "%d", va_arg(ap, int));
			break;
		case 'u':
			buf_printf(b, "%u", va_arg(ap, unsigned));
			break;
		case 'L':
			buf_printf(b, "%" PRId64, va_arg(ap, int64_t));
			break;
		case 'Z':
			buf_printf(b, "%zu", va_arg(ap, size_t));
			break;
		case '%':
			buf_puts(b, "%");
			break;
		default: /* a bad format is a bug: show it, do not guess */
			buf_puts(b, "[bad format]");
			break;
		}
		fmt += fmt[1] ? 2 : 1;
	}
	va_end(ap);
}
