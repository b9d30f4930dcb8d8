// SPDX-License-Identifier: GPL-2.0-or-later
/* log.c - Logging to stderr, a size-limited file, or syslog
 *
 * DOC: Theory of operation
 *
 * Messages go to standard error until the daemon detaches, then to the log
 * file given with --log-file or, without one, to syslog.  The log file has
 * a size limit: when a write would pass it, the file is emptied and starts
 * again with a note saying so, so a guest that makes us log cannot fill the
 * disk.  Peer-triggered messages go through the *_ratelimit() wrappers.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"

static int log_lvl = LOG_INFO;
static bool log_stderr = true;
static bool log_syslog;
static int log_fd = -1;
static size_t log_max, log_written;
static struct timespec log_start;

static const char *const pri_name[] = {
	"EMERG", "ALERT", "CRIT", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG",
	"TRACE",
};
static_assert(sizeof(pri_name) / sizeof(pri_name[0]) == LOG_TRACE + 1,
	      "a name per priority");

/**
 * log_set_level() - Set the most verbose priority that is still logged
 * @level:	LOG_ERR ... LOG_TRACE
 */
void log_set_level(int level)
{
	log_lvl = level;
}

/**
 * log_level() - Current log level
 *
 * Return: most verbose priority logged
 */
int log_level(void)
{
	return log_lvl;
}

/**
 * log_set_stderr() - Enable or disable logging to standard error
 * @on:		Log to stderr
 */
void log_set_stderr(bool on)
{
	log_stderr = on;
}

/**
 * log_set_syslog() - Enable or disable syslog (used when no file is given)
 * @on:		Log to syslog
 */
void log_set_syslog(bool on)
{
	if (on && !log_syslog)
		openlog("passt", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = on;
}

/**
 * log_open_file() - Log to a file from now on
 * @path:	Path of the log file, created or truncated
 * @max_size:	Size limit in bytes, 0 for none
 *
 * Return: 0 on success, -errno on failure
 */
int log_open_file(const char *path, size_t max_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	log_fd = fd;
	log_max = max_size;
	log_written = 0;
	return 0;
}

/**
 * log_file_write() - Append a line to the log file, respecting its size limit
 * @line:	Formatted line, newline-terminated
 * @len:	Length of @line
 *
 * #syscalls write ftruncate lseek
 */
static void log_file_write(const char *line, size_t len)
{
	static const char wrap[] = "--- log size limit reached, restarted ---\n";

	if (log_max && log_written + len > log_max) {
		if (ftruncate(log_fd, 0) == 0 && lseek(log_fd, 0, SEEK_SET) == 0) {
			log_written = 0;
			if (write_all(log_fd, wrap, sizeof(wrap) - 1) == 0)
				log_written = sizeof(wrap) - 1;
		}
	}
	if (write_all(log_fd, line, len) == 0)
		log_written += len;
}

/**
 * vlogmsg() - Format and emit one message
 * @pri:	Priority (syslog values, LOG_TRACE)
 * @fmt:	printf() format
 * @ap:		Arguments
 *
 * syslog() sends on the socket openlog() connected, or connects again;
 * with LOG_PID it asks for our PID each time.
 *
 * #syscalls clock_gettime writev getpid sendto socket connect
 */
static void vlogmsg(int pri, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec now;
	int n, m;

	if (pri > log_lvl)
		return;

	if (!log_start.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &log_start);
	clock_gettime(CLOCK_MONOTONIC, &now);

	n = snprintf(line, sizeof(line), "%lld.%04lld %s: ",
		     (long long)(now.tv_sec - log_start.tv_sec) -
		     (now.tv_nsec < log_start.tv_nsec),
		     (long long)((now.tv_nsec - log_start.tv_nsec +
				  1000000000L) % 1000000000L) / 100000,
		     pri_name[pri < LOG_TRACE ? pri : LOG_TRACE]);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)n + (size_t)m > sizeof(line) - 2)
		n = sizeof(line) - 2;
	else
		n += m;
	line[n++] = '\n';

	if (log_fd >= 0)
		log_file_write(line, n);
	if (log_stderr)
		(void)!write(STDERR_FILENO, line, n);
	if (log_syslog && log_fd < 0)
		syslog(pri < LOG_DEBUG ? pri : LOG_DEBUG, "%.*s", n - 1, line);
}

/**
 * logmsg() - Log a message at a priority
 * @pri:	Priority
 * @fmt:	printf() format
 */
void logmsg(int pri, const char *fmt, ...)
{
	va_list ap;
	int errno_saved = errno;

	va_start(ap, fmt);
	vlogmsg(pri, fmt, ap);
	va_end(ap);
	errno = errno_saved;
}

/**
 * die() - Log an error and exit: for start-up failures only
 * @fmt:	printf() format
 */
void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	_exit(EXIT_FAILURE);
}

/**
 * die_perror() - Log an error with strerror(errno) and exit
 * @fmt:	printf() format
 */
void die_perror(const char *fmt, ...)
{
	char buf[512];
	int errno_saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logmsg(LOG_ERR, "%s: %s", buf, strerror(errno_saved));
	_exit(EXIT_FAILURE);
}
