// SPDX-License-Identifier: GPL-2.0
/* The overlay in the kernel: a nodes file resolved against this host, loaded atomically, read back. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "netlink.h"
#include "overlay.h"
#include "slot.h"

/* How long `nodes load` waits for the kernel to resolve a node's MAC. */
#define OV_NEIGH_WAIT_MS	1000
#define OV_NEIGH_POLL_MS	20

/* ---- the live host: interfaces, routes, neighbours ------------------------------ */

static int live_local_iface(int family, const uint8_t *addr, struct ov_local *out)
{
	struct ifaddrs *ifs, *i;
	struct ifreq ifr = {};
	int fd, err = -EADDRNOTAVAIL;

	memset(out, 0, sizeof(*out));
	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (!sa || sa->sa_family != (family == 4 ? AF_INET : AF_INET6))
			continue;
		if (family == 4 ? memcmp(&((const struct sockaddr_in *)sa)->sin_addr, addr, 4)
				: memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, addr, 16))
			continue;
		snprintf(out->ifname, sizeof(out->ifname), "%s", i->ifa_name);
		err = 0;
		break;
	}
	for (i = err ? NULL : ifs; i; i = i->ifa_next) {
		const struct sockaddr_in6 *s6 = (const void *)i->ifa_addr;

		if (!s6 || s6->sin6_family != AF_INET6 || strcmp(i->ifa_name, out->ifname) ||
		    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			continue;
		memcpy(out->addr6, &s6->sin6_addr, 16);
		out->has_addr6 = true;
		if (family == 6 && !memcmp(out->addr6, addr, 16))
			break;	/* the very address, when it is IPv6 */
	}
	freeifaddrs(ifs);
	if (err)
		return err;
	out->ifindex = if_nametoindex(out->ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!out->ifindex || fd < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", out->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(out->mac, ifr.ifr_hwaddr.sa_data, 6);
	else
		err = -errno;
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		out->mtu = ifr.ifr_mtu;
	else if (!err)
		err = -errno;
	close(fd);
	return err;
}

/* Make the kernel resolve a neighbour: an empty datagram to the discard port. */
static void neigh_provoke(int family, const uint8_t *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	char a[INET6_ADDRSTRLEN];
	int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return;
	memcpy(&sin.sin_addr, addr, 4);
	memcpy(&sin6.sin6_addr, addr, 16);
	r = family == 4 ? sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof(sin))
			: sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sin6, sizeof(sin6));
	if (r < 0)
		pr_info("overlay: cannot send to %s to resolve it: %s",
			inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)), strerror(errno));
	close(fd);
}

static int live_next_hop(const struct ov_local *l, int family, const uint8_t *addr, uint8_t mac[6],
			 bool *onlink, bool ask)
{
	uint8_t gw[16], none[16] = {};
	char a[INET6_ADDRSTRLEN];
	const uint8_t *hop;
	unsigned int oif;
	int err;

	err = nl_route_get(family, addr, &oif, gw);
	if (err)
		return err;
	*onlink = !memcmp(gw, none, family == 4 ? 4 : 16);
	if (ask && oif != l->ifindex)
		pr_warn("overlay: the route to %s leaves by ifindex %u, not the underlay %s",
			inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)), oif, l->ifname);
	hop = *onlink ? addr : gw;
	if (!nl_neigh_get(family, hop, l->ifindex, mac))
		return 0;
	if (ask)
		neigh_provoke(family, hop);
	return -ENOENT;
}

const struct ov_env overlay_live_env = {
	.local_iface = live_local_iface,
	.next_hop = live_next_hop,
};

/* ---- resolving a nodes file ------------------------------------------------------ */

static uint32_t csum_words(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return sum;
}

/* What the neighbour table says of node i: 1 when settled (resolved, or
 * nothing to resolve), 0 when it has no answer yet, -1 when it will have
 * none (left to the FIB). */
static int resolve_one(const struct nodes *n, size_t i, const struct ov_env *env,
		       struct diags *d, struct ov_built *out, bool ask)
{
	const struct node_def *nd = &n->v[i];
	struct fringe_node *fn = &out->node[i];
	char a[INET6_ADDRSTRLEN];
	bool onlink = true;
	uint8_t mac[6];
	int err;

