/*
 * policy_golden: reads a policy script and prints each verdict, for a diff
 * against an expected file (the model is Postfix smtpd_check.in / .ref).
 *
 *   config FILE          load a config (path relative to the script)
 *   listener NAME        the listener the next lines talk to
 *   device CIDR STATUS [EXPIRES] [legacy]   a registered device
 *   now ISO-DATE-TIME    the clock for expiry decisions
 *   client ADDRESS       connect verdict
 *   tls none|VERSION     the session's TLS state
 *   mail <ADDRESS>       MAIL verdict (TLS policy and address syntax)
 *   rcpt <ADDRESS>       RCPT verdict and the normal form
 *   # comment            echoed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "policy.h"
#include "smtp_cmd.h"
#include "util/str.h"

#include "util/isodate.h"

static struct config cfg;
static const struct listener_conf *listener;
static bool is_tls;
static bool is_restricted;
static bool is_utf8_txn; /* the last MAIL had SMTPUTF8 */
static struct device devices[64];
static size_t n_devices;
static int64_t now;

static void
do_device(char *args)
{
	char *w[4];
	size_t n = str_split(args, w, 4);
	struct device *d = &devices[n_devices];

	if (n < 2 || n_devices == 64 || !cidr_parse(w[0], &d->net) ||
	    !device_status_parse(w[1], &d->status)) {
		printf("  -> bad device line\n");
		return;
	}
	d->id = (int64_t)++n_devices;
	for (size_t i = 2; i < n && i < 4; i++) {
		if (strcmp(w[i], "legacy") == 0)
			d->legacy_tls = true;
		else if (isodate_parse_expiry(w[i], &d->expires_at))
			str_copy(d->expires, sizeof(d->expires), w[i]);
	}
}

static const struct device *
match(const struct sockaddr *sa)
{
	const struct device *best = NULL;

	for (size_t i = 0; i < n_devices; i++)
		if (cidr_contains(&devices[i].net, sa) &&
		    (best == NULL || devices[i].net.prefix > best->net.prefix))
			best = &devices[i];
	return best;
}

static void
do_client(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char why[256];

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
	} else {
		printf("  -> bad address\n");
		return;
	}
	const struct device *d = match((struct sockaddr *)&ss);

	is_restricted = d && d->legacy_tls && policy_device_is_valid(d, now);
	if (policy_check_connect(&cfg, listener, (struct sockaddr *)&ss, d, now, why,
	                         sizeof(why)) == OUT_OK)
		printf("  -> 220 ok%s\n", is_restricted ? " (legacy TLS: internal only)" : "");
	else
		printf("  -> 554 5.7.1 %s\n", why);
}

static void
do_command(const char *line)
{
	struct smtp_cmd c;
	enum smtp_cmd_err e = smtp_cmd_parse(line, strlen(line), is_utf8_txn, &c);
	char addr[ADDRESS_MAX];

	switch (policy_plaintext(&cfg, listener, is_tls, now)) {
	case PP_REFUSE:
		printf("  -> 530 5.7.0 needs STARTTLS\n");
		return;
	case PP_TEMPFAIL:
		printf("  -> 450 4.7.0 plaintext answered later (transition)\n");
		return;
	case PP_WARN:
		printf("  (plaintext accepted with a warning)\n");
		break;
	case PP_OK:
		break;
	}
	if (e != SMTP_CMD_OK) {
		printf("  -> 501 %s\n",
		       e == SMTP_CMD_ERR_ADDRESS ? address_strerror(c.addr_err) : "syntax");
		return;
	}
	if (c.verb == SMTP_MAIL) {
		address_format(&c.addr, addr, sizeof(addr));
		is_utf8_txn = c.smtputf8;
		printf("  -> 250 <%s>%s\n", addr, c.smtputf8 ? " SMTPUTF8" : "");
		return;
	}
	struct address a;
	policy_rcpt_address(&cfg, &c, &a);
	address_format(&a, addr, sizeof(addr));
	enum policy_rcpt v = policy_check_rcpt(&cfg, listener, &a, is_restricted);
	if (v == POLICY_RCPT_OK)
		printf("  -> 250 <%s>\n", addr);
	else
		printf("  -> 550 5.7.1 <%s> %s\n", addr, policy_rcpt_name(v));
}

static void
do_config(const char *script, const char *file)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(script, '/');
	struct buf errs;

	str_copyn(dir, sizeof(dir), script, slash ? (size_t)(slash - script) : 1);
	if (!slash)
		str_copy(dir, sizeof(dir), ".");
	str_fmt(path, sizeof(path), "%s/%s", dir, file);
	buf_init(&errs, 65536);
	if (config_load(path, &cfg, &errs) > 0) {
		printf("config errors:\n%s", buf_cstr(&errs));
		exit(1);
	}
	buf_free(&errs);
	listener = &cfg.listener[0];
}

int
main(int argc, char **argv)
{
	char line[1024];
	FILE *fp;

	if (argc != 2 || (fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: policy_golden SCRIPT\n");
		return 2;
	}
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		printf("%s\n", line);
		if (strncmp(line, "config ", 7) == 0) {
			do_config(argv[1], line + 7);
		} else if (strncmp(line, "listener ", 9) == 0) {
			for (size_t i = 0; i < cfg.n_listener; i++)
				if (strcmp(cfg.listener[i].name, line + 9) == 0)
					listener = &cfg.listener[i];
		} else if (strncmp(line, "device ", 7) == 0) {
			char copy[1024];
			str_copy(copy, sizeof(copy), line + 7);
			do_device(copy);
		} else if (strncmp(line, "now ", 4) == 0) {
			if (!isodate_parse_expiry(line + 4, &now))
				printf("  -> bad time\n");
			now -= strchr(line + 4, 'T') ? 0 : 86400; /* a plain day: its start */
		} else if (strncmp(line, "client ", 7) == 0) {
			do_client(line + 7);
		} else if (strncmp(line, "tls ", 4) == 0) {
			is_tls = strcmp(line + 4, "none") != 0;
		} else if (strncmp(line, "mail ", 5) == 0 || strncmp(line, "rcpt ", 5) == 0) {
			char cmd[1100];
			str_fmt(cmd, sizeof(cmd), "%s%s",
			        line[0] == 'm' ? "MAIL FROM:" : "RCPT TO:", line + 5);
			do_command(cmd);
		}
	}
	fclose(fp);
	return 0;
}
