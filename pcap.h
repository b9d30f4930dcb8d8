/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCAP_H
#define PCAP_H

#include "ctx.h"

#define PCAP_MAGIC		0xa1b2c3d4	/* microsecond timestamps */
#define PCAP_VERSION_MAJOR	2
#define PCAP_VERSION_MINOR	4
#define PCAP_SNAPLEN		ETH_MAX_FRAME
#define PCAP_LINKTYPE_ETHERNET	1

/**
 * struct pcap_file_hdr - Classic pcap file header, host byte order
 * @magic:	PCAP_MAGIC: readers tell our byte order from it
 * @major:	PCAP_VERSION_MAJOR
 * @minor:	PCAP_VERSION_MINOR
 * @thiszone:	GMT offset, seconds: always 0
 * @sigfigs:	Timestamp accuracy: always 0
 * @snaplen:	Largest frame recorded, bytes
 * @linktype:	PCAP_LINKTYPE_ETHERNET
 */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
} PACKED;
static_assert(sizeof(struct pcap_file_hdr) == 24, "file format size");

/**
 * struct pcap_rec_hdr - Classic pcap record header, host byte order
 * @tv_sec:	Timestamp, seconds since the Epoch
 * @tv_usec:	Timestamp, microseconds
 * @caplen:	Bytes recorded
 * @len:	Frame length on the wire, bytes
 */
struct pcap_rec_hdr {
	uint32_t tv_sec;
	uint32_t tv_usec;
	uint32_t caplen;
	uint32_t len;
} PACKED;
static_assert(sizeof(struct pcap_rec_hdr) == 16, "file format size");

void pcap_init(const struct ctx *c);
void pcap_frame(const struct iovec *iov, size_t cnt);

#endif /* PCAP_H */
