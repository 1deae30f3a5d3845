/* mailoutctl registry copy --from DATABASE: a registry into the configured
 * one, which must be empty (db/copy.h): how a gateway's SQLite file becomes
 * the fleet's PostgreSQL registry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/privs.h"
#include "db/copy.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

void
ctl_registry_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl [-c config] registry copy --from DATABASE\n"
	             "  copy every registration (with ids and history), the counters and reports,\n"
	             "  the reminders sent and the link keys from DATABASE (a SQLite file or a\n"
	             "  postgresql:// URL) into [registry] database, which must hold no\n"
	             "  registration yet: how a gateway's SQLite registry becomes a fleet's\n"
	             "  PostgreSQL one (doc/SCALING.md)\n");
}

int
ctl_registry(const struct config *cfg, int argc, char **argv)
{
	struct copy_count counts[COPY_TABLES];
	struct registry *to, *from;
	char err[512];

	if (argc != 4 || strcmp(argv[1], "copy") != 0 || strcmp(argv[2], "--from") != 0) {
		ctl_registry_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[3], cfg->registry_db) == 0) {
		fprintf(stderr, "mailoutctl: --from names the configured registry itself\n");
		return EXIT_FAIL;
	}
	if ((to = ctl_open_registry(cfg)) == NULL)
		return EXIT_FAIL;
	if (!registry_is_shared(argv[3]) && access(argv[3], R_OK) != 0) {
		fprintf(stderr, "mailoutctl: %s: %s\n", argv[3], strerror(errno));
		registry_close(to);
		return EXIT_FAIL;
	}
	if ((from = registry_open(argv[3], 10000, err, sizeof(err))) == NULL ||
	    !registry_is_up(from, err, sizeof(err)) || !registry_is_up(to, err, sizeof(err))) {
		fprintf(stderr, "mailoutctl: %s\n", err);
		registry_close(from);
		registry_close(to);
		return EXIT_FAIL;
	}
	enum outcome o = registry_copy(from, to, counts, err, sizeof(err));
	registry_close(from);
	registry_close(to);
	if (o != OUT_OK) {
		fprintf(stderr, "mailoutctl: %s (nothing copied)\n", err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < COPY_TABLES; i++)
		printf("%-16s %zu rows\n", counts[i].table, counts[i].rows);
	return 0;
}
