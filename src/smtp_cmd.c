#include "smtp_cmd.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/num.h"
#include "util/str.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_HELO},         {"EHLO", SMTP_EHLO}, {"MAIL", SMTP_MAIL}, {"RCPT", SMTP_RCPT},
    {"DATA", SMTP_DATA},         {"BDAT", SMTP_BDAT}, {"RSET", SMTP_RSET}, {"NOOP", SMTP_NOOP},
    {"QUIT", SMTP_QUIT},         {"VRFY", SMTP_VRFY}, {"EXPN", SMTP_EXPN}, {"HELP", SMTP_HELP},
    {"STARTTLS", SMTP_STARTTLS}, {"AUTH", SMTP_AUTH},
};

#define N_VERBS         (sizeof(verbs) / sizeof(verbs[0]))
#define SIZE_MAX_DIGITS 20

const char *
smtp_verb_name(enum smtp_verb v)
{
	for (size_t i = 0; i < N_VERBS; i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

static void
set_param(struct smtp_cmd *c, const char *p, size_t len)
{
	str_copyn(c->param, sizeof(c->param), p, len);
}

/* RFC 3461 4: xtext is printable ASCII but '+' and '=', with "+XX" hex
 * for any byte; "<>" stands for no identity. */
static bool
xtext_valid(const char *v, size_t len)
{
	if (len == 2 && v[0] == '<' && v[1] == '>')
		return true;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch == '+') {
			if (i + 2 >= len || !isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return false;
			i += 2;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return false;
		}
	}
	return true;
}

/* One "KEY[=VALUE]" of MAIL FROM. */
static enum smtp_cmd_err
parse_mail_param(struct smtp_cmd *c, const char *p, size_t len)
{
	const char *eq = memchr(p, '=', len);
	size_t klen = eq ? (size_t)(eq - p) : len;
	char val[SIZE_MAX_DIGITS + 2];

	set_param(c, p, len);
	if (klen == 4 && strncasecmp(p, "SIZE", 4) == 0 && eq) {
		if (!str_copyn(val, sizeof(val), eq + 1, len - klen - 1) ||
		    !num_parse_u64(val, 0, UINT64_MAX, &c->size))
			return SMTP_CMD_ERR_PARAM_VALUE;
		c->has_size = true;
		return SMTP_CMD_OK;
	}
	if (klen == 4 && strncasecmp(p, "BODY", 4) == 0 && eq) {
		size_t vlen = len - klen - 1;
		if (vlen == 4 && strncasecmp(eq + 1, "7BIT", 4) == 0)
			c->body = SMTP_BODY_7BIT;
		else if (vlen == 8 && strncasecmp(eq + 1, "8BITMIME", 8) == 0)
			c->body = SMTP_BODY_8BITMIME;
		else
			return SMTP_CMD_ERR_PARAM_VALUE;
		return SMTP_CMD_OK;
	}
	if (len == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0) {
		c->smtputf8 = true;
		return SMTP_CMD_OK;
	}
	/* RFC 4954 5: AUTH=<> or an xtext mailbox. Taken and not trusted: the
	 * identity that counts is the session's own AUTH. */
	if (klen == 4 && strncasecmp(p, "AUTH", 4) == 0 && eq)
		return xtext_valid(eq + 1, len - klen - 1) ? SMTP_CMD_OK : SMTP_CMD_ERR_PARAM_VALUE;
	return SMTP_CMD_ERR_PARAM;
}

/* "FROM:<path> params" or "TO:<path> params". */
static enum smtp_cmd_err
parse_path_cmd(struct smtp_cmd *c, const char *kw, size_t kwlen)
{
	const char *p = c->arg, *end = c->arg + c->arg_len;
	size_t used;

	if (c->arg_len < kwlen || strncasecmp(p, kw, kwlen) != 0)
		return SMTP_CMD_ERR_SYNTAX;
	p += kwlen;
	while (p < end && *p == ' ') /* "MAIL FROM: <a@b>" is common */
		p++;
	/* Parse the parameters first: SMTPUTF8 decides whether UTF-8 is allowed. */
	const char *path = p;
	if (p < end && *p == '<') {
		/* Find the end of the path, honouring quoted strings. */
		bool in_quote = false;
		for (; p < end; p++) {
			if (*p == '\\' && in_quote && p + 1 < end)
				p++;
			else if (*p == '"')
				in_quote = !in_quote;
			else if (*p == '>' && !in_quote)
				break;
		}
		if (p < end)
			p++;
	} else {
		while (p < end && *p != ' ')
			p++;
	}
	const char *path_end = p;
	while (p < end) {
		const char *start;

		if (*p != ' ')
			return SMTP_CMD_ERR_SYNTAX;
		while (p < end && *p == ' ')
			p++;
		start = p;
		while (p < end && *p != ' ')
			p++;
		if (p > start) {
			if (c->verb == SMTP_RCPT) {
				set_param(c, start, (size_t)(p - start));
				return SMTP_CMD_ERR_PARAM;
			}
			enum smtp_cmd_err e = parse_mail_param(c, start, (size_t)(p - start));
			if (e != SMTP_CMD_OK)
				return e;
		}
	}
	/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain, in any case. */
	if (c->verb == SMTP_RCPT && path_end - path == 12 &&
	    strncasecmp(path, "<postmaster>", 12) == 0) {
		c->is_postmaster = true;
		str_copy(c->addr.local, sizeof(c->addr.local), "postmaster");
		return SMTP_CMD_OK;
	}
	/* UTF-8 in RCPT when the transaction's MAIL said SMTPUTF8 (RFC 6531 3.4). */
	c->addr_err = address_parse_path(path, (size_t)(path_end - path),
	                                 c->smtputf8 || (c->verb == SMTP_RCPT && c->is_utf8_txn),
	                                 &c->addr, &used);
	if (c->addr_err == ADDRESS_OK && used != (size_t)(path_end - path))
		c->addr_err = ADDRESS_ERR_SYNTAX;
	return c->addr_err == ADDRESS_OK ? SMTP_CMD_OK : SMTP_CMD_ERR_ADDRESS;
}

static enum smtp_cmd_err
parse_line(const char *line, size_t len, bool is_utf8_txn, struct smtp_cmd *c)
{
	size_t vlen = 0;

	memset(c, 0, sizeof(*c));
	c->is_utf8_txn = is_utf8_txn;
	c->verb = SMTP_UNKNOWN;
	if (memchr(line, '\r', len) || memchr(line, '\n', len))
		return SMTP_CMD_ERR_BARE_EOL;
	if (memchr(line, '\0', len))
		return SMTP_CMD_ERR_NUL;
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	for (size_t i = 0; i < N_VERBS; i++)
		if (strlen(verbs[i].name) == vlen && strncasecmp(line, verbs[i].name, vlen) == 0)
			c->verb = verbs[i].verb;
	if (c->verb == SMTP_UNKNOWN)
		return SMTP_CMD_ERR_VERB;
	c->arg = line + vlen;
	c->arg_len = len - vlen;
	if (c->arg_len > 0) { /* skip the one separating space */
		c->arg++;
		c->arg_len--;
	}
	while (c->arg_len > 0 && c->arg[c->arg_len - 1] == ' ') /* trailing spaces */
		c->arg_len--;
	switch (c->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		return (c->arg_len == 0 || memchr(c->arg, ' ', c->arg_len)) ? SMTP_CMD_ERR_SYNTAX
		                                                            : SMTP_CMD_OK;
	case SMTP_MAIL:
		return parse_path_cmd(c, "FROM:", 5);
	case SMTP_RCPT:
		return parse_path_cmd(c, "TO:", 3);
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		return c->arg_len == 0 ? SMTP_CMD_OK : SMTP_CMD_ERR_SYNTAX;
	default:
		return SMTP_CMD_OK;
	}
}

enum smtp_cmd_err
smtp_cmd_parse(const char *line, size_t len, bool is_utf8_txn, struct smtp_cmd *c)
{
	enum smtp_cmd_err e = parse_line(line, len, is_utf8_txn, c);

	c->err = e;
	return e;
}
