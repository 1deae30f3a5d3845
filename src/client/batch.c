/* client_batch and client_result: what a transaction carries and what
 * comes back of it (client/client.h). */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "util/str.h"
#include "util/xmalloc.h"

bool
client_batch_has(const struct client_batch *b, size_t i)
{
	return !b->env->rcpt_done[i] && (b->want == NULL || b->want[i]);
}

void
client_result_init(struct client_result *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->rcpt = xcalloc(n ? n : 1, sizeof(*r->rcpt));
	r->rcpt_reply = xcalloc(n ? n : 1, sizeof(*r->rcpt_reply));
	r->rcpt_relay = xcalloc(n ? n : 1, sizeof(*r->rcpt_relay));
	r->rcpt_tls = xcalloc(n ? n : 1, sizeof(*r->rcpt_tls));
	str_copy(r->tls, sizeof(r->tls), "none");
}

void
client_result_free(struct client_result *r)
{
	free(r->rcpt);
	free(r->rcpt_reply);
	free(r->rcpt_relay);
	free(r->rcpt_tls);
}

void
client_fail_all(const struct client_batch *b, struct client_result *res, enum outcome o,
                const char *text)
{
	for (size_t i = 0; i < b->env->n_rcpt; i++) {
		if (!client_batch_has(b, i) ||
		    (res->rcpt[i] == OUT_PERMFAIL && res->rcpt_reply[i][0]))
			continue;
		res->rcpt[i] = o;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, text);
	}
	if (res->error[0] == '\0')
		str_copy(res->error, sizeof(res->error), text);
}

void
client_set_accepted(const struct client_batch *b, struct client_result *res, enum outcome o,
                    const char *text)
{
	for (size_t i = 0; i < b->env->n_rcpt; i++) {
		if (!client_batch_has(b, i) || res->rcpt[i] != OUT_OK)
			continue;
		res->rcpt[i] = o;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, text);
	}
}
