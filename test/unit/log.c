// SPDX-License-Identifier: GPL-2.0-or-later
/* test/unit/log.c - The rate limiter of log lines a remote party can trigger
 *
 * The monotonic clock is ours (--wrap=clock_gettime): each test moves it
 * by hand.  Lines go to a log file in a temporary directory, read back
 * and counted.  Each test logs from call sites of its own (the state is a
 * static per site), and the teardown flushes what a test left held back.
 */

/* WRAP: clock_gettime */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static long long fake_ms = 1000000;	/* CLOCK_MONOTONIC, ms */
static char tmpdir[64], logpath[96];

int __real_clock_gettime(clockid_t id, struct timespec *ts);

/* clock_gettime(), as log.o calls it: the fake clock for CLOCK_MONOTONIC */
int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id != CLOCK_MONOTONIC)
		return __real_clock_gettime(id, ts);
	ts->tv_sec = fake_ms / 1000;
	ts->tv_nsec = (fake_ms % 1000) * 1000000;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/passt-log-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	log_set_stderr(false);
	log_set_level(LOG_INFO);
	assert_int_equal(log_open_file(logpath, 0), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_ms += 60 * 1000;
	log_ratelimit_flush();
	unlink(logpath);
	assert_int_equal(rmdir(tmpdir), 0);
	return 0;
}

/* Lines in the log file (re-opened by each setup), and the last one */
static int log_lines(char *last, size_t size)
{
	char line[1200];
	FILE *f = fopen(logpath, "r");
	int n = 0;

	assert_non_null(f);
	if (last)
		*last = '\0';
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (last)
			snprintf(last, size, "%s", line);
	}
	fclose(f);
	return n;
}

/* Lines of the log file matching a substring */
static int log_count(const char *what)
{
	char line[1200];
	FILE *f = fopen(logpath, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, what);
	fclose(f);
	return n;
}

/* Sum of N over the "N similar messages suppressed" lines */
static unsigned long log_suppressed_sum(void)
{
	char line[1200], *p;
	FILE *f = fopen(logpath, "r");
	unsigned long sum = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!(p = strstr(line, " similar messages suppressed")))
			continue;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		sum += strtoul(p, NULL, 10);
	}
	fclose(f);
	return sum;
}

static void site_burst(int i)
{
	warn_ratelimit("burst %d", i);
}

/* Five lines at once, the rest held back, the summary before the next */
static void test_log_rl_burst_then_summary(void **state)
{
	char last[1200];
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		site_burst(i);
	assert_int_equal(log_lines(NULL, 0), LOG_RL_BURST);
	assert_int_equal(log_count("burst 4\n"), 1);
	assert_int_equal(log_count("burst 5\n"), 0);

	/* still the same window: nothing more */
	fake_ms += LOG_RL_INTERVAL_MS - 1;
	site_burst(100);
	assert_int_equal(log_lines(NULL, 0), LOG_RL_BURST);

	/* window over: the summary, naming the site, then the line */
	fake_ms += 1;
	site_burst(101);
	assert_int_equal(log_lines(last, sizeof(last)), LOG_RL_BURST + 2);
	assert_non_null(strstr(last, "WARN: burst 101\n"));
	assert_int_equal(log_count("WARN: test/unit/log.c:"), 1);
	assert_int_equal(log_count(": 96 similar messages suppressed\n"), 1);
}

static void site_storm(int i)
{
	err_ratelimit("storm %d", i);
}

/* A sustained storm: per window, the summary and one sample; every line
 * is accounted for; a quiet window gives the burst back
 */
static void test_log_rl_storm(void **state)
{
	int i, w, total = 0;

	(void)state;
	for (w = 0; w < 12; w++) {		/* a minute */
		for (i = 0; i < 1000; i++) {
			fake_ms += LOG_RL_INTERVAL_MS / 1000;
			site_storm(total++);
		}
	}
	/* 5 at first, then 2 per window of the 11 that followed */
	assert_int_equal(log_lines(NULL, 0), LOG_RL_BURST + 2 * 11);
	assert_int_equal(log_count("ERROR: storm "), LOG_RL_BURST + 11);

	/* the last window's count comes with the flush, once it is over */
	log_ratelimit_flush();
	assert_int_equal(log_lines(NULL, 0), LOG_RL_BURST + 2 * 11);
	fake_ms += LOG_RL_INTERVAL_MS / 1000;
	log_ratelimit_flush();
	log_ratelimit_flush();
	assert_int_equal(log_lines(NULL, 0), LOG_RL_BURST + 2 * 11 + 1);
	assert_int_equal(log_suppressed_sum() + log_count("ERROR: storm "),
			 total);

	/* the storm goes on: one sample per window, no burst... */
	for (i = 0; i < 3; i++)
		site_storm(total++);
	assert_int_equal(log_count("ERROR: storm "), LOG_RL_BURST + 12);

	/* ...until a whole window without any line gives the burst back */
	fake_ms += 2 * LOG_RL_INTERVAL_MS;
	for (i = 0; i < LOG_RL_BURST + 3; i++)
		site_storm(total++);
	assert_int_equal(log_count("ERROR: storm "),
			 LOG_RL_BURST + 12 + LOG_RL_BURST);
	fake_ms += LOG_RL_INTERVAL_MS;
	log_ratelimit_flush();
	assert_int_equal(log_suppressed_sum() + log_count("ERROR: storm "),
			 total);
}

static void site_one(void)
{
	warn_ratelimit("site one");
}

static void site_two(void)
{
	warn_ratelimit("site two");
}

/* Sites are limited each on its own */
static void test_log_rl_sites_apart(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		site_one();
	for (i = 0; i < 3; i++)
		site_two();
	assert_int_equal(log_count("site one"), LOG_RL_BURST);
	assert_int_equal(log_count("site two"), 3);
	fake_ms += LOG_RL_INTERVAL_MS;
	log_ratelimit_flush();
	assert_int_equal(log_count(" 45 similar messages suppressed"), 1);
	assert_int_equal(log_count("similar messages suppressed"), 1);
}

static void site_debug(void)
{
	debug_ratelimit("quiet");
}

static void site_info(void)
{
	info_ratelimit("chatty");
}

/* Lines below the log level are neither written nor counted */
static void test_log_rl_level(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		site_debug();
	fake_ms += LOG_RL_INTERVAL_MS;
	log_ratelimit_flush();
	assert_int_equal(log_lines(NULL, 0), 0);

	/* at debug level, the same site logs its burst */
	log_set_level(LOG_DEBUG);
	for (i = 0; i < 50; i++)
		site_debug();
	assert_int_equal(log_count("DEBUG: quiet"), LOG_RL_BURST);

	/* info passes at info level */
	log_set_level(LOG_INFO);
	site_info();
	assert_int_equal(log_count("INFO: chatty"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_log_rl_burst_then_summary),
		T(test_log_rl_storm),
		T(test_log_rl_sites_apart),
		T(test_log_rl_level),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
