#include "auth/ldapauth.h"

#include <ldap.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xmalloc.h"

#define POOL_MAX  64
#define DN_MAX    1024
#define ATTRS_MAX 8

struct ldapauth {
	char uri[512];
	bool starttls;
	char ca_file[PATH_MAX];
	char bind_dn[512]; /* template; "" for search-then-bind */
	char base[512];
	char filter[512];
	char service_dn[512];
	char *service_password;
	char *attrs[ATTRS_MAX + 1]; /* the mail attributes, NULL-terminated */
	char attr_text[256];
	int timeout; /* seconds */
	pthread_mutex_t lock;
	LDAP *idle[POOL_MAX]; /* connected handles nobody uses */
	size_t n_idle;
};

bool
ldap_escape_value(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '@' ||
		             *p == '-';
		if (n + (plain ? 1 : 3) >= size)
			return false;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '\\';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return true;
}

/* template with every %u replaced by the escaped user. */
static bool
expand(const char *tmpl, const char *user, char *out, size_t size)
{
	char esc[DN_MAX];
	size_t n = 0;

	if (!ldap_escape_value(user, esc, sizeof(esc)))
		return false;
	for (const char *p = tmpl; *p; p++) {
		const char *piece = p[0] == '%' && p[1] == 'u' ? esc : NULL;
		size_t len = piece ? strlen(piece) : 1;
		if (n + len >= size)
			return false;
		memcpy(out + n, piece ? piece : p, len);
		n += len;
		p += piece != NULL;
	}
	out[n] = '\0';
	return true;
}

struct ldapauth *
ldapauth_new(const struct config *cfg, const char *service_password)
{
	struct ldapauth *a = xcalloc(1, sizeof(*a));
	char *save = NULL;
	size_t n = 0;

	str_copy(a->uri, sizeof(a->uri), cfg->ldap_uri);
	a->starttls = cfg->ldap_starttls && strncmp(cfg->ldap_uri, "ldap://", 7) == 0;
	str_copy(a->ca_file, sizeof(a->ca_file), cfg->ldap_ca_file);
	str_copy(a->bind_dn, sizeof(a->bind_dn), cfg->ldap_bind_dn);
	str_copy(a->base, sizeof(a->base), cfg->ldap_base);
	str_copy(a->filter, sizeof(a->filter), cfg->ldap_filter);
	str_copy(a->service_dn, sizeof(a->service_dn), cfg->ldap_service_dn);
	a->service_password = service_password ? xstrdup(service_password) : NULL;
	str_copy(a->attr_text, sizeof(a->attr_text), cfg->ldap_mail_attributes);
	for (char *w = strtok_r(a->attr_text, " ,", &save); w && n < ATTRS_MAX;
	     w = strtok_r(NULL, " ,", &save))
		a->attrs[n++] = w;
	a->attrs[n] = NULL;
	a->timeout = (int)cfg->ldap_timeout;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void
ldapauth_free(struct ldapauth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_idle; i++)
		ldap_unbind_ext_s(a->idle[i], NULL, NULL);
	if (a->service_password) {
		OPENSSL_cleanse(a->service_password, strlen(a->service_password));
		free(a->service_password);
	}
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* A new handle, connected (and StartTLS done) lazily by the first call. */
static LDAP *
handle_new(struct ldapauth *a, char *why, size_t whylen)
{
	LDAP *ld = NULL;
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
	struct timeval tv = {a->timeout, 0};

	if ((rc = ldap_initialize(&ld, a->uri)) != LDAP_SUCCESS) {
		str_fmt(why, whylen, "ldap_initialize %s: %s", a->uri, ldap_err2string(rc));
		return NULL;
	}
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &a->timeout);
	ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (a->ca_file[0])
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, a->ca_file);
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	if (a->starttls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		str_fmt(why, whylen, "StartTLS with %s: %s", a->uri, ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

static LDAP *
handle_take(struct ldapauth *a, char *why, size_t whylen)
{
	LDAP *ld = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->n_idle > 0)
		ld = a->idle[--a->n_idle];
	pthread_mutex_unlock(&a->lock);
	return ld ? ld : handle_new(a, why, whylen);
}

/* Back to the pool when it still works; dropped after any server error. */
static void
handle_give(struct ldapauth *a, LDAP *ld, bool is_sound)
{
	pthread_mutex_lock(&a->lock);
	if (is_sound && a->n_idle < POOL_MAX) {
		a->idle[a->n_idle++] = ld;
		ld = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
}

static enum auth_status
bind_as(LDAP *ld, const char *dn, const char *password, char *why, size_t whylen)
{
	struct berval cred = {strlen(password), (char *)(uintptr_t)password};
	int rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);

	if (rc == LDAP_SUCCESS)
		return AUTH_OK;
	str_fmt(why, whylen, "bind as %s: %s", dn[0] ? dn : "anonymous", ldap_err2string(rc));
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	    rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_INVALID_DN_SYNTAX ||
	    rc == LDAP_CONSTRAINT_VIOLATION)
		return AUTH_BAD;
	return AUTH_TEMPFAIL;
}

