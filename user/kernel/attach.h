/* SPDX-License-Identifier: GPL-2.0 */
/* Attaching the XDP program to interfaces through libxdp, and finding what is attached. */
#ifndef FRINGE_ATTACH_H
#define FRINGE_ATTACH_H

#include <stdbool.h>

#include "config.h"	/* enum fringe_attach_mode */
#include "maps.h"


int attach_xdp(struct maps *m, const char *ifname, enum fringe_attach_mode mode, bool force);
int attach_detach(struct maps *m, const char *ifname);
/* The id of fringe's program on ifindex, 0 when none. */
unsigned int attach_find_ours(int ifindex);

/* The TC egress program (attach_tc.c): VXLAN for the host's own packets. */
int attach_tc_egress(struct maps *m, const char *ifname);
/* 0, or -ENOENT when it is not there. */
int attach_tc_detach(struct maps *m, const char *ifname);
unsigned int attach_tc_find(int ifindex);

#endif
