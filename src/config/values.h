/*
 * values: the parsers of the config values that are more than a string, a
 * number or a choice: domains, addresses, networks, paths, dates, the next
 * hop. Each checks one value and writes it into the config (or the
 * listener) at base; false with a sentence in err when it is wrong.
 */
#ifndef MAILOUT_CONFIG_VALUES_H
#define MAILOUT_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "config/ctx.h"

/* The custom keys of the table (config/keys.c). */
conf_parse_fn conf_parse_domains, conf_parse_postmaster, conf_parse_expiry, conf_parse_database,
    conf_parse_default_route, conf_parse_addresses, conf_parse_clients, conf_parse_web_address,
    conf_parse_cutover, conf_parse_tls_version, conf_parse_remind, conf_parse_admins,
    conf_parse_notify_from;

/* "host:port", "[v6]:port", "mx" or "dir:PATH" into r (kind, host, port, dir). */
bool conf_parse_next_hop(struct conf_ctx *, struct route_conf *r, const char *value, char *err,
                         size_t errlen);
/* CIDR prefixes appended to nets[*n_nets] (CONF_NETS_MAX at most);
 * also_allowed names the words the key takes besides prefixes, for the
 * error about a bad word ("" if none). */
bool conf_parse_nets(const char *value, struct cidr *nets, size_t *n_nets, const char *also_allowed,
                     char *err, size_t errlen);
/* Paths (relative to the config file's folder) appended to dst[*n_dst]
 * (CONF_CERTS_MAX at most). */
bool conf_parse_paths(struct conf_ctx *, char (*dst)[PATH_MAX], size_t *n_dst, const char *value,
                      char *err, size_t errlen);

#endif
