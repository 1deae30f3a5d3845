/*
 * frame: the frame of every page (the head, navigation and language
 * switch, the footer), its style sheet, the error page, the CSRF field of
 * a form, and times as the pages show them. Escaping is web/html.h's.
 */
#ifndef MAILOUT_WEB_FRAME_H
#define MAILOUT_WEB_FRAME_H

#include "web/request.h"

void page_begin(struct web_req *, const char *title);
void page_end(struct web_req *);
/* [web] support as a paragraph (its URL a link); nothing if unset. */
void page_support(struct web_req *);
/* A whole page saying why not (the output so far is dropped). */
void page_error(struct web_req *, int status, const char *en, const char *de);
/* GET /style.css */
void page_style(struct web_req *);
/* <input type=hidden name=csrf ...> */
void form_csrf(struct web_req *);
/* "2026-11-28 17:31 UTC", or "-" for 0. */
void time_text(int64_t t, char *dst, size_t size);

#endif
