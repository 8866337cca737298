/* SPDX-License-Identifier: GPL-2.0 */
/* The cluster member's state in the pin dir (SPEC §14): lease, store health, counters, where each node came from. */
#ifndef FRINGE_CLUSTER_ABI_H
#define FRINGE_CLUSTER_ABI_H

#include <linux/types.h>

#include "fringe/abi.h"

/*
 * One pinned BPF array (one entry, mmapable) that only user space reads and
 * writes: the daemon keeps it current, `cluster status`, `nodes show` and
 * the metrics read it, and a daemon restarted after a crash finds the lease
 * it held there and takes it back (a bpffs holds no plain files).
 */
#define FRINGE_CLUSTER_PIN		"fringe_cluster"
#define FRINGE_CLUSTER_VERSION		1
#define FRINGE_CLUSTER_MAX_ENDPOINTS	8

enum fringe_cluster_event { FRINGE_CEV_PUT, FRINGE_CEV_DELETE, FRINGE_CEV_REJECTED, FRINGE_CEV_MAX };

struct fringe_cluster_endpoint {
	char url[128];
	__u64 last_ok_ns;		/* CLOCK_REALTIME; 0: never */
	__u64 last_err_ns;
	char error[120];
	__u8 healthy;
	__u8 current;			/* the member requests go to */
	__u8 pad[6];
};

/* Where a node of the table in force came from. */
struct fringe_cluster_node {
	char name[FRINGE_NAME_LEN];
	__u64 since_s;			/* Unix time it announced itself, or the file's load */
	__u64 create_rev;		/* its record's, 0 for the nodes file */
	__u8 source;			/* enum node_source: file, self, etcd */
	__u8 pad[7];
};

struct fringe_cluster_state {
	__u32 version;			/* FRINGE_CLUSTER_VERSION */
	__u32 pid;			/* the daemon keeping it; 0: none */
	__u64 lease_id;			/* this node's lease; 0: none */
	__u64 lease_ttl;		/* seconds, as granted */
	__u64 lease_renewed_ns;		/* last keepalive answered */
	__u64 revision;			/* the store's, as last seen */
	__u64 last_sync_ns;		/* last time the table was known current */
	__u64 events[FRINGE_CEV_MAX];
	__u64 overlay_generation;	/* the table node[] describes */
	__u32 up;			/* 1: in touch with a store that has quorum */
	__u32 announced;		/* this node's record is published */
	__u32 n_endpoints;
	__u32 n_nodes;			/* in the table, this one included */
	__u32 n_records;		/* keys under PREFIX/nodes/ */
	__u32 n_rejected;		/* of them, not loaded */
	char name[FRINGE_NAME_LEN];	/* this node */
	char prefix[136];		/* key prefix */
	struct fringe_cluster_endpoint ep[FRINGE_CLUSTER_MAX_ENDPOINTS];
	struct fringe_cluster_node node[FRINGE_MAX_NODES];
};

#endif /* FRINGE_CLUSTER_ABI_H */
