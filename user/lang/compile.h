/* SPDX-License-Identifier: GPL-2.0 */
/* Policy compiler: syntax tree -> the per-policy map contents (rule bitmaps per dimension). */
#ifndef FRINGE_COMPILE_H
#define FRINGE_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "policy.h"

struct compile_env {
	/* ifname -> ifindex (0 when unknown); NULL: do not resolve (policy check). */
	unsigned int (*resolve_ifname)(const char *name);
	unsigned int ncpus;		/* 0: do not check `steer cpu` */
	/* `steer node NAME` -> node id in the nodes file in force: 0, -ENOENT, or
	 * -ENODATA when none is loaded (overlay_resolve_node); NULL: do not
	 * resolve (policy check). */
	int (*resolve_node)(void *ctx, const char *name, uint32_t *id);
	void *node_ctx;
};

struct lpm6_entry { struct fringe_lpm6_key key; uint32_t bitmap; };
struct hash_entry { struct fringe_hkey key; uint32_t value; };

struct compiled {
	uint32_t n_rules;
	uint32_t dims_used;			/* 1 << FRINGE_DIM_* */
	uint8_t default_action;
	uint32_t miss_bitmap[FRINGE_DIM_MAX];

	struct fringe_bitmap *bitmaps;		/* deduplicated */
	uint32_t n_bitmaps;
	uint32_t *dimtab;			/* FRINGE_TAB_COMPILE_SIZE entries, FRINGE_TAB_SIZE loaded */
	struct fringe_v4_block *v4blocks;	/* IPv4 octet trie; 0 and 1 are the roots */
	uint32_t n_v4blocks;
	struct lpm6_entry *lpm6;
	size_t n_lpm6;
	struct hash_entry *hash;
	size_t n_hash;

	struct fringe_rule_action *actions;	/* n_rules; counter_id is the loader's */
	char (*names)[FRINGE_NAME_LEN];		/* n_rules */
	char (*device_names)[FRINGE_NAME_LEN];	/* n_devices, by device index */
	uint32_t n_devices;
	uint32_t *steer_ifindex;		/* distinct `steer iface` targets */
	size_t n_steer_ifindex;
	bool uses_cpumap;
	uint8_t slot_flags;			/* FRINGE_SLOT_* */
	/* The policy's DNS names by their key (fringe_dns_learned.keys), for display. */
	struct compiled_dns_name {
		uint64_t key;
		struct fringe_dns_name v;
	} *dns_names;
	size_t n_dns_names;
};

/* Returns 0, or -EINVAL with every error in d, or -ENOMEM / -E2BIG (capacity, also in d). */
int compile_policy(const struct policy *p, const struct compile_env *env, struct diags *d,
		   struct compiled *out);
void compiled_free(struct compiled *c);

static inline bool bitmap_test(const struct fringe_bitmap *b, uint32_t r)
{
	return (b->word[r / 64] >> (r % 64)) & 1;
}

#endif
