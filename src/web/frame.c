#include "web/frame.h"

#include <string.h>
#include <time.h>

#include "util/str.h"

static const char style_css[] =
    ":root{--fg:#1d2430;--muted:#5b6575;--line:#d8dde5;--accent:#0b5cad;--bad:#b3261e;"
    "--good:#1e7b34;--bg:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--fg);background:#fff}\n"
    ".wrap{max-width:60rem;margin:0 auto;padding:0 1rem}\n"
    "header{background:var(--bg);border-bottom:1px solid var(--line)}\n"
    "header .wrap{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;"
    "padding-top:.6rem;padding-bottom:.6rem}\n"
    ".brand{font-weight:600;color:var(--fg);text-decoration:none}\n"
    "nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;flex:1}\n"
    "nav a,.lang a{color:var(--accent);text-decoration:none}\n"
    "nav a[aria-current]{font-weight:600;text-decoration:underline}\n"
    ".lang{font-size:.9rem}\n"
    "h1{font-size:1.6rem;margin:1.2rem 0 .6rem}h2{font-size:1.2rem;margin:1.6rem 0 .4rem}\n"
    ".lead{font-size:1.1rem}\n"
    ".table{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}\n"
    "th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;"
    "border-bottom:1px solid var(--line)}\n"
    "th{background:var(--bg)}\n"
    "form.fields{max-width:36rem}\n"
    "label{display:block;font-weight:600;margin-top:.9rem}\n"
    "input,select,textarea{width:100%;font:inherit;padding:.45rem;border:1px solid #9aa4b2;"
    "border-radius:4px}\n"
    "textarea{min-height:5rem}\n"
    "input[aria-invalid=true],select[aria-invalid=true]{border-color:var(--bad)}\n"
    ".hint{color:var(--muted);font-size:.9rem;margin:.1rem 0}\n"
    ".error{color:var(--bad);font-weight:600}\n"
    ".ok{color:var(--good);font-weight:600}\n"
    ".bad{color:var(--bad)}\n"
    "button,.button{display:inline-block;margin-top:1rem;padding:.5rem 1.1rem;font:inherit;"
    "color:#fff;background:var(--accent);border:0;border-radius:4px;text-decoration:none;"
    "cursor:pointer}\n"
    "form.inline{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center;margin:.2rem 0}\n"
    "form.inline input{width:auto;flex:1;min-width:7rem}\n"
    "form.inline input[type=checkbox]{flex:none;min-width:0}\n"
    "form.inline button{margin-top:0;padding:.3rem .7rem}\n"
    "form.inline select{width:auto}\n"
    ".wide{max-width:90rem}\n"
    "td.actions{min-width:14rem}td.use{min-width:9rem}\n"
    "label.check{display:inline-flex;align-items:center;gap:.3rem;font-weight:400;margin:0}\n"
    "label.check input{width:auto}\n"
    ".bulk fieldset{border:1px solid var(--line);border-radius:4px;display:flex;"
    "flex-wrap:wrap;gap:.5rem 1rem;align-items:center}\n"
    ".bulk input{width:auto;flex:1;min-width:10rem}.bulk label{margin:0}\n"
    ".bulk button{margin-top:0}\n"
    "td.status-expired b,td.status-revoked b,td.status-rejected b{color:var(--bad)}\n"
    "td.status-approved b{color:var(--good)}\n"
    ".request{color:var(--bad);font-weight:600}.suggest{color:var(--muted)}\n"
    ".support{margin-top:2rem;color:var(--muted)}\n"
    ".notice{background:var(--bg);border-left:4px solid var(--accent);padding:.6rem 1rem}\n"
    ".ref{font-size:1.4rem;font-weight:700}\n"
    "footer{color:var(--muted);font-size:.85rem;margin-top:3rem;padding-bottom:2rem}\n"
    "@media (max-width:40rem){th,td{padding:.3rem}h1{font-size:1.35rem}\n"
    "table.stack tr,table.stack td{display:block}table.stack tr:first-child{display:none}\n"
    "table.stack tr{border-bottom:1px solid var(--line);padding:.4rem 0}\n"
    "table.stack td{border:0;padding:.1rem .3rem}\n"
    "table.stack td::before{content:attr(data-label) \": \";font-weight:600}}\n";

void
page_style(struct web_req *r)
{
	r->content_type = "text/css; charset=utf-8";
	buf_puts(&r->out, style_css);
}

static void
nav_link(struct web_req *r, const char *path, const char *text)
{
	html(&r->out, "<a href=\"%s\"%R>%s</a>", path,
	     strcmp(r->path, path) == 0 ? " aria-current=\"page\"" : "", text);
}

void
page_begin(struct web_req *r, const char *title)
{
	const struct config *cfg = r->cfg;
	const char *org = cfg->web_organisation[0] ? cfg->web_organisation : cfg->hostname;
	bool admin_ok = cfg->n_web_admin_clients == 0 ||
	                req_client_in(r, cfg->web_admin_clients, cfg->n_web_admin_clients);

	html(&r->out,
	     "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	     "<title>%s · %s</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n"
	     "<body>\n<header><div class=\"wrap\"><a class=\"brand\" href=\"/\">%s</a><nav>",
	     lang_code(r->lang), title, org, org);
	nav_link(r, "/", TR(r, "Guide", "Anleitung"));
	nav_link(r, "/check", TR(r, "Check my device", "Mein Gerät prüfen"));
	nav_link(r, "/register", TR(r, "Register a device", "Gerät registrieren"));
	if (admin_ok)
		nav_link(r, "/admin", TR(r, "Admin", "Verwaltung"));
	html(&r->out,
	     "</nav><span class=\"lang\"><a href=\"%s?lang=en\" hreflang=\"en\" "
	     "lang=\"en\">English</a>"
	     " · <a href=\"%s?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a></span></div>"
	     "</header>\n<main class=\"wrap%R\">\n<h1>%s</h1>\n",
	     r->path, r->path, r->is_wide ? " wide" : "", title);
}

void
page_end(struct web_req *r)
{
	html(&r->out, "</main>\n<footer class=\"wrap\">mailout · %s</footer>\n</body>\n</html>\n",
	     r->cfg->hostname);
}

void
page_support(struct web_req *r)
{
	const char *s = r->cfg->web_support, *url = strstr(s, "https://");

	if (s[0] == '\0')
		return;
	if (url == NULL)
		url = strstr(s, "http://");
	html(&r->out, "<p class=\"support\" id=\"support\">%s ",
	     TR(r, "Help with setting up a device:", "Hilfe beim Einrichten eines Geräts:"));
	if (url == NULL) {
		html(&r->out, "%s</p>\n", s);
		return;
	}
	size_t n = strcspn(url, " \t,;");
	char before[512], link[512];
	str_copyn(before, sizeof(before), s, (size_t)(url - s));
	str_copyn(link, sizeof(link), url, n);
	html(&r->out, "%s<a href=\"%s\">%s</a>%s</p>\n", before, link, link, url + n);
}

void
time_text(int64_t t, char *dst, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0) {
		str_copy(dst, size, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(dst, size, "%Y-%m-%d %H:%M UTC", &tm);
}

void
page_error(struct web_req *r, int status, const char *en, const char *de)
{
	r->status = status;
	buf_reset(&r->out);
	page_begin(r, TR(r, "Not possible", "Nicht möglich"));
	html(&r->out, "<p class=\"error\">%s</p>\n", TR(r, en, de));
	page_end(r);
}

void
form_csrf(struct web_req *r)
{
	html(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", r->csrf);
}
