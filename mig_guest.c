// SPDX-License-Identifier: GPL-2.0-or-later
/* mig_guest.c - MIG_SEC_GUEST: the guest's addresses and lease
 *
 * DOC: Theory of operation
 *
 * The first section of every stream: the addresses the guest was given
 * and those it uses, so that the target hands out the same lease.  The
 * section table in migrate.c points here; doc/migration.md has the
 * layout (struct mig_guest in mig_wire.h).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "mig_guest.h"
#include "mig_wire.h"
#include "log.h"

/**
 * mig_guest_save() - MIG_SEC_GUEST: the guest's addresses and lease
 * @c:		Execution context
 * @b:		Buffer to append to
 *
 * Return: 0, -ENOMEM
 */
int mig_guest_save(struct ctx *c, struct mig_buf *b)
{
	struct mig_guest g = { 0 };

	memcpy(g.mac, c->guest_mac, sizeof(g.mac));
	g.mac_set = c->guest_mac_set;
	g.v4 = c->v4;
	g.v6 = c->v6;
	g.prefix4 = (uint8_t)c->ip4.prefix_len;
	g.prefix6 = (uint8_t)c->ip6.prefix_len;
	memcpy(g.addr4, &c->ip4.addr, 4);
	memcpy(g.addr4_seen, &c->ip4.addr_seen, 4);
	memcpy(g.addr6, &c->ip6.addr, 16);
	memcpy(g.addr6_seen, &c->ip6.addr_seen, 16);
	memcpy(g.addr6_ll_seen, &c->ip6.addr_ll_seen, 16);
	return mig_buf_put(b, &g, sizeof(g));
}

/**
 * mig_guest_check() - Check a MIG_SEC_GUEST payload
 * @c:		Execution context
 * @p:		Payload
 * @len:	Its length
 *
 * Return: 0, -EINVAL if malformed
 */
int mig_guest_check(const struct ctx *c, const uint8_t *p, size_t len)
{
	struct mig_guest g;

	(void)c;
	if (len != sizeof(g))
		return -EINVAL;
	memcpy(&g, p, sizeof(g));
	if (g.mac_set > 1 || g.v4 > 1 || g.v6 > 1 || g.prefix4 > 32 ||
	    g.prefix6 > 128)
		return -EINVAL;
	return 0;
}

/**
 * mig_guest_load() - Apply MIG_SEC_GUEST: the guest keeps its addresses
 * @c:		Execution context
 * @p:		Checked payload
 * @len:	Its length
 *
 * The guest doesn't ask again for the address it holds: if our own
 * configuration differs, its lease wins, so renewals keep it.
 *
 * Return: 0
 */
int mig_guest_load(struct ctx *c, const uint8_t *p, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct mig_guest g;

	ASSERT(len == sizeof(g));
	memcpy(&g, p, sizeof(g));

	if (g.mac_set) {
		memcpy(c->guest_mac, g.mac, sizeof(c->guest_mac));
		c->guest_mac_set = true;
	}
	if (g.v4 && c->v4) {
		if (memcmp(&c->ip4.addr, g.addr4, 4) != 0)
			info("migrate: guest keeps its IPv4 lease %s (not %s)",
			     inet_ntop(AF_INET, g.addr4, a, sizeof(a)),
			     inet_ntop(AF_INET, &c->ip4.addr, b, sizeof(b)));
		memcpy(&c->ip4.addr, g.addr4, 4);
		c->ip4.prefix_len = g.prefix4;
		memcpy(&c->ip4.addr_seen, g.addr4_seen, 4);
	}
	if (g.v6 && c->v6) {
		if (memcmp(&c->ip6.addr, g.addr6, 16) != 0)
			info("migrate: guest keeps its IPv6 lease %s (not %s)",
			     inet_ntop(AF_INET6, g.addr6, a, sizeof(a)),
			     inet_ntop(AF_INET6, &c->ip6.addr, b, sizeof(b)));
		memcpy(&c->ip6.addr, g.addr6, 16);
		c->ip6.prefix_len = g.prefix6;
		memcpy(&c->ip6.addr_seen, g.addr6_seen, 16);
		memcpy(&c->ip6.addr_ll_seen, g.addr6_ll_seen, 16);
	}
	return 0;
}
