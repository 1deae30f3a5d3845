#include "devices.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define USAGE_MAX 4096 /* distinct devices batched between two flushes */
#define STATS_MAX 4096 /* distinct (client, listener, tls) batched between two flushes */

struct devices {
	struct registry *reg;
	char path[4096];
	struct event *ev_poll, *ev_flush;
	int64_t data_version;
	bool has_snapshot;
	bool is_failing; /* the last refresh failed (logged once) */
	struct device *list;
	size_t n;
	struct device_usage usage[USAGE_MAX];
	size_t n_usage;
	struct client_stat *stats; /* STATS_MAX, batched like usage */
	size_t n_stats;
	struct recent_session *recent; /* STATS_MAX */
	size_t n_recent;
};

struct snapshot {
	struct device *list;
	size_t n, cap;
};

static bool
collect(const struct device *d, void *arg)
{
	struct snapshot *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->list = xrealloc(s->list, s->cap * sizeof(*s->list));
	}
	s->list[s->n++] = *d;
	return true;
}

/* Reload the snapshot if the database changed since the last one. */
static void
refresh(struct devices *dv)
{
	struct device_filter all = {-1, 0};
	struct snapshot snap = {0};
	char err[256] = "";
	int64_t version;
	enum outcome o;

	if ((o = registry_data_version(dv->reg, &version)) == OUT_OK && dv->has_snapshot &&
	    version == dv->data_version)
		return;
	if (o == OUT_OK)
		o = registry_list(dv->reg, &all, collect, &snap, err, sizeof(err));
	if (o != OUT_OK) {
		if (!dv->is_failing)
			log_warn("event=registry-error op=refresh error=\"%s\" "
			         "note=\"the last snapshot stays in force\"",
			         err[0] ? err : "data_version");
		dv->is_failing = true;
		free(snap.list);
		return;
	}
	if (dv->is_failing)
		log_info("event=registry-recovered devices=%zu", snap.n);
	dv->is_failing = false;
	free(dv->list);
	dv->list = snap.list;
	dv->n = snap.n;
	dv->data_version = version;
	dv->has_snapshot = true;
	log_debug("event=registry-snapshot devices=%zu version=%lld", dv->n, (long long)version);
}

