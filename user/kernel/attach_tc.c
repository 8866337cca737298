// SPDX-License-Identifier: GPL-2.0
/* The TC egress program (`attach --egress`): on the interface's clsact qdisc, beside the XDP program. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "fringe_tc.skel.h"
#include "log.h"

/* One filter of fringe's on the egress hook, found by these. */
#define FRINGE_TC_HANDLE	0xf417
#define FRINGE_TC_PRIORITY	0xf417

/* Mark the interface's slot (interface table) as running the egress program. */
static void note_egress(struct maps *m, __u32 ifindex, __u8 on)
{
	struct fringe_iface_info info;

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++)
		if (!bpf_map_lookup_elem(m->fd[M_IFACES], &s, &info) && info.in_use &&
		    info.ifindex == ifindex) {
			info.egress = on;
			bpf_map_update_elem(m->fd[M_IFACES], &s, &info, BPF_ANY);
		}
}

int attach_tc_egress(struct maps *m, const char *ifname)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = m->pin_dir);
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = FRINGE_TC_HANDLE, .priority = FRINGE_TC_PRIORITY,
		    .flags = BPF_TC_F_REPLACE);
	int ifindex = if_nametoindex(ifname), err;
	struct fringe_tc *skel;

	if (!ifindex) {
		pr_err("cannot attach the egress program to '%s': no such interface", ifname);
		return -ENODEV;
	}
	err = maps_lock(m);
	if (err)
		return err;
	/* The program shares the pinned maps, the overlay's among them. */
	skel = fringe_tc__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_err("cannot open the TC object: %s", strerror(errno));
		return err;
	}
	err = maps_prepare_object(skel->obj, m->pin_dir);
	if (!err)
		err = fringe_tc__load(skel);
	if (err) {
		pr_err("cannot load the TC egress program: %s", strerror(-err));
		goto out;
	}
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("cannot add a clsact qdisc to '%s': %s", ifname, strerror(-err));
		goto out;
	}
	tc.prog_fd = bpf_program__fd(skel->progs.fringe_tc_egress);
	err = bpf_tc_attach(&hook, &tc);
	if (err) {
		pr_err("cannot attach the egress program to '%s': %s", ifname, strerror(-err));
		goto out;
	}
	note_egress(m, ifindex, 1);
out:
	fringe_tc__destroy(skel);	/* the filter keeps the program */
	return err;
}

int attach_tc_detach(struct maps *m, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = FRINGE_TC_HANDLE, .priority = FRINGE_TC_PRIORITY);
	int ifindex = if_nametoindex(ifname), err;

	if (!ifindex)
		return -ENODEV;
	hook.ifindex = ifindex;
	err = bpf_tc_detach(&hook, &tc);
	if (!err)
		note_egress(m, ifindex, 0);
	return err;
}

unsigned int attach_tc_find(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = FRINGE_TC_HANDLE, .priority = FRINGE_TC_PRIORITY);

	return bpf_tc_query(&hook, &tc) ? 0 : tc.prog_id;
}
