/*
 * pages: the pages the router (web/web.c) serves, one file each: the
 * guide (web/guide.c), check my device (web/check.c), the registration
 * form (web/register.c) and the admin pages with the CSV export
 * (web/admin.c). Each fills the request's response.
 */
#ifndef MAILOUT_WEB_PAGES_H
#define MAILOUT_WEB_PAGES_H

#include "web/request.h"

void page_guide(struct web_req *);
void page_check(struct web_req *);
/* The owner's renewal request (web/renew.c): the mailed link, its form. */
void page_check_renew_link(struct web_req *);
void page_check_renew(struct web_req *);
void page_register(struct web_req *);
/* Only called for addresses in [web] admin_clients. */
void page_admin(struct web_req *);
void page_admin_login(struct web_req *);
/* The login form (web/login.c), with an error sentence or NULL. */
void login_form(struct web_req *, const char *error);
void page_admin_logout(struct web_req *);
void page_admin_action(struct web_req *);
void page_admin_export(struct web_req *);
void page_admin_bulk(struct web_req *);
/* The admin list's filter from ?status= and ?expiring= (also the
 * export's); false if one is malformed. */
bool admin_list_filter(struct web_req *, struct device_filter *, const char **status,
                       const char **expiring);
/* For [web] metrics_clients only, whether or not they are in [web] clients. */
void page_metrics(struct web_req *);

#endif
