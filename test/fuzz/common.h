/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test/fuzz/common.h - Helpers shared by the libFuzzer targets
 *
 * Nothing here knows a protocol but the one's-complement checksum the
 * frame oracles need, written again from RFC 1071 so that the daemon's own
 * checksum code is checked, not trusted.
 */

#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Crash on purpose, with a message: libFuzzer saves the input */
#define FUZZ_FAIL(...)	fuzz_fail(__FILE__, __LINE__, __VA_ARGS__)

void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

void fuzz_log_init(void);
void fuzz_seeds_or_go_on(void (*seeds)(const char *dir));
void fuzz_sysctl_set(const char *path, const char *val);
void fuzz_require_netns(void);

/**
 * struct fuzz_fds - Descriptors open before an input, to spot leaks after
 * @open:	One bit per descriptor number below FUZZ_FD_SCAN
 */
#define FUZZ_FD_SCAN	1024
struct fuzz_fds {
	uint8_t open[FUZZ_FD_SCAN / 8];
};

void fuzz_fds_snapshot(struct fuzz_fds *s);
void fuzz_fds_check(const struct fuzz_fds *s, const char *what);

int fuzz_seed_write(const char *dir, const char *name, const void *buf,
		    size_t len);
const char *fuzz_seed_dir(void);

extern volatile unsigned fuzz_sink;
void fuzz_touch(const void *p, size_t len);

uint32_t fuzz_sum(const void *buf, size_t len, uint32_t sum);
uint16_t fuzz_fold(uint32_t sum);

/**
 * struct fuzz_buf - A byte buffer being built, for seeds
 * @b:		Bytes
 * @len:	Bytes used
 */
struct fuzz_buf {
	uint8_t b[65536];
	size_t len;
};

void fb_put(struct fuzz_buf *f, const void *p, size_t len);
void fb_u8(struct fuzz_buf *f, uint8_t v);
void fb_le16(struct fuzz_buf *f, uint16_t v);
void fb_le32(struct fuzz_buf *f, uint32_t v);
void fb_le64(struct fuzz_buf *f, uint64_t v);
void fb_be16(struct fuzz_buf *f, uint16_t v);
void fb_be32(struct fuzz_buf *f, uint32_t v);

#endif /* FUZZ_COMMON_H */
