#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/str.h"

enum log_level log_min_level = LOG_L_INFO;

static bool log_to_stderr = true;
static char log_ident[32] = "mailout";

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal", "bug"};
static const int syslog_prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_ALERT};

void
log_init(const char *ident, bool to_stderr)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_stderr = to_stderr;
	if (!to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

bool
log_syslog_available(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int types[] = {SOCK_DGRAM, SOCK_STREAM};
	bool ok = false;

	str_copy(sun.sun_path, sizeof(sun.sun_path), LOG_SYSLOG_SOCKET);
	for (size_t i = 0; i < 2 && !ok; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
	}
	return ok;
}

bool
log_to_stderr_enabled(void)
{
	return log_to_stderr;
}

void
log_set_level(enum log_level l)
{
	log_min_level = l;
}

const char *
log_level_name(enum log_level l)
{
	if ((unsigned)l > LOG_L_BUG)
		return "?";
	return level_names[l];
}

static void
log_vwrite(enum log_level l, const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	if (!log_to_stderr) {
		syslog(syslog_prio[l], "level=%s %s", level_names[l], line);
		return;
	}
	struct timespec now;
	struct tm tm;
	char ts[32];

	clock_now_ts(&now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One write per line so lines from several processes do not interleave. */
	char out[2200];
	int m =
	    snprintf(out, sizeof(out), "%s.%03ldZ %s[%d] level=%s %s\n", ts,
	             (long)(now.tv_nsec / 1000000), log_ident, (int)getpid(), level_names[l], line);
	if (m > 0)
		(void)!write(STDERR_FILENO, out,
		             (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
}

void
log_write(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	if (l < log_min_level)
		return;
	va_start(ap, fmt);
	log_vwrite(l, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatal_bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_BUG, fmt, ap);
	va_end(ap);
	abort();
}

char *
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size < 4) {
		if (size > 0)
			dst[0] = '\0';
		return dst;
	}
	/* Invariant: o + 4 <= size, so "..." and the NUL always fit. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

		if (o + (plain ? 1 : 4) + 4 > size) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (plain) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}
