/*
 * mailoutctl: the admin command. Talks to the spool directly, never
 * through the daemon's network interfaces.
 *
 *   mailoutctl [-c FILE] check
 *   mailoutctl keys
 *   mailoutctl [-c FILE] queue list [--json]
 *   mailoutctl [-c FILE] queue show ID
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
#include "ctl.h"
#include "spool.h"
#include "util/str.h"

#define DEFAULT_CONFIG "/etc/mailout/mailout.conf"

typedef int ctl_fn(const struct config *, int argc, char **argv);

static void
usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl [-c config] command ...\n"
	             "  check                 validate the config and print the policy table\n"
	             "  queue list [--json]   messages waiting for delivery\n"
	             "  queue show ID         one message's envelope and delivery state\n"
	             "  device ...            the device registry (mailoutctl device for help)\n");
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

/* JSON string with escapes; our values are printable ASCII or UTF-8. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_entry(const struct config *cfg, const char *id, bool json, bool *first)
{
	struct envelope env;
	struct stat st;
	off_t off;
	int fd;
	char path[PATH_MAX];

	envelope_init(&env);
	if (spool_load(cfg->spool, id, &env, &fd, &off) != 0)
		return;
	spool_load_state(cfg->spool, &env);
	fstat(fd, &st);
	close(fd);
	str_fmt(path, sizeof(path), "%s/queue/%s", cfg->spool, id);
	long long age = (long long)(time(NULL) - env.arrival);
	long long size = (long long)(st.st_size - off);
	if (json) {
		printf("%s{\"id\":", *first ? "" : ",\n ");
		json_str(env.id);
		printf(",\"age\":%lld,\"size\":%lld,\"sender\":", age, size);
		json_str(env.sender);
		printf(",\"listener\":");
		json_str(env.listener);
		printf(",\"client\":");
		json_str(env.client);
		printf(",\"tls\":");
		json_str(env.tls);
		printf(",\"recipients\":[");
		for (size_t i = 0; i < env.n_rcpt; i++) {
			printf("%s{\"address\":", i ? "," : "");
			json_str(env.rcpt[i]);
			printf(",\"state\":\"%s\"}", env.rcpt_done[i] ? "done" : "pending");
		}
		printf("]}");
	} else {
		printf("%-22s %6llds %9lld  <%s>  %s %s\n", env.id, age, size, env.sender,
		       env.listener, env.tls);
		for (size_t i = 0; i < env.n_rcpt; i++)
			printf("%-22s %17s  -> <%s> %s\n", "", "", env.rcpt[i],
			       env.rcpt_done[i] ? "(done)" : "");
	}
	*first = false;
	envelope_free(&env);
}

static int
queue_list(const struct config *cfg, bool json)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	bool first = true;

	str_fmt(dir, sizeof(dir), "%s/queue", cfg->spool);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "mailoutctl: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (json)
		printf("[");
	else
		printf("%-22s %7s %9s  %s\n", "ID", "AGE", "SIZE", "SENDER / RECIPIENTS");
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			print_entry(cfg, de->d_name, json, &first);
	if (json)
		printf("]\n");
	closedir(d);
	return 0;
}

static int
cmd_queue(const struct config *cfg, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return queue_list(cfg, argc >= 3 && strcmp(argv[2], "--json") == 0);
	if (argc == 3 && strcmp(argv[1], "show") == 0) {
		bool first = true;
		char path[PATH_MAX];
		if (!str_fmt(path, sizeof(path), "%s/queue/%s", cfg->spool, argv[2]) ||
		    access(path, F_OK) != 0) {
			fprintf(stderr, "mailoutctl: no message %s in the queue\n", argv[2]);
			return 1;
		}
		print_entry(cfg, argv[2], false, &first);
		return 0;
	}
	usage(stderr);
	return 2;
}

static const struct {
	const char *name;
	ctl_fn *run;
} commands[] = {
    {"check", cmd_check},
    {"queue", cmd_queue},
    {"device", ctl_device},
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
