/*
 * mailoutctl: the admin command. Talks to the spool directly, never
 * through the daemon's network interfaces.
 *
 *   mailoutctl [-c FILE] check
 *   mailoutctl keys
 *   mailoutctl [-c FILE] queue ...
 *   mailoutctl [-c FILE] device ...
 *   mailoutctl web passwd USER
 *   mailoutctl auth passwd USER
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "ctl/commands.h"
#include "master/preflight.h"
#include "spool/spool.h"
#include "util/str.h"
#include "transition.h"
#include "util/clock.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/mailout/mailout.conf"

typedef int ctl_fn(const struct config *, int argc, char **argv);

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: mailoutctl [-c config] command ...\n"
	        "  -c, --config FILE     configuration (default " DEFAULT_CONFIG ")\n"
	        "  -h, --help            this text; COMMAND --help: that command's\n"
	        "  -V, --version         the version\n"
	        "  check                 validate the config and print the policy table\n"
	        "  keys [--man]          every config key with its default (Markdown, or roff)\n"
	        "  queue ...             the queue (mailoutctl queue for help)\n"
	        "  device ...            the device registry (mailoutctl device for help)\n"
	        "  report tls [--since 30d] [--json|--csv]   who sends how, unencrypted first\n"
	        "  report sessions ADDRESS [--json]          the last sessions of one client\n"
	        "  report transition [--json|--csv]          every registration, its use and a\n"
	        "                        suggested action (the re-evaluation)\n"
	        "  notify [--dry-run|--sent]  mail the reminders and the digest that are due\n"
	        "  registry copy --from DATABASE  a registry (SQLite file) into the configured\n"
	        "                        one (PostgreSQL, empty): a gateway becomes a fleet\n"
	        "  web passwd USER       a user:hash line for [web] admins (password on stdin)\n"
	        "  auth passwd USER      a user:hash line for [auth] passwd (password on stdin)\n");
}

/* The calendar: the phase now and the next date. */
static void
print_transition(const struct config *cfg, FILE *out)
{
	char tr[160];

	if (cfg->tr_date[TD_CUTOVER][0] == '\0')
		return;
	transition_describe(cfg, clock_now(), tr, sizeof(tr));
	fprintf(out, "\ntransition: %s\n", tr);
}

static int
cmd_check(const struct config *cfg, int argc, char **argv)
{
	struct buf errs, warns;
	unsigned n;

	if (argc > 1) {
		fprintf(stderr, "mailoutctl: check takes no arguments, not '%s'\n", argv[1]);
		return 2;
	}
	buf_init(&errs, 64 * 1024);
	buf_init(&warns, 64 * 1024);
	n = preflight(cfg, &errs, &warns);
	for (char *l = warns.data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		if ((nl = strchr(l, '\n')) != NULL)
			*nl = '\0';
		fprintf(stderr, "%s: warning: %s\n", cfg->path, l);
	}
	for (char *l = errs.data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		if ((nl = strchr(l, '\n')) != NULL)
			*nl = '\0';
		fprintf(stderr, "%s: %s\n", cfg->path, l);
	}
	buf_free(&errs);
	buf_free(&warns);
	if (n > 0) {
		fprintf(stderr, "%s: %u problem(s) would stop mailoutd from starting\n", cfg->path,
		        n);
		return 1;
	}
	printf("%s: ok\n\n", cfg->path);
	config_print_policy(cfg, stdout);
	print_transition(cfg, stdout);
	return 0;
}

static void
check_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl [-c config] check\n"
	             "  validate the config, find what would stop mailoutd from starting, and\n"
	             "  print the policy table\n");
}

static const struct {
	const char *name;
	ctl_fn *run;
	void (*usage)(FILE *);
	bool needs_args; /* without arguments: the usage, not the config */
} commands[] = {
    {"check", cmd_check, check_usage, false},
    {"queue", ctl_queue, ctl_queue_usage, true},
    {"device", ctl_device, ctl_device_usage, true},
    {"report", ctl_report, ctl_report_usage, true},
    {"notify", ctl_notify, ctl_notify_usage, false},
    {"registry", ctl_registry, ctl_registry_usage, true},
};

/* "COMMAND --help", or a command that needs arguments without any: its
 * usage, before a config is read. -1 if neither. */
static int
command_help(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		for (int k = 1; k < argc; k++) {
			if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
				commands[i].usage(stdout);
				return 0;
			}
		}
		if (argc == 1 && commands[i].needs_args) {
			fprintf(stderr, "mailoutctl: %s needs a sub-command\n", argv[0]);
			commands[i].usage(stderr);
			return 2;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	const char *path = DEFAULT_CONFIG;
	struct config *cfg;
	struct buf errs;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		if (ch == 'c') {
			path = optarg;
		} else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else if (ch == 'V') {
			printf("mailoutctl %s\n", MAILOUT_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mailoutctl: which command?\n");
		usage(stderr);
		return 2;
	}
	if ((rc = command_help(argc - optind, argv + optind)) >= 0)
		return rc;
	if (strcmp(argv[optind], "keys") == 0) { /* needs no config */
		if (optind + 1 < argc && strcmp(argv[optind + 1], "--man") == 0)
			config_print_keys_man(stdout);
		else
			config_print_keys(stdout);
		return 0;
	}
	if (strcmp(argv[optind], "web") == 0) /* needs no config either */
		return ctl_web(argc - optind, argv + optind);
	if (strcmp(argv[optind], "auth") == 0)
		return ctl_auth(argc - optind, argv + optind);
	size_t k = 0;
	while (k < sizeof(commands) / sizeof(commands[0]) &&
	       strcmp(argv[optind], commands[k].name) != 0)
		k++;
	if (k == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "mailoutctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return 1;
	buf_init(&errs, 64 * 1024);
	if (config_load(path, cfg, &errs) > 0) {
		fputs(buf_cstr(&errs), stderr);
		buf_free(&errs);
		free(cfg);
		return 1;
	}
	buf_free(&errs);
	rc = commands[k].run(cfg, argc - optind, argv + optind);
	free(cfg);
	return rc;
}
