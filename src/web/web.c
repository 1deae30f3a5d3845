#include "web/web.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util/clock.h"
#include "util/fsx.h"
#include "util/str.h"
#include "util/xmalloc.h"
#include "web/frame.h"
#include "web/pages.h"
#include "web/request.h"

#define WEB_CONNECTIONS 512
#define WEB_PER_CLIENT  8     /* so that a few addresses cannot hold the pages */
#define WEB_TIMEOUT     10    /* seconds a connection may idle */
#define WEB_DEADLINE_MS 10000 /* for a whole request, however it trickles (webwatch.h) */
#define WEB_CONN_MEMORY (32 * 1024)
/* HTTPS: TLS 1.2 and 1.3 only, forward-secret AEAD suites (GnuTLS syntax). */
#define WEB_TLS_PRIORITIES                                                                         \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"     \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
#define WEB_FILE_MAX     (1024 * 1024)
#define WEB_PASSWD_MAKER "mailoutctl web passwd"
#define COOKIE_VISITOR   "mo_v"
#define COOKIE_LANG      "mo_lang"
#define LANG_COOKIE_AGE  (365 * 86400)

/* ---- files read by the master ---- */

/* The file's text, read without stdio (nothing else keeps a copy). */
static char *
read_small_file(const char *path, char *err, size_t errlen)
{
	size_t n;
	char *text = fsx_read_file(path, WEB_FILE_MAX, &n);

	if (text == NULL)
		str_fmt(err, errlen, "%s: %s", path,
		        errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	return text;
}

bool
web_files_load(const struct config *cfg, struct web_files *f, char *err, size_t errlen)
{
	struct pwfile *check;

	memset(f, 0, sizeof(*f));
	if (cfg->web_certificate[0] &&
	    ((f->cert_pem = read_small_file(cfg->web_certificate, err, errlen)) == NULL ||
	     (f->key_pem = read_small_file(cfg->web_key, err, errlen)) == NULL))
		return false;
	if (cfg->web_admins[0] == '\0')
		return true;
	if ((f->admins = read_small_file(cfg->web_admins, err, errlen)) == NULL)
		return false;
	char why[256];
	if ((check = pwfile_parse(f->admins, WEB_PASSWD_MAKER, why, sizeof(why))) == NULL) {
		str_fmt(err, errlen, "[web] admins %s: %s", cfg->web_admins, why);
		return false;
	}
	pwfile_free(check); /* wipes: the children get a copy of this heap */
	return true;
}

void
web_files_free(struct web_files *f)
{
	free(f->cert_pem);
	if (f->key_pem)
		OPENSSL_cleanse(f->key_pem, strlen(f->key_pem));
	free(f->key_pem);
	if (f->admins)
		OPENSSL_cleanse(f->admins, strlen(f->admins));
	free(f->admins);
	memset(f, 0, sizeof(*f));
}

/* ---- one request ---- */

static bool
cookie_token(struct web_req *r, const char *name, char out[TOKEN_HEX + 1])
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);

	if (v == NULL || strlen(v) != TOKEN_HEX || strspn(v, "0123456789abcdef") != TOKEN_HEX)
		return false;
	memcpy(out, v, TOKEN_HEX + 1);
	return true;
}

static void
pick_language(struct web_req *r)
{
	const char *asked = req_arg(r, "lang");
	const char *saved = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE_LANG);

	if (lang_parse(asked, &r->lang)) {
		req_add_cookie(r, COOKIE_LANG, lang_code(r->lang), LANG_COOKIE_AGE);
		return;
	}
	if (lang_parse(saved, &r->lang))
		return;
	r->lang = lang_from_accept(
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
}

static void
identify(struct web_req *r)
{
	if (!cookie_token(r, COOKIE_VISITOR, r->visitor)) {
		if (!token_new(r->visitor))
			fatal_bug("no random bytes for a visitor cookie");
		req_add_cookie(r, COOKIE_VISITOR, r->visitor, -1);
	}
	if (cookie_token(r, SESSION_COOKIE, r->session))
		r->admin = websession_user(&r->w->sessions, r->session, r->now);
	if (r->admin == NULL)
		r->session[0] = '\0';
	csrf_token(r->w->secret, r->visitor, r->session, r->csrf);
}

