/* SPDX-License-Identifier: GPL-2.0 */
/* Bench-only call accounting: with -DFRINGE_COUNT_CALLS every helper call site counts its runs. */
#ifndef FRINGE_BPF_CALLS_H
#define FRINGE_BPF_CALLS_H

/*
 * On CPUs with return-stack mitigations every call and return costs tens of
 * nanoseconds, so `make bench` reports how many the IPv4 allow path makes.
 * The kernel decides which calls remain (it inlines array lookups, not hash
 * or LPM ones), and no tracing of kernel functions is allowed on every
 * kernel, so the bench loads a second build of this program, compiled with
 * FRINGE_COUNT_CALLS, on the same maps: there each helper call is preceded
 * by a bump of its site's counter (an inlined per-CPU array access), and
 * tests/tools/bench_cost.c pairs each `call` the kernel left in that build's
 * translated code with the site counted just before it.  The production
 * build defines nothing here.
 */
#ifdef FRINGE_COUNT_CALLS

#define FRINGE_CALL_SITES 65536

/* Runs per call site, by FRINGE_CALL_SITE's key: __COUNTER__, unique per
 * site in the source (an inline helper's one site counts all its uses). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_CALL_SITES);
	__type(key, __u32);
	__type(value, __u64);
} fringe_call_sites SEC(".maps");

static __always_inline void fringe_call_site(__u32 site)
{
	__u64 *c = (bpf_map_lookup_elem)(&fringe_call_sites, &site);

	if (c)
		(*c)++;
}

#define FRINGE_CALL_SITE() fringe_call_site(__COUNTER__ % FRINGE_CALL_SITES)
#define FRINGE_COUNTED(helper, ...) ({ FRINGE_CALL_SITE(); (helper)(__VA_ARGS__); })

#define bpf_map_lookup_elem(...)	FRINGE_COUNTED(bpf_map_lookup_elem, __VA_ARGS__)
#define bpf_map_update_elem(...)	FRINGE_COUNTED(bpf_map_update_elem, __VA_ARGS__)
#define bpf_map_delete_elem(...)	FRINGE_COUNTED(bpf_map_delete_elem, __VA_ARGS__)
#define bpf_loop(...)			FRINGE_COUNTED(bpf_loop, __VA_ARGS__)
#define bpf_redirect_map(...)		FRINGE_COUNTED(bpf_redirect_map, __VA_ARGS__)
#define bpf_redirect(...)		FRINGE_COUNTED(bpf_redirect, __VA_ARGS__)
#define bpf_ktime_get_ns(...)		FRINGE_COUNTED(bpf_ktime_get_ns, __VA_ARGS__)
#define bpf_ktime_get_coarse_ns(...)	FRINGE_COUNTED(bpf_ktime_get_coarse_ns, __VA_ARGS__)
#define bpf_get_prandom_u32(...)	FRINGE_COUNTED(bpf_get_prandom_u32, __VA_ARGS__)
#define bpf_ringbuf_reserve(...)	FRINGE_COUNTED(bpf_ringbuf_reserve, __VA_ARGS__)
#define bpf_ringbuf_submit(...)		FRINGE_COUNTED(bpf_ringbuf_submit, __VA_ARGS__)
#define bpf_ringbuf_query(...)		FRINGE_COUNTED(bpf_ringbuf_query, __VA_ARGS__)
#define bpf_xdp_load_bytes(...)		FRINGE_COUNTED(bpf_xdp_load_bytes, __VA_ARGS__)
#define bpf_xdp_adjust_head(...)	FRINGE_COUNTED(bpf_xdp_adjust_head, __VA_ARGS__)
#define bpf_xdp_adjust_tail(...)	FRINGE_COUNTED(bpf_xdp_adjust_tail, __VA_ARGS__)
#define bpf_fib_lookup(...)		FRINGE_COUNTED(bpf_fib_lookup, __VA_ARGS__)
#define bpf_csum_diff(...)		FRINGE_COUNTED(bpf_csum_diff, __VA_ARGS__)
#define bpf_spin_lock(...)		FRINGE_COUNTED(bpf_spin_lock, __VA_ARGS__)
/* No call may be made while holding a spin lock: bpf_spin_unlock is counted
 * with its bpf_spin_lock (the bench pairs them). */

#else
/* Marks a call of a global (BPF-to-BPF) function: counted like a helper's. */
#define FRINGE_CALL_SITE() do { } while (0)
#endif

#endif
