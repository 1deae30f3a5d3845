#include "web/request.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "util/isodate.h"
#include "util/str.h"

const char *
req_arg(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
req_field(struct web_req *r, const char *name)
{
	const char *v = form_get(&r->form, name);

	return v ? v : "";
}

bool
req_client_in(const struct web_req *r, const struct cidr *nets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&nets[i], (const struct sockaddr *)&r->client_sa))
			return true;
	return false;
}

void
req_add_cookie(struct web_req *r, const char *name, const char *value, int64_t max_age)
{
	if (r->n_cookie == WEB_COOKIES)
		fatal_bug("more than %d cookies in one response", WEB_COOKIES);
	char *c = r->cookie[r->n_cookie++];
	const char *secure = r->w->is_https ? "; Secure" : "";

	if (max_age >= 0)
		str_fmt(c, sizeof(r->cookie[0]),
		        "%s=%s; Path=/; HttpOnly; SameSite=Strict%s; Max-Age=%lld", name, value,
		        secure, (long long)max_age);
	else
		str_fmt(c, sizeof(r->cookie[0]), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", name,
		        value, secure);
}

void
req_redirect(struct web_req *r, const char *location)
{
	r->status = MHD_HTTP_SEE_OTHER;
	str_copy(r->location, sizeof(r->location), location);
}

bool
req_is_admin(const struct web_req *r)
{
	return r->admin && req_client_in(r, r->cfg->web_admin_clients, r->cfg->n_web_admin_clients);
}

const char *
req_date(const struct web_req *r, const char *iso, char *out, size_t size)
{
	int64_t end;

	if (strlen(iso) == 10 && isodate_parse_expiry(iso, &end))
		isodate_prose(end - 1, r->lang == LANG_DE, out, size);
	else
		str_copy(out, size, iso);
	return out;
}

bool
req_parse_host(const char *s, struct sockaddr_storage *ss, char *norm, size_t size)
{
	struct cidr c;

	memset(ss, 0, sizeof(*ss));
	if (strchr(s, '/') || !cidr_parse(s, &c))
		return false;
	if (c.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c.addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c.addr, 16);
	}
	sockaddr_format_addr((const struct sockaddr *)ss, norm, size);
	return true;
}
