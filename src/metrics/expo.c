#include "metrics/expo.h"

#include <string.h>

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and line feed escaped. */
static void
value(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, v, 1);
	}
}

/* One series per named listener: its active sessions or accepted messages. */
static void
per_listener(struct buf *b, const struct metrics *m, const char *metric, bool is_active)
{
	for (size_t i = 0; i <= METRICS_LISTENERS; i++) {
		const struct metrics_listener *l = &m->listener[i];
		const char *name = metrics_label_name(&l->label, i == METRICS_LISTENERS);
		if (name == NULL)
			continue;
		buf_printf(b, "%s{listener=\"", metric);
		value(b, name);
		buf_printf(b, "\"} %lld\n",
		           is_active ? (long long)LOAD(l->active) : (long long)LOAD(l->accepted));
	}
}

static void
listeners(struct buf *b, const struct metrics *m)
{
	head(b, "mailout_sessions_total", "counter",
	     "SMTP sessions that ended, by listener and TLS state.");
	for (size_t i = 0; i <= METRICS_LISTENERS; i++) {
		const char *name =
		    metrics_label_name(&m->listener[i].label, i == METRICS_LISTENERS);
		for (int t = 0; name && t < MT_COUNT; t++) {
			buf_printf(b, "mailout_sessions_total{listener=\"");
			value(b, name);
			buf_printf(b, "\",tls=\"%s\"} %llu\n",
			           metrics_tls_name((enum metrics_tls)t),
			           (unsigned long long)LOAD(m->listener[i].sessions[t]));
		}
	}
	head(b, "mailout_sessions_active", "gauge", "SMTP sessions open now, by listener.");
	per_listener(b, m, "mailout_sessions_active", true);
	head(b, "mailout_messages_accepted_total", "counter",
	     "Messages accepted (on disk, 250 sent), by listener.");
	per_listener(b, m, "mailout_messages_accepted_total", false);
}

static void
refusals_and_auth(struct buf *b, const struct metrics *m)
{
	head(b, "mailout_refusals_total", "counter",
	     "Clients, senders, recipients and messages refused, by reason.");
	for (int r = 0; r < MR_COUNT; r++)
		buf_printf(b, "mailout_refusals_total{reason=\"%s\"} %llu\n",
		           metrics_refusal_name((enum metrics_refusal)r),
		           (unsigned long long)LOAD(m->refused[r]));
	head(b, "mailout_auth_total", "counter", "SMTP AUTH attempts, by result.");
	for (int a = 0; a < MA_COUNT; a++)
		buf_printf(b, "mailout_auth_total{result=\"%s\"} %llu\n",
		           metrics_auth_name((enum metrics_auth)a),
		           (unsigned long long)LOAD(m->auth[a]));
}

static void
queue_and_hops(struct buf *b, const struct metrics *m, int64_t now)
{
	int64_t oldest = LOAD(m->queue_oldest);

	head(b, "mailout_queue_messages", "gauge", "Messages in the queue (not held).");
	buf_printf(b, "mailout_queue_messages %lld\n", (long long)LOAD(m->queue_size));
	head(b, "mailout_queue_oldest_age_seconds", "gauge",
	     "Age of the oldest message in the queue (0 when empty).");
	buf_printf(b, "mailout_queue_oldest_age_seconds %lld\n",
	           (long long)(oldest > 0 && now > oldest ? now - oldest : 0));
	head(b, "mailout_registry_errors_total", "counter",
	     "Reads and writes of the device registry that failed (the workers' registry "
	     "threads); the last snapshot stays in force meanwhile.");
	buf_printf(b, "mailout_registry_errors_total %llu\n",
	           (unsigned long long)LOAD(m->registry_errors));
	head(b, "mailout_registry_stale_workers", "gauge",
	     "Workers serving from their last registry snapshot because the registry cannot be "
	     "read now.");
	buf_printf(b, "mailout_registry_stale_workers %lld\n", (long long)LOAD(m->registry_stale));
	head(b, "mailout_deliveries_total", "counter",
	     "Recipients delivered, deferred and bounced, by next hop.");
	for (size_t i = 0; i <= METRICS_HOPS; i++) {
		const char *name = metrics_label_name(&m->hop[i].label, i == METRICS_HOPS);
		for (int d = 0; name && d < MD_COUNT; d++) {
			buf_printf(b, "mailout_deliveries_total{next_hop=\"");
			value(b, name);
			buf_printf(b, "\",result=\"%s\"} %llu\n",
			           metrics_delivery_name((enum metrics_delivery)d),
			           (unsigned long long)LOAD(m->hop[i].n[d]));
		}
	}
}

static void
extra(struct buf *b, const struct metrics_extra *x)
{
	if (x->has_devices) {
		head(b, "mailout_devices", "gauge", "Device registrations, by status now.");
		for (int s = 0; s < DEVICE_NSTATUS; s++)
			buf_printf(b, "mailout_devices{status=\"%s\"} %lld\n",
			           device_status_name((enum device_status)s),
			           (long long)x->devices[s]);
	}
	if (x->n_dates > 0) {
		head(b, "mailout_transition_date_seconds", "gauge",
		     "The transition's dates (Unix time, the start of each day).");
		for (size_t i = 0; i < x->n_dates; i++)
			buf_printf(b, "mailout_transition_date_seconds{date=\"%s\"} %lld\n",
			           x->date_name[i], (long long)x->date_at[i]);
		head(b, "mailout_transition_remaining_seconds", "gauge",
		     "Time until each of the transition's dates (negative after it; /86400 for "
		     "days).");
		for (size_t i = 0; i < x->n_dates; i++)
			buf_printf(b, "mailout_transition_remaining_seconds{date=\"%s\"} %lld\n",
			           x->date_name[i], (long long)(x->date_at[i] - x->now));
	}
	if (x->phase) {
		static const char *const phases[] = {"none", "open", "warn", "tempfail", "refuse"};
		head(b, "mailout_transition_phase", "gauge",
		     "1 for the transition's phase now (what plaintext on tls = required gets).");
		for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
			buf_printf(b, "mailout_transition_phase{phase=\"%s\"} %d\n", phases[i],
			           strcmp(phases[i], x->phase) == 0);
	}
}

void
metrics_expose(struct buf *b, const struct metrics *m, const struct metrics_extra *x)
{
	head(b, "mailout_start_time_seconds", "gauge", "When the counters started (Unix time).");
	buf_printf(b, "mailout_start_time_seconds %lld\n", (long long)m->started);
	listeners(b, m);
	refusals_and_auth(b, m);
	queue_and_hops(b, m, x->now);
	extra(b, x);
}
