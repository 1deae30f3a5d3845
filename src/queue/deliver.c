#include "queue/deliver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "metrics/counters.h"
#include "queue/bounce.h"
#include "queue/group.h"
#include "queue/retry.h"
#include "spool/spool.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/xmalloc.h"

static uint32_t
random_u32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)clock_now();
	return r;
}

/* Queue a DSN about the recipients whose outcome is `which`. */
static int
send_dsn(struct delivery *q, const struct envelope *env, int fd, off_t body_off,
         const struct client_result *res, enum outcome which, bool is_delay)
{
	struct bounce_rcpt *list = xcalloc(env->n_rcpt, sizeof(*list));
	char dsn_id[SPOOL_ID_MAX] = "";
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < env->n_rcpt; i++)
		if (!env->rcpt_done[i] && res->rcpt[i] == which)
			list[n++] = (struct bounce_rcpt){env->rcpt[i], res->rcpt_reply[i]};
	if (n > 0) {
		lseek(fd, body_off, SEEK_SET);
		rc = bounce_queue(q->cfg, env, fd, list, n, is_delay, dsn_id, sizeof(dsn_id));
		if (rc == EINVAL)
			log_info("event=bounce-dropped id=%s reason=null-sender recipients=%zu",
			         env->id, n);
		else if (rc == EPERM)
			log_warn(
			    "event=bounce-suppressed id=%s to=<%s> listener=%s client=%s "
			    "reason=internal-only-listener recipients=%zu dsn=%s suppressed=%lu",
			    env->id, env->sender, env->listener, env->client, n,
			    is_delay ? "delay" : "failure",
			    atomic_fetch_add(&q->n_suppressed, 1) + 1);
		else if (rc != 0)
			log_error("event=bounce-error id=%s error=\"%s\"", env->id, strerror(rc));
		else
			log_info("event=%s id=%s to=<%s> dsn_id=%s recipients=%zu",
			         is_delay ? "delay-notice" : "bounce", env->id, env->sender, dsn_id,
			         n);
	}
	free(list);
	return rc == EINVAL || rc == EPERM ? 0 : rc;
}

/* Log each recipient's outcome and gather its state line; true when none
 * is left to try. The caller writes the lines only if some are: a message
 * that finished now is removed, and a crash before that at worst delivers
 * it again. */
static bool
record_results(const struct envelope *env, const struct client_result *res, unsigned attempt,
               int64_t retry_in, struct buf *state)
{
	bool all_done = true;

	for (size_t i = 0; i < env->n_rcpt; i++) {
		char esc[CLIENT_REPLY_MAX * 4];
		enum rcpt_state st = res->rcpt[i] == OUT_OK         ? RCPT_DONE
		                     : res->rcpt[i] == OUT_PERMFAIL ? RCPT_FAILED
		                                                    : RCPT_PENDING;

		if (env->rcpt_done[i])
			continue;
		log_escape(esc, sizeof(esc), res->rcpt_reply[i], strlen(res->rcpt_reply[i]));
		spool_state_rcpt(state, st, i, res->rcpt_reply[i]);
		metrics_delivery(res->rcpt_relay[i][0] ? res->rcpt_relay[i] : "none",
		                 st == RCPT_DONE     ? MD_DELIVERED
		                 : st == RCPT_FAILED ? MD_BOUNCED
		                                     : MD_DEFERRED);
		if (st == RCPT_PENDING) {
			all_done = false;
			log_info("event=deferred id=%s to=<%s> relay=%s tls=%s attempt=%u "
			         "retry_in=%llds reply=\"%s\"",
			         env->id, env->rcpt[i], res->rcpt_relay[i], res->rcpt_tls[i],
			         attempt, (long long)retry_in, esc);
			continue;
		}
		log_info("event=%s id=%s to=<%s> relay=%s tls=%s reply=\"%s\"",
		         st == RCPT_DONE ? "delivered" : "failed", env->id, env->rcpt[i],
		         res->rcpt_relay[i], res->rcpt_tls[i], esc);
	}
	return all_done;
}

