#include "address.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <string.h>

#include "util/str.h"

#define LOCAL_PART_MAX 64  /* RFC 5321 4.5.3.1.1 */
#define DOMAIN_MAX     255 /* RFC 5321 4.5.3.1.2 */

struct cursor {
	const char *p, *end;
};

static bool
is_atext(unsigned char c, bool allow_utf8)
{
	if (c >= 0x80)
		return allow_utf8;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of a well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = *p < 0x80 ? 1 : utf8_seq_len(p, end);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

bool
address_is_atom_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* ASCII LDH labels, each 1..63, not starting or ending with '-'. */
static bool
domain_ldh_valid(const char *d)
{
	size_t label = 0;
	char prev = '.';

	if (*d == '\0' || strlen(d) > DOMAIN_MAX)
		return false;
	for (const char *p = d; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_') {
			if (label == 0 && c == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		prev = (char)c;
	}
	return label > 0 && prev != '-';
}

bool
address_normalize_domain(const char *p, size_t len, char *out, size_t size)
{
	char tmp[DOMAIN_MAX + 2];
	bool ascii = true;

	if (len > 0 && p[len - 1] == '.')
		len--; /* "example.edu." is "example.edu" */
	if (len == 0 || len > DOMAIN_MAX || !str_copyn(tmp, sizeof(tmp), p, len) ||
	    memchr(p, '\0', len) != NULL)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)tmp[i] >= 0x80)
			ascii = false;
	if (!ascii) {
		char *alabel = NULL;

		if (!utf8_valid(tmp, len) ||
		    idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&alabel,
		                   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
			return false;
		bool ok = str_copy(tmp, sizeof(tmp), alabel);
		idn2_free(alabel);
		if (!ok)
			return false;
	}
	str_lower(tmp);
	if (!domain_ldh_valid(tmp))
		return false;
	return str_copy(out, size, tmp);
}

bool
address_domain_matches(const char *domain, const char *pattern)
{
	size_t dl = strlen(domain), pl = strlen(pattern);

	if (pattern[0] != '.')
		return strcmp(domain, pattern) == 0;
	/* ".example.edu": a strict subdomain, label boundary included. */
	return dl > pl && strcmp(domain + dl - pl, pattern) == 0;
}

/* address-literal: [IPv4] or [IPv6:...]; copied lower-case as given. */
static enum address_err
parse_literal(struct cursor *c, struct address *out)
{
	const char *start = c->p, *close = memchr(c->p, ']', (size_t)(c->end - c->p));
	char inner[ADDRESS_DOMAIN_MAX];
	unsigned char bin[16];

	if (close == NULL ||
	    !str_copyn(inner, sizeof(inner), start + 1, (size_t)(close - start) - 1))
		return ADDRESS_ERR_DOMAIN;
	if (str_iprefix(inner, "IPv6:")) {
		if (inet_pton(AF_INET6, inner + 5, bin) != 1)
			return ADDRESS_ERR_DOMAIN;
	} else if (inet_pton(AF_INET, inner, bin) != 1) {
		return ADDRESS_ERR_DOMAIN;
	}
	if (!str_copyn(out->domain, sizeof(out->domain), start, (size_t)(close - start) + 1))
		return ADDRESS_ERR_DOMAIN;
	str_lower(out->domain);
	out->is_literal = true;
	c->p = close + 1;
	return ADDRESS_OK;
}

/* Domain characters up to '>' / ',' / ':' / space / end. */
static enum address_err
parse_domain(struct cursor *c, bool allow_utf8, char *out, size_t size)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p != '>' && *c->p != ',' && *c->p != ':' && *c->p != ' ')
		c->p++;
	for (const char *q = start; q < c->p; q++)
		if ((unsigned char)*q >= 0x80 && !allow_utf8)
			return ADDRESS_ERR_UTF8;
	if ((size_t)(c->p - start) > DOMAIN_MAX + 1)
		return ADDRESS_ERR_TOO_LONG;
	if (!address_normalize_domain(start, (size_t)(c->p - start), out, size))
		return ADDRESS_ERR_DOMAIN;
	return ADDRESS_OK;
}

/* "@a.example,@b.example:" - syntax-checked, then dropped. */
static enum address_err
skip_route(struct cursor *c, struct address *out)
{
	char dummy[ADDRESS_DOMAIN_MAX];

	for (;;) {
		if (c->p >= c->end || *c->p != '@')
			return ADDRESS_ERR_SYNTAX;
		c->p++;
		if (parse_domain(c, true, dummy, sizeof(dummy)) != ADDRESS_OK)
			return ADDRESS_ERR_SYNTAX;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == ':') {
			c->p++;
			out->has_route = true;
			return ADDRESS_OK;
		}
		return ADDRESS_ERR_SYNTAX;
	}
}

/* Quoted-string into raw (unescaped) content; returns ADDRESS_OK. */
static enum address_err
parse_quoted(struct cursor *c, bool allow_utf8, char *raw, size_t size, size_t *raw_len)
{
	size_t n = 0;

	c->p++; /* opening quote */
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;

		if (ch == '\\') {
			if (c->p + 1 >= c->end || (unsigned char)c->p[1] < 32 ||
			    (unsigned char)c->p[1] > 126)
				return ADDRESS_ERR_LOCAL;
			ch = (unsigned char)*++c->p;
		} else if (ch < 32 || ch == 127 || (ch >= 0x80 && !allow_utf8)) {
			return ch >= 0x80 ? ADDRESS_ERR_UTF8 : ADDRESS_ERR_LOCAL;
		}
		if (n + 1 >= size)
			return ADDRESS_ERR_TOO_LONG;
		raw[n++] = (char)ch;
		c->p++;
	}
	if (c->p >= c->end)
		return ADDRESS_ERR_LOCAL;
	c->p++; /* closing quote */
	raw[n] = '\0';
	*raw_len = n;
	return ADDRESS_OK;
}