/* Parse the body and check the CSRF token; false with the reply made. */
static bool
accept_post(struct web_req *r)
{
	const char *type =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (r->is_body_too_big) {
		page_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "The form is too large.",
		           "Das Formular ist zu groß.");
		return false;
	}
	if (type == NULL || !str_iprefix(type, "application/x-www-form-urlencoded")) {
		page_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Send the form from the page.",
		           "Bitte senden Sie das Formular von der Seite aus.");
		return false;
	}
	buf_append(&r->body, "", 1); /* room for form_parse's NUL */
	if (form_parse(r->body.data, r->body.len - 1, &r->form) != FORM_OK) {
		page_error(r, MHD_HTTP_BAD_REQUEST, "The form could not be read.",
		           "Das Formular konnte nicht gelesen werden.");
		return false;
	}
	if (!csrf_valid(r->w->secret, r->visitor, r->session, form_get(&r->form, "csrf"))) {
		log_warn("event=web-csrf-refused client=%s path=%s", r->client, r->path);
		page_error(r, MHD_HTTP_FORBIDDEN,
		           "This form has expired or did not come from this site. Go back, reload "
		           "the page and send it again.",
		           "Dieses Formular ist abgelaufen oder stammt nicht von dieser Seite. "
		           "Gehen Sie zurück, laden Sie die Seite neu und senden Sie es noch "
		           "einmal.");
		return false;
	}
	return true;
}

struct route {
	const char *path;
	void (*get)(struct web_req *);
	void (*post)(struct web_req *);
	bool is_admin;
};

static const struct route routes[] = {
    {"/", page_guide, NULL, false},
    {"/check", page_check, NULL, false},
    {"/check/renew-link", NULL, page_check_renew_link, false},
    {"/check/renew", page_check_renew, page_check_renew, false},
    {"/register", page_register, page_register, false},
    {"/style.css", page_style, NULL, false},
    {"/admin", page_admin, NULL, true},
    {"/admin/login", page_admin, page_admin_login, true},
    {"/admin/logout", NULL, page_admin_logout, true},
    {"/admin/action", NULL, page_admin_action, true},
    {"/admin/bulk", NULL, page_admin_bulk, true},
    {"/admin/export.csv", page_admin_export, NULL, true},
};

static void
dispatch(struct web_req *r)
{
	const struct config *cfg = r->cfg;
	const struct route *rt = NULL;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, r->path) == 0)
			rt = &routes[i];
	if (rt == NULL) {
		page_error(r, MHD_HTTP_NOT_FOUND, "There is no such page.",
		           "Diese Seite gibt es nicht.");
		return;
	}
	if (rt->is_admin) {
		r->is_private = true;
		bool allowed = cfg->n_web_admin_clients == 0 ||
		               req_client_in(r, cfg->web_admin_clients, cfg->n_web_admin_clients);
		if (!allowed) {
			log_warn("event=web-admin-refused client=%s path=%s reason=address",
			         r->client, r->path);
			page_error(
			    r, MHD_HTTP_FORBIDDEN,
			    "The admin pages cannot be reached from your address.",
			    "Die Verwaltungsseiten sind von Ihrer Adresse aus nicht erreichbar.");
			return;
		}
	}
	void (*fn)(struct web_req *) = r->is_post ? rt->post : rt->get;
	if (fn == NULL) {
		page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "This page cannot be used that way.",
		           "Diese Seite kann so nicht verwendet werden.");
		return;
	}
	if (r->is_post && !accept_post(r))
		return;
	fn(r);
}

