/*
 * mailoutctl device ...: the device registry from the command line.
 * Works on the database directly and safely while the daemon runs; the
 * daemon sees each change on the next connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "ctl/commands.h"
#include "ctl/out.h"
#include "ctl/privs.h"
#include "db/devices.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Options of every device sub-command; each takes what it needs. */
struct opts {
	struct device d; /* fields given with --name, --owner, ... */
	const char *expires;
	const char *why;
	const char *actor;
	const char *status;
	const char *expiring_before;
	enum out_format format;
	bool given[DEVICE_FIELDS_MAX]; /* of device_fields[] */
	int legacy_tls;                /* -1: not given; --legacy-tls 1, --no-legacy-tls 0 */
	bool force;                    /* an expiry that has passed */
	char *args[4];                 /* positional */
	int n_args;
};

/* "  add ADDRESS --name N --owner EMAIL [--owner-name N] ...": the add
 * options of every field that has one, required ones first. */
static void
usage_add(FILE *out)
{
	int col = fprintf(out, "  add ADDRESS");

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < device_n_fields; i++) {
			const struct device_field *f = &device_fields[i];
			bool is_required = (f->flags & DEVICE_REQUIRED) != 0;
			char word[64];

			if (f->option == NULL || is_required != (pass == 0))
				continue;
			str_fmt(word, sizeof(word), " %s%s%s%s", is_required ? "" : "[", f->option,
			        f->kind == DEVICE_KIND_BOOL ? ""
			        : f->flags & DEVICE_EMAIL   ? " EMAIL"
			        : f->flags & DEVICE_SENDERS ? " 'ADDRESS|@DOMAIN ...'"
			                                    : " TEXT",
			        is_required ? "" : "]");
			if (col + (int)strlen(word) > 78)
				col = fprintf(out, "\n     ");
			col += fprintf(out, "%s", word);
		}
	}
	fprintf(out, " [--expires DATE]\n      (added approved)\n");
}

void
ctl_device_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl device COMMAND ...\n");
	usage_add(out);
	fprintf(out,
	        "  list [--status S] [--expiring-before DATE] [--json|--csv]\n"
	        "  show ID|ADDRESS [--json]\n"
	        "  approve ID|ADDRESS [--expires DATE] [--legacy-tls|--no-legacy-tls]\n"
	        "  renew ID|ADDRESS --expires DATE [--legacy-tls|--no-legacy-tls]\n"
	        "  reject ID|ADDRESS --why TEXT     revoke ID|ADDRESS --why TEXT\n"
	        "  remove ID|ADDRESS                history ID|ADDRESS\n"
	        "  expire                           mark passed registrations expired\n"
	        "  DATE: YYYY-MM-DD (through that day, UTC) or YYYY-MM-DDTHH:MM:SSZ; a date that\n"
	        "  has passed is refused unless --force. ADDRESS: the registration of exactly\n"
	        "  that address or prefix. Every change accepts --by NAME (default: $SUDO_USER,\n"
	        "  $USER).\n");
}

/* ---- options ---- */

/* A field's option: --name TEXT sets a text field; --legacy-tls and
 * --no-legacy-tls a yes/no field. 0: not a field option; 1: taken;
 * 2: taken with the value after it; -1: refused (said on stderr). */
static int
set_field(struct opts *o, const char *flag, const char *value)
{
	bool is_no = strncmp(flag, "--no-", 5) == 0;
	char yes[64];
	const struct device_field *f;

	str_fmt(yes, sizeof(yes), "--%s", is_no ? flag + 5 : "");
	if ((f = device_field_of_option(is_no ? yes : flag)) == NULL)
		return 0;
	o->given[f - device_fields] = true;
	if (f->kind == DEVICE_KIND_BOOL) {
		*device_bool(&o->d, f) = !is_no;
		return 1;
	}
	if (is_no || value == NULL) {
		fprintf(stderr, "mailoutctl: %s needs a value\n", flag);
		return -1;
	}
	if (!str_copy(device_text(&o->d, f), f->size, value)) {
		fprintf(stderr, "mailoutctl: %s is longer than %zu bytes\n", flag, f->size - 1);
		return -1;
	}
	return 2;
}