static bool
is_dot_string(const char *s, size_t len, bool allow_utf8)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i], allow_utf8)) {
			return false;
		}
	}
	return true;
}

/* Local part in normal form: unquoted if it is a dot-string, else quoted. */
static enum address_err
store_local(const char *raw, size_t len, bool allow_utf8, struct address *out)
{
	size_t n = 0;

	if (len > LOCAL_PART_MAX)
		return ADDRESS_ERR_TOO_LONG;
	if (!utf8_valid(raw, len))
		return ADDRESS_ERR_UTF8;
	if (memchr(raw, '%', len) || memchr(raw, '!', len) || memchr(raw, '@', len))
		out->has_routing_chars = true;
	if (is_dot_string(raw, len, allow_utf8))
		return str_copyn(out->local, sizeof(out->local), raw, len) ? ADDRESS_OK
		                                                           : ADDRESS_ERR_TOO_LONG;
	out->local[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (n + 4 >= sizeof(out->local))
			return ADDRESS_ERR_TOO_LONG;
		if (raw[i] == '"' || raw[i] == '\\')
			out->local[n++] = '\\';
		out->local[n++] = raw[i];
	}
	out->local[n++] = '"';
	out->local[n] = '\0';
	return ADDRESS_OK;
}

static enum address_err
parse_local(struct cursor *c, bool allow_utf8, struct address *out)
{
	char raw[ADDRESS_LOCAL_MAX];
	size_t raw_len = 0;
	enum address_err e;

	if (c->p < c->end && *c->p == '"') {
		if ((e = parse_quoted(c, allow_utf8, raw, sizeof(raw), &raw_len)) != ADDRESS_OK)
			return e;
	} else {
		const char *start = c->p;

		while (c->p < c->end && (is_atext((unsigned char)*c->p, true) || *c->p == '.'))
			c->p++;
		raw_len = (size_t)(c->p - start);
		if (raw_len > LOCAL_PART_MAX)
			return ADDRESS_ERR_TOO_LONG;
		memcpy(raw, start, raw_len);
		raw[raw_len] = '\0';
		for (size_t i = 0; i < raw_len; i++)
			if ((unsigned char)raw[i] >= 0x80 && !allow_utf8)
				return ADDRESS_ERR_UTF8;
		if (!is_dot_string(raw, raw_len, allow_utf8))
			return ADDRESS_ERR_LOCAL;
	}
	for (size_t i = 0; i < raw_len; i++)
		if ((unsigned char)raw[i] >= 0x80)
			out->is_utf8 = true;
	return store_local(raw, raw_len, allow_utf8, out);
}

static enum address_err
parse_mailbox(struct cursor *c, bool allow_utf8, struct address *out)
{
	enum address_err e;

	if ((e = parse_local(c, allow_utf8, out)) != ADDRESS_OK)
		return e;
	if (c->p >= c->end || *c->p != '@')
		return (c->p >= c->end || *c->p == '>') ? ADDRESS_ERR_NO_DOMAIN : ADDRESS_ERR_LOCAL;
	c->p++;
	if (c->p < c->end && *c->p == '[')
		return parse_literal(c, out);
	for (const char *q = c->p; q < c->end && *q != '>' && *q != ' '; q++)
		if ((unsigned char)*q >= 0x80)
			out->is_utf8 = true;
	return parse_domain(c, allow_utf8, out->domain, sizeof(out->domain));
}

enum address_err
address_parse_path(const char *p, size_t len, bool allow_utf8, struct address *out,
                   size_t *consumed)
{
	struct cursor c = {p, p + len};
	bool is_bracketed = len > 0 && p[0] == '<';
	enum address_err e;

	memset(out, 0, sizeof(*out));
	if (memchr(p, '\0', len) != NULL)
		return ADDRESS_ERR_SYNTAX;
	if (is_bracketed) {
		c.p++;
		if (c.p < c.end && *c.p == '>') {
			out->is_null = true;
			*consumed = 2;
			return ADDRESS_OK;
		}
		if (c.p < c.end && *c.p == '@' && (e = skip_route(&c, out)) != ADDRESS_OK)
			return e;
	}
	if ((e = parse_mailbox(&c, allow_utf8, out)) != ADDRESS_OK)
		return e;
	if (is_bracketed) {
		if (c.p >= c.end || *c.p != '>')
			return ADDRESS_ERR_SYNTAX;
		c.p++;
	}
	if (c.p < c.end && *c.p != ' ')
		return ADDRESS_ERR_SYNTAX;
	*consumed = (size_t)(c.p - p);
	return ADDRESS_OK;
}

const char *
address_strerror(enum address_err e)
{
	switch (e) {
	case ADDRESS_OK:
		return "ok";
	case ADDRESS_ERR_SYNTAX:
		return "syntax error in address; expected <user@domain>";
	case ADDRESS_ERR_LOCAL:
		return "invalid characters in the local part (before the @)";
	case ADDRESS_ERR_DOMAIN:
		return "invalid domain (after the @)";
	case ADDRESS_ERR_NO_DOMAIN:
		return "address must include a domain (user@domain)";
	case ADDRESS_ERR_TOO_LONG:
		return "address too long (local part 64, domain 255 octets at most)";
	case ADDRESS_ERR_UTF8:
		return "non-ASCII address needs SMTPUTF8 (or is not valid UTF-8)";
	}
	return "invalid address";
}

void
address_format(const struct address *a, char *dst, size_t size)
{
	if (a->is_null) {
		str_copy(dst, size, "");
		return;
	}
	str_fmt(dst, size, "%s@%s", a->local, a->domain);
}
