/* SPDX-License-Identifier: GPL-2.0 */
/* Prometheus text exposition of the data plane's counters (docs/metrics.md). */
#ifndef FRINGE_METRICS_H
#define FRINGE_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "maps.h"

/* Set while the daemon holds BPF_ENABLE_STATS: the fringe_bpf_run_* families
 * are written then (and when the sysctl kernel.bpf_stats_enabled is 1). */
extern bool metrics_bpf_stats;

/* Write every family once, series initialised at zero; 0 or -errno. */
int metrics_render(struct maps *m, FILE *out);

#endif
