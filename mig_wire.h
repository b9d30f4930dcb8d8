/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MIG_WIRE_H
#define MIG_WIRE_H

/*
 * The device state stream, all integers big-endian (doc/migration.md has
 * the whole picture):
 *
 *   offset  size  field
 *   0       8     magic, MIGRATE_MAGIC
 *   8       4     version of this stream
 *   12      4     oldest version of a reader that can read it
 *   16      ...   sections, each:
 *                   0    4    id (MIG_SEC_*), never reused
 *                   4    4    payload length, bytes (at most MIGRATE_SEC_MAX)
 *                   8    len  payload
 *                   8+len 4   CRC32C (Castagnoli) of id, length and payload
 *                 the last one is MIG_SEC_END, with no payload
 *
 * A reader accepts a stream whose oldest readable version is at most its
 * own version, reads it with its table for min(stream version, own
 * version), skips sections it has no entry for (after checking their
 * CRC), and refuses a stream without MIG_SEC_END, or with bytes after it.
 */

#include <assert.h>
#include <stdint.h>
#include <linux/types.h>

#define MIGRATE_MAGIC		0x7061737374766d73ULL	/* "passtvms" */
#define MIGRATE_VERSION		2	/* what we write */
#define MIGRATE_MIN_VERSION	2	/* oldest reader of what we write */
#define MIGRATE_STREAM_MAX	(1ULL << 30)	/* largest stream we read */
#define MIGRATE_SEC_MAX		(MIGRATE_STREAM_MAX - 64)

/**
 * struct mig_hdr - Stream header
 * @magic:	MIGRATE_MAGIC
 * @version:	Version of the stream
 * @min_version: Oldest version of a reader that copes with it
 */
struct mig_hdr {
	__be64 magic;
	__be32 version;
	__be32 min_version;
} __attribute__((packed));
static_assert(sizeof(struct mig_hdr) == 16, "wire size");

/**
 * struct mig_sec_hdr - Section header, followed by payload and CRC32C
 * @id:		Section id, MIG_SEC_*
 * @len:	Payload length, bytes
 */
struct mig_sec_hdr {
	__be32 id;
	__be32 len;
} __attribute__((packed));
static_assert(sizeof(struct mig_sec_hdr) == 8, "wire size");

#define MIG_SEC_TRAILER		4	/* __be32 CRC32C after the payload */

/* Section ids: never reuse a number */
enum mig_sec_id {
	MIG_SEC_END = 0,	/* last section, no payload */
	MIG_SEC_GUEST = 1,	/* struct mig_guest */
	MIG_SEC_TCP = 2,	/* count, then struct mig_tcp_conn + queues */
	MIG_SEC_UDP = 3,	/* count, then struct mig_udp_flow each */
	MIG_SEC_ICMP = 4,	/* count, then struct mig_icmp_flow each */
	MIG_SEC_TCP2 = 5,	/* count, struct mig_tcp_rec + queues each,
				 * then the address table (tcp_mig_wire.c) */
};

/**
 * struct mig_guest - What we learnt about the guest, and its lease
 * @mac:	Guest's MAC address
 * @mac_set:	1 if @mac is known (seen or given with -M), else 0
 * @v4, @v6:	1 if IPv4, IPv6 were enabled on the source
 * @prefix4:	Prefix length of @addr4
 * @addr4:	IPv4 address leased to the guest (DHCP)
 * @addr4_seen:	IPv4 source address last seen from the guest
 * @prefix6:	Prefix length of @addr6
 * @addr6:	IPv6 address leased to the guest (DHCPv6)
 * @addr6_seen:	Global IPv6 source address last seen from the guest
 * @addr6_ll_seen: Link-local IPv6 source address last seen
 */