	err = env->next_hop(&out->local, fn->family, fn->underlay, mac, &onlink, ask);
	if (err == -ENETUNREACH || err == -EHOSTUNREACH) {
		inet_ntop(fn->family == 4 ? AF_INET : AF_INET6, fn->underlay, a, sizeof(a));
		diags_add(d, nd->underlay_loc, "no route to %s, the underlay address of node '%s'", a,
			  nd->name);
		return 1;
	}
	/* The file's MAC is the outer destination on a shared segment; across
	 * a router, the router's is. */
	if (nd->has_mac && onlink)
		return 1;
	if (!err) {
		memcpy(fn->outer_mac, mac, 6);
		if (!nd->has_mac)
			memcpy(fn->inner_mac, mac, 6);
		out->mac_source[i] = OV_MAC_NEIGH;
		return 1;
	}
	return err == -ENOENT ? 0 : -1;
}

/* Every node's outer MAC: from the neighbour table, which the kernel is asked
 * to fill for all of them at once; what is still missing after
 * OV_NEIGH_WAIT_MS is left to bpf_fib_lookup per packet. */
static void resolve_macs(const struct nodes *n, const struct ov_env *env, struct diags *d,
			 struct ov_built *out)
{
	uint8_t *pending = calloc(n->n + 1, 1);
	size_t left = 0;
	char a[INET6_ADDRSTRLEN];

	if (!pending)
		return;
	/* pending[i]: 1 waiting for the kernel, 2 given up on. */
	for (size_t i = 0; i < n->n; i++) {
		int r = i == n->self_idx ? 1 : resolve_one(n, i, env, d, out, true);

		pending[i] = r == 0 ? 1 : r < 0 ? 2 : 0;
		left += r == 0;
	}
	for (int waited = 0; left && waited < OV_NEIGH_WAIT_MS; waited += OV_NEIGH_POLL_MS) {
		struct timespec ts = { 0, OV_NEIGH_POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
		for (size_t i = 0; i < n->n; i++) {
			int r = pending[i] == 1 ? resolve_one(n, i, env, d, out, false) : 0;

			if (r) {
				pending[i] = r < 0 ? 2 : 0;
				left--;
			}
		}
	}
	for (size_t i = 0; i < n->n; i++) {
		if (!pending[i])
			continue;
		out->node[i].flags |= FRINGE_NODE_FIB;
		out->mac_source[i] = OV_MAC_FIB;
		inet_ntop(out->node[i].family == 4 ? AF_INET : AF_INET6, out->node[i].underlay, a,
			  sizeof(a));
		pr_warn("overlay: no MAC known for node '%s' (%s) yet; the data plane will look it up per packet",
			n->v[i].name, a);
	}
	free(pending);
}

void overlay_built_free(struct ov_built *b)
{
	if (!b)
		return;
	free(b->node);
	free(b->mac_source);
	memset(b, 0, sizeof(*b));
}

int overlay_resolve_self(struct nodes *n, const struct ov_env *env, struct diags *d)
{
	struct ov_local l;
	size_t found = n->n;
	int hits = 0;

	if (!n->self_auto || n->self[0])
		return 0;
	for (size_t i = 0; i < n->n; i++)
		if (!env->local_iface(n->v[i].family, n->v[i].underlay, &l) ||
		    (n->v[i].alt_family &&
		     !env->local_iface(n->v[i].alt_family, n->v[i].alt_underlay, &l))) {
			if (hits++)
				diags_add(d, n->v[i].underlay_loc,
					  "self auto: this host holds the underlay addresses of both '%s' and '%s'",
					  n->v[found].name, n->v[i].name);
			else
				found = i;
		}
	if (!hits) {
		diags_add(d, n->self_loc, "self auto: no listed node's underlay address is on this host");
		return -EINVAL;
	}
	if (hits > 1)
		return -EINVAL;
	n->self_idx = found;
	snprintf(n->self, sizeof(n->self), "%s", n->v[found].name);
	return 0;
}

/* The interface holding self's underlay addresses, and its MTU checked
 * against the tunnels' overhead; 0 or -errno (errors in d). */
static int build_local(const struct nodes *n, const struct ov_env *env, struct diags *d,
		       struct ov_built *out, unsigned int outer)
{
	const struct node_def *self = &n->v[n->self_idx];
	char a[INET6_ADDRSTRLEN];
	struct ov_local alt;
	int err;