/* --expires, --why, ...: the options of the commands, not of a field. */
static bool
set_command_option(struct opts *o, const char *flag, const char *value)
{
	static const struct {
		const char *flag;
		size_t offset;
	} strs[] = {
	    {"--expires", offsetof(struct opts, expires)},
	    {"--why", offsetof(struct opts, why)},
	    {"--by", offsetof(struct opts, actor)},
	    {"--status", offsetof(struct opts, status)},
	    {"--expiring-before", offsetof(struct opts, expiring_before)},
	};
	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
		if (strcmp(flag, strs[k].flag) == 0) {
			*(const char **)((char *)o + strs[k].offset) = value;
			return true;
		}
	}
	return false;
}

static bool
parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		int taken;

		if (out_parse_flag(a, &o->format))
			continue;
		if (strcmp(a, "--force") == 0) {
			o->force = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (o->n_args == 4) {
				fprintf(stderr, "mailoutctl: unexpected argument '%s'\n", a);
				return false;
			}
			o->args[o->n_args++] = argv[i];
			continue;
		}
		if ((taken = set_field(o, a, value)) < 0)
			return false;
		if (taken) {
			i += taken - 1;
			continue;
		}
		if (!set_command_option(o, a, value)) {
			fprintf(stderr, "mailoutctl: unknown option %s\n", a);
			return false;
		}
		if (value == NULL) {
			fprintf(stderr, "mailoutctl: %s needs a value\n", a);
			return false;
		}
		i++;
	}
	const struct device_field *legacy = device_field_named("legacy_tls");
	o->legacy_tls = o->given[legacy - device_fields] ? o->d.legacy_tls : -1;
	return true;
}

static const char *
actor_of(const struct opts *o)
{
	const char *a = o->actor ? o->actor : getenv("SUDO_USER");

	if (a == NULL || a[0] == '\0')
		a = getenv("USER");
	return a && a[0] ? a : "mailoutctl";
}

/* One ID or ADDRESS argument into the registration's id; false (with a
 * sentence) when it names none. */
static bool
resolve(struct registry *r, const char *verb, const struct opts *o, int64_t *id)
{
	struct device d;
	char err[512];
	uint64_t v;
	enum outcome res;

	if (o->n_args != 1) {
		fprintf(stderr,
		        "mailoutctl: device %s takes one registration (ID or ADDRESS)%s%s\n", verb,
		        o->n_args ? ", not " : "", o->n_args > 1 ? "several" : "");
		return false;
	}
	if (num_parse_u64(o->args[0], 1, INT64_MAX, &v)) {
		*id = (int64_t)v;
		return true;
	}
	if ((res = registry_find_exact(r, o->args[0], &d, err, sizeof(err))) != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s%s\n", err,
		        res == OUT_TEMPFAIL ? " (temporary; try again)" : "");
		return false;
	}
	*id = d.id;
	return true;
}

/* ---- output ---- */

struct printer {
	struct out out;
	bool is_first;
};

/* Every field of the table, in its order, as JSON, CSV or show's lines. */
static void
out_device(struct out *out, const struct device *d, int64_t now)
{
	char text[DEVICE_TEXT_MAX];

	out_record(out);
	for (size_t i = 0; i < device_n_fields; i++) {
		const struct device_field *f = &device_fields[i];

		device_field_text(d, f, now, text, sizeof(text));
		if (f->kind == DEVICE_KIND_ID || f->kind == DEVICE_KIND_COUNT)
			out_int(out, f->name, device_int_value(d, f));
		else if (f->kind == DEVICE_KIND_BOOL)
			out_bool(out, f->name, strcmp(text, "yes") == 0);
		else
			out_str(out, f->name, text);
	}
}

/* The table of `device list`: what an admin scans for. */
static void
print_row(const struct device *d, bool is_first, int64_t now)
{
	char seen[32];

	if (is_first)
		printf("%-5s %-9s %-20s %-24s %-26s %-11s %-20s %6s  %s\n", "ID", "STATUS",
		       "ADDRESS", "NAME", "OWNER", "EXPIRES", "LAST SEEN", "MSGS", "LAST TLS");
	if (d->last_seen)
		isodate_format(d->last_seen, seen, sizeof(seen));
	printf("%-5lld %-9s %-20s %-24.24s %-26.26s %-11.20s %-20s %6lld  %s\n", (long long)d->id,
	       device_status_name(device_status_at(d, now)), d->address, d->name, d->owner_email,
	       d->expires[0] ? d->expires : "-", d->last_seen ? seen : "never",
	       (long long)d->message_count, d->last_tls[0] ? d->last_tls : "-");
}

