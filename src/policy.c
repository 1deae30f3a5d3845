#include "policy.h"

#include "util/str.h"

enum outcome
policy_check_connect(const struct listener_conf *l, const struct sockaddr *peer, char *why,
                     size_t why_size)
{
	char addr[CIDR_STR_MAX];

	if (l->clients == LCLIENTS_ANY)
		return OUT_OK;
	if (l->clients == LCLIENTS_NETS) {
		for (size_t i = 0; i < l->n_nets; i++)
			if (cidr_contains(&l->nets[i], peer))
				return OUT_OK;
	}
	sockaddr_format_addr(peer, addr, sizeof(addr));
	str_fmt(why, why_size,
	        "Your address %s is not allowed to send mail through interface %s; use the "
	        "interface for your network or ask the mail administrators",
	        addr, l->name);
	return OUT_PERMFAIL;
}

bool
policy_allows_mail(const struct listener_conf *l, bool is_tls)
{
	return is_tls || (l->tls != LTLS_REQUIRED && l->tls != LTLS_IMPLICIT);
}

bool
policy_is_internal(const struct config *cfg, const char *domain)
{
	for (size_t i = 0; i < cfg->n_internal_domains; i++)
		if (address_domain_matches(domain, cfg->internal_domains[i]))
			return true;
	return false;
}

enum policy_rcpt
policy_check_rcpt(const struct config *cfg, const struct listener_conf *l, const struct address *a)
{
	if (l->recipients == LRCPTS_ANY)
		return POLICY_RCPT_OK;
	if (a->is_literal || !policy_is_internal(cfg, a->domain))
		return POLICY_RCPT_NOT_INTERNAL;
	/* An internal server might obey "user%ext@internal" and relay it out. */
	if (a->has_routing_chars)
		return POLICY_RCPT_ROUTING;
	return POLICY_RCPT_OK;
}

const char *
policy_rcpt_name(enum policy_rcpt v)
{
	switch (v) {
	case POLICY_RCPT_OK:
		return "ok";
	case POLICY_RCPT_NOT_INTERNAL:
		return "not-internal";
	case POLICY_RCPT_ROUTING:
		return "routing-chars";
	}
	return "?";
}
