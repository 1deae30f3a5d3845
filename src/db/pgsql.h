/*
 * pgsql: the registry's SQL is written once, in the dialect SQLite and
 * PostgreSQL both read, with SQLite's parameters (?, ?NNN, :name); this
 * turns them into PostgreSQL's ($1, $2, ...) by SQLite's numbering rules
 * and keeps the names, so that a statement binds the same way on either.
 * Text in quotes is copied as it is. Pure.
 */
#ifndef MAILOUT_DB_PGSQL_H
#define MAILOUT_DB_PGSQL_H

#include <stdbool.h>
#include <stddef.h>

#define PGSQL_MAX_PARAMS 64
#define PGSQL_NAME_MAX   24

struct pgsql_params {
	int n;                                        /* the highest parameter number used */
	char names[PGSQL_MAX_PARAMS][PGSQL_NAME_MAX]; /* of $i+1: ":now", or "" */
};

/* sql into dst with $N parameters. false (dst undefined) when dst is too
 * small, a number is out of 1..PGSQL_MAX_PARAMS, a name too long, or a
 * quote unterminated. */
bool pgsql_translate(const char *sql, char *dst, size_t size, struct pgsql_params *);
/* The number of the parameter called name (":now"), or 0. */
int pgsql_param_index(const struct pgsql_params *, const char *name);

#endif
