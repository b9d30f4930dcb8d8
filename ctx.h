/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctx.h - struct ctx: everything the process knows, made once in main()
 *
 * DOC: Theory of operation
 *
 * The configuration conf.c fills in and the state every module is handed
 * as its first argument, "c".  This header sits at the bottom of the
 * layering, with util.h: the vhost-user device is reached through a
 * pointer (the loop owns it), so that any file can include this one
 * without pulling in the vhost-user layer.  The loop's own definitions stay in passt.c.
 */
#ifndef CTX_H
#define CTX_H

#include <limits.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "inany.h"
#include "util.h"

struct vu_dev;

#define MAXDNS			4
#define MAXDNSRCH		4
#define DNSRCH_LEN		254
#define HOSTNAME_LEN		64
#define MTU_DEFAULT		65520
#define MTU_MIN			576	/* RFC 791 minimum for IPv4 */
#define MTU_MAX			65520
#define ETH_MAX_FRAME		(ETH_HLEN + MTU_MAX)

#define FWD_RULES_MAX		256	/* forwarding rules per protocol */
#define FWD_SLOTS_MAX		(2 * 65536)	/* host ports, all rules of a
						 * protocol together */

/**
 * struct fwd_rule - One range of host ports forwarded to the guest
 * @addr:	Host address to bind, IPv4-mapped for AF_INET; unspecified
 *		for any address of @af
 * @ifname:	Interface to bind to (SO_BINDTODEVICE), empty for none
 * @slot:	Index of @first in the protocol's table of listening
 *		sockets (tcp_listen.c, udp.c): rules take consecutive slots
 * @first:	First host port
 * @last:	Last host port, >= @first
 * @to:		Guest port @first maps to; the range maps one to one
 * @af:		AF_INET or AF_INET6 (@addr's family), or AF_UNSPEC: any
 *		address, every enabled family
 * @weak:	From "all" or exclusions only: a port we can't bind, or in
 *		the host's ephemeral range, is skipped quietly
 * @opt:	Number of the -t/-u option it came from, from 1, for messages
 */
struct fwd_rule {
	union inany_addr addr;
	char ifname[IFNAMSIZ];
	uint32_t slot;
	uint16_t first;
	uint16_t last;
	uint16_t to;
	uint8_t af;
	bool weak;
	uint16_t opt;
};

/**
 * struct fwd_ports - Port forwarding for one protocol (host to guest)
 * @n:		Rules in use, 0: nothing forwarded ("none")
 * @opts:	-t or -u options parsed so far
 * @slots:	Slots taken by the rules, see struct fwd_rule
 * @rules:	Rules, in the order given; no two bind the same address,
 *		interface and port
 */
struct fwd_ports {
	unsigned n;
	unsigned opts;
	uint32_t slots;
	struct fwd_rule rules[FWD_RULES_MAX];
};

/**
 * struct ip4_ctx - IPv4 configuration, all addresses in network order
 * @addr:	Address given to the guest (DHCP), from -a or the host's
 * @prefix_len:	Prefix length of @addr
 * @gw:		Default gateway, from -g or the host's; maps to host loopback
 * @dns:	DNS servers announced to the guest, 0.0.0.0 terminated
 * @addr_seen:	Source address last seen from the guest
 * @dns_host:	Loopback resolver the host uses (e.g. 127.0.0.53), from
 *		resolv.conf: queries to a @dns address on port 53 go there;
 *		0.0.0.0 if none
 */
struct ip4_ctx {
	struct in_addr addr;
	int prefix_len;
	struct in_addr gw;
	struct in_addr dns[MAXDNS + 1];
	struct in_addr addr_seen;
	struct in_addr dns_host;
};

/**
 * struct ip6_ctx - IPv6 configuration
 * @addr:	Address given to the guest, from -a or the host's
 * @prefix_len:	Prefix length of @addr
 * @gw:		Default gateway, from -g or the host's
 * @dns:	DNS servers, :: terminated
 * @addr_seen:	Global source address last seen from the guest
 * @addr_ll_seen: Link-local source address last seen from the guest
 * @our_ll:	Our link-local address, as seen by the guest
 * @dns_host:	Loopback resolver the host uses (::1), from resolv.conf,
 *		:: if none
 */
struct ip6_ctx {
	struct in6_addr addr;
	int prefix_len;
	struct in6_addr gw;
	struct in6_addr dns[MAXDNS + 1];
	struct in6_addr addr_seen;
	struct in6_addr addr_ll_seen;
	struct in6_addr our_ll;
	struct in6_addr dns_host;
};

/**
 * struct ctx - Execution context: everything the process knows
 * @mode_vu:	--vhost-user given (the only mode we implement)
 * @sock_path:	vhost-user socket path
 * @repair_path: Socket passt-repair connects to (default @sock_path.repair)
 * @repair_listen_fd: Listening socket at @repair_path, -1 if none
 * @repair_fd:	Connected passt-repair helper, -1 if none
 * @fd_conn:	--fd: already connected vhost-user socket, -1 if none
 * @one_off:	Exit when the first front-end disconnects
 * @foreground:	Don't daemonise
 * @pid_file:	Path to write our PID to, empty if none
 * @debug, @trace, @quiet: Log levels
 * @log_file:	Log file path, empty for syslog/stderr
 * @log_size:	Log file size limit, bytes
 * @pcap:	-p: capture file for guest frames, empty if none
 * @state_copy:	--state-copy: directory for copies of migration state
 *		streams (mig_copy.c), empty if none
 * @runas:	--runas: user to become when started as root, empty: nobody
 * @mtu:	MTU given to the guest (DHCP option 26, NDP)
 * @our_mac:	MAC address of the gateway as seen by the guest
 * @guest_mac:	Guest's MAC (-M or learnt from its frames)
 * @ifi4, @ifi6: Host interface index for IPv4/IPv6 defaults, 0 if none
 * @ifname:	-i: host interface name for the defaults
 * @ip4, @ip6:	Address configuration
 * @v4, @v6:	IPv4 and IPv6 enabled
 * @dns_search:	Search domains, in order, empty-string terminated
 * @hostname:	-H: hostname for DHCP option 12, empty if none
 * @fqdn:	--fqdn: FQDN for DHCP option 81, empty if none
 * @tcp, @udp:	Port forwarding specs (-t, -u)
 * @epollfd:	The epoll instance
 * @timerfd:	Periodic timer
 * @vdev:	The vhost-user device (passt.c owns it)
 * @now:	Time of the current batch of events (CLOCK_MONOTONIC)
 */
struct ctx {
	bool mode_vu;
	char sock_path[108];
	char repair_path[108];
	int repair_listen_fd;
	int repair_fd;
	int fd_conn;
	bool one_off;
	bool foreground;
	char pid_file[PATH_MAX];
	bool debug, trace, quiet;
	char log_file[PATH_MAX];
	size_t log_size;
	char pcap[PATH_MAX];
	char state_copy[PATH_MAX];
	char runas[64];

	unsigned mtu;
	uint8_t our_mac[ETH_ALEN];
	uint8_t guest_mac[ETH_ALEN];
	bool guest_mac_set;
	unsigned ifi4, ifi6;
	char ifname[16];
	struct ip4_ctx ip4;
	struct ip6_ctx ip6;
	bool v4, v6;
	char dns_search[MAXDNSRCH + 1][DNSRCH_LEN + 1];
	char hostname[HOSTNAME_LEN + 1];
	char fqdn[DNSRCH_LEN + 1];
	struct fwd_ports tcp, udp;

	int epollfd;
	int timerfd;
	struct vu_dev *vdev;
	struct timespec now;
};

#endif /* CTX_H */
