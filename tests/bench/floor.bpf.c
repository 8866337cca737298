// SPDX-License-Identifier: GPL-2.0
/* The floors for `make bench`: count one packet in a per-CPU array and pass (or drop); only pass. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_count SEC(".maps");

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&floor_count, &zero);

	if (c)
		(*c)++;
	return XDP_PASS;
}

/* The drop variant, for throughput runs where the peer must consume frames. */
SEC("xdp")
int floor_xdp_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&floor_count, &zero);

	if (c)
		(*c)++;
	return XDP_DROP;
}

/* The bare minimum: an XDP program that only returns XDP_PASS. */
SEC("xdp")
int pass_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
