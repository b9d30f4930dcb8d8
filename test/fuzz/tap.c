// SPDX-License-Identifier: GPL-2.0-or-later
/* test/fuzz/tap.c - libFuzzer target: frames from the guest, and the host
 *
 * Frames go to tap_handler() as the TX queue would hand them over: ARP,
 * DHCP, DHCPv6, NDP, ICMP, TCP and UDP of both families, with the real
 * tcp.c, udp.c and icmp.c behind, and their real sockets.  Run inside a
 * fresh network namespace only (fuzz_require_netns() refuses otherwise):
 * lo is all there is, so nothing leaves the machine.  The gateway address
 * stands for the host's loopback, where this harness serves TCP and UDP
 * echo on port 8000 and UDP echo on port 53 (the DNS address we announce
 * goes there); the daemon forwards host port 9000 (TCP) and 9001 (UDP) to
 * the guest, and this harness connects and sends there on demand.
 *
 * Input: a configuration byte, then records [op][length, 16 bits LE][data]:
 *   cfg:  bit 0 IPv4 off, bit 1 IPv6 off, bit 2 guest MAC given (-M),
 *         bit 3 MTU 1500 (else 65520), bits 4-7 RX room: 0 unlimited,
 *         else that many frames minus one before vu_frame_send() fails with
 *         -ENOBUFS (refilled by op 6)
 *   op 0, 7: a guest frame, Ethernet header first
 *   op 1: time passes, data[0..1] ms (LE, default 100): TCP timer, then
 *         the ICMP, UDP and NDP timers
 *   op 2: a host peer connects to port 9000, over IPv6 if data[0] & 1
 *   op 3: host peer connection data[0] % 16 sends data[1...]
 *   op 4: host peer connection data[0] % 16 shuts down writing, or resets
 *         if data[1] & 1
 *   op 5: a host peer sends data[1...] to UDP port 9001, IPv6 if data[0] & 1
 *   op 6: the guest posts RX buffers: room refilled, tcp_rx_ready()
 * After each record, socket events are served (both the daemon's and this
 * harness's) until none are left, as the epoll loop would.  The clock is
 * ours: each input starts at the same time and each record adds 1 ms, and
 * getrandom() is wrapped to return zeros, so initial sequence numbers only
 * depend on the input, and libFuzzer can learn them from comparisons.
 *
 * Checked: every frame given to vu_frame_send() (wrapped, then discarded) comes
 * from our MAC, is ARP, IPv4 or IPv6, fits the MTU, has consistent
 * lengths and correct IPv4 header, TCP, UDP and ICMP checksums (verified
 * here by code of our own); after each input, once host peers are reset,
 * TCP flows dropped and idle timeouts expired, no flow and no descriptor
 * is left.
 *
 * FUZZ_SEED_DIR=dir makes the binary write its seed inputs there and exit
 * (in the namespace too: the TCP seeds answer the daemon's real SYN-ACK).
 */

/* WRAP: vu_frame_send getrandom */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "vu_dev.h"
#include "flow.h"
#include "fwd.h"
#include "icmp.h"
#include "ndp.h"
#include "pcap.h"
#include "tap.h"
#include "tcp.h"
#include "tcp_conn.h"
#include "tcp_listen.h"
#include "udp.h"
#include "common.h"

#define T0_S		1000		/* each input starts at this time */
#define ECHO_PORT	8000
#define DNS_PORT	53
#define FWD_TCP		9000
#define FWD_UDP		9001
#define PEER_PORT	40000		/* host peers connect from 40000 + slot */
#define UDP_PEER_PORT	41000
#define HS_MAX		16		/* host peer TCP sockets */
#define PUMP_ROUNDS	16
#define FRAME_MAX	(ETH_HLEN + 65535 + 4)

#define CFG_NO_V4	(1U << 0)
#define CFG_NO_V6	(1U << 1)
#define CFG_MAC_SET	(1U << 2)
#define CFG_MTU_1500	(1U << 3)
#define CFG_ROOM(c)	((c) >> 4)

enum op {
	OP_FRAME, OP_TIMER, OP_CONNECT, OP_WRITE, OP_CLOSE, OP_UDP, OP_RX_READY,
	OP_FRAME2, OP_COUNT
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);
int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt);

static const uint8_t our_mac[ETH_ALEN] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };
static const uint8_t guest_mac[ETH_ALEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

static struct ctx c;			/* the daemon's context */

/**
 * struct saved - What an input may change in the context, to restore
 * @v4, @v6:	IP versions enabled
 * @mtu:	MTU
 * @guest_mac:	Guest MAC address (learnt from frames)
 * @guest_mac_set: Guest MAC given (-M)
 * @ip4, @ip6:	Addresses, those seen from the guest included
 */
static struct {
	bool v4, v6;
	unsigned mtu;
	uint8_t guest_mac[ETH_ALEN];
	bool guest_mac_set;
	struct ip4_ctx ip4;
	struct ip6_ctx ip6;
} saved;

/* Roles of this harness's own sockets, as epoll tags */
enum hrole { H_LISTEN, H_UDP_ECHO, H_UDP_PEER, H_CONN };

/**
 * struct hsock - A host peer TCP connection of this harness
 * @fd:		Socket, -1 if the slot is free
 * @eof:	Peer shut down: not watched for input any more
 */
static struct hsock {
	int fd;
	bool eof;
} hs[HS_MAX];

static int hep = -1;			/* harness epoll instance */
static int udp_peer[2] = { -1, -1 };	/* IPv4, IPv6 peers for port 9001 */
static unsigned peer4_addr;		/* rotates 127.x.y.z for peers */
static int rx_room;			/* frames vu_frame_send() takes, -1: any */
static struct fuzz_fds fds0;		/* open before any input */
static bool verbose;			/* FUZZ_LOG=1: list frames to guest */

/**
 * struct cap - Frames sent to the guest, kept while writing seeds
 * @on:		Keep them
 * @f:		Frames
 * @len:	Their lengths
 * @n:		How many
 */
static struct {
	bool on;
	uint8_t f[64][2048];
	size_t len[64];
	unsigned n;
} cap;

/**
 * __wrap_getrandom() - No randomness: the same input behaves the same
 * @buf:	Filled with zeros
 * @len:	Bytes
 * @flags:	Ignored
 *
 * Return: @len
 */
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags)
{
	(void)flags;
	memset(buf, 0, len);
	return (ssize_t)len;
}

