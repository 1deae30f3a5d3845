#include "spool/envelope.h"

#include <stdlib.h>
#include <string.h>

#include "util/num.h"
#include "util/str.h"
#include "util/xmalloc.h"

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

void
envelope_free(struct envelope *e)
{
	free(e->rcpt);
	free(e->rcpt_done);
	free(e->rcpt_state);
	free(e->rcpt_note);
	envelope_init(e);
}

void
envelope_reset(struct envelope *e)
{
	e->sender[0] = '\0';
	e->n_rcpt = 0;
	e->body = SMTP_BODY_UNSPEC;
	e->smtputf8 = false;
}

void
envelope_add_rcpt(struct envelope *e, const char *addr)
{
	if (e->n_rcpt == e->cap_rcpt) {
		e->cap_rcpt = e->cap_rcpt ? e->cap_rcpt * 2 : 8;
		e->rcpt = xrealloc(e->rcpt, e->cap_rcpt * sizeof(*e->rcpt));
		e->rcpt_done = xrealloc(e->rcpt_done, e->cap_rcpt * sizeof(*e->rcpt_done));
		e->rcpt_state = xrealloc(e->rcpt_state, e->cap_rcpt * sizeof(*e->rcpt_state));
		e->rcpt_note = xrealloc(e->rcpt_note, e->cap_rcpt * sizeof(*e->rcpt_note));
	}
	str_copy(e->rcpt[e->n_rcpt], ADDRESS_MAX, addr);
	e->rcpt_done[e->n_rcpt] = false;
	e->rcpt_state[e->n_rcpt] = RCPT_PENDING;
	e->rcpt_note[e->n_rcpt][0] = '\0';
	e->n_rcpt++;
}

void
spool_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[n++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

static const char *
body_name(enum smtp_body b)
{
	return b == SMTP_BODY_8BITMIME ? "8BITMIME" : b == SMTP_BODY_7BIT ? "7BIT" : "-";
}

/* The envelope fields before the recipients. */
bool
spool_header_fields(struct buf *b, const struct envelope *e)
{
	return buf_printf(b,
	                  SPOOL_VERSION "\nid %s\narrival %lld\nlistener %s\nclient %s\n"
	                                "helo %s\ntls %s\nbody %s\nsmtputf8 %d\n%ssender %s\n",
	                  e->id, (long long)e->arrival, e->listener, e->client, e->helo, e->tls,
	                  body_name(e->body), e->smtputf8 ? 1 : 0,
	                  e->is_internal_only ? "internal-only 1\n" : "", e->sender);
}

bool
spool_format_header(struct buf *b, const struct envelope *e)
{
	bool ok = spool_header_fields(b, e);

	for (size_t i = 0; ok && i < e->n_rcpt; i++)
		ok = buf_printf(b, "rcpt %s\n", e->rcpt[i]);
	return ok && buf_puts(b, "\n");
}

static bool
parse_body(const char *v, enum smtp_body *out)
{
	if (strcmp(v, "8BITMIME") == 0)
		*out = SMTP_BODY_8BITMIME;
	else if (strcmp(v, "7BIT") == 0)
		*out = SMTP_BODY_7BIT;
	else if (strcmp(v, "-") == 0)
		*out = SMTP_BODY_UNSPEC;
	else
		return false;
	return true;
}

/* One "key value" header line; false if unknown or malformed. */
static bool
parse_header_line(struct envelope *e, const char *key, const char *v)
{
	uint64_t n;

	if (strcmp(key, "id") == 0)
		return v[0] && str_copy(e->id, sizeof(e->id), v);
	if (strcmp(key, "arrival") == 0) {
		if (!num_parse_u64(v, 0, INT64_MAX, &n))
			return false;
		e->arrival = (int64_t)n;
		return true;
	}
	if (strcmp(key, "listener") == 0)
		return str_copy(e->listener, sizeof(e->listener), v);
	if (strcmp(key, "client") == 0)
		return str_copy(e->client, sizeof(e->client), v);
	if (strcmp(key, "helo") == 0)
		return str_copy(e->helo, sizeof(e->helo), v);
	if (strcmp(key, "tls") == 0)
		return str_copy(e->tls, sizeof(e->tls), v);
	if (strcmp(key, "body") == 0)
		return parse_body(v, &e->body);
	if (strcmp(key, "smtputf8") == 0) {
		if (!num_parse_u64(v, 0, 1, &n))
			return false;
		e->smtputf8 = n == 1;
		return true;
	}
	if (strcmp(key, "internal-only") == 0) {
		if (!num_parse_u64(v, 0, 1, &n))
			return false;
		e->is_internal_only = n == 1;
		return true;
	}
	if (strcmp(key, "sender") == 0)
		return str_copy(e->sender, sizeof(e->sender), v);
	if (strcmp(key, "rcpt") == 0) {
		if (v[0] == '\0' || strlen(v) >= ADDRESS_MAX)
			return false;
		envelope_add_rcpt(e, v);
		return true;
	}
	return false;
}

bool
spool_parse_header(const char *p, size_t len, struct envelope *e, size_t *header_len)
{
	const char *cur = p, *end = p + len;
	size_t vlen = strlen(SPOOL_VERSION);
	char line[ADDRESS_MAX + 16];

	envelope_free(e);
	if (len < vlen + 1 || memcmp(p, SPOOL_VERSION "\n", vlen + 1) != 0)
		return false;
	cur += vlen + 1;
	while (cur < end) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		char *sp;

		if (nl == NULL)
			return false;
		if (nl == cur) { /* blank line: end of the header */
			*header_len = (size_t)(nl + 1 - p);
			return e->id[0] != '\0' && e->n_rcpt > 0;
		}
		if (!str_copyn(line, sizeof(line), cur, (size_t)(nl - cur)) ||
		    memchr(cur, '\0', (size_t)(nl - cur)) || (sp = strchr(line, ' ')) == NULL)
			return false;
		*sp = '\0';
		if (!parse_header_line(e, line, sp + 1))
			return false;
		cur = nl + 1;
	}
	return false;
}

/* Read the header part of fd into b (up to the blank line). */
