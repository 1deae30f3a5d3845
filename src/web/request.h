/*
 * request: what the files of web/ share: the web process's state, one
 * request with its response, and the request's helpers (arguments, form
 * fields, cookies, redirects, the client's networks). Only for src/web/.
 */
#ifndef MAILOUT_WEB_REQUEST_H
#define MAILOUT_WEB_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"
#include "db/devices.h"
#include "db/stats.h"
#include "util/buf.h"
#include "web/html.h"
#include "web/webauth.h"
#include "web/webparse.h"
#include "web/webwatch.h"

#define WEB_BODY_MAX   (16 * 1024) /* largest form submitted */
#define WEB_FIELD_MAX  200         /* characters in one form field */
#define WEB_PAGE_MAX   (16 * 1024 * 1024)
#define WEB_ROW_ROOM   (64 * 1024) /* lists stop this far before WEB_PAGE_MAX */
#define SESSION_COOKIE "mo_s"      /* an admin login's session id */
#define WEB_COOKIES    3

struct web {
	const struct config *cfg;
	struct registry *reg;
	struct pwfile *admins; /* NULL: no admins file */
	struct authdb *authdb; /* [auth], for [web] admin_group; NULL without */
	struct sessions sessions;
	struct login_limit logins;
	unsigned char secret[32]; /* for CSRF tokens; new at every start */
	bool is_https;
	struct webwatch *watch; /* request deadlines */
};

struct web_req {
	struct web *w;
	struct MHD_Response *stream; /* a response made by the page (a streamed export) */
	const struct config *cfg;
	struct MHD_Connection *conn;
	const char *method;
	char *path; /* escaped for logs; only known paths are served */
	bool is_post;
	struct sockaddr_storage client_sa;
	char client[64];
	enum lang lang;
	char visitor[TOKEN_HEX + 1];
	char session[TOKEN_HEX + 1]; /* "" when not logged in */
	const char *admin;           /* user name when logged in */
	char csrf[CSRF_HEX + 1];
	struct buf body;
	bool is_body_too_big;
	struct form form;
	int64_t now;
	/* the response */
	int status;
	struct buf out;
	const char *content_type;
	char location[2048];   /* a bulk confirmation names up to 100 ids */
	char disposition[128]; /* Content-Disposition, "" for none */
	char cookie[WEB_COOKIES][256];
	size_t n_cookie;
	bool is_private; /* Cache-Control: no-store */
	bool is_wide;    /* a page of wide tables */
};

/* Pick the text of the request's language. */
#define TR(r, en, de) ((r)->lang == LANG_DE ? (de) : (en))

/* A query argument, or NULL. */
const char *req_arg(struct web_req *, const char *name);
/* A form field of the POST body ("" if absent). */
const char *req_field(struct web_req *, const char *name);
bool req_client_in(const struct web_req *, const struct cidr *nets, size_t n);
void req_add_cookie(struct web_req *, const char *name, const char *value, int64_t max_age);
void req_redirect(struct web_req *, const char *location);
/* A logged-in admin at an address that may use the admin pages. */
bool req_is_admin(const struct web_req *);
/* One address (not a prefix) as text into ss and its normal form; false
 * if it is not one. */
bool req_parse_host(const char *s, struct sockaddr_storage *ss, char *norm, size_t size);
/* A day (YYYY-MM-DD) for a sentence in the page's language ("1. Februar
 * 2027"); anything else as it is. Returns out. */
const char *req_date(const struct web_req *, const char *iso, char *out, size_t size);

#endif
