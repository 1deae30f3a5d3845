#include "transition.h"

#include <string.h>

#include "util/str.h"

static bool
reached(const struct config *cfg, enum transition_date d, int64_t now)
{
	return cfg->tr_at[d] != 0 && now >= cfg->tr_at[d];
}

enum transition_phase
transition_phase(const struct config *cfg, int64_t now)
{
	bool accepts = cfg->tr_at[TD_WARN_FROM] || cfg->tr_at[TD_TEMPFAIL_FROM];

	if (!accepts || cfg->tr_at[TD_CUTOVER] == 0)
		return TP_NONE;
	if (reached(cfg, TD_CUTOVER, now))
		return TP_REFUSE;
	if (reached(cfg, TD_TEMPFAIL_FROM, now))
		return TP_TEMPFAIL;
	if (reached(cfg, TD_WARN_FROM, now))
		return TP_WARN;
	return TP_OPEN;
}

const char *
transition_phase_name(enum transition_phase p)
{
	static const char *const names[] = {"none", "open", "warn", "tempfail", "refuse"};
	return (unsigned)p <= TP_REFUSE ? names[p] : "?";
}

bool
transition_next(const struct config *cfg, int64_t now, enum transition_date *next)
{
	for (int d = 0; d < TD_COUNT; d++)
		if (cfg->tr_at[d] != 0 && cfg->tr_at[d] > now) {
			*next = (enum transition_date)d;
			return true;
		}
	return false;
}

bool
transition_registration_open(const struct config *cfg, int64_t now)
{
	return cfg->tr_at[TD_REGISTER_FROM] == 0 || now >= cfg->tr_at[TD_REGISTER_FROM];
}

void
transition_describe(const struct config *cfg, int64_t now, char *out, size_t size)
{
	enum transition_date next;
	size_t n;

	str_fmt(out, size, "phase %s", transition_phase_name(transition_phase(cfg, now)));
	n = strlen(out);
	if (transition_next(cfg, now, &next))
		str_fmt(out + n, size - n, "; next: %s on %s", transition_date_name(next),
		        cfg->tr_date[next]);
}

enum reeval_action
transition_suggest(int64_t last_seen, int64_t now, int64_t tls_days)
{
	if (last_seen == 0 || now - last_seen >= (int64_t)REEVAL_UNUSED_DAYS * 86400)
		return RA_LET_EXPIRE;
	return tls_days > 0 ? RA_END_EXCEPTION : RA_RENEW_OR_REPLACE;
}

const char *
transition_action_name(enum reeval_action a)
{
	static const char *const names[] = {"let-expire", "end-exception", "renew-or-replace"};
	return (unsigned)a <= RA_RENEW_OR_REPLACE ? names[a] : "?";
}
