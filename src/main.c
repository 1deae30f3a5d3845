/*
 * mailoutd: the mail gateway daemon. Options into variables, then
 * master_run().
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master/master.h"
#include "util/fsx.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/mailout/mailout.conf"

static void
usage(FILE *out)
{
	fprintf(out, "usage: mailoutd [-c config] [-f] [-d]\n"
	             "  -c, --config FILE  configuration (default " DEFAULT_CONFIG ")\n"
	             "  -f, --foreground   stay in the foreground and log to stderr\n"
	             "  -d, --debug        log debug events too\n"
	             "  -h, --help         this text\n"
	             "  -V, --version      the version\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},        {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG;
	bool foreground = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'd':
			log_set_level(LOG_L_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("mailoutd %s\n", MAILOUT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mailoutd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("mailoutd", true);
	fsx_init();
	return master_run(config, foreground);
}
