/*
 * ctl_format: quoting for mailoutctl's --json and --csv output.
 */
#ifndef MAILOUT_CTL_FORMAT_H
#define MAILOUT_CTL_FORMAT_H

#include <stdio.h>

/* A JSON string: quotes, backslashes and control characters escaped. */
void ctl_json_str(FILE *, const char *);
/* An RFC 4180 field: always quoted, quotes doubled, a formula neutralised (util/csv.h). */
void ctl_csv_str(FILE *, const char *);

#endif
