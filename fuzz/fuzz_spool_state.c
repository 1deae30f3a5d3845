/* libFuzzer: the spool's delivery state and envelope header, read back.
 *
 * 1. Any bytes as a state file: the reader never crashes or reads past.
 * 2. Round trip: recipients are whatever the address parser accepts (the
 *    input's NUL-separated pieces, UTF-8 and quoted local parts with
 *    spaces included); a random sequence of state lines is written with
 *    the writers the queue runner uses; reading them back gives exactly
 *    the states, notes and schedule the writes meant. The envelope header
 *    written for the same recipients reads back equal too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "spool/spool.h"
#include "util/buf.h"
#include "util/str.h"

#define RCPTS_MAX 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p, *end;
};

/* The next NUL-terminated piece of the input. */
static size_t
piece(struct input *in, const char **out)
{
	const uint8_t *nul = memchr(in->p, 0, (size_t)(in->end - in->p));
	const uint8_t *stop = nul ? nul : in->end;
	size_t n = (size_t)(stop - in->p);

	*out = (const char *)in->p;
	in->p = nul ? nul + 1 : in->end;
	return n;
}

static uint8_t
byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

/* A recipient: the piece if the parser takes it whole, else a plain one. */
static void
recipient(struct input *in, char *dst, size_t size)
{
	const char *s;
	size_t n = piece(in, &s), used;
	struct address a;

	if (address_parse_path(s, n, true, &a, &used) == ADDRESS_OK && used == n && !a.is_null)
		address_format(&a, dst, size);
	else
		str_copy(dst, size, "plain@example.edu");
}

static void
fill_envelope(struct envelope *e, char rcpts[][ADDRESS_MAX], size_t n)
{
	envelope_init(e);
	str_copy(e->id, sizeof(e->id), "0123456789ABCDEF");
	e->arrival = 1795886466;
	str_copy(e->listener, sizeof(e->listener), "mailout");
	str_copy(e->client, sizeof(e->client), "127.0.0.5");
	str_copy(e->tls, sizeof(e->tls), "none");
	str_copy(e->sender, sizeof(e->sender), rcpts[0]);
	e->is_internal_only = n % 2 == 0;
	for (size_t i = 0; i < n; i++)
		envelope_add_rcpt(e, rcpts[i]);
}

static void
check_header(const struct envelope *e)
{
	struct buf b;
	struct envelope back;
	size_t hlen;

	buf_init(&b, SPOOL_HEADER_MAX);
	envelope_init(&back);
	if (!spool_format_header(&b, e) || !spool_parse_header(b.data, b.len, &back, &hlen) ||
	    hlen != b.len || back.n_rcpt != e->n_rcpt || strcmp(back.sender, e->sender) != 0 ||
	    back.is_internal_only != e->is_internal_only)
		abort();
	for (size_t i = 0; i < e->n_rcpt; i++)
		if (strcmp(back.rcpt[i], e->rcpt[i]) != 0)
			abort();
	envelope_free(&back);
	buf_free(&b);
}

/* Write a random history of state lines and what it should leave. */
static void
write_history(struct input *in, const struct envelope *e, struct buf *b, struct envelope *want)
{
	unsigned n_lines = byte(in) % 12;

	for (unsigned k = 0; k < n_lines; k++) {
		size_t i = byte(in) % e->n_rcpt;
		enum rcpt_state st = (enum rcpt_state)(byte(in) % 3);
		const char *text;
		char note[SPOOL_NOTE_MAX], raw[512];
		size_t n = piece(in, &text);

		str_copyn(raw, sizeof(raw), text, n < sizeof(raw) ? n : sizeof(raw) - 1);
		spool_state_rcpt(b, st, i, raw);
		if (byte(in) & 1) {
			spool_state_attempt(b, k + 1, 1795886466 + k);
			want->attempts = k + 1;
			want->next_attempt = 1795886466 + k;
		}
		if (want->rcpt_done[i])
			continue; /* done and failed are final */
		spool_clean_note(note, sizeof(note), raw);
		want->rcpt_state[i] = (unsigned char)st;
		want->rcpt_done[i] = st != RCPT_PENDING;
		str_copy(want->rcpt_note[i], SPOOL_NOTE_MAX, note);
	}
}

static void
check_round_trip(struct input *in)
{
	char rcpts[RCPTS_MAX][ADDRESS_MAX];
	size_t n = 1 + byte(in) % RCPTS_MAX;
	struct envelope e, want, got;
	struct buf b;

	for (size_t i = 0; i < n; i++)
		recipient(in, rcpts[i], sizeof(rcpts[i]));
	fill_envelope(&e, rcpts, n);
	fill_envelope(&want, rcpts, n);
	fill_envelope(&got, rcpts, n);
	check_header(&e);
	buf_init(&b, SPOOL_HEADER_MAX);
	write_history(in, &e, &b, &want);
	spool_parse_state(b.data, b.len, &got);
	if (got.attempts != want.attempts || got.next_attempt != want.next_attempt)
		abort();
	for (size_t i = 0; i < n; i++)
		if (got.rcpt_state[i] != want.rcpt_state[i] ||
		    got.rcpt_done[i] != want.rcpt_done[i] ||
		    strcmp(got.rcpt_note[i], want.rcpt_note[i]) != 0) {
			fprintf(stderr, "rcpt %zu <%s>: got %d '%s', want %d '%s'\n", i, e.rcpt[i],
			        got.rcpt_state[i], got.rcpt_note[i], want.rcpt_state[i],
			        want.rcpt_note[i]);
			abort();
		}
	buf_free(&b);
	envelope_free(&e);
	envelope_free(&want);
	envelope_free(&got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	struct envelope e;
	struct input in = {data, data + size};

	memcpy(p, data, size);
	envelope_init(&e);
	envelope_add_rcpt(&e, "a b@example.edu");
	envelope_add_rcpt(&e, "\"a b\"@example.edu");
	spool_parse_state(p, size, &e);
	envelope_free(&e);
	free(p);
	check_round_trip(&in);
	return 0;
}