	inet_ntop(self->family == 4 ? AF_INET : AF_INET6, self->underlay, a, sizeof(a));
	err = env->local_iface(self->family, self->underlay, &out->local);
	if (err) {
		diags_add(d, self->underlay_loc,
			  "no interface here has %s, the underlay address of self '%s' (%s)", a,
			  self->name, strerror(-err));
		return err == -ENOMEM ? err : -EINVAL;
	}
	if (self->alt_family) {
		inet_ntop(self->alt_family == 4 ? AF_INET : AF_INET6, self->alt_underlay, a, sizeof(a));
		err = env->local_iface(self->alt_family, self->alt_underlay, &alt);
		if (err || alt.ifindex != out->local.ifindex) {
			diags_add(d, self->alt_loc, err ?
				  "no interface here has %s, the underlay address of self '%s' (%s)" :
				  "%s, an underlay address of self '%s', is on %s, not on %s with the other",
				  a, self->name, err ? strerror(-err) : alt.ifname, out->local.ifname);
			return err == -ENOMEM ? err : -EINVAL;
		}
		if (self->alt_family == 6) {
			memcpy(out->local.addr6, self->alt_underlay, 16);
			out->local.has_addr6 = true;
		}
	}
	if (self->family == 6) {
		memcpy(out->local.addr6, self->underlay, 16);
		out->local.has_addr6 = true;
	}
	if (out->local.mtu < 68 + outer) {
		diags_add(d, self->underlay_loc, "the underlay %s has an MTU of %u: too small for VXLAN",
			  out->local.ifname, out->local.mtu);
		return -EINVAL;
	}
	return 0;
}

int overlay_build(const struct nodes *n, const struct ov_env *env, struct diags *d,
		  struct ov_built *out)
{
	const struct node_def *self = &n->v[n->self_idx];
	unsigned int outer = FRINGE_VXLAN_OUTER_V4;
	int err;

	memset(out, 0, sizeof(*out));
	out->node = calloc(n->n + 1, sizeof(*out->node));
	out->mac_source = calloc(n->n + 1, sizeof(*out->mac_source));
	if (!out->node || !out->mac_source) {
		overlay_built_free(out);
		return -ENOMEM;
	}
	out->n = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct node_def *nd = &n->v[i];
		struct fringe_node *fn = &out->node[i];
		int f = i == n->self_idx ? self->family : nodes_tunnel_family(n, nd);
		const uint8_t *src = nodes_underlay(self, f), *dst = nodes_underlay(nd, f);

		if (!src || !dst) {
			/* The parser reports it, unless self was `auto`. */
			nodes_check_reachable(n, nd, d);
			continue;
		}
		memcpy(fn->underlay, dst, 16);
		fn->family = f;
		fn->vni = nd->vni;
		fn->flags = FRINGE_NODE_IN_USE | (nd->has_mac ? FRINGE_NODE_MAC_GIVEN : 0);
		if (f == 4)
			fn->ip_csum = 0x4500 + 0x4000 + (64 << 8 | IPPROTO_UDP) + csum_words(src, 4) +
				      csum_words(dst, 4);
		else
			fn->ip_csum = IPPROTO_UDP + csum_words(src, 16) + csum_words(dst, 16);
		if (i != n->self_idx && FRINGE_VXLAN_OUTER(f) > outer)
			outer = FRINGE_VXLAN_OUTER(f);
		out->mac_source[i] = OV_MAC_FILE;
		if (i == n->self_idx) {
			fn->flags |= FRINGE_NODE_SELF;
		} else if (nd->has_mac) {
			memcpy(fn->outer_mac, nd->mac, 6);
			memcpy(fn->inner_mac, nd->mac, 6);
		}
	}
	if (env) {
		err = build_local(n, env, d, out, outer);
		if (err) {
			overlay_built_free(out);
			return err;
		}
		memcpy(out->node[n->self_idx].outer_mac, out->local.mac, 6);
		memcpy(out->node[n->self_idx].inner_mac, out->local.mac, 6);
		out->inner_mtu = out->local.mtu - outer;
		if (out->inner_mtu < FRINGE_IPV6_MIN_MTU && outer == FRINGE_VXLAN_OUTER_V6)
			pr_warn("overlay: the tunnels carry inner packets of %u bytes at most, less than IPv6's minimum of %u",
				out->inner_mtu, FRINGE_IPV6_MIN_MTU);
		resolve_macs(n, env, d, out);
	}
	if (d && d->n) {
		overlay_built_free(out);
		return -EINVAL;
	}
	return 0;
}

