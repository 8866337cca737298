/* SPDX-License-Identifier: GPL-2.0 */
/* Slotted pinned state: build a feature's maps aside, fill them, swap them in; names -> stable ids. */
#ifndef FRINGE_SLOT_H
#define FRINGE_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "maps.h"

/*
 * A feature whose state the data plane reads through map-in-map outers of two
 * slots (the policy: fringe_slot_*; the overlay: fringe_ov_slot_*) plus a
 * header of two slots with an `active` switch (fringe_meta, fringe_overlay)
 * is loaded in four steps, and only slot_commit and slot_flip touch what the
 * data plane can see:
 *
 *   slot_begin   take the pin dir's lock; one fresh inner map per outer,
 *                made from the BPF object's own templates
 *   fill         slot_fill_array / slot_fill_kv / bpf_map_update_elem(slot_fd)
 *   slot_commit  install the inner maps in the inactive (target) slot
 *   (the caller writes the target slot's header)
 *   slot_flip    make the target slot the active one
 *
 * slot_end releases everything and, when the load failed, counts it in the
 * feature's load_failures.  A failure before slot_flip leaves the slot in
 * force as it was; the target slot is the inactive one, which the data plane
 * does not read.
 */

#define SLOT_MAX_OUTERS 8

struct fringe_xdp;

struct slot_build {
	struct maps *m;
	const __u32 *entries;		/* max_entries by position in outers; 0 or NULL: the template's */
	struct fringe_xdp *tmpl;	/* inner-map templates (a loaded object drops them) */
	const enum map_id *outers;
	size_t n;
	int fd[SLOT_MAX_OUTERS];	/* the fresh inner maps, by position in outers */
	int target;			/* the inactive slot: 0 or 1 */
	__u64 *load_failures;	/* counted by slot_end on failure; may be NULL */
};

int slot_begin(struct slot_build *b, struct maps *m, const enum map_id *outers, size_t n,
	       const __u32 *active, __u64 *load_failures);
/* slot_begin with other sizes than the templates': a hash's may differ from
 * its outer's template, an array's may not (the data plane's lookups into it
 * are inlined with the template's size), so arrays take the state's size. */
int slot_begin_sized(struct slot_build *b, struct maps *m, const enum map_id *outers, size_t n,
		     const __u32 *entries, const __u32 *active, __u64 *load_failures);
/* A new inner map of outer (a slot or an on-demand holder) from the object's
 * template; max_entries 0: the template's.  An fd or -errno. */
int slot_inner_create(struct fringe_xdp *tmpl, enum map_id outer, __u32 max_entries);
/* The fresh inner map behind outer (not a new fd), or -ENOENT. */
int slot_fd(const struct slot_build *b, enum map_id outer);
/* Copy n values of elem_size into a fresh mmapable array (elem_size must be the map's). */
int slot_fill_array(struct slot_build *b, enum map_id outer, const void *src, size_t elem_size,
		    size_t n);
/* Insert n records of stride bytes, each a key_size key followed (at its
 * end) by a __u32 value, in batches where the map supports it. */
int slot_fill_kv(struct slot_build *b, enum map_id outer, const void *entries, size_t n,
		 size_t stride, size_t key_size);
int slot_commit(struct slot_build *b);
/* Above both slots' generations: after a revert the slot in force is the older
 * one, and a reused number would let state cached under it pass as current. */
uint64_t slot_next_generation(uint64_t gen0, uint64_t gen1);
/* Make slot `target` the one the data plane reads (a release store). */
void slot_flip(__u32 *active, int target);
void slot_end(struct slot_build *b, int err);

/*
 * Names -> stable ids, so counters follow names across loads.  For every id
 * the caller gives the name it holds (names[id], "" when none) and whether it
 * is live (live[id]: the state in force uses it, or it is worth keeping).
 *
 *   - a wanted name that a live id holds keeps that id;
 *   - a new name takes the lowest id >= first that is neither live nor taken
 *     by this set (fresh[id] = 1: the caller zeroes what it counts);
 *   - with reuse_dropped, once those run out, a live id this set does not
 *     keep (fresh as well).
 *
 * want: n_want names, stride bytes apart.  0, or -ENOSPC when ids run out.
 */
struct slot_ids {
	uint32_t first, n;			/* ids first .. n-1 */
	const char (*names)[FRINGE_NAME_LEN];	/* n entries */
	const uint8_t *live;			/* n entries */
	bool reuse_dropped;
};
int slot_ids_assign(const struct slot_ids *s, const void *want, size_t stride, size_t n_want,
		    uint32_t *ids, uint8_t *fresh);
/* Zero a per-CPU counter of id (fresh ids start from zero). */
int slot_zero_percpu(int fd, uint32_t id, size_t value_size, int ncpus);

/* Memory-mapped BPF arrays: size is rounded up to pages.  NULL, errno set. */
void *slot_mmap(int fd, size_t size);
void slot_munmap(void *p, size_t size);

#endif