static bool
print_device(const struct device *d, void *arg)
{
	struct printer *p = arg;
	int64_t now = clock_now();

	if (p->out.format == OUT_TEXT)
		print_row(d, p->is_first, now);
	else
		out_device(&p->out, d, now);
	p->is_first = false;
	return true;
}

/* ---- commands ---- */

static int
fail(enum outcome o, const char *err)
{
	fprintf(stderr, "mailoutctl: %s%s\n", err,
	        o == OUT_TEMPFAIL ? " (temporary; try again)" : "");
	return EXIT_FAIL;
}

static int
cmd_add(const struct config *cfg, struct registry *r, struct opts *o)
{
	struct device *d = &o->d;
	const struct device_field *bad;
	enum device_problem problem;
	char err[512];
	const char *expires = o->expires ? o->expires : cfg->default_expiry;
	enum outcome res;

	if (o->n_args != 1) {
		fprintf(stderr, "mailoutctl: device add takes one ADDRESS%s\n",
		        o->n_args ? ", not several" : "");
		return EXIT_USAGE;
	}
	if (!cidr_parse(o->args[0], &d->net)) {
		fprintf(stderr,
		        "mailoutctl: '%s' is not an IP address or CIDR prefix (like 10.1.2.3, "
		        "10.1.2.0/24 or 2001:db8::/64, host bits zero)\n",
		        o->args[0]);
		return EXIT_FAIL;
	}
	cidr_format(&d->net, d->address, sizeof(d->address));
	if ((bad = device_check(d, DEVICE_REQUIRED, &problem)) != NULL) {
		if (problem == DEVICE_EMPTY)
			fprintf(stderr, "mailoutctl: %s is required\n", bad->option);
		else
			fprintf(stderr, "mailoutctl: %s needs %s, not '%s'\n", bad->option,
			        problem == DEVICE_NOT_SENDERS
			            ? "addresses or @domains separated by spaces"
			        : problem == DEVICE_NOT_LANGUAGE ? "en or de"
			                                         : "an e-mail address",
			        device_text_const(d, bad));
		return EXIT_FAIL;
	}
	if (expires[0] && !isodate_parse_expiry(expires, &d->expires_at)) {
		fprintf(stderr,
		        "mailoutctl: '%s' is not a date: use YYYY-MM-DD or "
		        "YYYY-MM-DDTHH:MM:SSZ (UTC)\n",
		        expires);
		return EXIT_FAIL;
	}
	str_copy(d->expires, sizeof(d->expires), expires);
	d->status = DEVICE_APPROVED;
	d->created_at = d->decided_at = clock_now();
	str_copy(d->decided_by, sizeof(d->decided_by), actor_of(o));
	if ((res = registry_add(r, d, actor_of(o), o->force, err, sizeof(err))) != OUT_OK)
		return fail(res, err);
	printf("added device %lld: %s (%s), approved%s%s\n", (long long)d->id, d->address, d->name,
	       d->expires[0] ? ", expires " : "", d->expires);
	return 0;
}

static int
cmd_list(struct registry *r, struct opts *o)
{
	struct device_filter f = {-1, 0, 0};
	struct printer p = {.is_first = true};
	enum device_status st;
	char err[512];
	enum outcome res;

	if (o->status) {
		if (!device_status_parse(o->status, &st)) {
			fprintf(stderr,
			        "mailoutctl: unknown status '%s' (pending, approved, "
			        "rejected, expired, revoked)\n",
			        o->status);
			return EXIT_FAIL;
		}
		f.status = (int)st;
	}
	if (o->expiring_before && !isodate_parse_expiry(o->expiring_before, &f.expiring_before)) {
		fprintf(stderr, "mailoutctl: '%s' is not a date (YYYY-MM-DD)\n",
		        o->expiring_before);
		return EXIT_FAIL;
	}
	out_begin(&p.out, o->format, true, stdout);
	res = registry_list(r, &f, print_device, &p, err, sizeof(err));
	out_end(&p.out);
	if (res != OUT_OK)
		return fail(res, err);
	if (p.is_first && o->format == OUT_TEXT)
		printf("no devices\n");
	return 0;
}

