/*
 * csv: one RFC 4180 field, always quoted, quotes doubled. A field that
 * would start a spreadsheet formula (=, +, @, tab, CR, or '-' followed by
 * more) gets a leading ' so that a spreadsheet shows it as text: device
 * names come from a public form.
 */
#ifndef MAILOUT_UTIL_CSV_H
#define MAILOUT_UTIL_CSV_H

#include "util/buf.h"

void csv_field(struct buf *, const char *s);

#endif
