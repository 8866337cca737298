// SPDX-License-Identifier: GPL-2.0
/* fringe_tc_egress: the host's own packets for another node's overlay prefix leave in VXLAN. */
#define FRINGE_CTX_SKB		/* lib/ctx.h: this program's context is struct __sk_buff */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/overlay_tc.h"
#include "lib/stats.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int fringe_tc_egress(struct __sk_buff *skb)
{
	int ret = overlay_tc_egress(skb);

	/* Drops go through the one exit, which counts their reason. */
	return ret < 0 ? stats_exit(stats_iface(skb->ifindex), ret, skb->len) : ret;
}
