// SPDX-License-Identifier: GPL-2.0
/* The overlay as a document: `nodes show`, `stats`, the JSON API. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cluster.h"
#include "json.h"
#include "nodes.h"
#include "overlay.h"
#include "overlay_doc.h"

static json_object *jaddr(int family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
	return jstr(buf);
}

static json_object *jmac(const uint8_t *m)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return jstr(buf);
}

/* The inner IP packet a tunnel of this family carries at most. */
static unsigned int inner_mtu(const struct fringe_ov_slot *h, int family)
{
	unsigned int outer = FRINGE_VXLAN_OUTER(family);

	return h->mtu > outer ? h->mtu - outer : 0;
}

/* The local end; inner_mtu is the tunnels' to the farthest node (IPv6
 * costs 20 bytes more): what the workloads' links may carry. */
static json_object *underlay_doc(const struct ov_state *s)
{
	const struct fringe_ov_slot *h = &s->slot;
	json_object *u = json_object_new_object(), *al = json_object_new_array();
	char ifname[IF_NAMESIZE] = "";
	unsigned int mtu = inner_mtu(h, 4);

	if (!if_indextoname(h->ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "#%u", h->ifindex);
	json_object_object_add(u, "interface", jstr(ifname));
	json_object_object_add(u, "address", h->family == 4 ? jaddr(4, h->local_addr4)
							    : jaddr(6, h->local_addr6));
	if (h->families & FRINGE_OV_FAMILY(4))
		json_object_array_add(al, jaddr(4, h->local_addr4));
	if (h->families & FRINGE_OV_FAMILY(6))
		json_object_array_add(al, jaddr(6, h->local_addr6));
	json_object_object_add(u, "addresses", al);
	json_object_object_add(u, "mac", jmac(h->local_mac));
	json_object_object_add(u, "mtu", ju64(h->mtu));
	for (size_t i = 0; i < s->n_nodes; i++)
		if (!(s->nodes[i].node.flags & FRINGE_NODE_SELF) &&
		    inner_mtu(h, s->nodes[i].node.family) < mtu)
			mtu = inner_mtu(h, s->nodes[i].node.family);
	json_object_object_add(u, "inner_mtu", ju64(mtu));
	return u;
}

static json_object *node_doc(const struct ov_node *n, const struct fringe_ov_slot *h)
{
	const struct fringe_node *fn = &n->node;
	json_object *o = json_object_new_object(), *ul = json_object_new_array();

	json_object_object_add(o, "name", jstr(n->name));
	json_object_object_add(o, "id", ju64(n->id));
	json_object_object_add(o, "self", json_object_new_boolean(fn->flags & FRINGE_NODE_SELF));
	json_object_object_add(o, "underlay", jaddr(fn->family, fn->underlay));
	for (size_t i = 0; i < n->n_underlays; i++)
		json_object_array_add(ul, jaddr(n->underlays[i].family, n->underlays[i].addr));
	json_object_object_add(o, "underlays", ul);
	json_object_object_add(o, "family", ju64(fn->family));
	if (!(fn->flags & FRINGE_NODE_SELF))
		json_object_object_add(o, "inner_mtu", ju64(inner_mtu(h, fn->family)));
	json_object_object_add(o, "vni", ju64(fn->vni));
	json_object_object_add(o, "mac", fn->flags & FRINGE_NODE_FIB ? NULL : jmac(fn->outer_mac));
	json_object_object_add(o, "mac_source",
			       jstr(fn->flags & FRINGE_NODE_SELF ? "interface" :
				    fn->flags & FRINGE_NODE_FIB ? "fib" :
				    fn->flags & FRINGE_NODE_MAC_GIVEN &&
					    !memcmp(fn->outer_mac, fn->inner_mac, 6) ? "file" :
										  "neighbour"));
	json_object_object_add(o, "prefixes", json_object_new_array());
	json_object_object_add(o, "tx_packets", ju64(n->tx.packets));
	json_object_object_add(o, "tx_bytes", ju64(n->tx.bytes));
	json_object_object_add(o, "rx_packets", ju64(n->rx.packets));
	json_object_object_add(o, "rx_bytes", ju64(n->rx.bytes));
	return o;
}

/* Each node's source (`file`, `etcd`) and age: from the cluster member's
 * notes when they describe the table in force, else the nodes file's load. */
static void show_sources(struct maps *m, const struct fringe_ov_slot *h, json_object *doc)
{
	struct fringe_cluster_state *st = cluster_state_map(m->pin_dir, false);
	json_object *arr = json_object_object_get(doc, "nodes");
	bool ours = st && st->overlay_generation == h->generation;
	uint64_t now = time(NULL), loaded = h->load_time_ns / 1000000000ULL;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *name = jget_str(o, "name");
		const struct fringe_cluster_node *cn = NULL;
		uint64_t since;

		for (__u32 k = 0; ours && k < st->n_nodes && k < FRINGE_MAX_NODES; k++)
			if (!strncmp(st->node[k].name, name, FRINGE_NAME_LEN))
				cn = &st->node[k];
		/* this node's own record is in etcd when it announces itself */
		json_object_object_add(o, "source", jstr(cn && cn->source != 0 ? "etcd" : "file"));
		since = cn && cn->since_s ? cn->since_s : loaded;
		json_object_object_add(o, "since", ju64(since));
		json_object_object_add(o, "age_seconds", ju64(now > since ? now - since : 0));
		if (cn && cn->create_rev)
			json_object_object_add(o, "create_revision", ju64(cn->create_rev));
	}
	cluster_state_unmap(st);
}

json_object *overlay_show_doc(struct maps *m)
{
	json_object *doc = json_object_new_object(), *arr = json_object_new_array(), *self = NULL;
	json_object *by_id[FRINGE_MAX_NODES] = { NULL };
	struct ov_state s;
	char buf[64];

	json_object_object_add(doc, "nodes", arr);
	if (overlay_read(m, &s)) {
		json_object_object_add(doc, "self", NULL);
		json_object_object_add(doc, "generation", ju64(0));
		return doc;
	}
	json_object_object_add(doc, "generation", ju64(s.loaded ? s.slot.generation : 0));
	json_object_object_add(doc, "load_failures", ju64(s.load_failures));
	if (s.loaded) {
		time_t t = s.slot.load_time_ns / 1000000000ULL;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_object_add(doc, "loaded_at", jstr(buf));
		json_object_object_add(doc, "underlay", underlay_doc(&s));
	}
	for (size_t i = 0; i < s.n_nodes; i++) {
		json_object *o = node_doc(&s.nodes[i], &s.slot);

		json_object_array_add(arr, o);
		by_id[s.nodes[i].id] = o;
		if (s.nodes[i].node.flags & FRINGE_NODE_SELF)
			self = jstr(s.nodes[i].name);
	}
	for (size_t i = 0; i < s.n_prefixes; i++) {
		nodes_prefix_str(&s.prefixes[i].prefix, buf, sizeof(buf));
		json_object_array_add(json_object_object_get(by_id[s.prefixes[i].node_id], "prefixes"),
				      jstr(buf));
	}
	json_object_object_add(doc, "self", self);
	if (s.loaded)
		show_sources(m, &s.slot, doc);
	overlay_state_free(&s);
	return doc;
}
