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
 * by a bump of its site's counter (an add to global data), and
 * tests/tools/bench_cost.c pairs each `call` the kernel left in that build's
 * translated code with the site counted just before it.  The production
 * build defines nothing here.
 */
#ifdef FRINGE_COUNT_CALLS

/* Runs per call site: a counter of its own in global data (section
 * .data.calls), one per site in the source (an inline helper's one site
 * counts all its uses).  A bump is a load of the counter's address and an
 * add, with no key on the stack, so this build's frames are those of the
 * production build, whose combined stack is close to the verifier's 512
 * bytes.  The bench pairs a call with the counter addressed last before it
 * (its offset in the section).  An atomic add: clang keeps it in place. */
#define FRINGE_CALL_SITE()                                                \
	do {                                                              \
		static __u64 fringe_call_site_ SEC(".data.calls"); \
		__sync_fetch_and_add(&fringe_call_site_, 1);             \
	} while (0)
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