/* ---- the pinned state ------------------------------------------------------------- */

static struct fringe_overlay *ov_map(struct maps *m)
{
	return slot_mmap(m->fd[M_OVERLAY], sizeof(struct fringe_overlay));
}

static void ov_unmap(struct fringe_overlay *ov)
{
	slot_munmap(ov, sizeof(*ov));
}

/* A node keeps the id its name had (counters and `steer node` survive, also
 * across a load that leaves it out); a new name takes an id never used, else
 * one whose name this file drops. */
static int assign_ids(struct maps *m, const struct nodes *n, __u32 *ids)
{
	char (*names)[FRINGE_NAME_LEN] = calloc(FRINGE_MAX_NODES, FRINGE_NAME_LEN);
	uint8_t *live = calloc(FRINGE_MAX_NODES, 1), *fresh = calloc(FRINGE_MAX_NODES, 1);
	struct slot_ids s = { .first = 0, .n = FRINGE_MAX_NODES, .names = names, .live = live,
			      .reuse_dropped = true };
	int err;

	if (!names || !live || !fresh) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 0; id < FRINGE_MAX_NODES; id++) {
		struct fringe_node_name nm;

		if (!bpf_map_lookup_elem(m->fd[M_NODE_NAMES], &id, &nm))
			memcpy(names[id], nm.name, FRINGE_NAME_LEN);
		live[id] = names[id][0] != '\0';
	}
	err = slot_ids_assign(&s, n->v[0].name, sizeof(n->v[0]), n->n, ids, fresh);
	for (size_t i = 0; i < n->n && !err; i++) {
		struct fringe_node_name nm = {};

		if (!fresh[ids[i]])
			continue;
		snprintf(nm.name, sizeof(nm.name), "%s", n->v[i].name);
		err = slot_zero_percpu(m->fd[M_NODE_STATS], ids[i], sizeof(struct fringe_node_stats),
				       m->ncpus);
		if (!err && bpf_map_update_elem(m->fd[M_NODE_NAMES], &ids[i], &nm, BPF_ANY))
			err = -errno;
	}
out:
	free(names);
	free(live);
	free(fresh);
	return err;
}

/* The overlay's inner maps. */
static const enum map_id overlay_outers[] = {
	M_OV_SLOT_NODES, M_OV_SLOT_PREFIXES, M_OV_SLOT_UNDERLAY,
};

