/*
 * senders: which MAIL FROM an account may use ([auth] senders = own or
 * map). A list holds addresses ("j.doe@example.edu") and whole domains
 * ("@example.edu"), compared without regard to case; the map file gives
 * such lists by user (`user: address @domain ...`). Pure: no I/O.
 */
#ifndef MAILOUT_AUTH_SENDERS_H
#define MAILOUT_AUTH_SENDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/vec.h"

struct senders {
	struct vec items; /* of char * */
};

void senders_init(struct senders *);
void senders_free(struct senders *);
void senders_add(struct senders *, const char *address_or_domain);
/* Whether sender (normal form, "" for the null sender) is on the list.
 * The null sender is always allowed: it cannot speak for anyone. */
bool senders_allow(const struct senders *, const char *sender);
/* The list as text, at most size bytes ("a@b, @c"), for a log line. */
void senders_format(const struct senders *, char *out, size_t size);

struct sendermap;

/* Parse the map file's text; NULL with "line N: ..." in err. */
struct sendermap *sendermap_parse(const char *text, char *err, size_t errlen);
void sendermap_free(struct sendermap *);
/* Append what the map gives user to out (nothing for an unknown user). */
void sendermap_get(const struct sendermap *, const char *user, struct senders *out);

#endif
