/*
 * device: a registration of a device that may send unencrypted mail (or
 * use legacy TLS): the struct, its statuses, and the one table of its
 * fields. Every list of fields is made from device_fields[]: the
 * registry's columns, reading and inserting a row (db/), mailoutctl's
 * options and its text, JSON and CSV output (ctl/), the registration form,
 * the admin list and its CSV export (web/). A new field is one entry here
 * (and a member of struct device) plus one migration in db/registry.c.
 * Pure: no I/O.
 */
#ifndef MAILOUT_DEVICE_H
#define MAILOUT_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cidr.h"

#define DEVICE_TEXT_MAX   256
#define DEVICE_FIELDS_MAX 64 /* entries of device_fields[] at most */

enum device_status {
	DEVICE_PENDING,
	DEVICE_APPROVED,
	DEVICE_REJECTED,
	DEVICE_EXPIRED,
	DEVICE_REVOKED,
	DEVICE_NSTATUS
};

struct device {
	int64_t id;
	char address[CIDR_STR_MAX]; /* normalised: "10.1.2.3" or "10.1.2.0/24" */
	struct cidr net;            /* the address, parsed */
	enum device_status status;
	char name[DEVICE_TEXT_MAX];
	char manufacturer[DEVICE_TEXT_MAX];
	char model[DEVICE_TEXT_MAX];
	char location[DEVICE_TEXT_MAX];
	char owner_name[DEVICE_TEXT_MAX];
	char owner_email[DEVICE_TEXT_MAX];
	char org_unit[DEVICE_TEXT_MAX];
	char reason[DEVICE_TEXT_MAX];
	char replacement[DEVICE_TEXT_MAX];     /* planned replacement */
	char sender[DEVICE_TEXT_MAX];          /* the sender address the device uses, if given */
	char language[8];                      /* of the owner's mail: "en" or "de" */
	char renewal_request[DEVICE_TEXT_MAX]; /* the owner's, open: "DATE by ADDRESS: reason" */
	bool legacy_tls;
	char expires[40];   /* as given: "2019-12-31" or "2019-12-31T18:00:00Z" */
	int64_t expires_at; /* first second no longer valid; 0: none */
	int64_t created_at, decided_at;
	char decided_by[DEVICE_TEXT_MAX];
	char note[DEVICE_TEXT_MAX]; /* reason of a rejection or revocation */
	int64_t first_seen, last_seen, session_count, message_count;
	char last_tls[128];
	char last_listener[64];
};

/* How a field is stored and shown. */
enum device_kind {
	DEVICE_KIND_ID,      /* int64, given by the registry */
	DEVICE_KIND_ADDRESS, /* the address text; net is parsed from it */
	DEVICE_KIND_STATUS,  /* shown as the status now (device_status_at()) */
	DEVICE_KIND_TEXT,    /* a char array of the field's size */
	DEVICE_KIND_BOOL,    /* "yes" / "no" (JSON true / false) */
	DEVICE_KIND_TIME,    /* int64 Unix time, shown ISO 8601 UTC ("" for 0) */
	DEVICE_KIND_COUNT,   /* int64 */
};

/* Where a field appears besides the registry, mailoutctl and the exports. */
#define DEVICE_INSERT          0x01  /* written when a registration is added */
#define DEVICE_FORM            0x02  /* on the public registration form */
#define DEVICE_REQUIRED        0x04  /* the form and `device add` need it */
#define DEVICE_FORM_REQUIRED   0x08  /* the form needs it (`device add` does not) */
#define DEVICE_EMAIL           0x10  /* an e-mail address (if given), checked as one */
#define DEVICE_REASON          0x20  /* the form asks with a list of reasons and details */
#define DEVICE_ADMIN_DEVICE    0x40  /* on the admin list, in the device's cell */
#define DEVICE_ADMIN_OWNER     0x80  /* on the admin list, in the owner's cell */
#define DEVICE_ADMIN_SAME_LINE 0x100 /* there, on the line of the field before */
#define DEVICE_SENDERS         0x200 /* addresses and @domains, separated by spaces */
#define DEVICE_LANGUAGE        0x400 /* "en" or "de" */

struct device_field {
	const char *name;   /* JSON key and CSV header */
	const char *column; /* in the registry's devices table */
	enum device_kind kind;
	size_t offset; /* in struct device */
	size_t size;   /* of a text field */
	unsigned flags;
	const char *option;              /* of `mailoutctl device add`, or NULL */
	const char *label_en, *label_de; /* on the form */
	const char *hint_en, *hint_de;   /* under the label, or NULL */
};

extern const struct device_field device_fields[];
extern const size_t device_n_fields;

const char *device_status_name(enum device_status);
bool device_status_parse(const char *, enum device_status *);
/* The status as it is now: an approval past its expiry is expired, also
 * before `device expire` wrote it. Everything shown to people uses this. */
enum device_status device_status_at(const struct device *, int64_t now);
/* Lower is more relevant: which of several registrations of one network
 * speaks for it (valid approval, pending, expired, revoked, rejected). */
int device_rank(enum device_status, int64_t expires_at, int64_t now);

/* A field's value as text, for people and exports (now: for the status). */
void device_field_text(const struct device *, const struct device_field *, int64_t now, char *dst,
                       size_t size);
/* The text field's storage, or NULL for another kind. */
char *device_text(struct device *, const struct device_field *);
const char *device_text_const(const struct device *, const struct device_field *);
/* The int64 of an id, time or count field (else NULL). */
int64_t *device_int(struct device *, const struct device_field *);
/* The value of an id, time or count field. */
int64_t device_int_value(const struct device *, const struct device_field *);
/* The bool of a yes/no field, the status of the status field (else NULL). */
bool *device_bool(struct device *, const struct device_field *);
/* Whether the owner's mail is German (else English). */
bool device_is_german(const struct device *);
/* Whether sender (normal form; "" the null sender) is one the device's
 * sender list allows: an address on it, or one in an @domain on it. An
 * empty list allows every sender. */
bool device_sender_allowed(const struct device *, const char *sender);
enum device_status *device_status_of(struct device *, const struct device_field *);
enum device_problem {
	DEVICE_OK,
	DEVICE_EMPTY,
	DEVICE_NOT_EMAIL,
	DEVICE_NOT_SENDERS,
	DEVICE_NOT_LANGUAGE
};
/* What is wrong with value as field f: empty (or blank) although f's
 * flags include one of required, or given but not an e-mail address
 * (DEVICE_EMAIL), or not a list of addresses and @domains (DEVICE_SENDERS). */
enum device_problem device_field_check(const struct device_field *, const char *value,
                                       unsigned required);
/* The first field of d a registration cannot have: empty (or blank)
 * although its flags include one of required (DEVICE_REQUIRED for
 * `device add`, with DEVICE_FORM_REQUIRED for the form), or given but not
 * an e-mail address (DEVICE_EMAIL). NULL when all are fine. */
const struct device_field *device_check(const struct device *, unsigned required,
                                        enum device_problem *);
/* The field named name (JSON key), or with that `device add` option. */
const struct device_field *device_field_named(const char *name);
const struct device_field *device_field_of_option(const char *option);

#endif
