/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETLINK_H
#define NETLINK_H

int nl_route_default(int af, unsigned *ifi, void *gw);
int nl_addr_first(int af, unsigned ifi, void *addr, int *prefix_len);

#endif /* NETLINK_H */
