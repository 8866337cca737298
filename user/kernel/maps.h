/* SPDX-License-Identifier: GPL-2.0 */
/* The pinned data-plane state: open or create it, swap policies in, read counters. */
#ifndef FRINGE_MAPS_H
#define FRINGE_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "compile.h"
#include "config.h"	/* config_sizes */

enum map_id {
	M_META,
	M_SLOT_BITMAPS,
	M_SLOT_DIMTAB,
	M_SLOT_V4,
	M_SLOT_LPM6,
	M_SLOT_HASH,
	M_SLOT_RULES,
	M_RULE_STATS,
	M_RULE_NAMES,
	M_BUCKETS,
	M_SRC_BUCKETS,
	M_IFSLOTS,
	M_IFACES,
	M_IFACE_STATS,
	M_DEVMAP,
	M_CPUMAP,
	M_FLOWS,
	M_SAMPLES,
	M_SAMPLE_STATS,
	M_APP_STATS,
	M_DEVICE_STATS,
	M_DEVICE_NAMES,
	M_DEVICE_SPOOFS,	/* spoofed packets by claimed device counter id (hash, per CPU) */
	M_OVERLAY,		/* the overlay (nodes file) slots */
	M_OV_SLOT_NODES,
	M_OV_SLOT_PREFIXES,
	M_OV_SLOT_UNDERLAY,
	M_NODE_NAMES,
	M_NODE_STATS,
	M_APP_FLOWS,		/* holder of the TCP flows confirmed as an application */
	M_DNS_LEARNED,		/* holder of the addresses learned from DNS answers */
	M_DNS_NAMES,		/* holder of the display names of the policy's DNS names */
	M_DNS_STATS,
	M_DNS_QUERIES,		/* holder of the DNS queries awaiting their answer */
	M_STAGED_STATS,		/* holder of the staged policy's counters */
	M_STAGED_CHANGES,	/* holder of the verdicts it would change */
	M_STAGED_PROG,		/* the staged policy's program (a tail call) */
	M__COUNT,
};
#define M_SLOT_FIRST M_SLOT_BITMAPS
#define M_SLOT_LAST M_SLOT_RULES

extern const char *const maps_names[M__COUNT];

enum maps_flags {
	MAPS_CREATE = 1 << 0,	/* create (and pin) the state when it is not there */
	MAPS_PRIVATE = 1 << 1,	/* a fresh, unpinned instance (policy test, BPF tests) */
};

struct fringe_xdp;

struct maps {
	char pin_dir[256];
	struct fringe_xdp *skel;	/* loaded object: private instances and creation */
	int fd[M__COUNT];
	struct fringe_meta *meta;	/* mmap of fringe_meta */
	struct fringe_rule_name *names;	/* mmap of fringe_rule_names */
	void *scratch;			/* maps_read_judged_by's buffer */
	int ncpus;
	int lock_fd;
	/* Sizes in force (enum fringe_size), as the pinned state records them. */
	uint32_t size[FRINGE_SZ_COUNT];
	uint32_t n_device_ids;		/* entries of fringe_device_stats and _names */
	struct fringe_xdp *tmpl;	/* opened, not loaded: the inner maps' templates */
};

int maps_prepare_pin_dir(const char *dir);
struct bpf_object;
/* Before loading an object that shares the pinned maps. */
int maps_prepare_object(struct bpf_object *obj, const char *pin_dir);
int maps_open(struct maps *m, const char *pin_dir, unsigned int flags);
/* As maps_open, with the site's sizes (by enum fringe_size; 0 or a NULL
 * array: the default).  A new state is created with them; an existing one
 * keeps the sizes of its policy slots and device tables (a difference is
 * warned about) and takes the on-demand maps' sizes for their next creation,
 * or at once for one that exists with another size. */
int maps_open_sized(struct maps *m, const char *pin_dir, unsigned int flags, const uint32_t *sizes);
void maps_close(struct maps *m);
/* Exclusive lock for writers (policy load, attach, detach). */
int maps_lock(struct maps *m);
/* Release it early (long-lived holders of struct maps, such as the daemon). */
void maps_unlock(struct maps *m);
/*
 * One daemon per pin dir: a lock file in /run/fringe named after the pin
 * dir's device and inode (every path to it, from every mount namespace,
 * names the same lock), holding the daemon's pid. The claim is -EBUSY with
 * the holder's pid when another daemon has it; it lasts until the process
 * ends or file_lock_release. maps_daemon_holder peeks: the pid of the
 * daemon managing pin_dir, 0 when none (-1: one, pid unknown).
 */
struct file_lock;
int maps_daemon_claim(const char *pin_dir, struct file_lock *l, long *holder);
long maps_daemon_holder(const char *pin_dir);

/* 0 when the state's sizes hold the policy; else -ENOSPC, reported naming
 * the size to raise (maps_load_policy checks it first). */
int maps_check_sizes(struct maps *m, const struct compiled *c);
/* Put a compiled policy in force atomically; returns 0 or -errno and changes
 * nothing then but fringe_policy_load_failures_total. */
