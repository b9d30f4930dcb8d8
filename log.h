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

#define err(...)	logmsg(LOG_ERR, __VA_ARGS__)
#define warn(...)	logmsg(LOG_WARNING, __VA_ARGS__)
#define info(...)	logmsg(LOG_INFO, __VA_ARGS__)
#define debug(...)	logmsg(LOG_DEBUG, __VA_ARGS__)
#define trace(...)	logmsg(LOG_TRACE, __VA_ARGS__)

/* Log at most once per call site per second (for peer-triggered events) */
#define err_ratelimit(...)						\
	do {								\
		static time_t last_;					\
		time_t now_ = time(NULL);				\
		if (now_ != last_) {					\
			last_ = now_;					\
			err(__VA_ARGS__);				\
		}							\
	} while (0)
#define warn_ratelimit(...)						\
	do {								\
		static time_t last_;					\
		time_t now_ = time(NULL);				\
		if (now_ != last_) {					\
			last_ = now_;					\
			warn(__VA_ARGS__);				\
		}							\
	} while (0)

int log_open_file(const char *path, size_t max_size);
void log_set_level(int level);
void log_set_stderr(bool on);
void log_set_syslog(bool on);
int log_level(void);

#endif /* LOG_H */
