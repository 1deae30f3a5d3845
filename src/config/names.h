/*
 * names: the words of the enumerated config values (tls = required, ...),
 * as the key table parses them and mailoutctl prints them. The functions
 * declared in config/config.h (listener_tls_name(), ...) live here.
 */
#ifndef MAILOUT_CONFIG_NAMES_H
#define MAILOUT_CONFIG_NAMES_H

#include "config/config.h"

/* NULL-terminated, in the order of their enum. */
extern const char *const conf_tls_names[];
extern const char *const conf_clients_names[];
extern const char *const conf_rcpts_names[];
extern const char *const conf_auth_names[];
extern const char *const conf_relay_tls_names[];
extern const char *const conf_auth_backend_names[];
extern const char *const conf_auth_senders_names[];
extern const char *const conf_yesno_names[];

#endif
