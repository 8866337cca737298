// SPDX-License-Identifier: GPL-2.0
/* The traffic generator's program: run by BPF_PROG_TEST_RUN in live-frame mode, it sends each frame out. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* In live-frame mode the kernel turns XDP_TX into a redirect out of the
 * ingress_ifindex given in the test context: one veth end, whose peer is
 * the interface under test. */
SEC("xdp")
int trafficgen_xdp(struct xdp_md *ctx)
{
	return XDP_TX;
}