/* Nodes by id, their prefixes and their underlay addresses; returns the prefix count. */
static int overlay_fill(struct slot_build *sb, const struct nodes *n, const struct ov_built *b,
			const __u32 *ids, size_t *n_prefixes)
{
	int nodes_fd = slot_fd(sb, M_OV_SLOT_NODES), prefixes_fd = slot_fd(sb, M_OV_SLOT_PREFIXES);
	int underlay_fd = slot_fd(sb, M_OV_SLOT_UNDERLAY), err = 0;

	*n_prefixes = 0;
	for (size_t i = 0; i < n->n && !err; i++) {
		const struct node_def *nd = &n->v[i];

		if (bpf_map_update_elem(nodes_fd, &ids[i], &b->node[i], BPF_ANY))
			err = -errno;
		/* VXLAN is accepted from each of a node's addresses. */
		for (int f = 4; f <= 6 && !err && i != n->self_idx; f += 2) {
			struct fringe_ov_underlay_key uk = { .family = f };

			if (!nodes_underlay(nd, f))
				continue;
			memcpy(uk.addr, nodes_underlay(nd, f), 16);
			if (bpf_map_update_elem(underlay_fd, &uk, &ids[i], BPF_ANY))
				err = -errno;
		}
		for (size_t k = 0; k < nd->n_prefixes && !err; k++) {
			struct fringe_ov_prefix_key pk = {
				.prefixlen = 8 + nd->prefixes[k].len,
				.family = nd->prefixes[k].family,
			};

			memcpy(pk.addr, nd->prefixes[k].addr, 16);
			if (bpf_map_update_elem(prefixes_fd, &pk, &ids[i], BPF_ANY))
				err = -errno;
			(*n_prefixes)++;
		}
	}
	if (err) {
		pr_err("cannot fill the overlay maps: %s", strerror(-err));
		return err;
	}
	return 0;
}

int overlay_load(struct maps *m, const struct nodes *n, const struct ov_built *b,
		 uint64_t *generation)
{
	const struct node_def *self = &n->v[n->self_idx];
	struct bpf_devmap_val dv = { .ifindex = b->local.ifindex };
	__u32 *ids = calloc(n->n + 1, sizeof(*ids));
	struct fringe_overlay *ov = ov_map(m);
	struct fringe_ov_slot *h;
	struct slot_build sb;
	size_t n_prefixes = 0;
	struct timespec now;
	__u32 entries[3] = {};
	int err;

	memset(&sb, 0, sizeof(sb));
	if (!ov || !ids) {
		err = !ov ? -errno : -ENOMEM;
		pr_err("cannot open the overlay state: %s", strerror(-err));
		free(ids);
		ov_unmap(ov);
		return err;
	}
	/* The node array keeps its template's size (its lookups are inlined);
	 * the underlay hash takes this file's nodes only (written now, never
	 * added to). */
	entries[2] = n->n ? n->n : 1;
	err = slot_begin_sized(&sb, m, overlay_outers, sizeof(overlay_outers) / sizeof(overlay_outers[0]),
			       entries, &ov->active, &ov->load_failures);
	if (err)
		goto out;
	err = assign_ids(m, n, ids);
	if (err) {
		pr_err("cannot give the nodes ids: %s", err == -ENOSPC ? "more than 1024 node names"
									: strerror(-err));
		goto out;
	}
	err = overlay_fill(&sb, n, b, ids, &n_prefixes);
	if (err)
		goto out;
	/* Encapsulated frames leave through the devmap, like `steer iface`. */
	if (bpf_map_update_elem(m->fd[M_DEVMAP], &dv.ifindex, &dv, BPF_ANY)) {
		err = -errno;
		pr_err("cannot add the underlay %s to the redirect map: %s", b->local.ifname,
		       strerror(errno));
		goto out;
	}
	err = slot_commit(&sb);
	if (err)
		goto out;

	h = &ov->slot[sb.target];
	memset(h, 0, sizeof(*h));
	clock_gettime(CLOCK_REALTIME, &now);
	h->generation = slot_next_generation(ov->slot[0].generation, ov->slot[1].generation);
	h->load_time_ns = now.tv_sec * 1000000000ULL + now.tv_nsec;
	h->self_id = ids[n->self_idx];
	h->ifindex = b->local.ifindex;
	h->mtu = b->local.mtu;
	h->n_nodes = n->n;
	h->n_prefixes = n_prefixes;
	h->self_vni = self->vni;
	memcpy(h->local_mac, b->local.mac, 6);
	for (int f = 4; f <= 6; f += 2)
		if (nodes_underlay(self, f))
			h->families |= FRINGE_OV_FAMILY(f);
	if (nodes_underlay(self, 4))
		memcpy(h->local_addr4, nodes_underlay(self, 4), 4);
	if (b->local.has_addr6)
		memcpy(h->local_addr6, b->local.addr6, 16);
	/* family last: the data plane treats the slot as loaded once it is set. */
	__atomic_store_n(&h->family, self->family, __ATOMIC_RELEASE);
	/* Before the flip, so the first nodes file is in force as it flips. */
	__atomic_or_fetch(&m->meta->flags, FRINGE_META_OVERLAY, __ATOMIC_RELEASE);
	slot_flip(&ov->active, sb.target);
	if (generation)
		*generation = h->generation;
out:
	slot_end(&sb, err);
	ov_unmap(ov);
	free(ids);
	return err;
}

