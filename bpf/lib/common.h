/* SPDX-License-Identifier: GPL-2.0 */
/* Includes, helpers and macros every fringe BPF program starts from. */
#ifndef FRINGE_BPF_COMMON_H
#define FRINGE_BPF_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fringe/abi.h"
#include "calls.h"
#include "ctx.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/*
 * verifier_barrier(x): from here on clang knows nothing of x's value.
 * The verifier trusts only the bounds the code itself compares; clang drops
 * a comparison or a mask it can prove redundant from facts the verifier
 * cannot see (that an IP packet's end lies within the frame, that a ctz
 * result is below 64, which reasons a global function returns, that a cap
 * is already within its mask), and the verifier then rejects the access.
 * After the barrier clang must emit the check as written.  No instruction.
 */
#define verifier_barrier(x) asm volatile("" : "+r"(x))

/*
 * can_loop: true, as long as the kernel's budget of loop iterations for
 * this run of the program lasts (the may_goto instruction, kernel 6.9).
 * A loop that tests it is verified as converging: the verifier walks its
 * body about once instead of once per possible iteration, where a loop
 * bounded only by a counter costs it one walk per value of the counter.
 * At run time it is a decrement of a counter on the stack.  The loops that
 * use it end long before the budget (8M) by their own condition.
 * (as in the kernel's tools/testing/selftests/bpf/bpf_experimental.h)
 */
#define can_loop                                                  \
	({                                                        \
		__label__ l_break, l_continue;                    \
		_Bool ret_ = 1;                                   \
		asm volatile goto("may_goto %l[l_break]" :::: l_break); \
		goto l_continue;                                  \
l_break:								  \
		ret_ = 0;                                         \
l_continue:;							  \
		ret_;                                             \
	})

#endif
