#include "ctl/devindex.h"

#include <stdlib.h>

#include "util/vec.h"
#include "util/xmalloc.h"

static bool
keep_device(const struct device *d, void *arg)
{
	*(struct device *)vec_push(arg) = *d;
	return true;
}

enum outcome
devindex_load(struct registry *reg, struct devindex *x, char *err, size_t errlen)
{
	struct device_filter all = {-1, 0, 0};
	struct vec v;
	struct cidr *nets;
	enum outcome o;

	vec_init(&v, sizeof(struct device));
	o = registry_list(reg, &all, keep_device, &v, err, errlen);
	x->devices = vec_take(&v, &x->n);
	nets = xcalloc(x->n + 1, sizeof(*nets));
	for (size_t i = 0; i < x->n; i++)
		nets[i] = x->devices[i].net;
	x->by_net = cidrtab_new(nets, x->n);
	free(nets);
	return o;
}

const struct device *
devindex_find(const struct devindex *x, const char *client)
{
	struct cidr host;
	struct sockaddr_storage ss = {0};
	long i;

	if (!cidr_parse(client, &host))
		return NULL;
	cidr_to_sockaddr(&host, &ss);
	i = cidrtab_lookup(x->by_net, (struct sockaddr *)&ss);
	return i < 0 ? NULL : &x->devices[i];
}

void
devindex_free(struct devindex *x)
{
	free(x->devices);
	cidrtab_free(x->by_net);
	x->devices = NULL;
	x->by_net = NULL;
}
