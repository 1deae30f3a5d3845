#include "config/names.h"

#include <openssl/ssl.h>

const char *const conf_tls_names[] = {"off", "optional", "required", "implicit", NULL};
const char *const conf_clients_names[] = {"any", "cidr", "registered", NULL};
const char *const conf_rcpts_names[] = {"any", "internal", NULL};
const char *const conf_auth_names[] = {"none", "optional", "required", NULL};
const char *const conf_auth_backend_names[] = {"none", "file", "ldap", NULL};
const char *const conf_auth_senders_names[] = {"any", "own", "map", NULL};
const char *const conf_yesno_names[] = {"no", "yes", NULL};
const char *const conf_relay_tls_names[] = {"none", "opportunistic", "required", "verify", NULL};

static const char *
enum_name(const char *const *names, unsigned v)
{
	for (unsigned i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

const char *
listener_tls_name(enum listener_tls v)
{
	return enum_name(conf_tls_names, v);
}

const char *
listener_clients_name(enum listener_clients v)
{
	return enum_name(conf_clients_names, v);
}

const char *
listener_rcpts_name(enum listener_rcpts v)
{
	return enum_name(conf_rcpts_names, v);
}

const char *
listener_auth_name(enum listener_auth v)
{
	return enum_name(conf_auth_names, v);
}

const char *
relay_tls_name(enum relay_tls v)
{
	return enum_name(conf_relay_tls_names, v);
}

const char *
tls_version_name(unsigned v)
{
	switch (v) {
	case TLS1_VERSION:
		return "1.0";
	case TLS1_1_VERSION:
		return "1.1";
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	}
	return "?";
}

const char *
auth_backend_name(enum auth_backend v)
{
	return enum_name(conf_auth_backend_names, v);
}

const char *
auth_senders_name(enum auth_senders v)
{
	return enum_name(conf_auth_senders_names, v);
}

const char *
transition_date_name(enum transition_date d)
{
	static const char *const names[TD_COUNT] = {"register_from", "warn_from", "tempfail_from",
	                                            "cutover", "end"};
	return (unsigned)d < TD_COUNT ? names[d] : "?";
}
