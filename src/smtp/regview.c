#include "smtp/regview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct regview {
	struct regshare sh; /* with the thread */
	void (*on_fresh)(void *);
	void *arg;
	/* the loop's */
	struct devsnap *cur;
	uint64_t cur_seq, want_seq;
	uint64_t admit_seq;  /* the snapshot a new connection must have */
	struct registry *ro; /* only for the version numbers; busy 0 */
	int64_t loop_dataver, loop_devver, loop_admitver;
	struct batch *pending;
	struct device match;
	struct event *ev_flush, *ev_wake;
};

/* Hand the gathered counters to the thread, unless it still has some. */
static void
hand_over(struct regview *dv)
{
	struct batch *b = dv->pending;

	if (b == NULL || (b->n_usage == 0 && b->n_stats == 0 && b->n_recent == 0))
		return;
	pthread_mutex_lock(&dv->sh.lock);
	if (dv->sh.outbox == NULL) {
		dv->sh.outbox = b;
		dv->pending = NULL;
		pthread_cond_broadcast(&dv->sh.cond);
	}
	pthread_mutex_unlock(&dv->sh.lock);
}

static struct batch *
pending(struct regview *dv)
{
	if (dv->pending == NULL)
		dv->pending = xcalloc(1, sizeof(*dv->pending));
	return dv->pending;
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hand_over(arg);
}

static void take_fresh(struct regview *);

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct regview *dv = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	take_fresh(dv);
	if (dv->on_fresh)
		dv->on_fresh(dv->arg);
}

/* Wait (before the loop runs) until the thread read a first snapshot or
 * gave up on it. */
static void
wait_first(struct regview *dv)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += REGVIEW_FIRST_WAIT_MS / 1000;
	pthread_mutex_lock(&dv->sh.lock);
	while (dv->sh.fresh == NULL && !dv->sh.has_tried)
		if (pthread_cond_timedwait(&dv->sh.cond, &dv->sh.lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&dv->sh.lock);
}

