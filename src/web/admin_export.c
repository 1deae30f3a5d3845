/* /admin/export.csv: every registration matching the list's filter, as
 * CSV, streamed from the registry a few hundred rows at a time. */
#include "util/csv.h"
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"
#include "web/words.h"

/* ---- CSV export, streamed ---- */

#define EXPORT_ROWS 500 /* rows read from the registry at a time */

struct export
{
	struct web *w;
	struct device_filter f;
	int64_t last_id; /* keyset: the next rows come after it */
	struct buf chunk;
	size_t pos;
	bool is_done;
	int64_t now;
};

/* The CSV header: every field's name, in the table's order. */
static void
csv_head(struct buf *b)
{
	for (size_t i = 0; i < device_n_fields; i++)
		buf_printf(b, "%s%s", device_fields[i].name,
		           i + 1 == device_n_fields ? "\r\n" : ",");
}

static bool
csv_row(const struct device *d, void *arg)
{
	struct export *x = arg;
	char v[DEVICE_TEXT_MAX];

	x->last_id = d->id;
	for (size_t i = 0; i < device_n_fields; i++) {
		device_field_text(d, &device_fields[i], x->now, v, sizeof(v));
		csv_field(&x->chunk, v);
		buf_puts(&x->chunk, i + 1 == device_n_fields ? "\r\n" : ",");
	}
	return true;
}

/* The next rows into x->chunk; false when the registry failed. */
static bool
export_fill(struct export *x)
{
	struct device_page p = {false, x->last_id, EXPORT_ROWS, 0};
	int64_t before = x->last_id;
	char err[256];

	buf_reset(&x->chunk);
	x->pos = 0;
	if (registry_page(x->w->reg, &x->f, &p, csv_row, x, err, sizeof(err)) != OUT_OK) {
		log_error("event=web-error page=export error=\"%s\"", err);
		return false;
	}
	x->is_done = x->last_id == before;
	return true;
}

/* libmicrohttpd asks for the next bytes of the export; the registry is
 * read EXPORT_ROWS rows at a time, so 100,000 registrations never sit in
 * memory at once. */
static ssize_t
export_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct export *x = cls;

	(void)pos;
	if (x->pos == x->chunk.len) {
		if (x->is_done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!export_fill(x))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (x->chunk.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	size_t n = x->chunk.len - x->pos < max ? x->chunk.len - x->pos : max;
	memcpy(out, x->chunk.data + x->pos, n);
	x->pos += n;
	return (ssize_t)n;
}

static void
export_free(void *cls)
{
	struct export *x = cls;

	buf_free(&x->chunk);
	free(x);
}

void
page_admin_export(struct web_req *r)
{
	struct export *x;
	const char *status, *expiring;
	char disp[128], day[16];

	if (r->admin == NULL) {
		page_error(r, MHD_HTTP_FORBIDDEN, "Please log in first.",
		           "Bitte melden Sie sich zuerst an.");
		return;
	}
	x = xcalloc(1, sizeof(*x));
	if (!admin_list_filter(r, &x->f, &status, &expiring)) {
		free(x);
		page_error(r, MHD_HTTP_BAD_REQUEST, "Unknown status or date.",
		           "Unbekannter Status oder Datum.");
		return;
	}
	x->w = r->w;
	x->now = r->now;
	buf_init(&x->chunk, WEB_PAGE_MAX);
	csv_head(&x->chunk);
	isodate_format_day(r->now, day, sizeof(day));
	str_fmt(disp, sizeof(disp), "attachment; filename=\"mailout-devices-%s.csv\"", day);
	str_copy(r->disposition, sizeof(r->disposition), disp);
	r->content_type = "text/csv; charset=utf-8";
	r->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, export_read, x,
	                                              export_free);
	if (r->stream == NULL) {
		export_free(x);
		page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The export cannot start just now.",
		           "Der Export kann gerade nicht beginnen.");
		return;
	}
	log_info("event=web-export user=\"%s\" client=%s", r->admin, r->client);
}