static void
flush(struct devices *dv)
{
	char err[256];

	if (dv->n_recent > 0) {
		if (registry_add_recent(dv->reg, dv->recent, dv->n_recent, err, sizeof(err)) ==
		    OUT_OK)
			dv->n_recent = 0;
		else
			log_warn("event=registry-error op=recent pending=%zu error=\"%s\"",
			         dv->n_recent, err);
	}
	if (dv->n_stats > 0) {
		if (registry_add_client_stats(dv->reg, dv->stats, dv->n_stats, err, sizeof(err)) ==
		    OUT_OK)
			dv->n_stats = 0;
		else
			log_warn("event=registry-error op=client-stats pending=%zu error=\"%s\"",
			         dv->n_stats, err);
	}
	if (dv->n_usage == 0)
		return;
	if (registry_add_usage(dv->reg, dv->usage, dv->n_usage, err, sizeof(err)) != OUT_OK) {
		/* Kept for the next flush; a full batch drops nothing, it just waits. */
		log_warn("event=registry-error op=usage pending=%zu error=\"%s\"", dv->n_usage,
		         err);
		return;
	}
	dv->n_usage = 0;
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	refresh(arg);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

struct devices *
devices_new(struct event_base *base, const char *db_path)
{
	struct devices *dv;
	struct timeval poll = {0, DEVICES_POLL_MS * 1000};
	struct timeval fl = {DEVICES_FLUSH_MS / 1000, (DEVICES_FLUSH_MS % 1000) * 1000};
	char err[256];

	if (db_path == NULL || db_path[0] == '\0')
		return NULL;
	dv = xcalloc(1, sizeof(*dv));
	dv->stats = xcalloc(STATS_MAX, sizeof(*dv->stats));
	dv->recent = xcalloc(STATS_MAX, sizeof(*dv->recent));
	str_copy(dv->path, sizeof(dv->path), db_path);
	/* busy 0: the event loop must never wait for a writer. */
	if ((dv->reg = registry_open(db_path, 0, err, sizeof(err))) == NULL)
		log_fatal("event=registry-error op=open error=\"%s\"", err);
	refresh(dv);
	dv->ev_poll = event_new(base, -1, EV_PERSIST, on_poll, dv);
	dv->ev_flush = event_new(base, -1, EV_PERSIST, on_flush, dv);
	event_add(dv->ev_poll, &poll);
	event_add(dv->ev_flush, &fl);
	return dv;
}

void
devices_free(struct devices *dv)
{
	if (dv == NULL)
		return;
	flush(dv);
	event_free(dv->ev_poll);
	event_free(dv->ev_flush);
	registry_close(dv->reg);
	free(dv->list);
	free(dv->stats);
	free(dv->recent);
	free(dv);
}

const struct device *
devices_match(struct devices *dv, const struct sockaddr *sa)
{
	const struct device *best = NULL;

	if (dv == NULL)
		return NULL;
	refresh(dv); /* data_version is a shared-memory read: cheap per connection */
	for (size_t i = 0; i < dv->n; i++)
		if (cidr_contains(&dv->list[i].net, sa) &&
		    (best == NULL || dv->list[i].net.prefix > best->net.prefix))
			best = &dv->list[i];
	return best;
}

void
devices_note_session(struct devices *dv, int64_t id, time_t started, const char *tls,
                     const char *listener, unsigned messages)
{
	struct device_usage *u = NULL;
	time_t now = (time_t)clock_now();

	if (dv == NULL)
		return;
	for (size_t i = 0; i < dv->n_usage; i++)
		if (dv->usage[i].device_id == id)
			u = &dv->usage[i];
	if (u == NULL) {
		if (dv->n_usage == USAGE_MAX)
			flush(dv);
		if (dv->n_usage == USAGE_MAX) {
			log_warn("event=registry-error op=usage note=\"batch full, session not "
			         "counted\" device=%lld",
			         (long long)id);
			return;
		}
		u = &dv->usage[dv->n_usage++];
		memset(u, 0, sizeof(*u));
		u->device_id = id;
		u->first_seen = (int64_t)started;
	}
	u->sessions++;
	u->messages += messages;
	u->last_seen = (int64_t)now;
	str_copy(u->last_tls, sizeof(u->last_tls), tls);
	str_copy(u->last_listener, sizeof(u->last_listener), listener);
}

void
devices_note_client(struct devices *dv, const char *client, const char *listener, const char *tls,
                    unsigned messages, bool is_refused)
{
	int64_t now = clock_now(), day = now / 86400;
	struct client_stat *c = NULL;

	if (dv == NULL)
		return;
	for (size_t i = 0; i < dv->n_stats && c == NULL; i++) {
		struct client_stat *x = &dv->stats[i];
		if (x->day == day && strcmp(x->client, client) == 0 &&
		    strcmp(x->listener, listener) == 0 && strcmp(x->tls, tls) == 0)
			c = x;
	}
	if (c == NULL) {
		if (dv->n_stats == STATS_MAX)
			flush(dv);
		if (dv->n_stats == STATS_MAX) {
			log_warn(
			    "event=registry-error op=client-stats note=\"batch full, session not "
			    "counted\" client=%s",
			    client);
			return;
		}
		c = &dv->stats[dv->n_stats++];
		memset(c, 0, sizeof(*c));
		c->day = day;
		str_copy(c->client, sizeof(c->client), client);
		str_copy(c->listener, sizeof(c->listener), listener);
		str_copy(c->tls, sizeof(c->tls), tls);
	}
	c->sessions++;
	c->messages += messages;
	c->refused += is_refused;
	c->last_seen = now;
}

void
devices_note_recent(struct devices *dv, const char *client, const char *listener, const char *tls,
                    const char *result)
{
	struct recent_session *r;

	if (dv == NULL)
		return;
	if (dv->n_recent == STATS_MAX)
		flush(dv);
	if (dv->n_recent == STATS_MAX)
		return; /* the database is stuck; the log has every session anyway */
	r = &dv->recent[dv->n_recent++];
	r->at = clock_now();
	str_copy(r->client, sizeof(r->client), client);
	str_copy(r->listener, sizeof(r->listener), listener);
	str_copy(r->tls, sizeof(r->tls), tls);
	str_copy(r->result, sizeof(r->result), result);
}