static void
handle(struct web_req *r)
{
	const struct config *cfg = r->cfg;

	r->status = MHD_HTTP_OK;
	pick_language(r);
	if (strcmp(r->path, "/metrics") == 0 && !r->is_post) {
		page_metrics(r); /* its own list of clients: the monitoring servers */
		return;
	}
	if (!req_client_in(r, cfg->web_clients, cfg->n_web_clients)) {
		log_warn("event=web-refused client=%s reason=\"not in [web] clients\"", r->client);
		page_error(r, MHD_HTTP_FORBIDDEN,
		           "These pages cannot be reached from your address.",
		           "Diese Seiten sind von Ihrer Adresse aus nicht erreichbar.");
		return;
	}
	identify(r);
	dispatch(r);
}

/* ---- libmicrohttpd ---- */

static enum MHD_Result
respond(struct web_req *r)
{
	struct MHD_Response *resp =
	    r->stream
	        ? r->stream
	        : MHD_create_response_from_buffer(r->out.len, r->out.data, MHD_RESPMEM_MUST_COPY);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	enum MHD_Result res;

	r->stream = NULL;
	if (resp == NULL)
		return MHD_NO;
	/* The request is in: the deadline is for requests, not for answers a
	 * slow link takes long to read (the idle timeout still applies). */
	if (ci)
		webwatch_answering(r->w->watch, ci->socket_context);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY,
	                        "default-src 'none'; style-src 'self'; img-src 'self'; "
	                        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_FRAME_OPTIONS, "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, lang_code(r->lang));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        r->is_private ? "no-store" : "no-cache");
	if (r->w->is_https)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
		                        "max-age=31536000");
	if (r->disposition[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, r->disposition);
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	for (size_t i = 0; i < r->n_cookie; i++)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie[i]);
	res = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	log_info("event=web-request client=%s method=%s path=%s status=%d lang=%s%s%s", r->client,
	         r->method, r->path, r->status, lang_code(r->lang), r->admin ? " admin=" : "",
	         r->admin ? r->admin : "");
	return res;
}

/* Behind a reverse proxy in [web] proxy_from: the visitor is the last
 * address of X-Forwarded-For (the one our proxy appended); anyone else's
 * header is ignored. */
static void
forwarded_for(struct web_req *r)
{
	const char *xff, *last;
	struct sockaddr_storage ss;
	char addr[64], norm[64];

	if (!req_client_in(r, r->cfg->web_proxy_from, r->cfg->n_web_proxy_from) ||
	    (xff = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-For")) ==
	        NULL)
		return;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	last += strspn(last, " \t");
	str_copyn(addr, sizeof(addr), last, strcspn(last, " \t"));
	if (!req_parse_host(addr, &ss, norm, sizeof(norm)))
		return;
	r->client_sa = ss;
	str_copy(r->client, sizeof(r->client), norm);
}

static struct web_req *
req_new(struct web *w, struct MHD_Connection *conn, const char *url, const char *method)
{
	struct web_req *r = xcalloc(1, sizeof(*r));
	char path[128];

	r->w = w;
	r->cfg = w->cfg;
	r->conn = conn;
	r->now = clock_now();
	r->content_type = "text/html; charset=utf-8";
	r->is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	r->method = r->is_post                                  ? "POST"
	            : strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? "HEAD"
	            : strcmp(method, MHD_HTTP_METHOD_GET) == 0  ? "GET"
	                                                        : "other";
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                                       : sizeof(struct sockaddr_in);
		memcpy(&r->client_sa, ci->client_addr, len);
	}
	sockaddr_format_addr((const struct sockaddr *)&r->client_sa, r->client, sizeof(r->client));
	forwarded_for(r);
	/* Only known paths matter; anything else is logged escaped. */
	log_escape(path, sizeof(path), url, strlen(url));
	r->path = xstrdup(path);
	buf_init(&r->body, WEB_BODY_MAX + 1);
	buf_init(&r->out, WEB_PAGE_MAX);
	return r;
}

