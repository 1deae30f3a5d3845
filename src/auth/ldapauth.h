/*
 * ldapauth: passwords checked against the organisation's directory with
 * libldap: a bind as the user (a DN template), or a search for the user
 * (as a service account or anonymously) and then the bind; the user's
 * own addresses read from configured attributes. Over ldaps:// or
 * StartTLS, the server's certificate verified (ldap_ca_file). Blocking
 * calls with timeouts: run only on a pool thread (auth/authdb.h), never on
 * an event loop. Handles are kept in a small pool and dropped on any
 * error, so a restarted directory is found again.
 */
#ifndef MAILOUT_AUTH_LDAPAUTH_H
#define MAILOUT_AUTH_LDAPAUTH_H

#include <stddef.h>

#include "auth/senders.h"
#include "config/config.h"

enum auth_status { AUTH_OK, AUTH_BAD, AUTH_TEMPFAIL };

struct ldapauth;

/* service_password: the first line of ldap_service_password_file, or NULL. */
struct ldapauth *ldapauth_new(const struct config *, const char *service_password);
void ldapauth_free(struct ldapauth *);
/* Check user's password. On AUTH_OK the user's addresses (the
 * ldap_mail_attributes of its entry) are appended to out, if out is not
 * NULL; with group_dn, the user must also be a member of that group
 * (member, uniqueMember or memberUid), else AUTH_BAD. why: a sentence for
 * the log (never the password). Thread-safe. */
enum auth_status ldapauth_check(struct ldapauth *, const char *user, const char *password,
                                const char *group_dn, struct senders *out, char *why,
                                size_t whylen);
/* RFC 4514 / RFC 4515: every byte but [A-Za-z0-9._@-] as \XX. False if
 * it does not fit. */
bool ldap_escape_value(const char *in, char *out, size_t size);

#endif
