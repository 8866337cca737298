/* SPDX-License-Identifier: GPL-2.0 */
/* Addresses learned from DNS answers (the data plane's fringe_dns_* maps): read, count, expire, evict. */
#ifndef FRINGE_KERNEL_DNS_H
#define FRINGE_KERNEL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "maps.h"

struct dns_row {
	struct fringe_dns_addr_key addr;
	struct fringe_dns_learned l;
	int64_t expires_in_ms;		/* < 0: expired, not yet removed */
	struct fringe_dns_name names[FRINGE_DNS_KEYS];	/* of l.keys; "" when unknown */
	int n_names;
};

struct dns_counts {
	uint64_t result[FRINGE_DNS__COUNT];	/* enum fringe_dns_result, over CPUs */
	uint64_t learned_now;			/* unexpired addresses */
	uint64_t entries;			/* entries, expired ones included */
};

/* Every learned address (expired ones included), soonest to expire first;
 * *rows malloc'd; names filled only when asked (a lookup per key).  0 or
 * -errno; none while no policy lists names (the table is made on demand). */
int dns_read(struct maps *m, bool names, struct dns_row **rows, size_t *n);
int dns_counts(struct maps *m, struct dns_counts *c);
/*
 * Remove expired addresses; when more than high_pct % of the table's
 * entries remain, remove the soonest to expire down to low_pct % (counted
 * as evictions).  The daemon runs
 * it every second, so the data plane seldom finds its table full.
 * Returns the number removed, or -errno.
 */
int dns_sweep(struct maps *m, unsigned int high_pct, unsigned int low_pct);

#endif
