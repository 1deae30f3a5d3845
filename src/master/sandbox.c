#include "master/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/str.h"

/* Every child. */
static const int base[] = {
    /* memory and threads */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(membarrier),
    SCMP_SYS(getpriority),
    SCMP_SYS(setpriority),
    SCMP_SYS(prctl),
    SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
    /* time, randomness, identity */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(getrandom),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    /* signals and the end */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(tgkill),
    SCMP_SYS(kill),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* descriptors and the event loop */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(close),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(pipe),
    SCMP_SYS(pipe2),
    SCMP_SYS(eventfd2),
    SCMP_SYS(ioctl),
    SCMP_SYS(epoll_create),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    /* sockets: logging to syslog, and the ones we were handed */
    SCMP_SYS(socket),
    SCMP_SYS(socketpair),
    SCMP_SYS(connect),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    /* files: spool, registry (SQLite), admins */
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(statx),
    SCMP_SYS(lseek),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(getcwd),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate),
    SCMP_SYS(getdents64),
    SCMP_SYS(fadvise64),
    SCMP_SYS(flock),
    SCMP_SYS(umask),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchown),
    SCMP_SYS(mkdir),
};

static const int smtp[] = {SCMP_SYS(accept), SCMP_SYS(accept4)};
static const int web[] = {SCMP_SYS(accept), SCMP_SYS(accept4)};
/* Outbound SMTP, DNS through libunbound, the interface list (netlink). */
static const int queue[] = {SCMP_SYS(bind), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg)};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
/* LeakSanitizer stops the world with ptrace at exit; the runtimes read
 * /proc and map memory of their own. */
static const int sanitizer[] = {SCMP_SYS(ptrace),         SCMP_SYS(wait4),
                                SCMP_SYS(waitid),         SCMP_SYS(process_vm_readv),
                                SCMP_SYS(sched_getparam), SCMP_SYS(sched_setaffinity),
                                SCMP_SYS(getdents)};
#endif

/* A call outside the list: one line on stderr (where the log goes in the
 * foreground; syslog may not be reachable from a signal handler), then
 * SIGSYS with its default action. */
static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[96] = "mailoutd: level=bug event=sandbox-violation syscall=";
	char num[16];
	int n = si->si_syscall, k = 0;
	size_t len = strlen(line);

	(void)ctx;
	do
		num[k++] = (char)('0' + n % 10);
	while ((n /= 10) > 0 && k < 15);
	while (k > 0 && len + 2 < sizeof(line))
		line[len++] = num[--k];
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool
allow(scmp_filter_ctx f, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (calls[i] >= 0 && seccomp_rule_add(f, SCMP_ACT_ALLOW, calls[i], 0) != 0)
			return false;
	return true;
}

bool
sandbox_enter(enum sandbox_kind kind, char *err, size_t errlen)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	bool ok;
	int rc;

	if (f == NULL) {
		str_copy(err, errlen, "seccomp_init failed");
		return false;
	}
	sigaction(SIGSYS, &sa, NULL);
	ok = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) == 0 &&
	     allow(f, base, sizeof(base) / sizeof(base[0]));
	if (ok && kind == SANDBOX_SMTP)
		ok = allow(f, smtp, sizeof(smtp) / sizeof(smtp[0]));
	if (ok && kind == SANDBOX_WEB)
		ok = allow(f, web, sizeof(web) / sizeof(web[0]));
	if (ok && kind == SANDBOX_QUEUE)
		ok = allow(f, queue, sizeof(queue) / sizeof(queue[0]));
#ifdef SANITIZED
	if (ok)
		ok = allow(f, sanitizer, sizeof(sanitizer) / sizeof(sanitizer[0]));
#endif
	if (!ok) {
		str_copy(err, errlen, "seccomp_rule_add failed");
		seccomp_release(f);
		return false;
	}
	if ((rc = seccomp_load(f)) != 0)
		str_fmt(err, errlen, "seccomp_load: %s", strerror(-rc));
	seccomp_release(f);
	return rc == 0;
}
