#include "queue/group.h"

#include <string.h>

#include "queue/route.h"
#include "util/vec.h"

const char *
group_domain(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	return at ? at + 1 : "";
}

size_t
group_by_hop(const struct config *cfg, const struct envelope *env, size_t *group)
{
	struct vec keys; /* of char[ROUTE_KEY_MAX], one per group */
	char key[ROUTE_KEY_MAX];
	size_t g;

	vec_init(&keys, ROUTE_KEY_MAX);
	for (size_t i = 0; i < env->n_rcpt; i++) {
		const char *domain = group_domain(env->rcpt[i]);

		group[i] = GROUP_NONE;
		if (env->rcpt_done[i])
			continue;
		route_key(route_for(cfg, domain), domain, key, sizeof(key));
		for (g = 0; g < keys.n && strcmp((char *)keys.items + g * ROUTE_KEY_MAX, key); g++)
			;
		if (g == keys.n)
			memcpy(vec_push(&keys), key, sizeof(key));
		group[i] = g;
	}
	g = keys.n;
	vec_free(&keys);
	return g;
}
