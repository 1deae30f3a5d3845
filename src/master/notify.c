#include "master/notify.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util/str.h"

static struct sockaddr_un target;
static socklen_t target_len; /* 0: not under systemd */

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(target.sun_path)) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&target, 0, sizeof(target));
	target.sun_family = AF_UNIX;
	memcpy(target.sun_path, path, n);
	if (path[0] == '@')
		target.sun_path[0] = '\0'; /* abstract: no NUL at the end counts */
	target_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	unsetenv("NOTIFY_SOCKET");
}

bool
notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int fd, n;
	bool ok;

	if (target_len == 0)
		return true;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return false;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	ok = sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&target, target_len) == n;
	close(fd);
	if (!ok)
		log_warn(
		    "event=notify-error note=\"systemd's notification socket refused a message\"");
	return ok;
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)ts.tv_sec * 1000000ULL +
	                                                    (unsigned long long)ts.tv_nsec / 1000);
}
