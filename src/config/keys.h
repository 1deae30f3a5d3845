/*
 * keys: the table of every config key (section, type, bounds, default,
 * where its value lands, its help text) and what follows from it: applying
 * a value or a default, clearing a list, finding a key, and the names of
 * the enumerated values. doc/CONFIG.md is printed from the same table
 * (config/print.c). The value parsers of the custom keys are in
 * config/values.h.
 */
#ifndef MAILOUT_CONFIG_KEYS_H
#define MAILOUT_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/ctx.h"

enum conf_type {
	CONF_STR,
	CONF_PATH,
	CONF_UINT,
	CONF_SIZE,
	CONF_DURATION,
	CONF_ENUM,
	CONF_NETS,  /* CIDR prefixes into a struct cidr array (CONF_NETS_MAX) */
	CONF_PATHS, /* paths into a char[PATH_MAX] array (CONF_CERTS_MAX) */
	CONF_CUSTOM,
};

struct conf_key {
	const char *section; /* "listener" matches [listener NAME] */
	const char *name;
	enum conf_type type;
	uint64_t min, max;
	const char *dflt;
	size_t offset;            /* into struct config or struct listener_conf */
	size_t size;              /* of a CONF_STR / CONF_PATH field */
	const char *const *names; /* of a CONF_ENUM */
	conf_parse_fn *parse;     /* of a CONF_CUSTOM */
	size_t count; /* a list (continuation lines append): offset of its size_t count; 0: none */
	const char *help;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_n_keys;

/* The key of section ("listener NAME" counts as "listener"), or NULL. */
const struct conf_key *conf_key_find(const char *section, const char *name);
/* Its index in conf_keys[], for the seen lists of struct conf_ctx. */
size_t conf_key_index(const struct conf_key *);
/* Apply one value to one key; false (with err) when the value is bad. */
bool conf_key_apply(struct conf_ctx *, const struct conf_key *, void *base, const char *value,
                    char *err, size_t errlen);
/* A list key given again (not as a continuation line) starts empty. */
void conf_key_clear(const struct conf_key *, void *base);
/* Every default of section into base (struct config or struct listener_conf). */
void conf_apply_defaults(struct conf_ctx *, const char *section, void *base);

#endif