static void
req_free(struct web_req *r)
{
	buf_free(&r->body);
	buf_free(&r->out);
	free(r->path);
	free(r);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct web_req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		bool known = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		             strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ||
		             strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		*con_cls = r = req_new(cls, conn, url, method);
		if (!known) {
			r->lang = LANG_EN;
			page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed.", "");
			return respond(r);
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (r->is_post && cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX) {
			r->is_body_too_big = true;
			handle(r);
			return respond(r);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!buf_append(&r->body, upload, *upload_size) || r->body.len > WEB_BODY_MAX)
			r->is_body_too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->status != 0)
		return MHD_YES; /* answered already */
	handle(r);
	return respond(r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	if (*con_cls)
		req_free(*con_cls);
	*con_cls = NULL;
	if (ci)
		webwatch_done(w->watch, ci->socket_context);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
	struct web *w = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED &&
	    (ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL)
		webwatch_started(w->watch, ci->connect_fd, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		webwatch_closed(w->watch, *socket_context);
}

static void
on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char msg[256], esc[300];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("event=web-error error=\"%s\"", log_escape(esc, sizeof(esc), msg, strlen(msg)));
}

static struct MHD_Daemon *
start_daemon(struct web *w, int fd, const struct web_files *files)
{
	/* ITC: so that MHD_quiesce_daemon() can hand the socket back. */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;

	if (w->is_https)
		flags |= MHD_USE_TLS;
	/* The logger must come first; the HTTPS options only with MHD_USE_TLS. */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_PER_CLIENT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, w, w->is_https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    files->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, files->key_pem, MHD_OPTION_HTTPS_PRIORITIES,
	    WEB_TLS_PRIORITIES, MHD_OPTION_END);
}

int
web_run(const struct config *cfg, int fd, const struct web_files *files, struct auth_files *auth)
{
	struct web *w = xcalloc(1, sizeof(*w));
	struct MHD_Daemon *d;
	char err[512];
	sigset_t set;
	int sig;

	w->cfg = cfg;
	w->is_https = files->cert_pem != NULL;
	w->sessions.timeout = (int64_t)cfg->web_session_timeout;
	if (RAND_bytes(w->secret, sizeof(w->secret)) != 1)
		log_fatal("event=web-error error=\"no random bytes for the CSRF secret\"");
	if (files->admins &&
	    (w->admins = pwfile_parse(files->admins, WEB_PASSWD_MAKER, err, sizeof(err))) == NULL)
		log_fatal("event=web-error error=\"[web] admins: %s\"", err);
	if ((w->reg = registry_open(cfg->registry_db, 2000, err, sizeof(err))) == NULL)
		log_fatal("event=web-error error=\"registry: %s\"", err);
	if (cfg->web_admin_group[0] &&
	    (w->authdb = authdb_new(cfg, auth, err, sizeof(err))) == NULL)
		log_fatal("event=web-error error=\"[auth]: %s\"", err);
	auth_files_free(auth);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before MHD's thread inherits the mask */
	w->watch = webwatch_new(WEB_DEADLINE_MS, WEB_CONNECTIONS + 16);
	if ((d = start_daemon(w, fd, files)) == NULL)
		log_fatal("event=web-error error=\"cannot start the web server\"");
	log_info("event=web-started https=%s admins=%zu", w->is_https ? "yes" : "no",
	         pwfile_count(w->admins));
	for (;;) {
		struct timespec tick = {1, 0};
		unsigned cut;

		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if ((cut = webwatch_sweep(w->watch, clock_monotonic_ms())) > 0)
			log_warn("event=web-deadline closed=%u deadline=%ds", cut,
			         WEB_DEADLINE_MS / 1000);
	}
	/* MHD_stop_daemon() would shut the listening socket down, and with it
	 * the socket the master and the next web process share: take it back
	 * first and only close this process's descriptor. */
	MHD_socket lfd = MHD_quiesce_daemon(d);
	MHD_stop_daemon(d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	registry_close(w->reg);
	webwatch_free(w->watch);
	pwfile_free(w->admins);
	authdb_free(w->authdb);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
	log_info("event=web-stopped");
	return 0;
}
