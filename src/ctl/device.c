/*
 * mailoutctl device ...: the device registry from the command line.
 * Works on the database directly and safely while the daemon runs; the
 * daemon sees each change on the next connection.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "ctl/ctl.h"
#include "ctl/format.h"
#include "db/registry.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/num.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

enum out_format { OUT_HUMAN, OUT_JSON, OUT_CSV };

/* Options of every device sub-command; each takes what it needs. */
struct opts {
	struct device d; /* fields given with --name, --owner, ... */
	const char *expires;
	const char *why;
	const char *actor;
	const char *status;
	const char *expiring_before;
	enum out_format format;
	int legacy_tls; /* -1: not given; --legacy-tls 1, --no-legacy-tls 0 */
	bool force;     /* an expiry that has passed */
	char *args[4];  /* positional */
	int n_args;
};

struct field_opt {
	const char *flag;
	size_t offset;
};

static const struct field_opt field_opts[] = {
    {"--name", offsetof(struct device, name)},
    {"--manufacturer", offsetof(struct device, manufacturer)},
    {"--model", offsetof(struct device, model)},
    {"--location", offsetof(struct device, location)},
    {"--owner", offsetof(struct device, owner_email)},
    {"--owner-name", offsetof(struct device, owner_name)},
    {"--org-unit", offsetof(struct device, org_unit)},
    {"--reason", offsetof(struct device, reason)},
    {"--replacement", offsetof(struct device, replacement)},
};

void
ctl_device_usage(FILE *out)
{
	fprintf(out,
	        "usage: mailoutctl device COMMAND ...\n"
	        "  add ADDRESS --name N --owner EMAIL [--owner-name N] [--manufacturer M]\n"
	        "      [--model M] [--location L] [--org-unit U] [--reason R] [--replacement R]\n"
	        "      [--expires DATE] [--legacy-tls]      (added approved)\n"
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

static bool
set_field(struct opts *o, const char *flag, const char *value)
{
	for (size_t i = 0; i < sizeof(field_opts) / sizeof(field_opts[0]); i++) {
		if (strcmp(flag, field_opts[i].flag) != 0)
			continue;
		if (!str_copy((char *)&o->d + field_opts[i].offset, DEVICE_TEXT_MAX, value)) {
			fprintf(stderr, "mailoutctl: %s is longer than %d characters\n", flag,
			        DEVICE_TEXT_MAX - 1);
			exit(EXIT_FAIL);
		}
		return true;
	}
	return false;
}

static bool
parse_opts(int argc, char **argv, struct opts *o)
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
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool done = false;

		if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
			o->format = a[2] == 'j' ? OUT_JSON : OUT_CSV;
			continue;
		}
		if (strcmp(a, "--legacy-tls") == 0 || strcmp(a, "--no-legacy-tls") == 0) {
			o->legacy_tls = a[2] == 'l';
			o->d.legacy_tls = o->legacy_tls;
			continue;
		}
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
		if (i + 1 >= argc) {
			fprintf(stderr, "mailoutctl: %s needs a value\n", a);
			return false;
		}
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]) && !done; k++) {
			if (strcmp(a, strs[k].flag) == 0) {
				*(const char **)((char *)o + strs[k].offset) = argv[++i];
				done = true;
			}
		}
		if (!done && !set_field(o, a, argv[i + 1])) {
			fprintf(stderr, "mailoutctl: unknown option %s\n", a);
			return false;
		}
		if (!done)
			i++;
	}
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

static void
time_str(int64_t t, char *dst, size_t size)
{
	if (t == 0)
		str_copy(dst, size, "");
	else
		isodate_format(t, dst, size);
}

/* Every field, in one order, for JSON, CSV and show. */
#define N_FIELDS 25
static void
fields(const struct device *d, const char *names[N_FIELDS], char values[N_FIELDS][DEVICE_TEXT_MAX],
       bool is_number[N_FIELDS])
{
	static const char *const n[N_FIELDS] = {
	    "id",         "address",     "status",     "name",          "manufacturer",
	    "model",      "location",    "owner_name", "owner_email",   "org_unit",
	    "reason",     "replacement", "legacy_tls", "expires",       "created_at",
	    "decided_at", "decided_by",  "note",       "first_seen",    "last_seen",
	    "sessions",   "messages",    "last_tls",   "last_listener", "expires_at"};
	int i = 0;

	memset(is_number, 0, N_FIELDS * sizeof(bool));
	for (int k = 0; k < N_FIELDS; k++)
		names[k] = n[k];
	is_number[0] = is_number[20] = is_number[21] = true;
	str_fmt(values[i++], DEVICE_TEXT_MAX, "%lld", (long long)d->id);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->address);
	str_copy(values[i++], DEVICE_TEXT_MAX,
	         device_status_name(device_status_at(d, clock_now())));
	const char *texts[] = {d->name,     d->manufacturer, d->model,
	                       d->location, d->owner_name,   d->owner_email,
	                       d->org_unit, d->reason,       d->replacement};
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
		str_copy(values[i++], DEVICE_TEXT_MAX, texts[k]);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->legacy_tls ? "yes" : "no");
	str_copy(values[i++], DEVICE_TEXT_MAX, d->expires);
	time_str(d->created_at, values[i++], DEVICE_TEXT_MAX);
	time_str(d->decided_at, values[i++], DEVICE_TEXT_MAX);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->decided_by);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->note);
	time_str(d->first_seen, values[i++], DEVICE_TEXT_MAX);
	time_str(d->last_seen, values[i++], DEVICE_TEXT_MAX);
	str_fmt(values[i++], DEVICE_TEXT_MAX, "%lld", (long long)d->session_count);
	str_fmt(values[i++], DEVICE_TEXT_MAX, "%lld", (long long)d->message_count);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->last_tls);
	str_copy(values[i++], DEVICE_TEXT_MAX, d->last_listener);
	time_str(d->expires_at, values[i++], DEVICE_TEXT_MAX);
}

