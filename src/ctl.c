/*
 * mailoutctl: the admin command. Talks to the spool directly, never
 * through the daemon's network interfaces.
 *
 *   mailoutctl [-c FILE] check
 *   mailoutctl keys
 *   mailoutctl [-c FILE] queue ...
 *   mailoutctl [-c FILE] device ...
 *   mailoutctl web passwd USER
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "spool.h"
#include "util/str.h"

#define DEFAULT_CONFIG "/etc/mailout/mailout.conf"

typedef int ctl_fn(const struct config *, int argc, char **argv);

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: mailoutctl [-c config] command ...\n"
	        "  check                 validate the config and print the policy table\n"
	        "  keys                  every config key with its default (Markdown)\n"
	        "  queue ...             the queue (mailoutctl queue for help)\n"
	        "  device ...            the device registry (mailoutctl device for help)\n"
	        "  report tls [--since 30d] [--json|--csv]   who sends how, unencrypted first\n"
	        "  report sessions ADDRESS [--json]          the last sessions of one client\n"
	        "  web passwd USER       a user:hash line for [web] admins (password on stdin)\n");
}

static int
cmd_check(const struct config *cfg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s: ok\n\n", cfg->path);
	config_print_policy(cfg, stdout);
	return 0;
}

static const struct {
	const char *name;
	ctl_fn *run;
} commands[] = {
    {"check", cmd_check},
    {"queue", ctl_queue},
    {"device", ctl_device},
    {"report", ctl_report},
};

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	struct config *cfg;
	struct buf errs;
	int ch;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		if (ch == 'c') {
			path = optarg;
		} else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "keys") == 0) { /* needs no config */
		config_print_keys(stdout);
		return 0;
	}
	if (strcmp(argv[optind], "web") == 0) /* needs no config either */
		return ctl_web(argc - optind, argv + optind);
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int rc = commands[i].run(cfg, argc - optind, argv + optind);
			free(cfg);
			return rc;
		}
	}
	fprintf(stderr, "mailoutctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	free(cfg);
	return 2;
}
