/* SPDX-License-Identifier: GPL-2.0 */
/* The sample consumer: drains fringe_samples in batches into a pcap file or sFlow datagrams. */
#ifndef FRINGE_SAMPLER_H
#define FRINGE_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "maps.h"

/* The data plane does not wake the consumer per sample (bpf/lib/sample.h):
 * poll at least this often. */
#define SAMPLER_POLL_MS		20
/* Longest a sample waits in a part-filled sFlow datagram. */
#define SAMPLER_FLUSH_MS	250
/* Interface counter samples, every this many seconds (and once at start). */
#define SAMPLER_COUNTER_INTERVAL 20
/* Advisory lock on one ring buffer, by its map id: one consumer at a time. */
#define SAMPLER_LOCK_DIR	"/run/fringe"

struct sampler_opts {
	const char *pcap_path;		/* write a pcap file ("-": stdout) */
	const char *sflow_target;	/* send sFlow v5 to HOST:PORT ([ADDR]:PORT for IPv6) */
	const char *agent;		/* sFlow agent address; NULL: the first attached
					 * interface's IPv4, else 0.0.0.0 */
	uint32_t sub_agent_id;
	unsigned int counter_interval;	/* seconds; 0: SAMPLER_COUNTER_INTERVAL */
	uint64_t max_samples;		/* sampler_poll returns 1 after this many; 0: no limit */
	bool keep_going;		/* log sFlow send errors and go on (daemon), not fail */
	bool keep_backlog;		/* also deliver samples taken before sampler_open */
};

struct sampler_totals {
	uint64_t written;	/* samples written to the pcap or packed into datagrams */
	uint64_t stale;		/* taken before the sampler started, discarded */
	uint64_t datagrams;	/* sFlow datagrams sent */
	uint64_t send_errors;
	uint64_t taken;		/* by the data plane since sampler_open, all rules */
	uint64_t lost;		/* selected since sampler_open but the ring buffer was full */
};

struct sampler;

/* Lock the ring buffer, open the outputs.  Errors are logged ("fringe: cannot
 * send to HOST:PORT: ...", "cannot write FILE: ...", "already drained by ...");
 * returns 0, -EBUSY when another consumer holds the ring, or another -errno. */
int sampler_open(struct sampler **out, struct maps *m, const struct sampler_opts *o);
/* Wait up to timeout_ms, take every sample in the ring, do periodic work
 * (flush, counter samples).  0, 1 when max_samples is reached, or -errno. */
int sampler_poll(struct sampler *s, int timeout_ms);
/* The ring buffer's epoll fd, for an event loop that calls sampler_poll(s, 0). */
int sampler_epoll_fd(const struct sampler *s);
/* Send the part-filled datagram, flush the pcap; 0 or -errno. */
int sampler_flush(struct sampler *s);
void sampler_get_totals(struct sampler *s, struct sampler_totals *t);
/* Flushes, releases the lock. */
void sampler_close(struct sampler *s);

/* fringe_sample_stats summed over counter ids and CPUs (stats, metrics). */
int sampler_stats_sum(struct maps *m, uint64_t *taken, uint64_t *lost);
/* The same for one counter id. */
int sampler_stats_read(struct maps *m, uint32_t id, uint64_t *taken, uint64_t *lost);

#endif
