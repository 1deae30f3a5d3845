/*
 * log: one event per line, key=value, to stderr (foreground) or syslog.
 * The level test happens before any formatting. Client-supplied text must
 * go through log_escape() before it reaches a format string argument.
 * Never blocks on anything but the write to stderr or the syslog socket.
 */
#ifndef MAILOUT_LOG_H
#define MAILOUT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_L_DEBUG, LOG_L_INFO, LOG_L_WARN, LOG_L_ERROR, LOG_L_FATAL, LOG_L_BUG };

extern enum log_level log_min_level;

void log_init(const char *ident, bool to_stderr);
void log_set_level(enum log_level);
bool log_to_stderr_enabled(void);
#define LOG_SYSLOG_SOCKET "/dev/log"
/* Whether a syslog daemon listens on LOG_SYSLOG_SOCKET: without one (a
 * container), syslog() would lose every line. */
bool log_syslog_available(void);
const char *log_level_name(enum log_level);
void log_write(enum log_level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log and exit(1): for start-up failures of the environment. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Log and abort(): for states the code should make impossible. */
void fatal_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Escape untrusted bytes for a log value: printable ASCII except '"' and
 * '\\' pass, everything else becomes \xNN. Always NUL-terminates; an
 * over-long input ends with "...". Returns dst. */
char *log_escape(char *dst, size_t size, const char *src, size_t len);

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_min_level <= LOG_L_DEBUG)                                                  \
			log_write(LOG_L_DEBUG, __VA_ARGS__);                                       \
	} while (0)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_min_level <= LOG_L_INFO)                                                   \
			log_write(LOG_L_INFO, __VA_ARGS__);                                        \
	} while (0)
#define log_warn(...)  log_write(LOG_L_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_L_ERROR, __VA_ARGS__)

#endif
