/*
 * html: writing HTML into a buffer with escaping by default. html() knows
 * a few conversions: %s (text, escaped for element content and quoted
 * attributes), %R (trusted markup, written as is), %d (int), %u
 * (unsigned), %L (int64_t), %Z (size_t), %% (a percent sign). Only
 * literals from this program may be passed as %R or as the format.
 */
#ifndef MAILOUT_WEB_HTML_H
#define MAILOUT_WEB_HTML_H

#include "util/buf.h"

/* Append s with & < > " ' escaped. */
void html_escape(struct buf *, const char *s);
void html(struct buf *, const char *fmt, ...);

#endif