/* Open a connection for the route (or keep the courier's one if it goes
 * to the same next hop). NULL: every recipient of the batch got its outcome. */
static struct client_conn *
connection_for(struct delivery *q, struct courier *t, const struct route_conf *r,
               const char *domain, const char *key, const struct client_batch *b,
               struct client_result *res)
{
	struct target targets[ROUTE_TARGETS_MAX];
	char err[CLIENT_REPLY_MAX] = "", text[CLIENT_REPLY_MAX];
	size_t n = 0;
	int64_t wait;
	unsigned failures;
	enum outcome o;

	if (t->conn && strcmp(t->key, key) == 0)
		return t->conn;
	courier_release(q, t);
	if ((wait = hops_wait(&q->hops, key)) > 0) {
		str_fmt(text, sizeof(text), "451 4.4.1 next hop %s is backed off for %llds", key,
		        (long long)wait);
		client_fail_all(b, res, OUT_TEMPFAIL, text);
		return NULL;
	}
	if (r->kind == NEXT_HOP_MX && t->dns == NULL &&
	    (t->dns = dns_new(q->cfg->resolver, err, sizeof(err))) == NULL) {
		client_fail_all(b, res, OUT_TEMPFAIL, err);
		return NULL;
	}
	o = route_targets(q->cfg, r, domain, t->dns, &q->guard, targets, ROUTE_TARGETS_MAX, &n, err,
	                  sizeof(err));
	if (o != OUT_OK) {
		str_fmt(text, sizeof(text), "%s %s", o == OUT_PERMFAIL ? "550 5.1.2" : "451 4.4.3",
		        err);
		client_fail_all(b, res, o, text);
		return NULL;
	}
	if (!hops_acquire(&q->hops, key)) {
		client_fail_all(b, res, OUT_TEMPFAIL, "451 4.3.2 the queue runner is stopping");
		return NULL;
	}
	if ((t->conn = client_open(q->cfg, q->ctx, r->tls, targets, n, res)) == NULL) {
		hops_release(&q->hops, key);
		failures = hops_failed(&q->hops, key, random_u32(), &wait);
		log_info("event=next-hop-down hop=%s failures=%u retry_in=%llds reason=\"%s\"", key,
		         failures, (long long)wait, res->error);
		client_fail_all(b, res, OUT_TEMPFAIL, res->error);
		return NULL;
	}
	hops_ok(&q->hops, key);
	str_copy(t->key, sizeof(t->key), key);
	return t->conn;
}

/* One batch (the recipients of one next hop): one transaction. */
static void
attempt_group(struct delivery *q, struct courier *t, const struct client_batch *b, int fd,
              off_t body_off, const char *domain, struct client_result *res)
{
	const struct route_conf *r = route_for(q->cfg, domain);
	char key[ROUTE_KEY_MAX], peer[CONF_DOMAIN_MAX];

	route_key(r, domain, key, sizeof(key));
	str_copy(res->tls, sizeof(res->tls), "none");
	lseek(fd, body_off, SEEK_SET);
	if (r->kind == NEXT_HOP_DIR) {
		client_deliver_dir(r->dir, b, fd, res);
		str_copy(peer, sizeof(peer), r->dir);
	} else if (connection_for(q, t, r, domain, key, b, res) != NULL) {
		client_send(t->conn, b, fd, res);
		/* A copy: releasing the connection frees the name. */
		str_copy(peer, sizeof(peer), client_peer(t->conn));
		if (!client_is_usable(t->conn) ||
		    client_messages_sent(t->conn) >= q->cfg->messages_per_connection)
			courier_release(q, t);
	} else {
		str_copy(peer, sizeof(peer), key);
	}
	for (size_t i = 0; i < b->env->n_rcpt; i++) {
		if (!client_batch_has(b, i))
			continue;
		str_copy(res->rcpt_relay[i], CLIENT_REPLY_MAX, peer);
		str_copy(res->rcpt_tls[i], sizeof(res->rcpt_tls[i]), res->tls);
	}
}

