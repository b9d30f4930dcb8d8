/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>
#include <time.h>

#define LOG_TRACE	(LOG_DEBUG + 1)

/* Attributes spelt out: util.h includes this header, not the other way */
void logmsg(int pri, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void die_perror(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Rate limit of log lines a remote party can trigger, per call site */
#define LOG_RL_BURST		5	/* lines at once, after a quiet spell */
#define LOG_RL_INTERVAL_MS	5000	/* window; then one summary line */

/**
 * struct log_rl - State of one rate-limited call site (see log.c)
 * @site:	"file.c:line", named in the summary line
 * @pri:	Priority of the last line let through, for the summary
 * @start_ms:	Start of the current window, CLOCK_MONOTONIC milliseconds
 * @printed:	Lines let through in the current window
 * @suppressed:	Lines held back in the current window
 * @last_drop_ms: When a line was last held back, 0 if never: a window
 *		opened less than a window after that lets one line through,
 *		not a burst
 * @listed:	Linked into the list log_ratelimit_flush() walks
 * @next:	Next site in that list
 */
struct log_rl {
	const char *site;
	int pri;
	long long start_ms;
	unsigned int printed;
	unsigned long suppressed;
	long long last_drop_ms;
	bool listed;
	struct log_rl *next;
};

bool log_rl_pass(struct log_rl *rl, int pri);
void log_ratelimit_flush(void);

#define LOG_STR_(x)	#x
#define LOG_STR(x)	LOG_STR_(x)

/* Log through a per-call-site limiter (see log.c) */
#define logmsg_ratelimit(pri, ...)					\
	do {								\
		static struct log_rl rl_ = {				\
			.site = __FILE__ ":" LOG_STR(__LINE__),		\
		};							\
		if (log_rl_pass(&rl_, (pri)))				\
			logmsg((pri), __VA_ARGS__);			\
	} while (0)

/* Errors, warnings and notes are rate-limited at every call site: nearly
 * all of them can be triggered by a front-end, guest, peer or the helper,
 * and one that can't costs nothing.  Debug and trace lines, asked for by
 * the user, are not: the log file's size limit bounds them.
 */
#define err(...)	logmsg_ratelimit(LOG_ERR, __VA_ARGS__)
#define warn(...)	logmsg_ratelimit(LOG_WARNING, __VA_ARGS__)
#define info(...)	logmsg_ratelimit(LOG_INFO, __VA_ARGS__)
#define debug(...)	logmsg(LOG_DEBUG, __VA_ARGS__)
#define trace(...)	logmsg(LOG_TRACE, __VA_ARGS__)

/* Older names, for call sites that predate the limiter above */
#define err_ratelimit(...)	err(__VA_ARGS__)
#define warn_ratelimit(...)	warn(__VA_ARGS__)
#define info_ratelimit(...)	info(__VA_ARGS__)
#define debug_ratelimit(...)	logmsg_ratelimit(LOG_DEBUG, __VA_ARGS__)

int log_open_file(const char *path, size_t max_size);
void log_set_level(int level);
void log_set_stderr(bool on);
void log_set_syslog(bool on);
int log_level(void);

#endif /* LOG_H */
