/*
 * out: mailoutctl's one writer of records, so every command prints JSON,
 * CSV and key-value text the same way. JSON with libjansson: a list is an
 * array written one record at a time (100,000 registrations never sit in
 * memory), a single record one object. CSV per RFC 4180 with util/csv.h
 * (strings quoted, formulas neutralised), its header the first record's
 * keys. OUT_PAIRS: "key  value" lines for one record (`device show`).
 * OUT_TEXT: the command prints its own table; out_* then do nothing.
 * Errors writing stdout are the caller's (ferror at the end).
 */
#ifndef MAILOUT_CTL_OUT_H
#define MAILOUT_CTL_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_PAIRS };

struct out {
	enum out_format format;
	FILE *f;
	bool is_list;         /* JSON: an array of records, else one object */
	size_t n;             /* records begun */
	void *rec;            /* the record being built (json_t) */
	void *item;           /* the list item being built inside it, or NULL */
	struct buf head, row; /* CSV */
};

/* Parse --json / --csv (true: taken). */
bool out_parse_flag(const char *arg, enum out_format *);

void out_begin(struct out *, enum out_format, bool is_list, FILE *);
/* A new record; the previous one is written. */
void out_record(struct out *);
void out_str(struct out *, const char *key, const char *value);
void out_int(struct out *, const char *key, int64_t value);
void out_bool(struct out *, const char *key, bool value);
/* JSON null; an empty CSV field. */
void out_null(struct out *, const char *key);
/* An object appended to the record's list key (JSON only); the following
 * out_str/int/bool go into it until out_item_end(). */
void out_item(struct out *, const char *list_key);
void out_item_end(struct out *);
/* Write the last record and close the list; frees what out holds. */
void out_end(struct out *);

#endif
