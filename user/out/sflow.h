/* SPDX-License-Identifier: GPL-2.0 */
/* sFlow version 5 datagrams (sflow.org/sflow_version_5.txt): flow samples with raw headers, interface counters. */
#ifndef FRINGE_SFLOW_H
#define FRINGE_SFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Datagrams stay under a 1500-byte MTU with IP and UDP headers. */
#define SFLOW_DATAGRAM_MAX	1400
#define SFLOW_PORT		6343
#define SFLOW_UNKNOWN32		0xffffffffu		/* a counter the agent cannot know */
#define SFLOW_UNKNOWN64		0xffffffffffffffffull
#define SFLOW_HEADER_ETHERNET	1			/* header_protocol ETHERNET-ISO88023 */
#define SFLOW_IFTYPE_ETHERNET	6			/* ethernetCsmacd */

struct sflow_agent {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	uint32_t sub_agent_id;
};

/* One flow_sample (enterprise 0, format 1) with one sampled_header record. */
struct sflow_flow {
	uint32_t sequence;	/* flow samples of this source so far, this one included */
	uint32_t source_ifindex; /* data source: source_id class 0 (ifIndex) */
	uint32_t sampling_rate;	/* 1 in N */
	uint32_t sample_pool;	/* packets that could have been sampled (wraps) */
	uint32_t drops;		/* samples lost for lack of resources (wraps) */
	uint32_t input;		/* ifIndex the packet came in on */
	uint32_t output;	/* 0: unknown */
	uint32_t frame_length;	/* on the wire, FCS included */
	uint32_t stripped;	/* octets not in the header: the FCS */
	const uint8_t *header;	/* the frame's first bytes, from the Ethernet header */
	uint32_t header_len;
};

/* One counters_sample (enterprise 0, format 2) with a generic interface
 * counters record (enterprise 0, format 1). */
struct sflow_if_counters {
	uint32_t sequence;
	uint32_t ifindex;
	uint32_t type;		/* IANAifType */
	uint64_t speed;		/* bits/s, 0 unknown */
	uint32_t direction;	/* 0 unknown, 1 full duplex, 2 half, 3 in, 4 out */
	uint32_t status;	/* bit 0 admin up, bit 1 operationally up */
	uint64_t in_octets;
	uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown_protos;
	uint64_t out_octets;
	uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors;
	uint32_t promiscuous;	/* 1 true, 2 false */
};

/* A datagram being filled: samples first, the header written by sflow_finish. */
struct sflow_dgram {
	struct sflow_agent agent;
	uint32_t n_samples;
	size_t len;		/* bytes of buf in use, header space included */
	uint8_t buf[SFLOW_DATAGRAM_MAX];
};

/* Bytes of the datagram header for this agent's address family. */
size_t sflow_header_len(const struct sflow_agent *a);
void sflow_begin(struct sflow_dgram *d, const struct sflow_agent *a);
/* Append a sample; false when it does not fit (finish, send, begin, retry). */
bool sflow_add_flow(struct sflow_dgram *d, const struct sflow_flow *f);
bool sflow_add_counters(struct sflow_dgram *d, const struct sflow_if_counters *c);
/* Write the header; returns the datagram length (0 with no samples). */
size_t sflow_finish(struct sflow_dgram *d, uint32_t sequence, uint32_t uptime_ms);
/* Bytes a flow sample with header_len header bytes takes in a datagram. */
size_t sflow_flow_size(uint32_t header_len);

#endif
