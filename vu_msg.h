/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_MSG_H
#define VU_MSG_H

#include <endian.h>

#include "util.h"

#define VHOST_USER_MAX_REGIONS		8	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHOST_USER_MAX_FDS		8	/* per message, as QEMU */
#define VHOST_USER_VERSION		1
#define VU_MSG_TIMEOUT_S		2	/* for the rest of a message */

/* Front-end message types we know (vhost-user.rst, "Front-end message types") */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_REQUEST_MAX
};

#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_MTU		4
#define VHOST_USER_PROTOCOL_F_DEVICE_STATE	19

#define VHOST_USER_FLAG_VERSION_MASK	0x3
#define VHOST_USER_FLAG_REPLY		(1 << 2)
#define VHOST_USER_FLAG_NEED_REPLY	(1 << 3)

#define VHOST_VRING_F_LOG		0
#define VHOST_USER_VRING_IDX_MASK	0xff
#define VHOST_USER_VRING_NOFD_MASK	(1 << 8)

/* Message header: all fields little-endian (host order on x86) */
struct vhost_user_hdr {
	__le32 request;
	__le32 flags;
	__le32 size;		/* payload bytes following the header */
} PACKED;
static_assert(sizeof(struct vhost_user_hdr) == 12, "wire size");

struct vhost_user_vring_state {
	__le32 index;
	__le32 num;
} PACKED;

struct vhost_user_vring_addr {
	__le32 index;
	__le32 flags;
	__le64 desc_user_addr;	/* front-end (QEMU) virtual addresses */
	__le64 used_user_addr;
	__le64 avail_user_addr;
	__le64 log_guest_addr;	/* guest physical address of the used ring */
} PACKED;
static_assert(sizeof(struct vhost_user_vring_addr) == 40, "wire size");

struct vhost_user_mem_region_desc {
	__le64 guest_phys_addr;
	__le64 memory_size;
	__le64 userspace_addr;
	__le64 mmap_offset;
} PACKED;

struct vhost_user_mem_table {
	__le32 nregions;
	__le32 padding;
	struct vhost_user_mem_region_desc regions[VHOST_USER_MAX_REGIONS];
} PACKED;
static_assert(sizeof(struct vhost_user_mem_table) == 8 + 32 * 8, "wire size");

struct vhost_user_log {
	__le64 mmap_size;
	__le64 mmap_offset;
} PACKED;

struct vhost_user_device_state {
	__le32 direction;	/* 0: save (back-end writes), 1: load */
	__le32 phase;		/* 0: stopped */
} PACKED;

#define VHOST_USER_MAX_PAYLOAD	sizeof(struct vhost_user_mem_table)

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		__le64 u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_mem_table mem;
		struct vhost_user_log log;
		struct vhost_user_device_state devstate;
		uint8_t raw[VHOST_USER_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
} PACKED;

#define VHOST_USER_STATE_SAVE	0	/* back-end writes its state */
#define VHOST_USER_STATE_LOAD	1	/* back-end reads it */
#define VHOST_USER_STATE_STOPPED 0	/* the only phase there is */
#define VHOST_USER_NOFD		(1ULL << 8)	/* reply: no fd returned */

/**
 * vu_msg_u64() - Read the u64 payload of a message
 * @msg:	Message
 *
 * Return: payload, host order
 */
static inline uint64_t vu_msg_u64(const struct vhost_user_msg *msg)
{
	return le64toh(msg->payload.u64);
}

void vu_msg_fds_close(struct vhost_user_msg *msg);
int vu_msg_recv(int fd, struct vhost_user_msg *msg);
int vu_msg_send(int fd, const struct vhost_user_msg *msg);

#endif /* VU_MSG_H */
