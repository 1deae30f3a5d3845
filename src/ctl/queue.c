/*
 * mailoutctl queue ...: the spool from the command line, safe while the
 * daemon runs. hold/release move files between queue/ and hold/ (rename
 * is atomic); flush and bounce tell the running queue runner through the
 * spool's control FIFO.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/out.h"
#include "ctl/privs.h"
#include "spool/spool.h"
#include "util/clock.h"
#include "util/isodate.h"
#include "util/str.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

enum filter { ALL, DEFERRED, HELD };

void
ctl_queue_usage(FILE *out)
{
	fprintf(out, "usage: mailoutctl queue COMMAND ...\n"
	             "  list [--deferred|--held] [--json]   id, age, size, sender, recipients\n"
	             "  show ID                            envelope and each recipient's state\n"
	             "  flush [ID]                         try now\n"
	             "  hold ID | release ID               stop and resume delivery\n"
	             "  delete ID                          remove without a notice\n"
	             "  bounce ID                          return to the sender with a DSN\n");
}

static const char *
rcpt_state_name(const struct envelope *e, size_t i)
{
	if (e->rcpt_state[i] == RCPT_DONE)
		return "delivered";
	if (e->rcpt_state[i] == RCPT_FAILED)
		return "failed";
	return e->rcpt_note[i][0] ? "deferred" : "pending";
}

/* Load one message from queue/ or hold/. */
static bool
load(const struct config *cfg, const char *id, bool is_held, struct envelope *e, long long *size)
{
	struct stat st;
	off_t off;
	int fd;

	envelope_init(e);
	if (spool_load_from(cfg->spool, is_held ? "hold" : "queue", id, e, &fd, &off) != 0)
		return false;
	spool_load_state(cfg->spool, e);
	fstat(fd, &st);
	close(fd);
	*size = (long long)(st.st_size - off);
	return true;
}

struct lister {
	enum filter filter;
	struct out out;
};

static void
print_json(struct out *o, const struct envelope *e, long long size, bool is_held)
{
	char next[32];

	isodate_format(e->next_attempt, next, sizeof(next));
	out_record(o);
	out_str(o, "id", e->id);
	out_int(o, "age", clock_now() - e->arrival);
	out_int(o, "size", size);
	out_bool(o, "held", is_held);
	out_int(o, "attempts", e->attempts);
	out_str(o, "next_attempt", e->next_attempt ? next : "");
	out_str(o, "sender", e->sender);
	out_str(o, "listener", e->listener);
	out_str(o, "client", e->client);
	out_str(o, "tls", e->tls);
	for (size_t i = 0; i < e->n_rcpt; i++) {
		out_item(o, "recipients");
		out_str(o, "address", e->rcpt[i]);
		out_str(o, "state", rcpt_state_name(e, i));
		out_str(o, "last_error", e->rcpt_state[i] == RCPT_DONE ? "" : e->rcpt_note[i]);
		out_item_end(o);
	}
}

static void
print_human(const struct envelope *e, long long size, bool is_held)
{
	printf("%-22s %7llds %9lld  <%s>%s%s\n", e->id, (long long)(clock_now() - e->arrival), size,
	       e->sender, is_held ? "  (held)" : "", e->attempts ? "  (deferred)" : "");
	for (size_t i = 0; i < e->n_rcpt; i++)
		printf("%-22s %18s  -> <%s> %s%s%s\n", "", "", e->rcpt[i], rcpt_state_name(e, i),
		       e->rcpt_note[i][0] && e->rcpt_state[i] != RCPT_DONE ? ": " : "",
		       e->rcpt_state[i] != RCPT_DONE ? e->rcpt_note[i] : "");
}

static void
list_dir(const struct config *cfg, bool is_held, struct lister *l)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	str_fmt(dir, sizeof(dir), "%s/%s", cfg->spool, is_held ? "hold" : "queue");
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct envelope e;
		long long size;

		if (de->d_name[0] == '.' || !load(cfg, de->d_name, is_held, &e, &size))
			continue;
		if ((l->filter == DEFERRED && (is_held || e.attempts == 0)) ||
		    (l->filter == HELD && !is_held)) {
			envelope_free(&e);
			continue;
		}
		if (l->out.format == OUT_JSON)
			print_json(&l->out, &e, size, is_held);
		else
			print_human(&e, size, is_held);
		envelope_free(&e);
	}
	closedir(d);
}

static int
cmd_list(const struct config *cfg, int argc, char **argv)
{
	struct lister l = {ALL, {0}};
	enum out_format format = OUT_TEXT;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			format = OUT_JSON;
		else if (strcmp(argv[i], "--deferred") == 0)
			l.filter = DEFERRED;
		else if (strcmp(argv[i], "--held") == 0)
			l.filter = HELD;
		else {
			fprintf(stderr, "mailoutctl: unknown option '%s' for queue list\n",
			        argv[i]);
			return EXIT_USAGE;
		}
	}
	out_begin(&l.out, format, true, stdout);
	if (format == OUT_TEXT)
		printf("%-22s %8s %9s  %s\n", "ID", "AGE", "SIZE", "SENDER / RECIPIENTS");
	list_dir(cfg, false, &l);
	list_dir(cfg, true, &l);
	out_end(&l.out);
	return 0;
}