/**
 * l4_sum_ok() - Check a transport checksum, pseudo-header included
 * @v6:		IPv6 (else IPv4)
 * @src:	Source address, 4 or 16 bytes
 * @dst:	Destination address
 * @proto:	IPPROTO_*
 * @l4:		Transport header and payload
 * @len:	Length
 *
 * Return: true if correct (a zero UDP checksum over IPv4 means none)
 */
static bool l4_sum_ok(bool v6, const uint8_t *src, const uint8_t *dst,
		      uint8_t proto, const uint8_t *l4, size_t len)
{
	size_t alen = v6 ? 16 : 4;
	uint32_t sum = 0;
	uint8_t ph[8];

	if (proto == IPPROTO_UDP && !v6 && len >= 8 && !l4[6] && !l4[7])
		return true;
	if (proto != IPPROTO_ICMP) {
		sum = fuzz_sum(src, alen, 0);
		sum = fuzz_sum(dst, alen, sum);
		ph[0] = (uint8_t)(len >> 24);
		ph[1] = (uint8_t)(len >> 16);
		ph[2] = (uint8_t)(len >> 8);
		ph[3] = (uint8_t)len;
		ph[4] = ph[5] = ph[6] = 0;
		ph[7] = proto;
		sum = fuzz_sum(ph, sizeof(ph), sum);
	}
	return !fuzz_fold(fuzz_sum(l4, len, sum));
}

/**
 * frame_check() - Check a frame for the guest
 * @f:		Frame
 * @len:	Length
 */
static void frame_check(const uint8_t *f, size_t len)
{
	unsigned mtu = c.mtu ? c.mtu : MTU_DEFAULT;
	uint16_t type;

	if (len < ETH_HLEN || len > ETH_HLEN + mtu)
		FUZZ_FAIL("frame of %zu bytes, MTU %u", len, mtu);
	if (memcmp(f + ETH_ALEN, our_mac, ETH_ALEN))
		FUZZ_FAIL("frame not from our MAC address");
	type = (uint16_t)(f[12] << 8 | f[13]);

	if (type == ETHERTYPE_ARP) {
		if (len < ETH_HLEN + 28)
			FUZZ_FAIL("short ARP frame");
	} else if (type == ETHERTYPE_IP) {
		const uint8_t *ip = f + ETH_HLEN;
		size_t hl = (size_t)(ip[0] & 0xf) * 4;

		if (len < ETH_HLEN + 20 || ip[0] >> 4 != 4 || hl < 20 ||
		    (size_t)(ip[2] << 8 | ip[3]) != len - ETH_HLEN ||
		    len < ETH_HLEN + hl)
			FUZZ_FAIL("bad IPv4 header");
		if (fuzz_fold(fuzz_sum(ip, hl, 0)))
			FUZZ_FAIL("bad IPv4 header checksum");
		if ((ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP ||
		     ip[9] == IPPROTO_ICMP) &&
		    !l4_sum_ok(false, ip + 12, ip + 16, ip[9], ip + hl,
			       len - ETH_HLEN - hl))
			FUZZ_FAIL("bad checksum, IPv4 protocol %u", ip[9]);
	} else if (type == ETHERTYPE_IPV6) {
		const uint8_t *ip = f + ETH_HLEN;

		if (len < ETH_HLEN + 40 || ip[0] >> 4 != 6 ||
		    (size_t)(ip[4] << 8 | ip[5]) != len - ETH_HLEN - 40)
			FUZZ_FAIL("bad IPv6 header");
		if ((ip[6] == IPPROTO_TCP || ip[6] == IPPROTO_UDP ||
		     ip[6] == IPPROTO_ICMPV6) &&
		    !l4_sum_ok(true, ip + 8, ip + 24, ip[6], ip + 40,
			       len - ETH_HLEN - 40))
			FUZZ_FAIL("bad checksum, IPv6 next header %u", ip[6]);
	} else {
		FUZZ_FAIL("frame with ethertype 0x%04x", type);
	}
}

/**
 * __wrap_vu_frame_send() - Frames for the guest: checked, then dropped
 * @vdev:	Unused
 * @iov:	Frame
 * @cnt:	Entries in @iov
 *
 * Return: frame length, -ENOBUFS when the input ran the guest out of room
 */
int __wrap_vu_frame_send(struct vu_dev *vdev, const struct iovec *iov, size_t cnt)
{
	static uint8_t f[FRAME_MAX];
	size_t len = iov_size(iov, cnt);

	(void)vdev;
	if (len > sizeof(f))
		FUZZ_FAIL("frame of %zu bytes", len);
	iov_to_buf(iov, cnt, 0, f, len);
	frame_check(f, len);
	if (verbose)
		fprintf(stderr, "fuzz: frame to guest, %zu bytes, type %02x%02x,"
			" protocol %u\n", len, f[12], f[13],
			f[12] == 0x86 ? f[ETH_HLEN + 6] :
			f[13] == 0x06 ? 0 : f[ETH_HLEN + 9]);

	if (cap.on && cap.n < ARRAY_SIZE(cap.f) && len <= sizeof(cap.f[0])) {
		memcpy(cap.f[cap.n], f, len);
		cap.len[cap.n++] = len;
	}

	if (!rx_room)
		return -ENOBUFS;
	if (rx_room > 0)
		rx_room--;
	return (int)len;
}