void overlay_note_load_failure(struct maps *m)
{
	struct fringe_overlay *ov = ov_map(m);

	if (ov)
		__atomic_add_fetch(&ov->load_failures, 1, __ATOMIC_RELAXED);
	ov_unmap(ov);
}

/* ---- reading it back ---------------------------------------------------------------- */

/* The active slot's node array, FRINGE_MAX_NODES entries (caller frees); NULL when none. */
static struct fringe_node *read_nodes(struct maps *m, int slot)
{
	int fd = maps_slot_inner_fd(m, M_OV_SLOT_NODES, slot);
	struct fringe_node *v;

	if (fd < 0)
		return NULL;
	v = calloc(FRINGE_MAX_NODES, sizeof(*v));
	for (__u32 id = 0; v && id < FRINGE_MAX_NODES; id++)
		if (bpf_map_lookup_elem(fd, &id, &v[id]))
			memset(&v[id], 0, sizeof(v[id]));
	close(fd);
	return v;
}

int overlay_resolve_node(void *ctx, const char *name, uint32_t *id)
{
	struct maps *m = ctx;
	struct fringe_overlay *ov = ov_map(m);
	struct fringe_node_name nm;
	struct fringe_node *nodes = NULL;
	int slot, err = -ENOENT;

	if (!ov)
		return -errno;
	slot = __atomic_load_n(&ov->active, __ATOMIC_ACQUIRE) & 1;
	if (!ov->slot[slot].family) {
		err = -ENODATA;
		goto out;
	}
	nodes = read_nodes(m, slot);
	for (__u32 i = 0; nodes && i < FRINGE_MAX_NODES; i++) {
		if (!(nodes[i].flags & FRINGE_NODE_IN_USE) ||
		    bpf_map_lookup_elem(m->fd[M_NODE_NAMES], &i, &nm) ||
		    strncmp(nm.name, name, FRINGE_NAME_LEN))
			continue;
		*id = i;
		err = 0;
		break;
	}
out:
	free(nodes);
	ov_unmap(ov);
	return err;
}

static int ov_prefix_cmp(const void *a, const void *b)
{
	const struct pol_prefix *x = &((const struct ov_prefix *)a)->prefix;
	const struct pol_prefix *y = &((const struct ov_prefix *)b)->prefix;
	int c = x->family - y->family;

	if (!c)
		c = memcmp(x->addr, y->addr, 16);
	return c ? c : (int)x->len - (int)y->len;
}

/* The prefixes of slot's trie that point at a listed node, in address order. */
static int read_prefixes(struct maps *m, int slot, const uint8_t *listed, struct ov_prefix **out, size_t *n)
{
	int fd = maps_slot_inner_fd(m, M_OV_SLOT_PREFIXES, slot);
	struct fringe_ov_prefix_key k, last;
	struct ov_prefix *v = NULL;
	size_t cap = 0;
	void *prev = NULL;
	__u32 id;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return 0;	/* no trie: no prefixes */
	/* In address order, whatever order the trie walks in. */
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		last = k;
		prev = &last;
		if (bpf_map_lookup_elem(fd, &k, &id) || id >= FRINGE_MAX_NODES || !listed[id])
			continue;
		if (*n == cap) {
			struct ov_prefix *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				close(fd);
				return -ENOMEM;
			}
			v = nv;
		}
		v[*n] = (struct ov_prefix){ .node_id = id,
					    .prefix = { .family = k.family, .len = k.prefixlen - 8 } };
		memcpy(v[*n].prefix.addr, k.addr, 16);
		(*n)++;
	}
	close(fd);
	if (v)
		qsort(v, *n, sizeof(*v), ov_prefix_cmp);
	*out = v;
	return 0;
}

