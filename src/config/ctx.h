/*
 * ctx: the state of one reading of a config file, shared by the files of
 * config/ and nobody else: the config being filled, the error list, the
 * line being read and which keys were seen where (for "already set on
 * line N" and for naming a line in a cross-check).
 */
#ifndef MAILOUT_CONFIG_CTX_H
#define MAILOUT_CONFIG_CTX_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

#define CONF_LINE_MAX 198 /* libinih reads at most 200 bytes a line */
#define CONF_LIST_MAX 32  /* words in one list value */
#define CONF_KEYS_MAX 128 /* keys in all */

struct conf_ctx {
	struct config *cfg;
	struct buf *errs;
	unsigned n_errs;
	const char *path;
	char dir[PATH_MAX]; /* of the config file, for relative paths */
	FILE *fp;
	unsigned line;
	bool is_continuation;
	char section[CONF_NAME_MAX + 16];
	bool section_ok;
	struct listener_conf *listener;
	bool is_routes;
	unsigned seen_global[CONF_KEYS_MAX];
	unsigned seen_listener[CONF_LISTENERS_MAX][CONF_KEYS_MAX];
};

/* A value parser of the key table: the value into the config (or the
 * listener) at base; false with a sentence in err when it is wrong. */
typedef bool conf_parse_fn(struct conf_ctx *, void *base, const char *value, char *err,
                           size_t errlen);

/* One error, "path:line: sentence" (line 0: "path: sentence"). */
void conf_error(struct conf_ctx *, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A relative path against the config file's folder; false if too long. */
bool conf_resolve_path(const struct conf_ctx *, char *dst, size_t size, const char *value);

#endif
