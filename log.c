// SPDX-License-Identifier: GPL-2.0-or-later
/* log.c - Logging to stderr, a size-limited file, or syslog
 *
 * DOC: Theory of operation
 *
 * Messages go to standard error until the daemon detaches, then to the log
 * file given with --log-file or, without one, to syslog.  The log file has
 * a size limit: when a write would pass it, the file is emptied and starts
 * again with a note saying so, so a guest that makes us log cannot fill the
 * disk.
 *
 * Rate limiting: nearly anything a front-end, guest, peer or the repair
 * helper does can make us log, so err(), warn() and info() (log.h) keep a
 * struct log_rl at each call site, and so do the *_ratelimit() names.  A
 * site logs a burst of LOG_RL_BURST lines at once; further lines in the
 * same window of LOG_RL_INTERVAL_MS are only counted.  Once the window is over, one line "FILE:LINE: N
 * similar messages suppressed" is written, at the priority of the site:
 * from the periodic timer (log_ratelimit_flush()), or before the site's
 * next line, whichever comes first, so a storm that stopped is accounted
 * for too.  A window that opens less than a window after the last line
 * held back lets only one line through: during a sustained storm a site
 * writes two lines per window (the summary and one sample), not a new
 * burst each time.  A whole window without a line gives the burst back.
 *
 * Why 5 lines and 5 s: a real event (a second front-end, a bad message)
 * still shows up at once, with its details, and a storm costs a site at
 * most 24 lines a minute, instead of the 8,000 a second seen with a
 * front-end reconnecting in a loop.  The kernel's printk rate limit uses
 * the same interval, so the two logs read alike.  Lines below the log
 * level are neither logged nor counted.  A start-up loop with more than
 * five lines from one site (ports that can't be bound, say) shows five
 * and the count; die() is never held back.
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
static struct log_rl *log_rl_list;	/* sites with lines held back */

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
 * log_now_ms() - Monotonic clock for the rate limiter
 *
 * Return: CLOCK_MONOTONIC, milliseconds
 *
 * #syscalls clock_gettime
 */
static long long log_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/**
 * log_rl_summary() - Write how many lines a site held back, if any
 * @rl:		Call site
 */
static void log_rl_summary(struct log_rl *rl)
{
	if (rl->suppressed)
		logmsg(rl->pri, "%s: %lu similar messages suppressed",
		       rl->site, rl->suppressed);
	rl->suppressed = 0;
}

/**
 * log_rl_pass() - Count a line of a rate-limited call site
 * @rl:		Call site
 * @pri:	Priority of the line
 *
 * Opens a new window if the last one is over, writing its summary first
 * if log_ratelimit_flush() didn't.
 *
 * Return: true if the line is to be written, false if held back
 */
bool log_rl_pass(struct log_rl *rl, int pri)
{
	bool storm;
	long long now;

	if (pri > log_lvl)
		return false;

	now = log_now_ms();
	if (!rl->start_ms || now - rl->start_ms >= LOG_RL_INTERVAL_MS) {
		log_rl_summary(rl);
		rl->start_ms = now;
		rl->printed = 0;
	}
	rl->pri = pri;

	storm = rl->last_drop_ms &&
		rl->start_ms - rl->last_drop_ms < LOG_RL_INTERVAL_MS;
	if (rl->printed < (storm ? 1U : LOG_RL_BURST)) {
		rl->printed++;
		return true;
	}

	rl->suppressed++;
	rl->last_drop_ms = now;
	if (!rl->listed) {
		rl->listed = true;
		rl->next = log_rl_list;
		log_rl_list = rl;
	}
	return false;
}

/**
 * log_ratelimit_flush() - Write the summary of every window that is over
 *
 * Called from the periodic timer: a storm that stopped gets its summary
 * even if the site never logs again.  The window itself ends with the
 * site's next line.
 */
void log_ratelimit_flush(void)
{
	long long now = log_now_ms();
	struct log_rl *rl;

	for (rl = log_rl_list; rl; rl = rl->next) {
		if (now - rl->start_ms >= LOG_RL_INTERVAL_MS)
			log_rl_summary(rl);
	}
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
