#include "master/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "util/fsx.h"
#include "util/str.h"

/* One descriptor per session (two with a commit in flight): use what the
 * hard limit allows, so max_connections is the limit and not EMFILE. */
void
daemon_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Into the background. Without a syslog daemon the log goes on to
 * stderr (a container's log), so stderr stays open then. */
static void
daemonize(bool keep_stderr)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		log_fatal("event=start-error error=\"fork: %s\"", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (!keep_stderr)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

void
daemon_start_logging(bool foreground)
{
	if (foreground)
		return;
	bool has_syslog = log_syslog_available();
	daemonize(!has_syslog);
	if (has_syslog)
		log_init("mailoutd", false);
	else
		log_warn("event=log-fallback reason=\"no syslog socket at %s\" note=\"logging to "
		         "stderr\"",
		         LOG_SYSLOG_SOCKET);
}

/* The pid file, made new (never through a link someone left there). */
void
daemon_write_pid_file(const char *path)
{
	char pid[32];
	int fd;

	if (path[0] == '\0')
		return;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	str_fmt(pid, sizeof(pid), "%d\n", (int)getpid());
	if (fd < 0 || fsx_write_all(fd, pid, strlen(pid)) != 0)
		log_fatal("event=start-error error=\"pid_file %s: %s\"", path, strerror(errno));
	close(fd);
}
