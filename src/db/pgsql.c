#include "db/pgsql.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *p;
	size_t left;
};

static bool
put(struct out *o, const char *s, size_t n)
{
	if (n >= o->left)
		return false;
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
	*o->p = '\0';
	return true;
}

static bool
put_param(struct out *o, struct pgsql_params *p, int i)
{
	char num[16];
	int n = snprintf(num, sizeof(num), "$%d", i);

	if (i < 1 || i > PGSQL_MAX_PARAMS)
		return false;
	if (i > p->n)
		p->n = i;
	return put(o, num, (size_t)n);
}

/* A quoted run ('text' or "name", the quote doubled inside) from s: its
 * length, or 0 when it does not end. */
static size_t
quoted_len(const char *s)
{
	char q = s[0];
	size_t i = 1;

	for (;;) {
		if (s[i] == '\0')
			return 0;
		if (s[i] == q && s[i + 1] == q)
			i += 2;
		else if (s[i] == q)
			return i + 1;
		else
			i++;
	}
}

/* ?NNN or ? at s: the parameter's number; *len: characters taken. */
static int
numbered(const char *s, const struct pgsql_params *p, size_t *len)
{
	int v = 0;
	size_t i = 1;

	if (!isdigit((unsigned char)s[1])) {
		*len = 1;
		return p->n + 1;
	}
	while (isdigit((unsigned char)s[i]) && v <= PGSQL_MAX_PARAMS)
		v = v * 10 + (s[i++] - '0');
	while (isdigit((unsigned char)s[i]))
		i++;
	*len = i;
	return v;
}

/* :name at s: its number (a new name takes the next); 0 when too long. */
static int
named(const char *s, struct pgsql_params *p, size_t *len)
{
	size_t i = 1;
	int k;

	while (isalnum((unsigned char)s[i]) || s[i] == '_')
		i++;
	*len = i;
	if (i >= PGSQL_NAME_MAX)
		return 0;
	for (k = 0; k < p->n; k++)
		if (strncmp(p->names[k], s, i) == 0 && p->names[k][i] == '\0')
			return k + 1;
	if (p->n >= PGSQL_MAX_PARAMS)
		return 0;
	memcpy(p->names[p->n], s, i);
	p->names[p->n][i] = '\0';
	return p->n + 1;
}

bool
pgsql_translate(const char *sql, char *dst, size_t size, struct pgsql_params *p)
{
	struct out o = {dst, size};
	size_t len;

	memset(p, 0, sizeof(*p));
	if (size == 0)
		return false;
	dst[0] = '\0';
	for (const char *s = sql; *s; s += len) {
		bool ok;
		if (*s == '\'' || *s == '"') {
			if ((len = quoted_len(s)) == 0)
				return false;
			ok = put(&o, s, len);
		} else if (*s == '?') {
			ok = put_param(&o, p, numbered(s, p, &len));
		} else if (*s == ':' && (isalpha((unsigned char)s[1]) || s[1] == '_')) {
			ok = put_param(&o, p, named(s, p, &len));
		} else {
			len = 1;
			ok = put(&o, s, 1);
		}
		if (!ok)
			return false;
	}
	return true;
}

int
pgsql_param_index(const struct pgsql_params *p, const char *name)
{
	for (int k = 0; k < p->n && k < PGSQL_MAX_PARAMS; k++)
		if (strcmp(p->names[k], name) == 0)
			return k + 1;
	return 0;
}
