/* SPDX-License-Identifier: GPL-2.0 */
/* The flow table (fringe_flows): switch it on or off, count and read its flows summed over CPUs. */
#ifndef FRINGE_FLOWS_H
#define FRINGE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps.h"

/* One flow, its per-CPU entries merged. */
struct flow_row {
	struct fringe_flow_key key;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_ns;	/* CLOCK_MONOTONIC: the earliest CPU's first packet */
	uint64_t last_ns;	/* the latest CPU's last packet */
	uint64_t generation;	/* policy generation of the cached rule (latest CPU) */
	uint32_t rule;		/* cached rule index in that policy, or FRINGE_FLOW_NO_RULE */
	uint8_t action;		/* XDP action of the latest packet */
	uint8_t app;		/* enum fringe_app recognized, | FRINGE_FLOW_APP_MISMATCH (all CPUs) */
};

bool flows_enabled(const struct maps *m);
/* Set or clear FRINGE_META_FLOWS; switching off also empties the table,
 * so no stale flow is listed later.  *cleared gets the flows removed. */
int flows_set_enabled(struct maps *m, bool on, uint64_t *cleared);
/* Flows in the table; 0 or -errno. */
int flows_count(struct maps *m, uint64_t *n);
/* Every flow, unsorted (caller frees *rows); 0 or -errno. */
int flows_read(struct maps *m, struct flow_row **rows, size_t *n);

#endif
