// SPDX-License-Identifier: GPL-2.0
/* Attaching the XDP program to interfaces through libxdp, and finding what is attached. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statfs.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "fringe_xdp.skel.h"
#include "log.h"

#define FRINGE_PROG_NAME "fringe_xdp_ingress"

static enum xdp_attach_mode xdp_mode(enum fringe_attach_mode m)
{
	return m == ATTACH_NATIVE ? XDP_MODE_NATIVE : m == ATTACH_GENERIC ? XDP_MODE_SKB
									   : XDP_MODE_UNSPEC;
}

/* Kernel program names are cut at 15 characters. */
static bool is_ours(struct xdp_program *p)
{
	const char *name = xdp_program__name(p);

	return name && !strncmp(name, FRINGE_PROG_NAME, BPF_OBJ_NAME_LEN - 1);
}

/* Calls fn for each program on the interface; stops when it returns non-zero. */
static int for_each_prog(struct xdp_multiprog *mp, int (*fn)(struct xdp_program *, void *),
			 void *arg)
{
	struct xdp_program *p;
	int r;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p ? fn(p, arg) : 0;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		r = fn(p, arg);
		if (r)
			return r;
	}
	return 0;
}

static int match_ours(struct xdp_program *p, void *arg)
{
	if (!is_ours(p))
		return 0;
	*(struct xdp_program **)arg = p;
	return 1;
}

static int match_foreign(struct xdp_program *p, void *arg)
{
	if (is_ours(p))
		return 0;
	*(struct xdp_program **)arg = p;
	return 1;
}

static struct xdp_multiprog *get_mp(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	return libxdp_get_error(mp) ? NULL : mp;
}

unsigned int attach_find_ours(int ifindex)
{
	struct xdp_multiprog *mp = get_mp(ifindex);
	struct xdp_program *p = NULL;
	unsigned int id = 0;

	if (!mp)
		return 0;
	if (for_each_prog(mp, match_ours, &p))
		id = xdp_program__id(p);
	xdp_multiprog__close(mp);
	return id;
}

static int slot_for(struct maps *m, __u32 ifindex, __u32 *slot)
{
	struct fringe_iface_info info;
	__u32 free_slot = 0;

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++) {
		if (bpf_map_lookup_elem(m->fd[M_IFACES], &s, &info))
			return -errno;
		if (info.in_use && info.ifindex == ifindex) {
			*slot = s;
			return 0;
		}
		if (!info.in_use && !free_slot)
			free_slot = s;
	}
	if (!free_slot)
		return -ENOSPC;
	*slot = free_slot;
	return 0;
}

/* The slot's interface counters from zero.  Done before the attach: the
 * program counts in its slot from its first packet (fringe_attach_slot),
 * and zeroing after it would drop what it counted meanwhile. */
