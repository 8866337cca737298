/* SPDX-License-Identifier: GPL-2.0 */
/* The nodes file (docs/overlay.md): which nodes form the overlay, their underlay addresses and prefixes. */
#ifndef FRINGE_NODES_H
#define FRINGE_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "policy.h"	/* struct pol_loc, struct pol_prefix, struct diags */

#define NODES_MAX_FILE	(4u << 20)

/*
 * Statements, one per line, with the policy language's lexical rules:
 *
 *   self NAME | self auto
 *   node NAME underlay ADDR[,ADDR] [mac MAC] prefix CIDR[,CIDR]... [vni N]
 *
 * The options after NAME may come in any order, each once; `underlay` and
 * `prefix` are required.  ADDR is an IPv4 or IPv6 unicast address; a node
 * may give one of each family (a dual-stack underlay).  Families may mix
 * across nodes as long as every node shares one with `self`: that is the
 * family fringe tunnels to it over.  A prefix without /LEN is a host.  No two
 * prefixes may overlap (one containing the other), in one node or across
 * nodes.  VNI is 1-16777215, FRINGE_VNI_DEFAULT when absent.  `self` names
 * one of the nodes: this machine; `self auto` leaves it to the load, which
 * picks the node whose underlay address this host holds (overlay_resolve_self).
 */
struct node_def {
	char name[FRINGE_NAME_LEN];
	struct pol_loc loc;		/* of the name */
	uint8_t family;			/* underlay: 4 or 6 */
	uint8_t underlay[16];		/* network order; IPv4 in the first 4 bytes */
	struct pol_loc underlay_loc;
	uint8_t alt_family;		/* a second underlay address, of the other family; 0: none */
	uint8_t alt_underlay[16];
	struct pol_loc alt_loc;
	bool has_mac;
	uint8_t mac[6];
	struct pol_prefix *prefixes;
	struct pol_loc *prefix_loc;
	size_t n_prefixes;
	uint32_t vni;
};

struct nodes {
	char self[FRINGE_NAME_LEN];
	struct pol_loc self_loc;	/* line 0: no `self` */
	bool self_auto;			/* `self auto`: self and self_idx unset until resolved */
	size_t self_idx;		/* index into v */
	struct node_def *v;
	size_t n;
};

/* Parse and validate; every error goes to d (which may be NULL).  Returns 0,
 * -EINVAL when there were errors, or -ENOMEM; on failure *out is freed. */
int nodes_parse(const char *text, size_t len, struct diags *d, struct nodes *out);
/* As nodes_parse on a file; sets d->file to path when NULL.  An unreadable
 * file adds "cannot read PATH: REASON" at 0:0 and returns -errno. */
int nodes_parse_file(const char *path, struct diags *d, struct nodes *out);
void nodes_free(struct nodes *n);

/* Node nd's underlay address of family f (4 or 6), or NULL. */
const uint8_t *nodes_underlay(const struct node_def *nd, int f);
/* The family fringe tunnels to nd over: nd's first that self has too; 0: none. */
int nodes_tunnel_family(const struct nodes *n, const struct node_def *nd);
/* 0 when self can reach nd (nodes_tunnel_family), else 1 with the error in d. */
int nodes_check_reachable(const struct nodes *n, const struct node_def *nd, struct diags *d);

/* The node called name, or NULL. */
const struct node_def *nodes_find(const struct nodes *n, const char *name);
/* A numeric IPv4 or IPv6 address: 4, 6, or 0 when it is neither. */
int nodes_addr_parse(const char *s, uint8_t addr[16]);
/* Neither unspecified, multicast nor (IPv4) broadcast. */
bool nodes_addr_unicast(int family, const uint8_t *addr);
/* ADDR or ADDR/LEN with the host bits clear; 0, or -EINVAL with a message in why. */
int nodes_prefix_parse(const char *s, struct pol_prefix *out, char *why, size_t whylen);
/* Whether one of the two prefixes contains the other. */
bool nodes_prefixes_overlap(const struct pol_prefix *a, const struct pol_prefix *b);
/* "10.0.0.0/8", "fd00::/64" (host prefixes keep their /32 or /128). */
void nodes_prefix_str(const struct pol_prefix *p, char *buf, size_t len);

#endif /* FRINGE_NODES_H */