static int
cmd_show(struct registry *r, struct opts *o)
{
	struct device d;
	struct out out;
	char err[512];
	enum outcome res;
	uint64_t v;

	if (o->n_args != 1) {
		fprintf(stderr, "mailoutctl: device show takes one ID or ADDRESS\n");
		return EXIT_USAGE;
	}
	if (num_parse_u64(o->args[0], 1, INT64_MAX, &v))
		res = registry_get(r, (int64_t)v, &d, err, sizeof(err));
	else
		res = registry_find_by_address(r, o->args[0], &d, err, sizeof(err));
	if (res != OUT_OK)
		return fail(res, err);
	out_begin(&out, o->format == OUT_TEXT ? OUT_PAIRS : o->format, false, stdout);
	out_device(&out, &d, clock_now());
	out_end(&out);
	return 0;
}

static bool
print_history(int64_t at, const char *actor, const char *action, const char *detail, void *arg)
{
	char when[32];

	(void)arg;
	isodate_format(at, when, sizeof(when));
	printf("%s  %-12s %-9s %s\n", when, actor, action, detail);
	return true;
}

static enum outcome
decide(const struct config *cfg, struct registry *r, const char *verb, int64_t id,
       const struct opts *o, char *err, size_t errlen)
{
	struct decision dc = {DEVICE_APPROVED, o->expires,  o->why, o->legacy_tls,
	                      o->force,        actor_of(o), NULL};

	if (strcmp(verb, "approve") == 0) {
		dc.expires = o->expires ? o->expires : cfg->default_expiry;
		dc.note = "";
		return registry_decide(r, id, &dc, err, errlen);
	}
	if (strcmp(verb, "renew") == 0)
		return registry_renew(r, id, &dc, err, errlen);
	if (strcmp(verb, "remove") == 0)
		return registry_remove(r, id, dc.actor, err, errlen);
	if (strcmp(verb, "history") == 0)
		return registry_history(r, id, print_history, NULL, err, errlen);
	dc.to = verb[2] == 'j' ? DEVICE_REJECTED : DEVICE_REVOKED;
	dc.expires = NULL;
	dc.legacy_tls = -1;
	return registry_decide(r, id, &dc, err, errlen);
}

static int
cmd_change(const struct config *cfg, struct registry *r, const char *verb, struct opts *o)
{
	static const char *const verbs[] = {"approve", "reject", "revoke",
	                                    "renew",   "remove", "history"};
	char err[512] = "";
	enum outcome res;
	int64_t id;
	unsigned n;
	size_t k = 0;

	if (strcmp(verb, "expire") == 0) {
		if ((res = registry_expire(r, clock_now(), actor_of(o), &n, err, sizeof(err))) !=
		    OUT_OK)
			return fail(res, err);
		printf("%u registration(s) marked expired\n", n);
		return 0;
	}
	while (k < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verb, verbs[k]) != 0)
		k++;
	if (k == sizeof(verbs) / sizeof(verbs[0])) {
		fprintf(stderr, "mailoutctl: unknown device command '%s'\n", verb);
		return EXIT_USAGE;
	}
	if (!resolve(r, verb, o, &id))
		return EXIT_FAIL;
	if ((strcmp(verb, "reject") == 0 || strcmp(verb, "revoke") == 0) &&
	    (o->why == NULL || o->why[0] == '\0')) {
		fprintf(stderr, "mailoutctl: %s needs --why TEXT (the owner will read it)\n", verb);
		return EXIT_FAIL;
	}
	if ((res = decide(cfg, r, verb, id, o, err, sizeof(err))) != OUT_OK)
		return fail(res, err);
	if (strcmp(verb, "history") != 0)
		printf("device %lld: %s done\n", (long long)id, verb);
	return 0;
}

int
ctl_device(const struct config *cfg, int argc, char **argv)
{
	struct opts *o = calloc(1, sizeof(*o));
	struct registry *r;
	int rc;

	if (o == NULL)
		return EXIT_FAIL;
	if (argc < 2 || !parse_opts(argc - 1, argv + 1, o)) {
		ctl_device_usage(stderr);
		free(o);
		return EXIT_USAGE;
	}
	if ((r = ctl_open_registry(cfg)) == NULL) {
		free(o);
		return EXIT_FAIL;
	}
	if (strcmp(argv[1], "add") == 0)
		rc = cmd_add(cfg, r, o);
	else if (strcmp(argv[1], "list") == 0)
		rc = cmd_list(r, o);
	else if (strcmp(argv[1], "show") == 0)
		rc = cmd_show(r, o);
	else
		rc = cmd_change(cfg, r, argv[1], o);
	if (rc == EXIT_USAGE)
		ctl_device_usage(stderr);
	registry_close(r);
	free(o);
	return rc;
}
