#include "config/ctx.h"

#include <stdarg.h>

#include "util/str.h"

void
conf_error(struct conf_ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		buf_printf(c->errs, "%s:%u: %s\n", c->path, line, msg);
	else
		buf_printf(c->errs, "%s: %s\n", c->path, msg);
	c->n_errs++;
}

bool
conf_resolve_path(const struct conf_ctx *c, char *dst, size_t size, const char *value)
{
	if (value[0] == '/' || c->dir[0] == '\0')
		return str_copy(dst, size, value);
	return str_fmt(dst, size, "%s/%s", c->dir, value);
}
