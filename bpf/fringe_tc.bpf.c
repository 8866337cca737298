// SPDX-License-Identifier: GPL-2.0
/* fringe_tc_egress: the host's own packets for another node's overlay prefix leave in VXLAN. */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/overlay_tc.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int fringe_tc_egress(struct __sk_buff *skb)
{
	return overlay_tc_egress(skb);
}
