#include "policy.h"

#include <string.h>

#include "log.h"
#include "transition.h"
#include "util/str.h"

bool
policy_device_is_valid(const struct device *d, int64_t now)
{
	return d && d->status == DEVICE_APPROVED && (d->expires_at == 0 || now < d->expires_at);
}

/* The sentence for a device that may not use a clients = registered listener. */
static void
registered_refusal(const struct config *cfg, const struct device *d, const char *addr, int64_t now,
                   char *why, size_t size)
{
	char tail[600] = "";

	if (cfg->registration_url[0])
		str_fmt(tail, sizeof(tail), " at %s", cfg->registration_url);
	if (d == NULL)
		str_fmt(why, size,
		        "Device %s is not registered for unencrypted mail; send over an encrypted "
		        "interface (STARTTLS), or register the device%s",
		        addr, tail);
	else if (d->status == DEVICE_EXPIRED ||
	         (d->status == DEVICE_APPROVED && d->expires_at && now >= d->expires_at))
		str_fmt(why, size,
		        "The registration of device %s (#%lld) expired on %s; renew it%s", addr,
		        (long long)d->id, d->expires, tail);
	else if (d->status == DEVICE_PENDING)
		str_fmt(why, size,
		        "The registration of device %s (#%lld) is waiting for approval by the mail "
		        "administrators",
		        addr, (long long)d->id);
	else
		str_fmt(why, size, "The registration of device %s (#%lld) was %s%s%s", addr,
		        (long long)d->id, device_status_name(d->status), d->note[0] ? ": " : "",
		        d->note);
}

enum outcome
policy_check_connect(const struct config *cfg, const struct listener_conf *l,
                     const struct sockaddr *peer, const struct device *dev, int64_t now, char *why,
                     size_t why_size)
{
	char addr[CIDR_STR_MAX];

	if (l->clients == LCLIENTS_ANY)
		return OUT_OK;
	if (l->clients == LCLIENTS_REGISTERED) {
		if (policy_device_is_valid(dev, now))
			return OUT_OK;
		sockaddr_format_addr(peer, addr, sizeof(addr));
		registered_refusal(cfg, dev, addr, now, why, why_size);
		return OUT_PERMFAIL;
	}
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

enum policy_plain
policy_plaintext(const struct config *cfg, const struct listener_conf *l, bool is_tls, int64_t now)
{
	if (is_tls || (l->tls != LTLS_REQUIRED && l->tls != LTLS_IMPLICIT))
		return PP_OK;
	if (l->tls == LTLS_IMPLICIT)
		return PP_REFUSE; /* no plaintext ever reaches a command there */
	switch (transition_phase(cfg, now)) {
	case TP_OPEN:
		return PP_OK;
	case TP_WARN:
		return PP_WARN;
	case TP_TEMPFAIL:
		return PP_TEMPFAIL;
	default:
		return PP_REFUSE;
	}
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
policy_check_rcpt(const struct config *cfg, const struct listener_conf *l, const struct address *a,
                  bool is_restricted)
{
	if (l->recipients == LRCPTS_ANY && !is_restricted)
		return POLICY_RCPT_OK;
	if (a->is_literal || !policy_is_internal(cfg, a->domain))
		return POLICY_RCPT_NOT_INTERNAL;
	/* An internal server might obey "user%ext@internal" and relay it out. */
	if (a->has_routing_chars)
		return POLICY_RCPT_ROUTING;
	return POLICY_RCPT_OK;
}

void
policy_rcpt_address(const struct config *cfg, const struct smtp_cmd *c, struct address *out)
{
	size_t used;

	if (!c->is_postmaster) {
		*out = c->addr;
		return;
	}
	/* config_load() parsed and normalised it: this cannot fail. */
	if (address_parse_path(cfg->postmaster, strlen(cfg->postmaster), true, out, &used) !=
	    ADDRESS_OK)
		fatal_bug("policy_rcpt_address: postmaster '%s' does not parse", cfg->postmaster);
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