static int clear_iface_stats(struct maps *m, __u32 slot)
{
	struct fringe_iface_stats *zero = calloc(m->ncpus, sizeof(*zero));
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(m->fd[M_IFACE_STATS], &slot, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

/* The interface in its slot (slot_for's, found and cleared before the attach). */
static int record_iface(struct maps *m, __u32 slot, __u32 ifindex, const char *ifname,
			enum fringe_attach_mode mode, __u32 prog_id)
{
	struct fringe_iface_info info = { .ifindex = ifindex, .in_use = 1, .mode = mode,
					  .prog_id = prog_id };

	snprintf(info.name, sizeof(info.name), "%s", ifname);
	if (bpf_map_update_elem(m->fd[M_IFACES], &slot, &info, BPF_ANY) ||
	    bpf_map_update_elem(m->fd[M_IFSLOTS], &ifindex, &slot, BPF_ANY))
		return -errno;
	return 0;
}

static void forget_iface(struct maps *m, __u32 ifindex)
{
	struct fringe_iface_info info = {};
	__u32 slot, zero = 0;

	if (slot_for(m, ifindex, &slot) == 0) {
		bpf_map_lookup_elem(m->fd[M_IFACES], &slot, &info);
		if (info.in_use && info.ifindex == ifindex) {
			memset(&info, 0, sizeof(info));
			bpf_map_update_elem(m->fd[M_IFACES], &slot, &info, BPF_ANY);
		}
	}
	bpf_map_update_elem(m->fd[M_IFSLOTS], &ifindex, &zero, BPF_ANY);
}

int attach_xdp(struct maps *m, const char *ifname, enum fringe_attach_mode mode, bool force)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = m->pin_dir);
	int ifindex = if_nametoindex(ifname);
	struct xdp_program *prog = NULL, *other = NULL;
	struct fringe_xdp *skel = NULL;
	struct xdp_multiprog *mp;
	struct statfs sfs;
	__u32 slot;
	int err;

	if (!ifindex) {
		pr_err("cannot attach to '%s': no such interface", ifname);
		return -ENODEV;
	}
	if (ifindex >= FRINGE_IFINDEX_LIMIT) {
		pr_err("cannot attach to '%s': ifindex %d is beyond %d", ifname, ifindex,
		       FRINGE_IFINDEX_LIMIT - 1);
		return -ERANGE;
	}
	err = maps_lock(m);
	if (err)
		return err;

	mp = get_mp(ifindex);
	if (mp) {
		if (for_each_prog(mp, match_ours, &other)) {
			pr_err("fringe is already attached to '%s' (program id %u); detach it first",
			       ifname, xdp_program__id(other));
			xdp_multiprog__close(mp);
			return -EEXIST;
		}
		if (xdp_multiprog__is_legacy(mp) && for_each_prog(mp, match_foreign, &other)) {
			if (!force) {
				pr_err("cannot attach to '%s': XDP program '%s' (id %u) is attached without libxdp's dispatcher, so it cannot be shared; --force replaces it",
				       ifname, xdp_program__name(other), xdp_program__id(other));
				xdp_multiprog__close(mp);
				return -EBUSY;
			}
			err = xdp_multiprog__detach(mp);
			if (err) {
				pr_err("cannot remove XDP program '%s' from '%s': %s",
				       xdp_program__name(other), ifname, strerror(-err));
				xdp_multiprog__close(mp);
				return err;
			}
			pr_warn("replaced XDP program '%s' on '%s' (--force)", xdp_program__name(other),
				ifname);
		}
		xdp_multiprog__close(mp);
	}

	skel = fringe_xdp__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	err = maps_prepare_object(skel->obj, m->pin_dir);
	if (err) {
		pr_err("cannot reuse the pinned maps in '%s': %s", m->pin_dir, strerror(-err));
		goto out;
	}
	/* libxdp keeps its dispatcher state on bpffs; inside `ip netns exec`
	 * /sys/fs/bpf is not one, so offer the pin dir instead. */
	if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != BPF_FS_MAGIC)
		setenv("LIBXDP_BPFFS", m->pin_dir, 0);
	/* The staged policy's program is loaded by `policy stage`, not here. */
	bpf_program__set_autoload(skel->progs.fringe_xdp_staged, false);
	/* This attachment's counter slot, known to the program from its load,
	 * cleared before the attach and recorded after it (the maps are
	 * locked throughout). */
	err = slot_for(m, ifindex, &slot);
	if (!err)
		err = clear_iface_stats(m, slot);
	if (err) {
		pr_err("cannot attach to '%s': %s", ifname,
		       err == -ENOSPC ? "no free interface slot" : strerror(-err));
		goto out;
	}
	skel->rodata->fringe_attach_slot = slot;
	{
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
				    .prog_name = "fringe_xdp_ingress");

		prog = xdp_program__create(&xopts);
	}
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		pr_err("cannot prepare the XDP program: %s", strerror(-err));
		goto out;
	}
	err = xdp_program__attach(prog, ifindex, xdp_mode(mode), 0);
	if (err) {
		const char *hint = "";

		if (err == -EOPNOTSUPP && mode == ATTACH_NATIVE)
			hint = " (driver has no native XDP; try --mode generic)";
		else if (err == -EBUSY || err == -EEXIST)
			hint = " (another program in another mode? try --mode generic or --force)";
		pr_err("cannot attach to '%s': %s%s", ifname, strerror(-err), hint);
		goto out;
	}
	err = record_iface(m, slot, ifindex, ifname, mode, xdp_program__id(prog));
	if (err) {
		pr_err("attached to '%s' but cannot record it: %s", ifname, strerror(-err));
		xdp_program__detach(prog, ifindex, xdp_mode(mode), 0);
	}
out:
	xdp_program__close(prog);
	fringe_xdp__destroy(skel);
	return err;
}

int attach_detach(struct maps *m, const char *ifname)
{
	int ifindex = if_nametoindex(ifname);
	struct xdp_program *ours = NULL;
	struct xdp_multiprog *mp;
	int err;

	if (!ifindex) {
		pr_err("cannot detach from '%s': no such interface", ifname);
		return -ENODEV;
	}
	err = maps_lock(m);
	if (err)
		return err;
	mp = get_mp(ifindex);
	if (!mp || !for_each_prog(mp, match_ours, &ours)) {
		pr_err("cannot detach from '%s': fringe is not attached there", ifname);
		if (mp)
			xdp_multiprog__close(mp);
		forget_iface(m, ifindex);
		return -ENOENT;
	}
	if (xdp_multiprog__is_legacy(mp))
		err = xdp_multiprog__detach(mp);
	else
		err = xdp_program__detach(ours, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	if (err) {
		pr_err("cannot detach from '%s': %s", ifname, strerror(-err));
		return err;
	}
	forget_iface(m, ifindex);
	return 0;
}