/* The harness's own sockets */

/**
 * h_watch() - Add one of our sockets to the harness epoll instance
 * @fd:		Socket
 * @role:	enum hrole
 * @idx:	Slot in hs[] for H_CONN
 */
static void h_watch(int fd, enum hrole role, unsigned idx)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = (uint64_t)role << 32 | idx };

	ev.data.u64 |= (uint64_t)(unsigned)fd << 40;
	if (epoll_ctl(hep, EPOLL_CTL_ADD, fd, &ev))
		FUZZ_FAIL("epoll_ctl: %s", strerror(errno));
}

/**
 * hs_slot() - A free host peer slot
 *
 * Return: index, -1 if all are in use
 */
static int hs_slot(void)
{
	int i;

	for (i = 0; i < HS_MAX; i++) {
		if (hs[i].fd < 0)
			return i;
	}
	return -1;
}

/**
 * hs_close() - Close a host peer connection
 * @i:		Slot
 * @rst:	Reset it (SO_LINGER 0), else a plain close()
 */
static void hs_close(unsigned i, bool rst)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (hs[i].fd < 0)
		return;
	if (rst)
		setsockopt(hs[i].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(hs[i].fd);
	hs[i].fd = -1;
	hs[i].eof = false;
}

/**
 * h_event() - One event on a socket of ours: accept, echo, drain
 * @tag:	Role, slot and descriptor
 */
static void h_event(uint64_t tag)
{
	static uint8_t buf[1 << 16];
	enum hrole role = (enum hrole)((tag >> 32) & 0xff);
	unsigned idx = (unsigned)(tag & 0xffffffff);
	int fd = (int)(tag >> 40), s;
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	ssize_t n;

	switch (role) {
	case H_LISTEN:
		s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0)
			return;
		if ((n = hs_slot()) < 0) {
			close(s);
			return;
		}
		hs[n].fd = s;
		h_watch(s, H_CONN, (unsigned)n);
		break;
	case H_UDP_ECHO:
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&sa, &sl);
		if (n >= 0)
			sendto(fd, buf, (size_t)n, MSG_DONTWAIT,
			       (struct sockaddr *)&sa, sl);
		break;
	case H_UDP_PEER:
		recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		break;
	case H_CONN:
		if (idx >= HS_MAX || hs[idx].fd != fd)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else if (!n) {		/* peer closed: so do we */
			epoll_ctl(hep, EPOLL_CTL_DEL, fd, NULL);
			shutdown(fd, SHUT_WR);
			hs[idx].eof = true;
		} else if (errno != EAGAIN) {
			hs_close(idx, true);
		}
		break;
	}
}

/**
 * d_event() - One event on a socket of the daemon, as passt.c's loop
 * @e:		Event
 */
static void d_event(const struct epoll_event *e)
{
	union evtag tag = { .u64 = e->data.u64 };

	switch (tag.kind) {
	case EV_TCP:
		tcp_sock_handler(&c, tag, e->events);
		break;
	case EV_TCP_LISTEN:
		tcp_listen_handler(&c, tag, e->events);
		break;
	case EV_UDP:
		udp_sock_handler(&c, tag, e->events);
		break;
	case EV_UDP_LISTEN:
		udp_listen_handler(&c, tag, e->events);
		break;
	case EV_ICMP:
		icmp_sock_handler(&c, tag, e->events);
		break;
	default:
		FUZZ_FAIL("event of kind %u registered", tag.kind);
	}
}

/**
 * pump() - Serve socket events on both sides until there are none
 */
static void pump(void)
{
	struct epoll_event ev[64];
	int round, n, m, i;

	for (round = 0; round < PUMP_ROUNDS; round++) {
		n = epoll_wait(hep, ev, ARRAY_SIZE(ev), 0);
		for (i = 0; i < n; i++)
			h_event(ev[i].data.u64);

		m = epoll_wait(c.epollfd, ev, ARRAY_SIZE(ev), 0);
		for (i = 0; i < m; i++)
			d_event(&ev[i]);
		flow_defer_handler();

		if (n <= 0 && m <= 0)
			break;
	}
}

/* Records */

/**
 * op_connect() - A host peer connects to the forwarded TCP port
 * @v6:		Over IPv6
 */
