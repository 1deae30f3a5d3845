/*
 * The admin login and logout (web/pages.h): the admins file first, then
 * the directory group ([web] admin_group, through auth/authdb.h); the
 * per-address and per-user limit on failed logins.
 */
#include <microhttpd.h>
#include <string.h>

#include "auth/authdb.h"
#include "log.h"
#include "util/str.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"

/* The admins file first, then the directory group ([web] admin_group). */
static enum auth_status
admin_check(struct web_req *r, const char *user, const char *password)
{
	char why[256];

	if (strlen(user) >= ADMIN_NAME_MAX)
		return AUTH_BAD;
	if (pwfile_check(r->w->admins, user, password))
		return AUTH_OK;
	if (r->w->authdb == NULL)
		return AUTH_BAD;
	enum auth_status st = authdb_check_group(r->w->authdb, user, password,
	                                         r->cfg->web_admin_group, why, sizeof(why));
	if (st != AUTH_OK) {
		char esc[300];
		log_info("event=web-login-directory client=%s result=%s reason=\"%s\"", r->client,
		         st == AUTH_TEMPFAIL ? "tempfail" : "failed",
		         log_escape(esc, sizeof(esc), why, strlen(why)));
	}
	return st;
}

void
login_form(struct web_req *r, const char *error)
{
	page_begin(r, TR(r, "Admin login", "Anmeldung für Administratoren"));
	if (error)
		html(&r->out, "<p class=\"error\" role=\"alert\">%s</p>\n", error);
	if (pwfile_count(r->w->admins) == 0 && r->w->authdb == NULL)
		html(&r->out, "<p class=\"notice\">%s</p>\n",
		     TR(r, "No admins are configured ([web] admins).",
		        "Es sind keine Administratoren eingerichtet ([web] admins)."));
	html(&r->out, "<form class=\"fields\" method=\"post\" action=\"/admin/login\">\n");
	form_csrf(r);
	html(&r->out,
	     "<label for=\"user\">%s</label><input id=\"user\" name=\"user\" "
	     "autocomplete=\"username\" "
	     "maxlength=\"63\" required>\n<label for=\"password\">%s</label><input id=\"password\" "
	     "name=\"password\" type=\"password\" autocomplete=\"current-password\" "
	     "maxlength=\"200\" "
	     "required>\n<button type=\"submit\">%s</button>\n</form>\n",
	     TR(r, "User name", "Benutzername"), TR(r, "Password", "Passwort"),
	     TR(r, "Log in", "Anmelden"));
	page_end(r);
}

void
page_admin_login(struct web_req *r)
{
	const char *user = req_field(r, "user");
	int64_t wait = login_wait(&r->w->logins, r->client, user, r->now);
	char esc[100], id[TOKEN_HEX + 1];

	log_escape(esc, sizeof(esc), user, strlen(user));
	if (wait > 0) {
		log_warn("event=web-login-limited client=%s user=\"%s\" wait=%llds", r->client, esc,
		         (long long)wait);
		r->status = MHD_HTTP_TOO_MANY_REQUESTS;
		login_form(
		    r,
		    TR(r,
		       "Too many failed logins from your address or for this user. Wait 15 "
		       "minutes, then try again.",
		       "Zu viele fehlgeschlagene Anmeldungen von Ihrer Adresse oder für diesen "
		       "Benutzer. Warten Sie 15 Minuten und versuchen Sie es dann noch einmal."));
		return;
	}
	enum auth_status st = admin_check(r, user, req_field(r, "password"));
	if (st == AUTH_TEMPFAIL) {
		r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		login_form(
		    r, TR(r, "The directory cannot be reached just now; try again in a minute.",
		          "Das Verzeichnis ist gerade nicht erreichbar; versuchen Sie es in einer "
		          "Minute noch einmal."));
		return;
	}
	if (st != AUTH_OK) {
		login_failed(&r->w->logins, r->client, user, r->now);
		log_warn("event=web-login-failed client=%s user=\"%s\"", r->client, esc);
		r->status = MHD_HTTP_FORBIDDEN;
		login_form(
		    r, TR(r, "Wrong user name or password.", "Benutzername oder Passwort falsch."));
		return;
	}
	login_succeeded(&r->w->logins, r->client, user);
	if (!websession_start(&r->w->sessions, user, r->now, id))
		fatal_bug("no random bytes for a session id");
	req_add_cookie(r, SESSION_COOKIE, id, -1);
	log_info("event=web-login client=%s user=\"%s\"", r->client, esc);
	req_redirect(r, "/admin");
}

void
page_admin_logout(struct web_req *r)
{
	if (r->admin)
		log_info("event=web-logout client=%s user=\"%s\"", r->client, r->admin);
	websession_end(&r->w->sessions, r->session);
	req_add_cookie(r, SESSION_COOKIE, "", 0);
	req_redirect(r, "/");
}