/* Each next hop's recipients in a batch of their own. */
static void
attempt(struct delivery *q, struct courier *t, const struct envelope *env, int fd, off_t body_off,
        struct client_result *res)
{
	size_t *group = xcalloc(env->n_rcpt ? env->n_rcpt : 1, sizeof(*group));
	bool *want = xcalloc(env->n_rcpt ? env->n_rcpt : 1, sizeof(*want));
	size_t n = group_by_hop(q->cfg, env, group);
	struct client_batch b = {env, want};

	for (size_t g = 0; g < n; g++) {
		const char *domain = NULL;

		for (size_t i = 0; i < env->n_rcpt; i++) {
			want[i] = group[i] == g;
			if (want[i] && domain == NULL)
				domain = group_domain(env->rcpt[i]);
		}
		attempt_group(q, t, &b, fd, body_off, domain, res);
	}
	free(group);
	free(want);
}

int64_t
deliver(struct delivery *q, struct courier *t, const char *id)
{
	struct envelope env;
	struct client_result res;
	struct buf state;
	off_t body_off;
	int64_t next = 0, now = clock_now(), retry_in;
	int fd, rc;

	envelope_init(&env);
	if ((rc = spool_load(q->cfg->spool, id, &env, &fd, &body_off)) != 0) {
		if (rc != ENOENT)
			log_error("event=queue-error id=%s op=load error=\"%s\"", id, strerror(rc));
		envelope_free(&env);
		return rc == ENOENT ? 0 : now + (int64_t)q->cfg->retry_interval;
	}
	spool_load_state(q->cfg->spool, &env);
	client_result_init(&res, env.n_rcpt);
	if (env.is_bounce_requested)
		retry_return_to_sender(&env, &res);
	else
		attempt(q, t, &env, fd, body_off, &res);
	retry_give_up_if_old(q->cfg, &env, clock_now(), &res);
	/* A failure is final only once its DSN is on disk. */
	if (send_dsn(q, &env, fd, body_off, &res, OUT_PERMFAIL, false) != 0)
		for (size_t i = 0; i < env.n_rcpt; i++)
			if (res.rcpt[i] == OUT_PERMFAIL)
				res.rcpt[i] = OUT_TEMPFAIL;
	retry_in = retry_backoff(q->cfg, env.attempts + 1, random_u32());
	buf_init(&state, SPOOL_HEADER_MAX);
	bool is_done = record_results(&env, &res, env.attempts + 1, retry_in, &state);
	if (!is_done) {
		next = now + retry_in;
		spool_state_attempt(&state, env.attempts + 1, next);
		if ((rc = spool_state_write(q->cfg->spool, id, &state)) != 0)
			log_error("event=queue-error id=%s op=state error=\"%s\"", id,
			          strerror(rc));
		if (!env.is_warned && q->cfg->delay_warning &&
		    now - env.arrival >= (int64_t)q->cfg->delay_warning &&
		    send_dsn(q, &env, fd, body_off, &res, OUT_TEMPFAIL, true) == 0)
			spool_mark_warned(q->cfg->spool, id);
	}
	buf_free(&state);
	close(fd); /* before the file goes to free/, where a worker may reuse it */
	if (is_done && (rc = spool_remove(q->cfg->spool, id)) != 0)
		log_warn("event=queue-error id=%s op=remove error=\"%s\" note=\"held or deleted "
		         "meanwhile\"",
		         id, strerror(rc));
	else if (is_done)
		log_info("event=removed id=%s", id);
	client_result_free(&res);
	envelope_free(&env);
	return next;
}

void
courier_release(struct delivery *q, struct courier *t)
{
	if (t->conn == NULL)
		return;
	client_close(t->conn);
	t->conn = NULL;
	hops_release(&q->hops, t->key);
}

void
courier_free(struct delivery *q, struct courier *t)
{
	courier_release(q, t);
	dns_free(t->dns);
	t->dns = NULL;
}
