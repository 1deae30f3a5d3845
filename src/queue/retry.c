#include "queue/retry.h"

#include "util/str.h"

int64_t
retry_backoff(const struct config *cfg, unsigned n, uint32_t random)
{
	double d = (double)cfg->retry_interval;

	for (unsigned i = 1; i < n && d < (double)cfg->retry_max; i++)
		d *= (double)cfg->retry_factor;
	if (d > (double)cfg->retry_max)
		d = (double)cfg->retry_max;
	d *= 0.9 + 0.2 * (double)(random % 1000) / 1000.0;
	return d < 1 ? 1 : (int64_t)(d + 0.5);
}

void
retry_give_up_if_old(const struct config *cfg, const struct envelope *env, int64_t now,
                     struct client_result *res)
{
	int64_t age = now - env->arrival;

	if (age < (int64_t)cfg->max_queue_lifetime)
		return;
	for (size_t i = 0; i < env->n_rcpt; i++) {
		char why[CLIENT_REPLY_MAX];

		if (env->rcpt_done[i] || res->rcpt[i] != OUT_TEMPFAIL)
			continue;
		str_fmt(why, sizeof(why),
		        "550 5.4.7 gave up after %lld hours in the queue; last error: %s",
		        (long long)age / 3600, res->rcpt_reply[i]);
		res->rcpt[i] = OUT_PERMFAIL;
		str_copy(res->rcpt_reply[i], CLIENT_REPLY_MAX, why);
	}
}

void
retry_return_to_sender(const struct envelope *env, struct client_result *res)
{
	for (size_t i = 0; i < env->n_rcpt; i++) {
		if (env->rcpt_done[i])
			continue;
		res->rcpt[i] = OUT_PERMFAIL;
		str_fmt(res->rcpt_reply[i], CLIENT_REPLY_MAX,
		        "550 5.0.0 returned to the sender by the mail administrator%s%s",
		        env->rcpt_note[i][0] ? "; last error: " : "", env->rcpt_note[i]);
	}
}