struct regview *
regview_new(struct event_base *base, const char *db_path, const struct regview_limits *limits,
            void (*on_fresh)(void *), void *arg)
{
	struct regview *dv;
	struct timeval fl = {REGVIEW_FLUSH_MS / 1000, (REGVIEW_FLUSH_MS % 1000) * 1000};
	pthread_condattr_t ca;

	if (db_path == NULL || db_path[0] == '\0')
		return NULL;
	dv = xcalloc(1, sizeof(*dv));
	str_copy(dv->sh.path, sizeof(dv->sh.path), db_path);
	dv->sh.limits = *limits;
	dv->on_fresh = on_fresh;
	dv->arg = arg;
	if (pipe2(dv->sh.wake, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("event=worker-error error=\"pipe: %s\"", strerror(errno));
	pthread_mutex_init(&dv->sh.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dv->sh.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&dv->sh.thread, NULL, regthread_run, &dv->sh) != 0)
		log_fatal("event=worker-error error=\"cannot start the registry thread\"");
	wait_first(dv);
	dv->ev_flush = event_new(base, -1, EV_PERSIST, on_flush, dv);
	event_add(dv->ev_flush, &fl);
	dv->ev_wake = event_new(base, dv->sh.wake[0], EV_READ | EV_PERSIST, on_wake, dv);
	event_add(dv->ev_wake, NULL);
	return dv;
}

void
regview_free(struct regview *dv)
{
	if (dv == NULL)
		return;
	event_free(dv->ev_flush);
	event_free(dv->ev_wake);
	pthread_mutex_lock(&dv->sh.lock);
	dv->sh.last = dv->pending;
	dv->pending = NULL;
	dv->sh.is_stopping = true;
	pthread_cond_broadcast(&dv->sh.cond);
	pthread_mutex_unlock(&dv->sh.lock);
	pthread_join(dv->sh.thread, NULL);
	devsnap_free(dv->sh.fresh);
	devsnap_free(dv->cur);
	registry_close(dv->ro);
	registry_close(dv->sh.ro_offer);
	close(dv->sh.wake[0]);
	close(dv->sh.wake[1]);
	pthread_mutex_destroy(&dv->sh.lock);
	pthread_cond_destroy(&dv->sh.cond);
	free(dv);
}

/* Take a snapshot the thread published since the last connection. */
static void
take_fresh(struct regview *dv)
{
	struct devsnap *s;
	uint64_t seq;

	pthread_mutex_lock(&dv->sh.lock);
	s = dv->sh.fresh;
	seq = dv->sh.fresh_seq;
	dv->sh.fresh = NULL;
	if (dv->ro == NULL && dv->sh.ro_offer) {
		dv->ro = dv->sh.ro_offer;
		dv->sh.ro_offer = NULL;
		dv->loop_dataver = dv->sh.ro_dataver;
		dv->loop_devver = dv->sh.ro_devver;
		dv->loop_admitver = dv->sh.ro_admitver;
	}
	pthread_mutex_unlock(&dv->sh.lock);
	if (s) {
		devsnap_free(dv->cur);
		dv->cur = s;
		dv->cur_seq = seq;
	}
}

/* Ask the thread for a snapshot newer than every change seen so far. */
static uint64_t
ask_for_snapshot(struct regview *dv)
{
	uint64_t seq;

	pthread_mutex_lock(&dv->sh.lock);
	seq = dv->sh.req_seq = ++dv->want_seq;
	pthread_cond_broadcast(&dv->sh.cond);
	pthread_mutex_unlock(&dv->sh.lock);
	return seq;
}

bool
regview_is_current(struct regview *dv)
{
	int64_t data, devs, admit;

	if (dv == NULL)
		return true;
	take_fresh(dv);
	/* Without our own connection, or when SQLite is busy, the thread's
	 * polling is all there is: go on with what we have. */
	if (dv->ro == NULL || registry_data_version(dv->ro, &data) != OUT_OK)
		return true;
	if (data != dv->loop_dataver) {
		dv->loop_dataver = data;
		if (registry_devices_version(dv->ro, &devs, &admit) == OUT_OK) {
			/* An approval changed: connections wait for the snapshot that
			 * has it. Anything else (a new pending registration) only
			 * changes wording: ask for it, go on with this one. */
			if (admit != dv->loop_admitver)
				dv->admit_seq = ask_for_snapshot(dv);
			else if (devs != dv->loop_devver)
				ask_for_snapshot(dv);
			dv->loop_devver = devs;
			dv->loop_admitver = admit;
		}
	}
	return dv->cur == NULL || dv->cur_seq >= dv->admit_seq;
}

bool
regview_ready(struct regview *dv)
{
	if (dv == NULL)
		return true;
	take_fresh(dv);
	return dv->cur != NULL;
}

const struct device *
regview_match(struct regview *dv, const struct sockaddr *sa)
{
	if (dv == NULL)
		return NULL;
	take_fresh(dv);
	if (dv->cur == NULL || !devsnap_match(dv->cur, sa, &dv->match))
		return NULL;
	return &dv->match;
}

static void
note_session(struct regview *dv, int64_t id, time_t started, const char *tls, const char *listener,
             unsigned messages)
{
	struct device_usage *u = NULL;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	for (size_t i = 0; i < b->n_usage && u == NULL; i++)
		if (b->usage[i].device_id == id)
			u = &b->usage[i];
	if (u == NULL) {
		if (b->n_usage == USAGE_MAX) {
			hand_over(dv);
			b = pending(dv);
		}
		if (b->n_usage == USAGE_MAX) {
			log_warn("event=registry-error op=usage note=\"batch full, session not "
			         "counted\" device=%lld",
			         (long long)id);
			return;
		}
		u = &b->usage[b->n_usage++];
		memset(u, 0, sizeof(*u));
		u->device_id = id;
		u->first_seen = (int64_t)started;
	}
	u->sessions++;
	u->messages += messages;
	u->last_seen = clock_now();
	str_copy(u->last_tls, sizeof(u->last_tls), tls);
	str_copy(u->last_listener, sizeof(u->last_listener), listener);
}

static struct client_stat *
find_stat(struct batch *b, int64_t day, const char *client, const char *listener, const char *tls)
{
	for (size_t i = 0; i < b->n_stats; i++) {
		struct client_stat *x = &b->stats[i];
		if (x->day == day && strcmp(x->client, client) == 0 &&
		    strcmp(x->listener, listener) == 0 && strcmp(x->tls, tls) == 0)
			return x;
	}
	return NULL;
}

static void
note_client(struct regview *dv, const char *client, const char *listener, const char *tls,
            unsigned messages, bool is_refused)
{
	int64_t now = clock_now(), day = now / 86400;
	struct client_stat *c;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	if ((c = find_stat(b, day, client, listener, tls)) == NULL) {
		if (b->n_stats == STATS_MAX) {
			hand_over(dv);
			b = pending(dv);
		}
		if (b->n_stats == STATS_MAX) {
			log_warn("event=registry-error op=client-stats note=\"batch full, session "
			         "not counted\" client=%s",
			         client);
			return;
		}
		c = &b->stats[b->n_stats++];
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

static void
note_recent(struct regview *dv, const char *client, const char *listener, const char *tls,
            const char *result)
{
	struct recent_session *r;
	struct batch *b;

	if (dv == NULL)
		return;
	b = pending(dv);
	if (b->n_recent == STATS_MAX) {
		hand_over(dv);
		b = pending(dv);
	}
	if (b->n_recent == STATS_MAX)
		return; /* the database is stuck; the log has every session anyway */
	r = &b->recent[b->n_recent++];
	r->at = clock_now();
	str_copy(r->client, sizeof(r->client), client);
	str_copy(r->listener, sizeof(r->listener), listener);
	str_copy(r->tls, sizeof(r->tls), tls);
	str_copy(r->result, sizeof(r->result), result);
}

void
regview_note_end(struct regview *dv, const struct session_record *r)
{
	if (dv == NULL)
		return;
	if (r->device_id)
		note_session(dv, r->device_id, r->started, r->tls, r->listener, r->messages);
	note_client(dv, r->client, r->listener, r->tls, r->messages, r->is_refused);
	note_recent(dv, r->client, r->listener, r->tls, r->result);
}

static struct auth_stat *
find_auth(struct batch *b, int64_t hour, const char *client, const char *user)
{
	for (size_t i = 0; i < b->n_auth; i++) {
		struct auth_stat *x = &b->auth[i];
		if (x->hour == hour && strcmp(x->client, client) == 0 && strcmp(x->user, user) == 0)
			return x;
	}
	return NULL;
}

void
regview_note_auth(struct regview *dv, const struct auth_note *n)
{
	int64_t now = clock_now(), hour = now / 3600;
	char user[AUTHSTAT_USER_MAX];
	struct auth_stat *a;
	struct batch *b;

	if (dv == NULL)
		return;
	str_copy_printable(user, sizeof(user), n->user, strlen(n->user));
	b = pending(dv);
	if ((a = find_auth(b, hour, n->client, user)) == NULL) {
		if (b->n_auth == AUTHSTATS_MAX) {
			hand_over(dv);
			b = pending(dv);
		}
		if (b->n_auth == AUTHSTATS_MAX)
			return; /* the database is stuck; the log has every AUTH anyway */
		a = &b->auth[b->n_auth++];
		memset(a, 0, sizeof(*a));
		a->hour = hour;
		str_copy(a->client, sizeof(a->client), n->client);
		str_copy(a->user, sizeof(a->user), user);
	}
	a->failures += n->failures;
	a->successes += n->successes;
	a->messages += n->messages;
	a->recipients += n->recipients;
	a->last_seen = now;
}
