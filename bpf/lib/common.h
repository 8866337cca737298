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

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

#endif