struct printer {
	enum out_format format;
	bool is_first;
	bool is_show;
};

static bool
print_device(const struct device *d, void *arg)
{
	struct printer *p = arg;
	const char *names[N_FIELDS];
	static char values[N_FIELDS][DEVICE_TEXT_MAX];
	bool is_number[N_FIELDS];

	fields(d, names, values, is_number);
	if (p->format == OUT_JSON) {
		printf("%s{", p->is_first ? "" : ",\n ");
		for (int i = 0; i < N_FIELDS; i++) {
			printf("%s\"%s\":", i ? "," : "", names[i]);
			if (is_number[i])
				printf("%s", values[i]);
			else if (i == 12)
				printf("%s", d->legacy_tls ? "true" : "false");
			else
				ctl_json_str(stdout, values[i]);
		}
		printf("}");
	} else if (p->format == OUT_CSV) {
		if (p->is_first)
			for (int i = 0; i < N_FIELDS; i++)
				printf("%s%s", names[i], i + 1 < N_FIELDS ? "," : "\r\n");
		for (int i = 0; i < N_FIELDS; i++) {
			ctl_csv_str(stdout, values[i]);
			printf("%s", i + 1 < N_FIELDS ? "," : "\r\n");
		}
	} else if (p->is_show) {
		for (int i = 0; i < N_FIELDS; i++)
			printf("%-14s %s\n", names[i], values[i]);
	} else {
		if (p->is_first)
			printf("%-5s %-9s %-20s %-24s %-26s %-11s %-20s %6s  %s\n", "ID", "STATUS",
			       "ADDRESS", "NAME", "OWNER", "EXPIRES", "LAST SEEN", "MSGS",
			       "LAST TLS");
		printf("%-5lld %-9s %-20s %-24.24s %-26.26s %-11.20s %-20s %6lld  %s\n",
		       (long long)d->id, values[2], d->address, d->name, d->owner_email,
		       d->expires[0] ? d->expires : "-", values[19][0] ? values[19] : "never",
		       (long long)d->message_count, d->last_tls[0] ? d->last_tls : "-");
	}
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
	struct address a;
	size_t used;
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
	if (d->name[0] == '\0') {
		fprintf(stderr, "mailoutctl: --name is required\n");
		return EXIT_FAIL;
	}
	if (d->owner_email[0] == '\0' ||
	    address_parse_path(d->owner_email, strlen(d->owner_email), true, &a, &used) !=
	        ADDRESS_OK ||
	    a.is_null || used != strlen(d->owner_email)) {
		fprintf(stderr, "mailoutctl: --owner needs the owner's e-mail address\n");
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
	struct printer p = {o->format, true, false};
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
	if (o->format == OUT_JSON)
		printf("[");
	if ((res = registry_list(r, &f, print_device, &p, err, sizeof(err))) != OUT_OK)
		return fail(res, err);
	if (o->format == OUT_JSON)
		printf("]\n");
	else if (p.is_first && o->format == OUT_HUMAN)
		printf("no devices\n");
	return 0;
}

static int
cmd_show(struct registry *r, struct opts *o)
{
	struct device d;
	struct printer p = {o->format, true, true};
	char err[512];
	enum outcome res;
	int64_t id;

	uint64_t v;

	if (o->n_args != 1) {
		fprintf(stderr, "mailoutctl: device show takes one ID or ADDRESS\n");
		return EXIT_USAGE;
	}
	if (num_parse_u64(o->args[0], 1, INT64_MAX, &v))
		res = registry_get(r, id = (int64_t)v, &d, err, sizeof(err));
	else
		res = registry_find_by_address(r, o->args[0], &d, err, sizeof(err));
	if (res != OUT_OK)
		return fail(res, err);
	print_device(&d, &p);
	if (o->format == OUT_JSON)
		printf("\n");
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
	struct decision dc = {DEVICE_APPROVED, o->expires, o->why,
	                      o->legacy_tls,   o->force,   actor_of(o)};

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

bool
ctl_drop_privileges(const struct config *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return true;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		fprintf(stderr, "mailoutctl: [gateway] user '%s' does not exist\n", cfg->user);
		return false;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "mailoutctl: cannot become %s: %s\n", cfg->user, strerror(errno));
		return false;
	}
	return true;
}

int
ctl_device(const struct config *cfg, int argc, char **argv)
{
	struct opts *o = calloc(1, sizeof(*o));
	struct registry *r;
	char err[512];
	int rc;

	if (o == NULL)
		return EXIT_FAIL;
	o->legacy_tls = -1;
	if (argc < 2 || !parse_opts(argc - 1, argv + 1, o)) {
		ctl_device_usage(stderr);
		free(o);
		return EXIT_USAGE;
	}
	if (cfg->registry_db[0] == '\0') {
		fprintf(stderr, "mailoutctl: [registry] database is not set in %s\n", cfg->path);
		free(o);
		return EXIT_FAIL;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(cfg->user);
		struct safedir_owner own = {true, pw ? pw->pw_uid : 0, pw ? pw->pw_gid : 0};
		if (pw && !registry_prepare_dir(cfg->registry_db, &own, err, sizeof(err))) {
			fprintf(stderr, "mailoutctl: %s\n", err);
			free(o);
			return EXIT_FAIL;
		}
	}
	if (!ctl_drop_privileges(cfg) ||
	    (r = registry_open(cfg->registry_db, 10000, err, sizeof(err))) == NULL) {
		if (err[0])
			fprintf(stderr, "mailoutctl: %s\n", err);
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
