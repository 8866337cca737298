/* SPDX-License-Identifier: GPL-2.0 */
/* `fringe learn`: the least-privilege policy that admits the flows seen. */
#ifndef FRINGE_LEARN_H
#define FRINGE_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "flows.h"

struct learn_summary {
	size_t flows, devices, rules, commented;
};

/* The policy text for the flows seen over `secs` seconds (rows are reordered
 * in place; times are CLOCK_MONOTONIC, `offset` turns them into wall-clock
 * time).  *text is malloc'd, NUL-terminated.  0 or -errno. */
int learn_policy_text(struct flow_row *rows, size_t n, uint64_t secs, int64_t offset,
		      char **text, size_t *len, struct learn_summary *sum);

#endif
