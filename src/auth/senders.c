#include "auth/senders.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hashmap.h"
#include "util/str.h"
#include "util/xmalloc.h"

#define MAP_LINE_MAX 4096
#define ITEM_MAX     320 /* an address: 64 + 1 + 255 */

void
senders_init(struct senders *s)
{
	vec_init(&s->items, sizeof(char *));
}

void
senders_free(struct senders *s)
{
	char **v = s->items.items;

	for (size_t i = 0; i < s->items.n; i++)
		free(v[i]);
	vec_free(&s->items);
}

void
senders_add(struct senders *s, const char *item)
{
	*(char **)vec_push(&s->items) = xstrdup(item);
}

bool
senders_allow(const struct senders *s, const char *sender)
{
	char *const *v = s->items.items;
	const char *at = strrchr(sender, '@');

	if (sender[0] == '\0')
		return true;
	for (size_t i = 0; i < s->items.n; i++) {
		if (v[i][0] == '@' ? at && strcasecmp(at + 1, v[i] + 1) == 0
		                   : strcasecmp(sender, v[i]) == 0)
			return true;
	}
	return false;
}

void
senders_format(const struct senders *s, char *out, size_t size)
{
	char *const *v = s->items.items;
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->items.n && len < size; i++) {
		str_fmt(out + len, size - len, "%s%s", i ? ", " : "", v[i]);
		len = strlen(out);
	}
}

/* ---- the map file ---- */

struct sendermap {
	struct hashmap *by_user; /* user -> struct senders * */
};

/* An address or @domain as the file may hold it: no space, no ':', one '@'. */
static bool
item_valid(const char *w)
{
	const char *at = strchr(w, '@');

	if (at == NULL || strchr(at + 1, '@') != NULL || at[1] == '\0' || strlen(w) >= ITEM_MAX)
		return false;
	for (const char *p = w; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == ':' || *p == ',' ||
		    (unsigned char)*p == 0x7f)
			return false;
	return true;
}

static bool
map_line(struct sendermap *m, char *line, unsigned n, char *err, size_t errlen)
{
	char *colon = strchr(line, ':'), *save = NULL;

	if (colon == NULL || colon == line) {
		str_fmt(err, errlen, "line %u: expected `user: address @domain ...`", n);
		return false;
	}
	*colon = '\0';
	str_trim(line);
	if (hashmap_get(m->by_user, line)) {
		str_fmt(err, errlen, "line %u: '%s' is listed twice", n, line);
		return false;
	}
	struct senders *s = xcalloc(1, sizeof(*s));
	senders_init(s);
	hashmap_put(m->by_user, line, s);
	for (char *w = strtok_r(colon + 1, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (!item_valid(w)) {
			str_fmt(err, errlen, "line %u: '%s' is not an address or @domain", n, w);
			return false;
		}
		senders_add(s, w);
	}
	return true;
}

static void
free_entry(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	senders_free(value);
	free(value);
}

void
sendermap_free(struct sendermap *m)
{
	if (m == NULL)
		return;
	hashmap_each(m->by_user, free_entry, NULL);
	hashmap_free(m->by_user);
	free(m);
}

struct sendermap *
sendermap_parse(const char *text, char *err, size_t errlen)
{
	struct sendermap *m = xcalloc(1, sizeof(*m));
	unsigned n = 0;

	m->by_user = hashmap_new();
	while (*text) {
		size_t len = strcspn(text, "\n");
		char line[MAP_LINE_MAX];

		n++;
		if (len >= sizeof(line)) {
			str_fmt(err, errlen, "line %u: longer than %d bytes", n, MAP_LINE_MAX - 1);
			sendermap_free(m);
			return NULL;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (text[len] != '\0');
		str_trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!map_line(m, line, n, err, errlen)) {
			sendermap_free(m);
			return NULL;
		}
	}
	return m;
}

void
sendermap_get(const struct sendermap *m, const char *user, struct senders *out)
{
	const struct senders *s = m ? hashmap_get(m->by_user, user) : NULL;
	char *const *v = s ? s->items.items : NULL;

	for (size_t i = 0; s && i < s->items.n; i++)
		senders_add(out, v[i]);
}
