/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TCP_MIG_WIRE_H
#define TCP_MIG_WIRE_H

#include "flow.h"
#include "mig_buf.h"
#include "mig_wire.h"

#define TCP_MIG_CONN_MAX	FLOW_MAX	/* records in one section */
#define TCP_MIG_ADDR_MAX	(TCP_MIG_CONN_MAX * 4)	/* four each */

/**
 * struct tcp_mig_table - Address table of a MIG_SEC_TCP2 payload
 * @p:		Addresses, 16 bytes each, within the payload
 * @n:		How many
 */
struct tcp_mig_table {
	const uint8_t *p;
	uint32_t n;
};

void tcp_mig_addrs_reset(void);
int tcp_mig_rec_put(const struct mig_tcp_conn *r, struct mig_tcp_rec *w);
int tcp_mig_addrs_put(struct mig_buf *b);
int tcp_mig_rec_get(const uint8_t *w, const struct tcp_mig_table *t,
		    struct mig_tcp_conn *r);
long tcp_mig_table_find(const uint8_t *p, size_t len,
			struct tcp_mig_table *t, size_t *recs_len);

#endif /* TCP_MIG_WIRE_H */