int maps_load_policy(struct maps *m, const struct compiled *c, uint64_t *generation);
/* The generation the next load gives (under the lock). */
uint64_t maps_next_generation(const struct maps *m);
/* The policy's inner maps (outers of the slots), in fringe_slot_hdr.entries order. */
extern const enum map_id maps_policy_outers[FRINGE_SM_COUNT];
/* Fill the fresh maps of a policy slot (slot_begin) with a compiled policy:
 * actions carry the counter ids, dev_ids the devices' (by device index). */
struct slot_build;
int maps_fill_policy(struct slot_build *b, const struct compiled *c,
		     const struct fringe_rule_action *actions, const __u32 *dev_ids);
/* A slot's header for a compiled policy, loaded now. */
void maps_slot_hdr_fill(struct fringe_slot_hdr *h, const struct compiled *c, uint64_t generation,
			__u32 features);
/* The on-demand maps (FRINGE_SF_*) a policy needs. */
__u32 maps_policy_features(const struct compiled *c, bool *sample);
/* Make the other slot active again (commit-confirm revert); a slot never
 * loaded means no policy. */
int maps_flip(struct maps *m);
void maps_note_load_failure(struct maps *m);

/* Active slot contents. */
const struct fringe_slot_hdr *maps_active_hdr(const struct maps *m);
int maps_read_actions(struct maps *m, int slot, struct fringe_rule_action *out, uint32_t n);

/* Counters summed over CPUs. */
int maps_read_rule_counter(struct maps *m, uint32_t id, struct fringe_counter *out);
/* The rule counters of ids [0, upto) at once (one batch read where the
 * kernel has it): a caller that reads many rules pays one system call, not
 * one per rule, and a small policy reads no more than its ids.  *out has
 * FRINGE_MAX_COUNTERS entries, zero past upto; the caller frees it. */
int maps_read_rule_counters(struct maps *m, uint32_t upto, struct fringe_counter **out);
/* The same for any per-CPU array of size struct fringe_counter entries (fd). */
int maps_read_counters(struct maps *m, int fd, uint32_t size, uint32_t upto,
		       struct fringe_counter **out);
/* One past the highest counter id of these rules (0 included: `default`). */
uint32_t maps_rule_ids_upto(const struct fringe_rule_action *acts, uint32_t n);
/* Of a private instance (MAPS_PRIVATE): the rule that judged the last packet
 * run on cpu (struct fringe_scratch_head: counter id + 1, 0 none). */
int maps_read_judged_by(struct maps *m, int cpu, uint32_t *judged_by);
int maps_read_iface_stats(struct maps *m, uint32_t slot, struct fringe_iface_stats *out);

/* Application counters (enum fringe_app), summed over CPUs; out has FRINGE_APP_COUNT entries. */
int maps_read_app_stats(struct maps *m, struct fringe_counter *out);

/* A declared device of the policy in force, with its counters. */
struct maps_device {
	char name[FRINGE_NAME_LEN];
	uint32_t id;			/* counter id */
	struct fringe_counter cnt;	/* summed over CPUs */
	uint64_t spoofed;		/* packets that claimed its address from another MAC */
};
/* The devices of the policy in force, in counter-id order (caller frees *out). */
int maps_read_devices(struct maps *m, struct maps_device **out, size_t *n);

/* Inner map of a slot, as a new fd (caller closes). */
int maps_slot_inner_fd(struct maps *m, enum map_id outer, int slot);

/* The map an on-demand holder (M_FLOWS, M_SRC_BUCKETS, M_APP_FLOWS, M_SAMPLES,
 * M_DNS_QUERIES, M_DNS_LEARNED, M_DNS_NAMES) holds,
 * as a new fd (caller closes); -ENOENT when there is none. */
int maps_held_fd(struct maps *m, enum map_id holder);
/* Make the holder hold a map of the recorded size (a new, empty one when it
 * has none or one of another size); 0 or -errno. */
int maps_hold(struct maps *m, enum map_id holder);
/* The site's sizes changed (daemon config): as maps_open_sized does for an
 * existing state; a held map of another size is made anew.  Takes the lock. */
int maps_apply_sizes(struct maps *m, const uint32_t *want);
/* Empty the holder: the map goes when its last user (a packet) is done. */
int maps_release(struct maps *m, enum map_id holder);
/* Hold the maps a policy's features (enum fringe_slot_features) need; 0 or -errno. */
int maps_hold_features(struct maps *m, __u32 features);
/* Release what no loaded slot's policy needs (the other one may come back
 * through commit-confirm; a staged one is judged too): a feature unused
 * costs nothing. */
void maps_release_unused(struct maps *m);

/* Kernel memory of the state, by map family (the name of the pinned map;
 * the inner maps count under their outer map). */
struct maps_mem {
	const char *name;	/* maps_names[] */
	uint64_t bytes;		/* sum of the kernel's memlock figures */
	uint64_t per_cpu;	/* what one more possible CPU would add */
	uint32_t count;		/* maps counted */
};
/* out has M__COUNT entries; returns the total bytes. */
uint64_t maps_memory(struct maps *m, struct maps_mem *out);

#endif