struct mig_guest {
	uint8_t mac[6];
	uint8_t mac_set;
	uint8_t v4;
	uint8_t v6;
	uint8_t prefix4;
	uint8_t prefix6;
	uint8_t pad;
	uint8_t addr4[4];
	uint8_t addr4_seen[4];
	uint8_t addr6[16];
	uint8_t addr6_seen[16];
	uint8_t addr6_ll_seen[16];
} __attribute__((packed));
static_assert(sizeof(struct mig_guest) == 68, "wire size");

#define TCP_MIG_QUEUE_MAX	(64U << 20)	/* bytes per queue we accept */

/**
 * struct mig_tcp_conn - One TCP connection in MIG_SEC_TCP, big-endian
 * @gaddr:	Flow key: guest's address (IPv4-mapped for IPv4)
 * @faddr:	Flow key: foreign address, as the guest sees it
 * @gport:	Flow key: guest's port
 * @fport:	Flow key: foreign port
 * @state:	enum tcp_state: CS_ESTABLISHED, or a handshake: CS_SYN_RCVD,
 *		CS_SYN_SENT (socket state as established), CS_CONNECTING
 *		(our connect() in progress: only our side and @raddr,
 *		@rport; @lport 0, no queues: the target connects again)
 * @ws_guest:	Shift for the guest's windows
 * @flags:	CONN_* flags
 * @mss:	Largest payload we send the guest
 * @seq_to_guest, @seq_acked, @seq_max, @seq_fin, @seq_from_guest:
 *		Sequence state on the guest's side (struct tcp_conn)
 * @wnd_from_guest, @wnd_to_guest: Windows on the guest's side, bytes
 * @laddr:	Host socket's local address (IPv4-mapped for IPv4)
 * @raddr:	Host socket's peer address
 * @lport:	Local port
 * @rport:	Peer port
 * @snd_una:	Sequence number of the first byte of the send queue
 * @rcv_seq:	Sequence number the receive queue starts at on restore
 *		(the peer's FIN, if received, is counted before it)
 * @sndq_len:	Bytes in the send queue, following this record
 * @sndq_unsent: Of those, bytes never sent (the last ones)
 * @rcvq_len:	Bytes in the receive queue, following the send queue
 * @mss_host:	TCP_MAXSEG of the host socket
 * @snd_wscale:	Peer's window scale
 * @rcv_wscale:	Our window scale
 * @opts:	TCPI_OPT_* options agreed with the peer
 * @fin:	MIG_TCP_FIN_* flags
 * @timestamp:	TCP_TIMESTAMP of the host socket
 * @snd_wl1, @snd_wnd, @max_window, @rcv_wnd, @rcv_wup:
 *		struct tcp_repair_window of the host socket
 */
struct mig_tcp_conn {
	uint8_t gaddr[16];
	uint8_t faddr[16];
	__be16 gport;
	__be16 fport;
	uint8_t state;
	uint8_t ws_guest;
	__be16 flags;
	__be16 mss;
	__be16 pad;
	__be32 seq_to_guest;
	__be32 seq_acked;
	__be32 seq_max;
	__be32 seq_fin;
	__be32 seq_from_guest;
	__be32 wnd_from_guest;
	__be32 wnd_to_guest;
	uint8_t laddr[16];
	uint8_t raddr[16];
	__be16 lport;
	__be16 rport;
	__be32 snd_una;
	__be32 rcv_seq;
	__be32 sndq_len;
	__be32 sndq_unsent;
	__be32 rcvq_len;
	__be32 mss_host;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t opts;
	uint8_t fin;
	__be32 timestamp;
	__be32 snd_wl1;
	__be32 snd_wnd;
	__be32 max_window;
	__be32 rcv_wnd;
	__be32 rcv_wup;
} __attribute__((packed));
static_assert(sizeof(struct mig_tcp_conn) == 160, "wire size");

#define MIG_TCP_FIN_SENT	(1U << 0)	/* we shut down writing */
#define MIG_TCP_FIN_RCVD	(1U << 1)	/* the peer did */
#define MIG_TCP_CLOSED		(1U << 2)	/* host side closed both ways,
						 * data left for the guest: no
						 * addresses, no send queue */