/* Every node's underlay addresses, from the slot's hash of senders (self's from the header). */
static void read_underlays(struct maps *m, int slot, struct ov_state *out)
{
	int fd = maps_slot_inner_fd(m, M_OV_SLOT_UNDERLAY, slot);
	struct fringe_ov_underlay_key k, last;
	struct ov_node *by_id[FRINGE_MAX_NODES] = { NULL };
	void *prev = NULL;
	__u32 id;

	for (size_t i = 0; i < out->n_nodes; i++) {
		struct ov_node *o = &out->nodes[i];

		by_id[o->id] = o;
		if (!(o->node.flags & FRINGE_NODE_SELF))
			continue;
		for (int f = 4; f <= 6; f += 2)
			if (out->slot.families & FRINGE_OV_FAMILY(f)) {
				o->underlays[o->n_underlays].family = f;
				memcpy(o->underlays[o->n_underlays++].addr,
				       f == 4 ? out->slot.local_addr4 : out->slot.local_addr6,
				       f == 4 ? 4 : 16);
			}
	}
	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		last = k;
		prev = &last;
		if (bpf_map_lookup_elem(fd, &k, &id) || id >= FRINGE_MAX_NODES || !by_id[id] ||
		    by_id[id]->n_underlays >= 2)
			continue;
		by_id[id]->underlays[by_id[id]->n_underlays].family = k.family;
		memcpy(by_id[id]->underlays[by_id[id]->n_underlays++].addr, k.addr, 16);
	}
	close(fd);
}

int overlay_read(struct maps *m, struct ov_state *out)
{
	struct fringe_node_stats *st = calloc(m->ncpus, sizeof(*st));
	uint8_t *listed = calloc(FRINGE_MAX_NODES, 1);
	struct fringe_overlay *ov = ov_map(m);
	struct fringe_node *nodes = NULL;
	int slot, err = 0;

	memset(out, 0, sizeof(*out));
	if (!ov || !st || !listed) {
		err = !ov ? -errno : -ENOMEM;
		goto out;
	}
	slot = __atomic_load_n(&ov->active, __ATOMIC_ACQUIRE) & 1;
	out->slot = ov->slot[slot];
	out->load_failures = ov->load_failures;
	out->loaded = out->slot.family != 0;
	if (!out->loaded)
		goto out;
	nodes = read_nodes(m, slot);
	out->nodes = calloc(FRINGE_MAX_NODES, sizeof(*out->nodes));
	if (!out->nodes) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 0; nodes && id < FRINGE_MAX_NODES; id++) {
		struct ov_node *o = &out->nodes[out->n_nodes];
		struct fringe_node_name nm;

		if (!(nodes[id].flags & FRINGE_NODE_IN_USE))
			continue;
		o->id = id;
		o->node = nodes[id];
		if (!bpf_map_lookup_elem(m->fd[M_NODE_NAMES], &id, &nm))
			snprintf(o->name, sizeof(o->name), "%.*s", FRINGE_NAME_LEN, nm.name);
		if (!bpf_map_lookup_elem(m->fd[M_NODE_STATS], &id, st))
			for (int c = 0; c < m->ncpus; c++) {
				o->tx.packets += st[c].tx.packets;
				o->tx.bytes += st[c].tx.bytes;
				o->rx.packets += st[c].rx.packets;
				o->rx.bytes += st[c].rx.bytes;
			}
		listed[id] = 1;
		out->n_nodes++;
	}
	read_underlays(m, slot, out);
	err = read_prefixes(m, slot, listed, &out->prefixes, &out->n_prefixes);
out:
	if (err)
		overlay_state_free(out);
	free(nodes);
	free(listed);
	free(st);
	ov_unmap(ov);
	return err;
}

void overlay_state_free(struct ov_state *s)
{
	free(s->nodes);
	free(s->prefixes);
	s->nodes = NULL;
	s->prefixes = NULL;
	s->n_nodes = s->n_prefixes = 0;
}