static void op_connect(bool v6)
{
	struct sockaddr_storage src = { 0 }, dst = { 0 };
	int i = hs_slot(), fd, one = 1;
	socklen_t sl;

	if (i < 0)
		return;
	fd = socket(v6 ? AF_INET6 : AF_INET,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		FUZZ_FAIL("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

	if (v6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		s->sin6_addr = d->sin6_addr = in6addr_loopback;
		s->sin6_port = htons((uint16_t)(PEER_PORT + i));
		d->sin6_port = htons(FWD_TCP);
		sl = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&src;
		struct sockaddr_in *d = (struct sockaddr_in *)&dst;

		/* A new source address each time: no old 4-tuple in the way,
		 * and the guest sees the gateway address anyway
		 */
		peer4_addr = peer4_addr % 0xfffffd + 1;
		s->sin_family = d->sin_family = AF_INET;
		s->sin_addr.s_addr = htonl(0x7f000000 | peer4_addr);
		d->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->sin_port = htons((uint16_t)(PEER_PORT + i));
		d->sin_port = htons(FWD_TCP);
		sl = sizeof(*s);
	}

	if (bind(fd, (struct sockaddr *)&src, sl) ||
	    (connect(fd, (struct sockaddr *)&dst, sl) && errno != EINPROGRESS)) {
		close(fd);
		return;
	}
	hs[i].fd = fd;
	h_watch(fd, H_CONN, (unsigned)i);
}

/**
 * op_udp() - A host peer sends a datagram to the forwarded UDP port
 * @v6:		Over IPv6
 * @data:	Payload
 * @len:	Length
 */
static void op_udp(bool v6, const uint8_t *data, size_t len)
{
	struct sockaddr_in6 d6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(FWD_UDP),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in d4 = { .sin_family = AF_INET,
				  .sin_port = htons(FWD_UDP),
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };

	if (v6)
		sendto(udp_peer[1], data, len, MSG_DONTWAIT,
		       (struct sockaddr *)&d6, sizeof(d6));
	else
		sendto(udp_peer[0], data, len, MSG_DONTWAIT,
		       (struct sockaddr *)&d4, sizeof(d4));
}

/**
 * timers() - Time passes: the periodic work of passt.c's timer handler
 * @ms:		Milliseconds
 */
static void timers(unsigned ms)
{
	c.now.tv_sec += ms / 1000;
	c.now.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (c.now.tv_nsec >= 1000000000L) {
		c.now.tv_sec++;
		c.now.tv_nsec -= 1000000000L;
	}
	tcp_timer(&c);
	icmp_timer(&c);
	udp_timer(&c);
	ndp_timer(&c);
}

/**
 * record() - Run one record
 * @op:		Opcode
 * @d:		Data
 * @len:	Length of @d
 */
static void record(uint8_t op, const uint8_t *d, size_t len)
{
	unsigned k = len ? d[0] % HS_MAX : 0;

	switch (op % OP_COUNT) {
	case OP_FRAME:
	case OP_FRAME2:
		tap_handler(&c, d, len);
		break;
	case OP_TIMER:
		timers(len >= 2 ? (unsigned)(d[0] | d[1] << 8) : 100);
		break;
	case OP_CONNECT:
		op_connect(len && (d[0] & 1));
		break;
	case OP_WRITE:
		if (hs[k].fd >= 0 && len > 1)
			send(hs[k].fd, d + 1, len - 1,
			     MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	case OP_CLOSE:
		if (len > 1 && (d[1] & 1))
			hs_close(k, true);
		else if (hs[k].fd >= 0)
			shutdown(hs[k].fd, SHUT_WR);
		break;
	case OP_UDP:
		if (len)
			op_udp(d[0] & 1, d + 1, len - 1);
		break;
	case OP_RX_READY:
		rx_room = -1;
		tcp_rx_ready(&c);
		break;
	}
	pump();

	c.now.tv_nsec += 1000000L;
	if (c.now.tv_nsec >= 1000000000L) {
		c.now.tv_sec++;
		c.now.tv_nsec -= 1000000000L;
	}
}

/**
 * input_start() - Context as configured, clock at its start
 * @cfg:	Configuration byte
 */
static void input_start(uint8_t cfg)
{
	c.v4 = saved.v4 && !(cfg & CFG_NO_V4);
	c.v6 = saved.v6 && !(cfg & CFG_NO_V6);
	c.mtu = (cfg & CFG_MTU_1500) ? 1500 : saved.mtu;
	c.guest_mac_set = !!(cfg & CFG_MAC_SET);
	if (c.guest_mac_set)
		memcpy(c.guest_mac, guest_mac, ETH_ALEN);
	rx_room = CFG_ROOM(cfg) ? (int)CFG_ROOM(cfg) - 1 : -1;
	c.now.tv_sec = T0_S;
	c.now.tv_nsec = 0;
}

/**
 * input_end() - Reset host peers, drop and expire flows, check for leaks
 */
static void input_end(void)
{
	unsigned i;
	int idx;

	for (i = 0; i < HS_MAX; i++)
		hs_close(i, true);
	rx_room = -1;
	pump();

	for (idx = flow_next(FLOW_TCP, -1); idx >= 0;
	     idx = flow_next(FLOW_TCP, idx))
		tcp_conn_drop(&c, (unsigned)idx);
	c.now.tv_sec += 300;		/* past UDP and ICMP idle timeouts */
	udp_timer(&c);
	icmp_timer(&c);
	flow_defer_handler();

	if (flow_stats()->active)
		FUZZ_FAIL("%u flows left after expiry", flow_stats()->active);
	fuzz_fds_check(&fds0, "the input's flows were closed");

	c.v4 = saved.v4;
	c.v6 = saved.v6;
	c.mtu = saved.mtu;
	memcpy(c.guest_mac, saved.guest_mac, ETH_ALEN);
	c.guest_mac_set = saved.guest_mac_set;
	c.ip4 = saved.ip4;
	c.ip6 = saved.ip6;
}

/**
 * LLVMFuzzerTestOneInput() - Run the records of one input
 * @data:	Configuration byte and records
 * @size:	Length of @data
 *
 * Return: 0
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 1;

	if (!size)
		return 0;
	input_start(data[0]);

	while (size - off >= 3) {
		size_t len = (size_t)(data[off + 1] | data[off + 2] << 8);
		uint8_t op = data[off];

		off += 3;
		len = MIN(len, size - off);
		record(op, data + off, len);
		off += len;
	}

	input_end();
	return 0;
}

/* Set-up */

/**
 * h_socket() - A socket of ours, bound to loopback, watched
 * @v6:		IPv6 (::1) or IPv4 (127.0.0.1)
 * @type:	SOCK_STREAM (listening) or SOCK_DGRAM
 * @port:	Port
 * @role:	enum hrole
 *
 * Return: descriptor
 */
static int h_socket(bool v6, int type, uint16_t port, enum hrole role)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };
	int fd = socket(v6 ? AF_INET6 : AF_INET,
			type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		FUZZ_FAIL("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		 v6 ? sizeof(a6) : sizeof(a4)) ||
	    (type == SOCK_STREAM && listen(fd, 64)))
		FUZZ_FAIL("bind to port %u: %s", port, strerror(errno));
	h_watch(fd, role, 0);
	return fd;
}

/**
 * ctx_setup() - The context conf() would make for a typical command line
 *
 * "passt -a 10.0.2.15 -n 24 -g 10.0.2.2 -D 10.0.2.3 -a 2001:db8::15
 *  -g 2001:db8::1 -D 2001:db8::53 -S example.com -H guest -t 9000
 *  -u 9001 -p /dev/null", with the host resolver on loopback.
 */
static void ctx_setup(void)
{
	static struct vu_dev vdev;	/* the wrapped output ignores it */
	char err[FWD_ERR_LEN];

	c.vdev = &vdev;
	c.mode_vu = true;
	c.fd_conn = c.repair_fd = c.repair_listen_fd = c.timerfd = -1;
	c.mtu = MTU_DEFAULT;
	memcpy(c.our_mac, our_mac, ETH_ALEN);
	c.v4 = c.v6 = true;

	inet_pton(AF_INET, "10.0.2.15", &c.ip4.addr);
	c.ip4.prefix_len = 24;
	inet_pton(AF_INET, "10.0.2.2", &c.ip4.gw);
	inet_pton(AF_INET, "10.0.2.3", &c.ip4.dns[0]);
	inet_pton(AF_INET, "127.0.0.1", &c.ip4.dns_host);

	inet_pton(AF_INET6, "2001:db8::15", &c.ip6.addr);
	c.ip6.prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8::1", &c.ip6.gw);
	inet_pton(AF_INET6, "fe80::1", &c.ip6.our_ll);
	inet_pton(AF_INET6, "2001:db8::53", &c.ip6.dns[0]);
	c.ip6.dns_host = in6addr_loopback;

	strcpy(c.dns_search[0], "example.com");
	strcpy(c.dns_search[1], "lab.example.org.");
	strcpy(c.hostname, "guest");
	strcpy(c.fqdn, "guest.example.com");
	strcpy(c.pcap, "/dev/null");

	if (fwd_ports_parse(&c.tcp, "9000", err, sizeof(err)) ||
	    fwd_ports_parse(&c.udp, "9001", err, sizeof(err)))
		FUZZ_FAIL("port specs");

	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	if (c.epollfd < 0)
		FUZZ_FAIL("epoll_create1: %s", strerror(errno));

	flow_init();
	pcap_init(&c);
	if (tcp_init(&c) || udp_init(&c))
		FUZZ_FAIL("can't bind forwarded ports");
	tcp_listen_start(&c);		/* as once the guest's queues run */

	saved.v4 = c.v4;
	saved.v6 = c.v6;
	saved.mtu = c.mtu;
	saved.guest_mac_set = c.guest_mac_set;
	memcpy(saved.guest_mac, c.guest_mac, ETH_ALEN);
	saved.ip4 = c.ip4;
	saved.ip6 = c.ip6;
}

/**
 * harness_setup() - Our servers and host peers on loopback
 */
static void harness_setup(void)
{
	unsigned i;
	int v6;

	hep = epoll_create1(EPOLL_CLOEXEC);
	if (hep < 0)
		FUZZ_FAIL("epoll_create1: %s", strerror(errno));
	for (i = 0; i < HS_MAX; i++)
		hs[i].fd = -1;
	for (v6 = 0; v6 < 2; v6++) {
		h_socket(v6, SOCK_STREAM, ECHO_PORT, H_LISTEN);
		h_socket(v6, SOCK_DGRAM, ECHO_PORT, H_UDP_ECHO);
		h_socket(v6, SOCK_DGRAM, DNS_PORT, H_UDP_ECHO);
		udp_peer[v6] = h_socket(v6, SOCK_DGRAM, UDP_PEER_PORT,
					H_UDP_PEER);
	}
}

/* Seeds */

static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/**
 * struct pkt - Addresses of a packet being built
 * @v6:		IPv6
 * @src:	Source address
 * @dst:	Destination address
 * @dmac:	Destination MAC
 * @hlim:	Hop limit or TTL
 */
struct pkt {
	bool v6;
	uint8_t src[16], dst[16];
	const uint8_t *dmac;
	uint8_t hlim;
};

/**
 * pkt4() - IPv4 addresses of a packet from the guest, to our MAC
 * @src:	Source address
 * @dst:	Destination address
 *
 * Return: addresses, TTL 64
 */
static struct pkt pkt4(const char *src, const char *dst)
{
	struct pkt p = { .v6 = false, .dmac = our_mac, .hlim = 64 };

	inet_pton(AF_INET, src, p.src);
	inet_pton(AF_INET, dst, p.dst);
	return p;
}

/**
 * pkt6() - IPv6 addresses of a packet from the guest, to our MAC
 * @src:	Source address
 * @dst:	Destination address
 * @hlim:	Hop limit
 *
 * Return: addresses
 */
static struct pkt pkt6(const char *src, const char *dst, uint8_t hlim)
{
	struct pkt p = { .v6 = true, .dmac = our_mac, .hlim = hlim };

	inet_pton(AF_INET6, src, p.src);
	inet_pton(AF_INET6, dst, p.dst);
	return p;
}

/**
 * frame_ip() - Append a record with one IP frame, checksums filled
 * @f:		Seed being built
 * @p:		Addresses
 * @proto:	IPPROTO_*
 * @l4:		Transport header and payload; checksum field zero
 * @len:	Length
 */
static void frame_ip(struct fuzz_buf *f, const struct pkt *p, uint8_t proto,
		     const uint8_t *l4, size_t len)
{
	static const size_t sum_off[256] = {
		[IPPROTO_TCP] = 16, [IPPROTO_UDP] = 6, [IPPROTO_ICMP] = 2,
		[IPPROTO_ICMPV6] = 2,
	};
	uint8_t fr[ETH_HLEN + 40 + 1500], *ip = fr + ETH_HLEN, *t;
	size_t hl = p->v6 ? 40 : 20, n = ETH_HLEN + hl + len;
	uint16_t sum;

	if (n > sizeof(fr))
		FUZZ_FAIL("seed frame too long");
	memset(fr, 0, ETH_HLEN + hl);
	memcpy(fr, p->dmac, ETH_ALEN);
	memcpy(fr + ETH_ALEN, guest_mac, ETH_ALEN);
	fr[12] = p->v6 ? 0x86 : 0x08;
	fr[13] = p->v6 ? 0xdd : 0x00;
	t = ip + hl;
	memcpy(t, l4, len);

	if (p->v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(len >> 8);
		ip[5] = (uint8_t)len;
		ip[6] = proto;
		ip[7] = p->hlim;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((hl + len) >> 8);
		ip[3] = (uint8_t)(hl + len);
		ip[6] = 0x40;		/* DF */
		ip[8] = p->hlim;
		ip[9] = proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		sum = fuzz_fold(fuzz_sum(ip, hl, 0));
		ip[10] = (uint8_t)(sum >> 8);
		ip[11] = (uint8_t)sum;
	}

	if (sum_off[proto]) {
		uint32_t s = 0;
		uint8_t ph[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
				  (uint8_t)(len >> 8), (uint8_t)len,
				  0, 0, 0, proto };

		if (proto != IPPROTO_ICMP) {
			s = fuzz_sum(p->src, p->v6 ? 16 : 4, 0);
			s = fuzz_sum(p->dst, p->v6 ? 16 : 4, s);
			s = fuzz_sum(ph, sizeof(ph), s);
		}
		sum = fuzz_fold(fuzz_sum(t, len, s));
		if (proto == IPPROTO_UDP && !sum)
			sum = 0xffff;
		t[sum_off[proto]] = (uint8_t)(sum >> 8);
		t[sum_off[proto] + 1] = (uint8_t)sum;
	}

	fb_u8(f, OP_FRAME);
	fb_le16(f, (uint16_t)n);
	fb_put(f, fr, n);
}

/**
 * frame_udp() - Append a record with a UDP datagram from the guest
 * @f:		Seed being built
 * @p:		Addresses
 * @sport:	Source port
 * @dport:	Destination port
 * @data:	Payload
 * @len:	Its length
 */
static void frame_udp(struct fuzz_buf *f, const struct pkt *p, uint16_t sport,
		      uint16_t dport, const void *data, size_t len)
{
	uint8_t u[1500];

	memset(u, 0, 8);
	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)((8 + len) >> 8);
	u[5] = (uint8_t)(8 + len);
	memcpy(u + 8, data, len);
	frame_ip(f, p, IPPROTO_UDP, u, 8 + len);
}

/**
 * frame_tcp() - Append a record with a TCP segment from the guest
 * @f:		Seed being built
 * @p:		Addresses
 * @sport:	Source port
 * @dport:	Destination port
 * @seq:	Sequence number
 * @ack:	Acknowledgement number
 * @flags:	TCP_F_*; with SYN: MSS 1460, window scale 7
 * @data:	Payload, NULL if none
 * @len:	Its length
 */
static void frame_tcp(struct fuzz_buf *f, const struct pkt *p, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		      const void *data, size_t len)
{
	static const uint8_t syn_opts[8] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	size_t olen = (flags & TCP_F_SYN) ? sizeof(syn_opts) : 0;
	uint8_t t[1500];

	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = (uint8_t)(((20 + olen) / 4) << 4);
	t[13] = flags;
	t[14] = 0xff;			/* window 65535 */
	t[15] = 0xff;
	memcpy(t + 20, syn_opts, olen);
	if (len)
		memcpy(t + 20 + olen, data, len);
	frame_ip(f, p, IPPROTO_TCP, t, 20 + olen + len);
}

/**
 * frame_icmp_echo() - Append a record with an ICMP or ICMPv6 echo request
 * @f:		Seed being built
 * @p:		Addresses, family chooses the protocol
 */
static void frame_icmp_echo(struct fuzz_buf *f, const struct pkt *p)
{
	uint8_t m[8 + 32] = { p->v6 ? 128 : 8, 0, 0, 0, 0x12, 0x34, 0, 1 };

	memset(m + 8, 0x61, 32);
	frame_ip(f, p, p->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, m, sizeof(m));
}

/**
 * frame_arp() - Append a record with a broadcast ARP request
 * @f:		Seed being built
 * @tpa:	Address asked for
 */
static void frame_arp(struct fuzz_buf *f, const char *tpa)
{
	uint8_t fr[ETH_HLEN + 28] = { 0 }, *a = fr + ETH_HLEN;

	memcpy(fr, bcast, ETH_ALEN);
	memcpy(fr + ETH_ALEN, guest_mac, ETH_ALEN);
	fr[12] = 0x08;
	fr[13] = 0x06;
	a[1] = 1;			/* Ethernet */
	a[2] = 0x08;			/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;			/* request */
	memcpy(a + 8, guest_mac, ETH_ALEN);
	inet_pton(AF_INET, "10.0.2.15", a + 14);
	inet_pton(AF_INET, tpa, a + 24);
	fb_u8(f, OP_FRAME);
	fb_le16(f, sizeof(fr));
	fb_put(f, fr, sizeof(fr));
}

/**
 * frame_dhcp() - Append a record with a broadcast DHCP message
 * @f:		Seed being built
 * @type:	Message type (1 DISCOVER, 3 REQUEST)
 * @req_ip:	Requested address and our server identifier, NULL for none
 */
static void frame_dhcp(struct fuzz_buf *f, uint8_t type, const char *req_ip)
{
	uint8_t m[300] = { 1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78 };
	struct pkt p = pkt4("0.0.0.0", "255.255.255.255");
	size_t o = 240;

	p.dmac = bcast;
	memcpy(m + 28, guest_mac, ETH_ALEN);
	m[236] = 0x63;
	m[237] = 0x82;
	m[238] = 0x53;
	m[239] = 0x63;
	m[o++] = 53;			/* message type */
	m[o++] = 1;
	m[o++] = type;
	if (req_ip) {
		m[o++] = 50;		/* requested address */
		m[o++] = 4;
		inet_pton(AF_INET, req_ip, m + o);
		o += 4;
		m[o++] = 54;		/* server identifier */
		m[o++] = 4;
		inet_pton(AF_INET, "10.0.2.2", m + o);
		o += 4;
	}
	m[o++] = 55;			/* parameter request list */
	m[o++] = 7;
	memcpy(m + o, "\x01\x03\x06\x0c\x0f\x1a\x77", 7);
	o += 7;
	m[o++] = 255;
	frame_udp(f, &p, 68, 67, m, sizeof(m));
}

/**
 * frame_dhcpv6_solicit() - Append a record with a DHCPv6 Solicit, with IA_NA
 *			    and Rapid Commit, to All_DHCP_Relay_Agents_and_Servers
 * @f:		Seed being built
 */
static void frame_dhcpv6_solicit(struct fuzz_buf *f)
{
	static const uint8_t m[] = {
		1, 0xab, 0xcd, 0xef,			/* Solicit */
		0, 1, 0, 10, 0, 3, 0, 1,		/* client id: DUID-LL */
		0x52, 0x54, 0, 0x12, 0x34, 0x56,
		0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, /* IA_NA */
		0, 8, 0, 2, 0, 0,			/* elapsed time */
		0, 6, 0, 4, 0, 23, 0, 24,		/* ORO: DNS, domains */
		0, 14, 0, 0,				/* rapid commit */
	};
	struct pkt p = pkt6("fe80::5054:ff:fe12:3456", "ff02::1:2", 1);
	static const uint8_t mc[ETH_ALEN] = { 0x33, 0x33, 0, 1, 0, 2 };

	p.dmac = mc;
	frame_udp(f, &p, 546, 547, m, sizeof(m));
}

/**
 * frame_ndp() - Append a record with a Router or Neighbour Solicitation
 * @f:		Seed being built
 * @ns:		Neighbour Solicitation for fe80::1, else Router Solicitation
 */
static void frame_ndp(struct fuzz_buf *f, bool ns)
{
	uint8_t m[32] = { ns ? NDP_NS : NDP_RS };
	struct pkt p = pkt6("fe80::5054:ff:fe12:3456",
			    ns ? "ff02::1:ff00:1" : "ff02::2", 255);
	size_t len = 8;

	if (ns) {
		inet_pton(AF_INET6, "fe80::1", m + 8);
		len = 24;
	}
	m[len++] = 1;			/* source link-layer address */
	m[len++] = 1;
	memcpy(m + len, guest_mac, ETH_ALEN);
	len += ETH_ALEN;
	frame_ip(f, &p, IPPROTO_ICMPV6, m, len);
}

/**
 * rec() - Append a record
 * @f:		Seed being built
 * @op:		enum op
 * @d:		Data
 * @len:	Its length
 */
static void rec(struct fuzz_buf *f, uint8_t op, const void *d, size_t len)
{
	fb_u8(f, op);
	fb_le16(f, (uint16_t)len);
	fb_put(f, d, len);
}

/**
 * seed_run() - Run a seed under construction, keep what the guest got
 * @f:		Seed so far
 */
static void seed_run(const struct fuzz_buf *f)
{
	cap.on = true;
	cap.n = 0;
	LLVMFuzzerTestOneInput(f->b, f->len);
	cap.on = false;
}

/**
 * seq_of() - Sequence number of the last TCP segment sent to the guest
 * @flags:	TCP flags it must have
 *
 * Return: its sequence number; aborts if none was seen
 */
static uint32_t seq_of(uint8_t flags)
{
	unsigned i;

	for (i = cap.n; i--; ) {
		const uint8_t *fr = cap.f[i], *t;
		bool v6 = fr[12] == 0x86;

		if ((v6 ? fr[ETH_HLEN + 6] : fr[ETH_HLEN + 9]) != IPPROTO_TCP)
			continue;
		t = fr + ETH_HLEN + (v6 ? 40 : 20);
		if ((t[13] & flags) == flags)
			return (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
			       (uint32_t)t[6] << 8 | t[7];
	}
	FUZZ_FAIL("seed: no TCP segment with flags 0x%x to the guest", flags);
}

/**
 * seed_tcp_out() - A whole outbound connection: handshake, echo, close
 * @dir:	Corpus directory
 * @name:	Seed name
 * @p:		Addresses
 */
static void seed_tcp_out(const char *dir, const char *name,
			 const struct pkt *p)
{
	static struct fuzz_buf f;
	uint32_t isn;
	uint16_t ms;

	f.len = 0;
	fb_u8(&f, 0);
	frame_tcp(&f, p, 40000, ECHO_PORT, 1000, 0, TCP_F_SYN, NULL, 0);
	seed_run(&f);
	isn = seq_of(TCP_F_SYN | TCP_F_ACK);

	frame_tcp(&f, p, 40000, ECHO_PORT, 1001, isn + 1, TCP_F_ACK, NULL, 0);
	frame_tcp(&f, p, 40000, ECHO_PORT, 1001, isn + 1,
		  TCP_F_ACK | TCP_F_PSH, "hello", 5);
	frame_tcp(&f, p, 40000, ECHO_PORT, 1006, isn + 6, TCP_F_ACK, NULL, 0);
	ms = 1500;
	rec(&f, OP_TIMER, &ms, 2);
	frame_tcp(&f, p, 40000, ECHO_PORT, 1006, isn + 6,
		  TCP_F_ACK | TCP_F_FIN, NULL, 0);
	frame_tcp(&f, p, 40000, ECHO_PORT, 1007, isn + 7, TCP_F_ACK, NULL, 0);
	if (fuzz_seed_write(dir, name, f.b, f.len))
		exit(1);
}

/**
 * seed_tcp_in() - An inbound connection: host connects, data both ways
 * @dir:	Corpus directory
 * @name:	Seed name
 * @v6:		Over IPv6
 */
static void seed_tcp_in(const char *dir, const char *name, bool v6)
{
	static const uint8_t hello[] = { 0, 'h', 'o', 's', 't' };
	struct pkt p = v6 ? pkt6("2001:db8::15", "2001:db8::1", 64) :
			    pkt4("10.0.2.15", "10.0.2.2");
	static struct fuzz_buf f;
	uint8_t fam = v6;
	uint32_t isn;

	f.len = 0;
	fb_u8(&f, 0);
	rec(&f, OP_CONNECT, &fam, 1);
	seed_run(&f);
	isn = seq_of(TCP_F_SYN);

	frame_tcp(&f, &p, FWD_TCP, PEER_PORT, 5000, isn + 1,
		  TCP_F_SYN | TCP_F_ACK, NULL, 0);
	rec(&f, OP_WRITE, hello, sizeof(hello));
	frame_tcp(&f, &p, FWD_TCP, PEER_PORT, 5001, isn + 5,
		  TCP_F_ACK | TCP_F_PSH, "guest", 5);
	frame_tcp(&f, &p, FWD_TCP, PEER_PORT, 5006, isn + 5, TCP_F_RST, NULL,
		  0);
	if (fuzz_seed_write(dir, name, f.b, f.len))
		exit(1);
}

/**
 * seeds_write() - Write the seed corpus
 * @dir:	Directory
 */
static void seeds_write(const char *dir)
{
	static const uint8_t dns_q[] = {
		0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1,
	};
	static const uint8_t udp_in[] = { 1, 'p', 'i', 'n', 'g' };
	struct pkt p4 = pkt4("10.0.2.15", "10.0.2.2");
	struct pkt p6 = pkt6("2001:db8::15", "2001:db8::1", 64);
	struct pkt p6ll = pkt6("fe80::5054:ff:fe12:3456", "fe80::1", 64);
	struct pkt dns4 = pkt4("10.0.2.15", "10.0.2.3");
	static struct fuzz_buf f;

	f.len = 0;
	fb_u8(&f, 0);
	frame_arp(&f, "10.0.2.2");
	frame_dhcp(&f, 1, NULL);
	frame_dhcp(&f, 3, "10.0.2.15");
	fuzz_seed_write(dir, "arp-dhcp", f.b, f.len);

	f.len = 0;
	fb_u8(&f, 0);
	frame_ndp(&f, false);
	frame_ndp(&f, true);
	frame_dhcpv6_solicit(&f);
	fuzz_seed_write(dir, "ndp-dhcpv6", f.b, f.len);

	f.len = 0;
	fb_u8(&f, CFG_MTU_1500);
	frame_icmp_echo(&f, &p4);
	frame_icmp_echo(&f, &p6);
	frame_icmp_echo(&f, &p6ll);
	frame_udp(&f, &p4, 33333, ECHO_PORT, "echo", 4);
	frame_udp(&f, &p6, 33333, ECHO_PORT, "echo", 4);
	frame_udp(&f, &dns4, 33334, DNS_PORT, dns_q, sizeof(dns_q));
	rec(&f, OP_UDP, udp_in, sizeof(udp_in));
	fuzz_seed_write(dir, "icmp-udp", f.b, f.len);

	f.len = 0;
	fb_u8(&f, 0);
	frame_tcp(&f, &p4, 40000, ECHO_PORT, 1000, 0, TCP_F_SYN, NULL, 0);
	frame_tcp(&f, &p6, 40001, 9, 1000, 0, TCP_F_SYN, NULL, 0);
	fuzz_seed_write(dir, "tcp-syn", f.b, f.len);

	seed_tcp_out(dir, "tcp-session-v4", &p4);
	seed_tcp_out(dir, "tcp-session-v6", &p6);
	seed_tcp_in(dir, "tcp-inbound-v4", false);
	seed_tcp_in(dir, "tcp-inbound-v6", true);
}

/**
 * LLVMFuzzerInitialize() - Namespace, context, servers; seeds if asked
 * @argc:	Unused
 * @argv:	Unused
 *
 * Return: 0
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	fuzz_log_init();
	verbose = getenv("FUZZ_LOG") && *getenv("FUZZ_LOG") == '1';
	fuzz_require_netns();
	/* No TIME_WAIT: the same ports are used by every input */
	fuzz_sysctl_set("ipv4/tcp_max_tw_buckets", "0");

	ctx_setup();
	harness_setup();
	fuzz_fds_snapshot(&fds0);

	fuzz_seeds_or_go_on(seeds_write);
	return 0;
}
