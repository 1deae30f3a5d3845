/*
 * /metrics: the gateway's counters in Prometheus' text format, for the
 * addresses in [web] metrics_clients (web/pages.h): the shared counters of
 * every worker and the queue runner (metrics/counters.h), the
 * registrations by status (one query), and the transition's dates and phase.
 */
#include <microhttpd.h>
#include <string.h>

#include "db/devices.h"
#include "log.h"
#include "metrics/expo.h"
#include "transition.h"
#include "util/clock.h"
#include "web/pages.h"
#include "web/request.h"

/* The configured dates of the calendar, and its phase now. */
static void
transition_of(const struct config *cfg, struct metrics_extra *x)
{
	for (int d = 0; d < TD_COUNT; d++) {
		if (cfg->tr_at[d] == 0 || x->n_dates == sizeof(x->date_at) / sizeof(x->date_at[0]))
			continue;
		x->date_name[x->n_dates] = transition_date_name((enum transition_date)d);
		x->date_at[x->n_dates++] = cfg->tr_at[d];
	}
	x->phase = transition_phase_name(transition_phase(cfg, x->now));
}

void
page_metrics(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	struct metrics_extra x = {.now = clock_now()};
	char err[256];

	r->is_private = true;
	if (!req_client_in(r, cfg->web_metrics_clients, cfg->n_web_metrics_clients)) {
		log_warn("event=web-refused client=%s path=/metrics reason=\"not in [web] "
		         "metrics_clients\"",
		         r->client);
		r->status = MHD_HTTP_FORBIDDEN;
		r->content_type = "text/plain; charset=utf-8";
		buf_printf(&r->out, "not in [web] metrics_clients\n");
		return;
	}
	x.has_devices =
	    registry_count_by_status(r->w->reg, x.now, x.devices, err, sizeof(err)) == OUT_OK;
	if (!x.has_devices)
		log_warn("event=web-error path=/metrics error=\"registry: %s\"", err);
	transition_of(cfg, &x);
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	if (metrics_block() != NULL)
		metrics_expose(&r->out, metrics_block(), &x);
}
