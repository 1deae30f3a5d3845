/*
 * mailoutd: the mail gateway daemon. Options into variables, then
 * master_run().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util/fsx.h"

#define DEFAULT_CONFIG "/etc/mailout/mailout.conf"

static void
usage(FILE *out)
{
	fprintf(out, "usage: mailoutd [-c config] [-f] [-d]\n"
	             "  -c FILE  configuration (default " DEFAULT_CONFIG ")\n"
	             "  -f       stay in the foreground and log to stderr\n"
	             "  -d       log debug events too\n");
}

int
main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG;
	bool foreground = false;
	int ch;

	while ((ch = getopt(argc, argv, "c:fdh")) != -1) {
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("mailoutd", true);
	fsx_init();
	return master_run(config, foreground);
}
