#include "smtp/admit.h"

#include <stdint.h>

#include "util/hashmap.h"

void
admit_init(struct admit *a, const struct config *cfg)
{
	a->cfg = cfg;
	a->n = 0;
	a->by_client = hashmap_new();
}

void
admit_free(struct admit *a)
{
	hashmap_free(a->by_client);
	a->by_client = NULL;
}

/* The count lives in the map's value pointer: no allocation per client. */
static uintptr_t
count_of(const struct admit *a, const char *client)
{
	return (uintptr_t)hashmap_get(a->by_client, client);
}

enum admit_verdict
admit_connection(struct admit *a, const char *client, bool is_stopping)
{
	uintptr_t mine = count_of(a, client);

	if (is_stopping)
		return ADMIT_STOPPING;
	if (a->n >= a->cfg->max_connections)
		return ADMIT_TOO_MANY;
	if (mine >= a->cfg->max_client_connections)
		return ADMIT_TOO_MANY_FROM_THEM;
	hashmap_put(a->by_client, client, (void *)(mine + 1));
	a->n++;
	return ADMIT_OK;
}

void
admit_release(struct admit *a, const char *client)
{
	uintptr_t mine = count_of(a, client);

	if (mine <= 1)
		hashmap_remove(a->by_client, client);
	else
		hashmap_put(a->by_client, client, (void *)(mine - 1));
	if (a->n > 0)
		a->n--;
}

const char *
admit_verdict_name(enum admit_verdict v)
{
	switch (v) {
	case ADMIT_OK:
		return "ok";
	case ADMIT_STOPPING:
		return "shutting-down";
	case ADMIT_TOO_MANY:
		return "max-connections";
	case ADMIT_TOO_MANY_FROM_THEM:
		return "max-client-connections";
	}
	return "?";
}
