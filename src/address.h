/*
 * address: parse and normalise mail addresses, once, to one normal form
 * that every policy check and the next hop see (RFC 5321 4.1.2, RFC 6531).
 *
 * Normal form: local part as sent (unquoted when the quotes were not
 * needed, case kept), '@', domain in lower case with IDN U-labels turned
 * into A-labels and without a trailing dot. A source route is dropped (RFC
 * 5321 4.1.1.3 lets a receiver ignore it); the caller learns that it was
 * there, and whether the local part carries routing characters ('%', '!',
 * '@' inside quotes) that a downstream server might obey.
 * Pure functions: no I/O, no allocation.
 */
#ifndef MAILOUT_ADDRESS_H
#define MAILOUT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define ADDRESS_LOCAL_MAX  130 /* 64 octets, quoted with escapes */
#define ADDRESS_DOMAIN_MAX 256
#define ADDRESS_MAX        (ADDRESS_LOCAL_MAX + 1 + ADDRESS_DOMAIN_MAX)

enum address_err {
	ADDRESS_OK = 0,
	ADDRESS_ERR_SYNTAX,    /* not a path at all */
	ADDRESS_ERR_LOCAL,     /* bad local part */
	ADDRESS_ERR_DOMAIN,    /* bad domain or address literal */
	ADDRESS_ERR_NO_DOMAIN, /* "user" without "@domain" */
	ADDRESS_ERR_TOO_LONG,  /* local part > 64 or domain > 255 octets */
	ADDRESS_ERR_UTF8,      /* non-ASCII without SMTPUTF8, or bad UTF-8 */
};

struct address {
	char local[ADDRESS_LOCAL_MAX];
	char domain[ADDRESS_DOMAIN_MAX];
	bool is_null;           /* <> */
	bool has_route;         /* "@a,@b:" was given and dropped */
	bool has_routing_chars; /* '%', '!' or a quoted '@' in the local part */
	bool is_utf8;           /* needs SMTPUTF8 downstream */
	bool is_literal;        /* domain is [address-literal] */
};

/* Parse a reverse-path or forward-path at the start of p[0..len): "<...>",
 * or a bare address up to the first space. *consumed is set to the bytes
 * used (parameters may follow). */
enum address_err address_parse_path(const char *p, size_t len, bool allow_utf8, struct address *out,
                                    size_t *consumed);
const char *address_strerror(enum address_err);

/* Normalise a domain name (not a literal) into out; false if invalid. */
bool address_normalize_domain(const char *p, size_t len, char *out, size_t size);
/* "example.edu" matches only itself; ".example.edu" matches every subdomain. */
bool address_domain_matches(const char *domain, const char *pattern);
/* "local@domain", or "" for the null path. */
void address_format(const struct address *, char *dst, size_t size);
/* Letters, digits, '-', '_' and '.' only, 1 to 63 characters. */
bool address_is_atom_name(const char *);

#endif
