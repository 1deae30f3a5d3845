#include "smtp_data.h"

#include <string.h>

void
smtp_data_init(struct smtp_data *d, size_t line_max)
{
	d->state = SMTP_DATA_LINE_START;
	d->line_len = 0;
	d->line_max = line_max;
	d->out_total = 0;
	d->is_line_too_long = false;
	d->saw_bare_eol = false;
}

struct out {
	char *p;
	size_t n;
};

static void
emit(struct smtp_data *d, struct out *o, char c)
{
	o->p[o->n++] = c;
	d->out_total++;
	if (++d->line_len > d->line_max)
		d->is_line_too_long = true;
}

static void
emit_eol(struct smtp_data *d, struct out *o)
{
	emit(d, o, '\r');
	emit(d, o, '\n');
	if (d->line_len > d->line_max)
		d->is_line_too_long = true;
	d->line_len = 0;
}

/* A byte inside a line (not after CR). */
static void
mid_byte(struct smtp_data *d, struct out *o, char c)
{
	if (c == '\r') {
		d->state = SMTP_DATA_CR;
	} else if (c == '\n') {
		d->saw_bare_eol = true;
		emit_eol(d, o);
		d->state = SMTP_DATA_MID; /* not a line start: see the header */
	} else {
		emit(d, o, c);
		d->state = SMTP_DATA_MID;
	}
}

static void
step(struct smtp_data *d, struct out *o, char c)
{
	switch (d->state) {
	case SMTP_DATA_LINE_START:
		if (c == '.')
			d->state = SMTP_DATA_DOT;
		else
			mid_byte(d, o, c);
		break;
	case SMTP_DATA_MID:
		mid_byte(d, o, c);
		break;
	case SMTP_DATA_CR:
		if (c == '\n') {
			emit_eol(d, o);
			d->state = SMTP_DATA_LINE_START;
			break;
		}
		d->saw_bare_eol = true; /* the CR before c was bare */
		emit_eol(d, o);
		mid_byte(d, o, c);
		break;
	case SMTP_DATA_DOT:
		if (c == '\r') {
			d->state = SMTP_DATA_DOT_CR;
		} else if (c == '\n') {
			emit(d, o, '.'); /* ".<LF>": content, not stuffing */
			mid_byte(d, o, c);
		} else {
			mid_byte(d, o, c); /* the leading dot was stuffing */
		}
		break;
	case SMTP_DATA_DOT_CR:
		if (c == '\n') {
			d->state = SMTP_DATA_DONE;
			break;
		}
		d->saw_bare_eol = true; /* "." CR x: the CR was bare */
		emit(d, o, '.');
		emit_eol(d, o);
		mid_byte(d, o, c);
		break;
	case SMTP_DATA_DONE:
		break;
	}
}

/* Inside a line, copy the run up to the next CR or LF in one go; the
 * state machine handles only line ends and line starts. */
static size_t
copy_run(struct smtp_data *d, struct out *o, const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *stop = lf ? lf : end;
	const char *cr = memchr(p, '\r', (size_t)(stop - p));
	size_t run = (size_t)((cr ? cr : stop) - p);

	memcpy(o->p + o->n, p, run);
	o->n += run;
	d->out_total += run;
	d->line_len += run;
	if (d->line_len > d->line_max)
		d->is_line_too_long = true;
	return run;
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t len, char *out, size_t *out_len)
{
	struct out o = {out, 0};
	size_t i = 0;

	while (i < len && d->state != SMTP_DATA_DONE) {
		if (d->state == SMTP_DATA_MID) {
			size_t run = copy_run(d, &o, in + i, in + len);
			i += run;
			if (run > 0)
				continue;
		}
		step(d, &o, in[i++]);
	}
	*out_len = o.n;
	return i;
}
