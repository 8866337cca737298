/* SPDX-License-Identifier: GPL-2.0 */
/* The clocks every layer reads: monotonic (as bpf_ktime_get_ns) and wall-clock time. */
#ifndef FRINGE_CLOCK_H
#define FRINGE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(). */
static inline uint64_t mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t mono_ms(void) { return mono_ns() / 1000000; }
static inline uint64_t real_ns(void) { return clock_ns(CLOCK_REALTIME); }

#endif
