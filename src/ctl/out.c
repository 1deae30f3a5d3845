#include "ctl/out.h"

#include <jansson.h>
#include <string.h>

#include "util/csv.h"
#include "util/xmalloc.h"

#define CSV_LINE_MAX (1024 * 1024)

bool
out_parse_flag(const char *arg, enum out_format *f)
{
	if (strcmp(arg, "--json") == 0)
		*f = OUT_JSON;
	else if (strcmp(arg, "--csv") == 0)
		*f = OUT_CSV;
	else
		return false;
	return true;
}

void
out_begin(struct out *o, enum out_format format, bool is_list, FILE *f)
{
	memset(o, 0, sizeof(*o));
	o->format = format;
	o->is_list = is_list;
	o->f = f;
	buf_init(&o->head, CSV_LINE_MAX);
	buf_init(&o->row, CSV_LINE_MAX);
	if (format == OUT_JSON && is_list)
		fputc('[', f);
}

/* A JSON string of s; bytes that are not UTF-8 (a name given on the
 * command line in Latin-1) become '?', as jansson takes only UTF-8. */
static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL) {
		char *copy = xstrdup(s);
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
		free(copy);
	}
	return j;
}

static void
flush_record(struct out *o)
{
	if (o->format == OUT_JSON && o->rec) {
		if (o->is_list && o->n > 1)
			fputs(",\n ", o->f);
		json_dumpf(o->rec, o->f, JSON_COMPACT);
		json_decref(o->rec);
		o->rec = NULL;
	} else if (o->format == OUT_CSV && o->n > 0) {
		if (o->n == 1)
			fprintf(o->f, "%s\r\n", buf_cstr(&o->head));
		fprintf(o->f, "%s\r\n", buf_cstr(&o->row));
		buf_reset(&o->row);
	}
}

void
out_record(struct out *o)
{
	flush_record(o);
	o->n++;
	o->item = NULL;
	if (o->format == OUT_JSON)
		o->rec = json_object();
}

static void
put(struct out *o, const char *key, json_t *j, const char *csv)
{
	if (o->format == OUT_JSON) {
		json_object_set_new(o->item ? o->item : o->rec, key, j);
		return;
	}
	json_decref(j);
	if (o->format == OUT_PAIRS) {
		fprintf(o->f, "%-14s %s\n", key, csv);
	} else if (o->format == OUT_CSV && o->item == NULL) {
		if (o->n == 1)
			buf_printf(&o->head, "%s%s", o->head.len ? "," : "", key);
		if (o->row.len)
			buf_puts(&o->row, ",");
		csv_field(&o->row, csv);
	}
}

void
out_str(struct out *o, const char *key, const char *value)
{
	if (o->format != OUT_TEXT)
		put(o, key, o->format == OUT_JSON ? json_text(value) : NULL, value);
}

void
out_int(struct out *o, const char *key, int64_t value)
{
	char s[24];

	if (o->format == OUT_TEXT)
		return;
	snprintf(s, sizeof(s), "%lld", (long long)value);
	put(o, key, o->format == OUT_JSON ? json_integer(value) : NULL, s);
}

void
out_bool(struct out *o, const char *key, bool value)
{
	if (o->format != OUT_TEXT)
		put(o, key, o->format == OUT_JSON ? json_boolean(value) : NULL,
		    value ? "yes" : "no");
}

void
out_null(struct out *o, const char *key)
{
	if (o->format != OUT_TEXT)
		put(o, key, o->format == OUT_JSON ? json_null() : NULL, "");
}

void
out_item(struct out *o, const char *list_key)
{
	json_t *list;

	if (o->format != OUT_JSON)
		return;
	if ((list = json_object_get(o->rec, list_key)) == NULL) {
		list = json_array();
		json_object_set_new(o->rec, list_key, list);
	}
	o->item = json_object();
	json_array_append_new(list, o->item);
}

void
out_item_end(struct out *o)
{
	o->item = NULL;
}

void
out_end(struct out *o)
{
	flush_record(o);
	if (o->format == OUT_JSON)
		fputs(o->is_list ? "]\n" : "\n", o->f);
	buf_free(&o->head);
	buf_free(&o->row);
}
