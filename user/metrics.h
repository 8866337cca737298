/* SPDX-License-Identifier: GPL-2.0 */
/* Prometheus text exposition of the data plane's counters (SPEC §9). */
#ifndef FRINGE_METRICS_H
#define FRINGE_METRICS_H

#include <stdio.h>

#include "maps.h"

/* Write every family once, series initialised at zero; 0 or -errno. */
int metrics_render(struct maps *m, FILE *out);

#endif