/* Whether the message is in queue/ (0), hold/ (1), or nowhere (-1). */
static int
where(const struct config *cfg, const char *id)
{
	char p[PATH_MAX];

	if (strchr(id, '/') || id[0] == '.' || id[0] == '\0')
		return -1;
	if (str_fmt(p, sizeof(p), "%s/queue/%s", cfg->spool, id) && access(p, F_OK) == 0)
		return 0;
	if (str_fmt(p, sizeof(p), "%s/hold/%s", cfg->spool, id) && access(p, F_OK) == 0)
		return 1;
	return -1;
}

static void
tell_daemon(const struct config *cfg, const char *line)
{
	int rc = spool_control(cfg->spool, line);

	if (rc == ENXIO)
		printf("note: mailoutd is not running; this takes effect when it starts\n");
	else if (rc != 0)
		fprintf(stderr, "mailoutctl: could not tell mailoutd: %s\n", strerror(rc));
}

static int
cmd_one(const struct config *cfg, const char *verb, const char *id)
{
	static const char *const verbs[] = {"show", "hold", "release", "delete", "bounce", "flush"};
	int at = where(cfg, id), rc = 0;
	char line[SPOOL_ID_MAX + 16], p[PATH_MAX];
	struct envelope e;
	long long size;
	size_t k = 0;

	while (k < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verb, verbs[k]) != 0)
		k++;
	if (k == sizeof(verbs) / sizeof(verbs[0])) {
		fprintf(stderr, "mailoutctl: unknown queue command '%s'\n", verb);
		return EXIT_USAGE;
	}
	if (at < 0) {
		fprintf(stderr, "mailoutctl: no message %s in the queue\n", id);
		return EXIT_FAIL;
	}
	if (strcmp(verb, "show") == 0) {
		if (!load(cfg, id, at == 1, &e, &size))
			return EXIT_FAIL;
		char arrival[32], next[32];
		isodate_format(e.arrival, arrival, sizeof(arrival));
		isodate_format(e.next_attempt, next, sizeof(next));
		printf("id %s\narrival %s\nlistener %s\nclient %s\nhelo %s\ntls %s\nsize %lld\n"
		       "attempts %u\nnext attempt %s\nheld %s\n",
		       e.id, arrival, e.listener, e.client, e.helo, e.tls, size, e.attempts,
		       e.next_attempt ? next : "-", at == 1 ? "yes" : "no");
		print_human(&e, size, at == 1);
		envelope_free(&e);
		return 0;
	}
	if (strcmp(verb, "hold") == 0 || strcmp(verb, "release") == 0) {
		bool is_hold = verb[0] == 'h';
		if ((at == 1) == is_hold) {
			printf("%s is already %s\n", id, is_hold ? "held" : "released");
			return 0;
		}
		rc = spool_hold(cfg->spool, id, is_hold);
	} else if (strcmp(verb, "delete") == 0) {
		str_fmt(p, sizeof(p), "%s/%s/%s", cfg->spool, at == 1 ? "hold" : "queue", id);
		rc = unlink(p) == 0 ? 0 : errno;
		str_fmt(p, sizeof(p), "%s/state/%s", cfg->spool, id);
		unlink(p);
	} else if (strcmp(verb, "bounce") == 0) {
		rc = spool_mark_bounce(cfg->spool, id, getenv("USER") ? getenv("USER") : "admin");
		if (rc == 0 && at == 1)
			rc = spool_hold(cfg->spool, id, false);
	}
	if (rc != 0) {
		fprintf(stderr, "mailoutctl: %s %s: %s\n", verb, id, strerror(rc));
		return EXIT_FAIL;
	}
	printf("%s: %s done\n", id, verb);
	if (strcmp(verb, "release") == 0 || strcmp(verb, "bounce") == 0 ||
	    strcmp(verb, "flush") == 0) {
		str_fmt(line, sizeof(line), "flush %s\n", id);
		tell_daemon(cfg, line);
	}
	return 0;
}

int
ctl_queue(const struct config *cfg, int argc, char **argv)
{
	int rc;

	if (!ctl_drop_privileges(cfg))
		return EXIT_FAIL;
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		rc = cmd_list(cfg, argc, argv);
	else if (argc == 2 && strcmp(argv[1], "flush") == 0) {
		tell_daemon(cfg, "flush\n");
		printf("flush: done\n");
		rc = 0;
	} else if (argc == 3) {
		rc = cmd_one(cfg, argv[1], argv[2]);
	} else {
		fprintf(stderr, "mailoutctl: queue %s takes %s\n", argv[1],
		        strcmp(argv[1], "flush") == 0 ? "at most one ID" : "one ID");
		rc = EXIT_USAGE;
	}
	if (rc == EXIT_USAGE)
		ctl_queue_usage(stderr);
	return rc;
}
