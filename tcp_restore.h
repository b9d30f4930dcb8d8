/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_RESTORE_H
#define TCP_RESTORE_H

#include "ctx.h"
#include "mig_buf.h"
#include "mig_wire.h"

int tcp_mig_check(const struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_stage(struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_check2(const struct ctx *c, const uint8_t *p, size_t len);
int tcp_mig_stage2(struct ctx *c, const uint8_t *p, size_t len);
/**
 * enum tcp_mig_held - Activation: a connection whose addresses another
 *		       socket still holds (its source, on this host)
 * @TCP_MIG_HELD_WAIT_ALL:	Every connection waits for another try
 * @TCP_MIG_HELD_WAIT:		The others carry on; it waits for another try
 * @TCP_MIG_HELD_LOSE:		It is lost (logged); the others carry on
 */
enum tcp_mig_held {
	TCP_MIG_HELD_WAIT_ALL,
	TCP_MIG_HELD_WAIT,
	TCP_MIG_HELD_LOSE,
};

int tcp_mig_activate(struct ctx *c, enum tcp_mig_held held);
void tcp_mig_unstage(void);
bool tcp_mig_staged(void);

#endif /* TCP_RESTORE_H */
