/*
 * smtp_cmd: parse one SMTP command line (without its CRLF) into a
 * struct smtp_cmd. Pure: no I/O, no allocation, no policy. The address of
 * MAIL and RCPT is parsed here, through address.c, and nowhere else.
 */
#ifndef MAILOUT_SMTP_CMD_H
#define MAILOUT_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

enum smtp_verb {
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_UNKNOWN,
};

enum smtp_body { SMTP_BODY_UNSPEC, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

enum smtp_cmd_err {
	SMTP_CMD_OK = 0,
	SMTP_CMD_ERR_BARE_EOL, /* CR or LF inside the line: smuggling attempt or broken client */
	SMTP_CMD_ERR_NUL,      /* NUL byte in the line */
	SMTP_CMD_ERR_VERB,     /* unknown command */
	SMTP_CMD_ERR_SYNTAX,   /* bad or missing argument */
	SMTP_CMD_ERR_ADDRESS,  /* bad address; see addr_err */
	SMTP_CMD_ERR_PARAM,    /* unknown MAIL/RCPT parameter; see param */
	SMTP_CMD_ERR_PARAM_VALUE,
};

#define SMTP_PARAM_MAX 64

struct smtp_cmd {
	enum smtp_verb verb;
	enum smtp_cmd_err err; /* also the return value of smtp_cmd_parse() */
	const char *arg;       /* points into the line; valid while the line is */
	size_t arg_len;
	/* MAIL, RCPT */
	struct address addr;
	enum address_err addr_err;
	/* MAIL parameters */
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	char param[SMTP_PARAM_MAX]; /* the offending parameter, for the reply */
	/* RCPT */
	bool is_utf8_txn;   /* the transaction's MAIL had SMTPUTF8 (the caller says) */
	bool is_postmaster; /* "<Postmaster>" without a domain; addr.local only */
};

/* Parse one line. is_utf8_txn: the current transaction's MAIL had
 * SMTPUTF8, so a RCPT may hold UTF-8 (RFC 6531 3.4); MAIL decides by its
 * own parameter. */
enum smtp_cmd_err smtp_cmd_parse(const char *line, size_t len, bool is_utf8_txn,
                                 struct smtp_cmd *out);
const char *smtp_verb_name(enum smtp_verb);

#endif
