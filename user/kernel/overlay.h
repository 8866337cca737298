/* SPDX-License-Identifier: GPL-2.0 */
/* The overlay in the kernel: a nodes file resolved against this host, loaded atomically, read back. */
#ifndef FRINGE_OVERLAY_H
#define FRINGE_OVERLAY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "maps.h"
#include "nodes.h"

/* The underlay interface: the one holding self's underlay address. */
struct ov_local {
	unsigned int ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t mac[6];
	unsigned int mtu;
	bool has_addr6;		/* addr6: a global IPv6 address of the interface */
	uint8_t addr6[16];
};

/* How a nodes file meets this host (tests substitute their own). */
struct ov_env {
	/* The interface holding addr (and a global IPv6 address of it, if
	 * any: the source of Packet Too Big when self has no IPv6 underlay);
	 * 0 or -errno. */
	int (*local_iface)(int family, const uint8_t *addr, struct ov_local *out);
	/* The MAC of the next hop toward addr out of the underlay (the node
	 * itself when on-link; *onlink says which); 0, or -ENOENT when the
	 * neighbour table has none yet (with ask, the kernel is asked to
	 * resolve it: overlay_build asks for every node, then waits once);
	 * another -errno gives up at once (the data plane's FIB lookup then). */
	int (*next_hop)(const struct ov_local *l, int family, const uint8_t *addr, uint8_t mac[6],
			bool *onlink, bool ask);
};
extern const struct ov_env overlay_live_env;

enum ov_mac_source { OV_MAC_FILE, OV_MAC_NEIGH, OV_MAC_FIB };

/* A nodes file resolved against this host, ready to load (file order). */
struct ov_built {
	struct ov_local local;
	struct fringe_node *node;		/* n entries, ip_csum filled */
	unsigned int inner_mtu;			/* the largest inner IP packet to every node */
	enum ov_mac_source *mac_source;		/* where each outer MAC came from */
	size_t n;
};

/* `self auto`: the node whose underlay address this host holds becomes self
 * (no-op otherwise); errors at the file's locations.  0 or -EINVAL. */
int overlay_resolve_self(struct nodes *n, const struct ov_env *env, struct diags *d);
/* Resolve the underlay interface and the nodes' MACs; errors at the file's
 * locations in d.  0, -EINVAL (errors in d) or -errno. */
int overlay_build(const struct nodes *n, const struct ov_env *env, struct diags *d,
		  struct ov_built *out);
void overlay_built_free(struct ov_built *b);
/* nodes_parse_file + overlay_build, errors printed as FILE:LINE:COL with a
 * closing "fringe: ..." line (`nodes check`, `nodes load`, the daemon). */
int overlay_build_file(const char *path, const struct ov_env *env, struct nodes *n,
		       struct ov_built *b);

/* Put a nodes file in force atomically (build the other slot, then flip);
 * nothing changes on failure.  Node ids follow names across loads. */
int overlay_load(struct maps *m, const struct nodes *n, const struct ov_built *b,
		 uint64_t *generation);
/* Count a refused `nodes load` (a bad file) in the pinned state. */
void overlay_note_load_failure(struct maps *m);

/* compile_env.resolve_node over the pinned state (ctx: struct maps *):
 * the id of a node of the nodes file in force; -ENOENT, or -ENODATA when
 * no nodes file is loaded. */
int overlay_resolve_node(void *ctx, const char *name, uint32_t *id);

/* The overlay in force, as the pinned state holds it. */
struct ov_node {
	uint32_t id;
	char name[FRINGE_NAME_LEN + 1];
	struct fringe_node node;
	struct fringe_counter tx, rx;	/* summed over CPUs */
	struct {
		uint8_t family;
		uint8_t addr[16];
	} underlays[2];			/* every address it has (node.underlay is the one used) */
	size_t n_underlays;
};
struct ov_prefix {
	uint32_t node_id;
	struct pol_prefix prefix;
};
struct ov_state {
	bool loaded;			/* a nodes file is in force */
	struct fringe_ov_slot slot;	/* its header */
	uint64_t load_failures;
	struct ov_node *nodes;		/* in id order */
	size_t n_nodes;
	struct ov_prefix *prefixes;	/* in address order */
	size_t n_prefixes;
};
/* Read it (caller frees with overlay_state_free); 0 or -errno. */
int overlay_read(struct maps *m, struct ov_state *out);
void overlay_state_free(struct ov_state *s);

#endif