/**
 * struct mig_tcp_rec - One TCP connection in MIG_SEC_TCP2, big-endian
 * @gaddr, @faddr, @laddr, @raddr: Indices into the section's address
 *		table, for the fields of struct mig_tcp_conn of those names
 * @mss_host:	TCP_MAXSEG of the host socket, 16 bits here
 *
 * Every other field is the one of struct mig_tcp_conn, same meaning,
 * same width; the queues follow, as in MIG_SEC_TCP.
 */
struct mig_tcp_rec {
	__be32 gaddr;
	__be32 faddr;
	__be32 laddr;
	__be32 raddr;
	__be16 gport;
	__be16 fport;
	__be16 lport;
	__be16 rport;
	uint8_t state;
	uint8_t ws_guest;
	__be16 flags;
	__be16 mss;
	__be16 mss_host;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t opts;
	uint8_t fin;
	__be32 seq_to_guest;
	__be32 seq_acked;
	__be32 seq_max;
	__be32 seq_fin;
	__be32 seq_from_guest;
	__be32 wnd_from_guest;
	__be32 wnd_to_guest;
	__be32 snd_una;
	__be32 rcv_seq;
	__be32 sndq_len;
	__be32 sndq_unsent;
	__be32 rcvq_len;
	__be32 timestamp;
	__be32 snd_wl1;
	__be32 snd_wnd;
	__be32 max_window;
	__be32 rcv_wnd;
	__be32 rcv_wup;
} __attribute__((packed));
static_assert(sizeof(struct mig_tcp_rec) == 108, "wire size");

/**
 * struct mig_udp_flow - One UDP flow in MIG_SEC_UDP (version 2), big-endian
 * @gaddr:	Flow key: guest's address (IPv4-mapped for IPv4)
 * @faddr:	Flow key: foreign address, as the guest sees it
 * @gport:	Flow key: guest's port
 * @fport:	Flow key: foreign port
 * @laddr:	Host side, local address: of the flow's own socket, or the
 *		address the forwarded port is bound to (may be unspecified)
 * @raddr:	Host side, peer: the socket's connected peer, or the latest
 *		sender to the forwarded port
 * @lport:	Host side, local port: own socket's, or the forwarded port
 * @rport:	Host side, peer's port
 * @kind:	MIG_UDP_OWN or MIG_UDP_FWD
 * @pad:	Zero
 *
 * All four addresses have one family.
 */
struct mig_udp_flow {
	uint8_t gaddr[16];
	uint8_t faddr[16];
	__be16 gport;
	__be16 fport;
	uint8_t laddr[16];
	uint8_t raddr[16];
	__be16 lport;
	__be16 rport;
	uint8_t kind;
	uint8_t pad[3];
} __attribute__((packed));
static_assert(sizeof(struct mig_udp_flow) == 76, "wire size");

#define MIG_UDP_OWN		1	/* guest-opened: own connected socket */
#define MIG_UDP_FWD		2	/* through a forwarded port (-u) */

/**
 * struct mig_icmp_flow - One echo flow in MIG_SEC_ICMP (version 2),
 *			  big-endian
 * @dst:	Destination as the guest addressed it (IPv4-mapped for IPv4)
 * @src:	Guest's source address, same family
 * @id:		Guest's echo identifier
 * @hid:	Echo identifier on the host side (the ping socket's port),
 *		not 0
 * @seq:	Last sequence number the guest sent
 * @pad:	Zero
 */
struct mig_icmp_flow {
	uint8_t dst[16];
	uint8_t src[16];
	__be16 id;
	__be16 hid;
	__be16 seq;
	__be16 pad;
} __attribute__((packed));
static_assert(sizeof(struct mig_icmp_flow) == 40, "wire size");

#endif /* MIG_WIRE_H */
