#include "auth/authlimit.h"

#include <stdlib.h>
#include <string.h>

#include "util/hashmap.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define HOUR 3600

struct count {
	int64_t first; /* start of its window */
	uint64_t n, m; /* failures; or messages and recipients */
};

struct authlimit {
	struct authlimit_conf conf;
	struct hashmap *failures; /* "a:ADDRESS" or "u:USER" -> struct count */
	struct hashmap *sending;  /* user -> struct count */
};

struct authlimit *
authlimit_new(const struct authlimit_conf *conf)
{
	struct authlimit *l = xcalloc(1, sizeof(*l));

	l->conf = *conf;
	l->failures = hashmap_new();
	l->sending = hashmap_new();
	return l;
}

static void
free_value(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

void
authlimit_free(struct authlimit *l)
{
	if (l == NULL)
		return;
	hashmap_each(l->failures, free_value, NULL);
	hashmap_each(l->sending, free_value, NULL);
	hashmap_free(l->failures);
	hashmap_free(l->sending);
	free(l);
}

/* ---- the bounded tables ---- */

struct sweep {
	struct hashmap *m;
	int64_t now, window;
	char oldest[320];
	int64_t oldest_first;
	char (*dead)[320];
	size_t n_dead, max_dead;
};

static void
find_stale(const char *key, void *value, void *arg)
{
	struct sweep *w = arg;
	const struct count *c = value;

	if (w->now - c->first >= w->window && w->n_dead < w->max_dead)
		str_copy(w->dead[w->n_dead++], sizeof(w->dead[0]), key);
	if (w->oldest[0] == '\0' || c->first < w->oldest_first) {
		str_copy(w->oldest, sizeof(w->oldest), key);
		w->oldest_first = c->first;
	}
}

/* Make room: drop what has run out, else the entry that started first. */
static void
make_room(struct hashmap *m, unsigned max, int64_t now, int64_t window)
{
	char dead[256][320];
	struct sweep w = {.m = m, .now = now, .window = window, .dead = dead, .max_dead = 256};

	if (hashmap_count(m) < max)
		return;
	hashmap_each(m, find_stale, &w);
	if (w.n_dead == 0 && w.oldest[0])
		str_copy(dead[w.n_dead++], sizeof(dead[0]), w.oldest);
	for (size_t i = 0; i < w.n_dead; i++)
		free(hashmap_remove(m, dead[i]));
}

/* The live count of key (a new one if asked and none). */
static struct count *
count_of(struct hashmap *m, const char *key, int64_t now, int64_t window, bool is_new, unsigned max)
{
	struct count *c = hashmap_get(m, key);

	if (c && now - c->first >= window) {
		memset(c, 0, sizeof(*c));
		c->first = now;
	}
	if (c || !is_new)
		return c;
	make_room(m, max, now, window);
	c = xcalloc(1, sizeof(*c));
	c->first = now;
	hashmap_put(m, key, c);
	return c;
}

static void
key_of(char *out, size_t size, char kind, const char *name)
{
	str_fmt(out, size, "%c:%s", kind, name);
}

/* ---- failures ---- */

static uint64_t
failures_of(const struct authlimit *l, char kind, const char *name, int64_t now)
{
	char key[320];
	const struct count *c;

	key_of(key, sizeof(key), kind, name);
	c = hashmap_get(l->failures, key);
	return c && now - c->first < (int64_t)l->conf.window ? c->n : 0;
}

bool
authlimit_blocked(const struct authlimit *l, const char *client, const char *user, int64_t now)
{
	return failures_of(l, 'a', client, now) >= l->conf.max_failures ||
	       (user && failures_of(l, 'u', user, now) >= l->conf.max_failures);
}

void
authlimit_failed(struct authlimit *l, const char *client, const char *user, int64_t now)
{
	char key[320];

	key_of(key, sizeof(key), 'a', client);
	count_of(l->failures, key, now, (int64_t)l->conf.window, true, l->conf.max_entries)->n++;
	if (user == NULL || user[0] == '\0')
		return;
	key_of(key, sizeof(key), 'u', user);
	count_of(l->failures, key, now, (int64_t)l->conf.window, true, l->conf.max_entries)->n++;
}

/* ---- sending ---- */

void
authlimit_usage(const struct authlimit *l, const char *user, int64_t now, uint64_t *messages,
                uint64_t *recipients)
{
	const struct count *c = hashmap_get(l->sending, user);
	bool live = c && now - c->first < HOUR;

	*messages = live ? c->n : 0;
	*recipients = live ? c->m : 0;
}

bool
authlimit_may_send(const struct authlimit *l, const char *user, uint64_t n_rcpts, int64_t now)
{
	uint64_t msgs, rcpts;

	authlimit_usage(l, user, now, &msgs, &rcpts);
	if (n_rcpts == 0)
		return msgs + 1 <= l->conf.messages_per_hour;
	return rcpts + n_rcpts <= l->conf.recipients_per_hour;
}

void
authlimit_sent(struct authlimit *l, const char *user, uint64_t n_rcpts, int64_t now)
{
	struct count *c = count_of(l->sending, user, now, HOUR, true, l->conf.max_entries);

	c->n++;
	c->m += n_rcpts;
}