/* The values of the mail attributes of one entry into out. */
static void
take_addresses(LDAP *ld, LDAPMessage *e, char *const *attrs, struct senders *out)
{
	for (size_t i = 0; out && attrs[i]; i++) {
		struct berval **v = ldap_get_values_len(ld, e, attrs[i]);
		for (size_t k = 0; v && v[k]; k++) {
			char addr[320];
			if (v[k]->bv_len < sizeof(addr) &&
			    memchr(v[k]->bv_val, '@', v[k]->bv_len) &&
			    str_copy_printable(addr, sizeof(addr), v[k]->bv_val, v[k]->bv_len))
				senders_add(out, addr);
		}
		ldap_value_free_len(v);
	}
}

/* A search that must find exactly one entry; its DN into dn. */
static enum auth_status
search_one(struct ldapauth *a, LDAP *ld, const char *base, int scope, const char *filter, char *dn,
           size_t dnlen, struct senders *out, char *why, size_t whylen)
{
	LDAPMessage *res = NULL;
	struct timeval tv = {a->timeout, 0};
	int rc = ldap_search_ext_s(ld, base, scope, filter, (char **)a->attrs, 0, NULL, NULL, &tv,
	                           2, &res);

	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		str_fmt(why, whylen, "search %s in %s: %s", filter, base, ldap_err2string(rc));
		ldap_msgfree(res);
		return rc == LDAP_SIZELIMIT_EXCEEDED ? AUTH_BAD : AUTH_TEMPFAIL;
	}
	int n = res ? ldap_count_entries(ld, res) : 0;
	if (n != 1) {
		str_fmt(why, whylen, "search %s in %s: %d entries", filter, base, n);
		ldap_msgfree(res);
		return AUTH_BAD;
	}
	LDAPMessage *e = ldap_first_entry(ld, res);
	char *d = ldap_get_dn(ld, e);
	str_copy(dn, dnlen, d ? d : "");
	ldap_memfree(d);
	take_addresses(ld, e, a->attrs, out);
	ldap_msgfree(res);
	return AUTH_OK;
}

/* Is dn (of user) a member of group_dn? */
static enum auth_status
member_of(struct ldapauth *a, LDAP *ld, const char *group_dn, const char *dn, const char *user,
          char *why, size_t whylen)
{
	char edn[DN_MAX * 3], euser[DN_MAX], filter[sizeof(edn) * 2 + sizeof(euser) + 96],
	    got[DN_MAX];

	if (!ldap_escape_value(dn, edn, sizeof(edn)) ||
	    !ldap_escape_value(user, euser, sizeof(euser)))
		return AUTH_BAD;
	str_fmt(filter, sizeof(filter), "(|(member=%s)(uniqueMember=%s)(memberUid=%s))", edn, edn,
	        euser);
	enum auth_status st = search_one(a, ld, group_dn, LDAP_SCOPE_BASE, filter, got, sizeof(got),
	                                 NULL, why, whylen);
	if (st == AUTH_BAD)
		str_fmt(why, whylen, "%s is not a member of %s", user, group_dn);
	return st;
}

/* The whole check on one handle. */
static enum auth_status
check_on(struct ldapauth *a, LDAP *ld, const char *user, const char *password, const char *group_dn,
         struct senders *out, char *why, size_t whylen)
{
	char dn[DN_MAX], filter[DN_MAX], got[DN_MAX];
	enum auth_status st;

	if (a->bind_dn[0]) {
		if (!expand(a->bind_dn, user, dn, sizeof(dn)))
			return AUTH_BAD;
		if ((st = bind_as(ld, dn, password, why, whylen)) != AUTH_OK)
			return st;
		if (out && a->attrs[0] &&
		    (st = search_one(a, ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", got,
		                     sizeof(got), out, why, whylen)) != AUTH_OK)
			return st;
	} else {
		if ((st = bind_as(ld, a->service_dn, a->service_password ? a->service_password : "",
		                  why, whylen)) != AUTH_OK)
			return AUTH_TEMPFAIL; /* our own account: not the user's fault */
		if (!expand(a->filter, user, filter, sizeof(filter)))
			return AUTH_BAD;
		if ((st = search_one(a, ld, a->base, LDAP_SCOPE_SUBTREE, filter, dn, sizeof(dn),
		                     out, why, whylen)) != AUTH_OK)
			return st;
		if ((st = bind_as(ld, dn, password, why, whylen)) != AUTH_OK)
			return st;
	}
	return group_dn ? member_of(a, ld, group_dn, dn, user, why, whylen) : AUTH_OK;
}

enum auth_status
ldapauth_check(struct ldapauth *a, const char *user, const char *password, const char *group_dn,
               struct senders *out, char *why, size_t whylen)
{
	LDAP *ld;

	why[0] = '\0';
	/* An empty password is an unauthenticated bind (RFC 4513 5.1.2),
	 * which a directory answers with success: never a check. */
	if (password[0] == '\0' || user[0] == '\0') {
		str_fmt(why, whylen, "empty user name or password");
		return AUTH_BAD;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((ld = handle_take(a, why, whylen)) == NULL)
			return AUTH_TEMPFAIL;
		enum auth_status st = check_on(a, ld, user, password, group_dn, out, why, whylen);
		handle_give(a, ld, st != AUTH_TEMPFAIL);
		/* A pooled handle may have lost its server since: once more, anew. */
		if (st != AUTH_TEMPFAIL || attempt == 1)
			return st;
	}
	return AUTH_TEMPFAIL;
}
