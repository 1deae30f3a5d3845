/*
 * words: what the pages show of the registry and the workers, in the
 * reader's language. The registry keeps statuses, the session results the
 * workers record ("accepted 2 messages", "refused: 530 5.7.0 ...", "TLS
 * handshake failed: offers only TLS 1.0 (...)") and the form's reasons in
 * English, as mailoutctl and the logs show them; a German page shows each
 * in German: the result's kind and SMTP code with a German sentence, the
 * handshake diagnosis phrase by phrase (its grammar is hello.c's, fixed).
 * Text that no rule knows (an admin's note) is shown as written. Pure.
 */
#ifndef MAILOUT_WEB_WORDS_H
#define MAILOUT_WEB_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

/* The reasons the form offers; the registry stores the English text
 * (and ": details"). */
/* The reason a device operator gives for a device that speaks only old
 * TLS, as stored; the admin page ticks "legacy TLS" for it. */
#define REASON_OLD_TLS "It offers only SSL 3.0 or TLS 1.0/1.1"
struct reason_def {
	const char *code, *en, *de;
};
extern const struct reason_def words_reasons[];
extern const size_t words_n_reasons;
const struct reason_def *words_reason_find(const char *code);

/* "approved" / "genehmigt" */
const char *words_status(enum device_status, bool de);
/* A stored reason ("It offers only ...: details") in the language. */
void words_reason(const char *stored, bool de, char *out, size_t size);
/* A session's result. is_full: with reasons and addresses (the visitor's
 * own device, or an admin); else only what happened and the SMTP code. */
void words_result(const char *result, bool de, bool is_full, char *out, size_t size);
/* A handshake diagnosis of hello.c or smtp/tlsdiag.c, in German (de) or as it is. */
void words_diagnosis(const char *diag, bool de, char *out, size_t size);

/* A registry's refusal of an admin's action (English, for the log) as
 * the page says it. */
void words_error(const char *err, bool de, char *out, size_t size);

#endif
