/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test/unit/common.h - fixtures shared by the unit tests
 *
 * What more than one test needs: the frame capture standing in for
 * vu_frame_send() (a test takes it with "WRAP: vu_frame_send"), the usual addresses of
 * the L2 responders' context, address parsers that fail the test on a typo,
 * a guard page for overread checks, and counts of what the process holds.
 */

#ifndef TEST_UNIT_COMMON_H
#define TEST_UNIT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <net/ethernet.h>

#include "inany.h"

struct ctx;

#define UNIT_FRAME_MAX	(ETH_HLEN + 65535)

/**
 * struct frame_capture - Frames handed to vu_frame_send() (__wrap_vu_frame_send())
 * @b:		Copy of the last frame
 * @len:	Its length, bytes
 * @count:	How many frames since unit_ctx_init()
 */
struct frame_capture {
	uint8_t b[UNIT_FRAME_MAX];
	size_t len;
	int count;
};

extern struct frame_capture sent_frame;

extern const uint8_t guest_mac[ETH_ALEN];
extern const uint8_t our_mac[ETH_ALEN];
extern const uint8_t bcast_mac[ETH_ALEN];
extern const char *guest_ll;

void unit_ctx_init(struct ctx *c);
void unit_ctx_ip4(struct ctx *c);
void unit_ctx_ip6(struct ctx *c);
struct in_addr a4(const char *s);
struct in6_addr a6(const char *s);
union inany_addr any4(const char *s);
union inany_addr any6(const char *s);
const uint8_t *at_guard(const uint8_t *data, size_t len);
int fd_count(void);
void netns_init(void);
struct mig_buf;
void sec_put(struct mig_buf *s, uint32_t id, const void *p, size_t len);
int maps_count(void);

#endif /* TEST_UNIT_COMMON_H */
