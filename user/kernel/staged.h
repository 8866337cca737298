/* SPDX-License-Identifier: GPL-2.0 */
/* The staged policy (SPEC §11): installed beside the policy in force, judging every packet, deciding none. */
#ifndef FRINGE_STAGED_H
#define FRINGE_STAGED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "maps.h"

struct compiled;

/*
 * What stays of a staged policy:
 *   - its compiled maps in slot FRINGE_SLOT_STAGED of the policy outers and
 *     its header in fringe_meta.slot[FRINGE_SLOT_STAGED];
 *   - its counters (fringe_staged_stats) and changed verdicts
 *     (fringe_staged_changes), made anew by each stage;
 *   - its program (fringe_xdp_staged) in fringe_staged_prog;
 *   - its source, word for word, in the pinned map fringe_staged_source,
 *     so that `policy promote` loads exactly what was audited, and its rules
 *     can be named without the file.
 * FRINGE_META_STAGED is set last and cleared first.
 */

/* The staged policy's source: the file it was read from and its text. */
struct staged_source {
	char path[4080];
	char *text;		/* NUL-terminated; len bytes */
	size_t len;
	uint64_t generation;	/* of the staged slot when it was staged */
};

/* Stage c (compiled from text, read from path): replaces a staged policy.
 * 0 or -errno; on failure nothing staged before is left half-replaced: the
 * staged policy is gone or as it was. */
int staged_put(struct maps *m, const struct compiled *c, const char *path, const char *text,
	       size_t len, uint64_t *generation);
/* Remove the staged policy; -ENOENT when there is none. */
int staged_remove(struct maps *m);
/* The staged slot's header, NULL when nothing is staged. */
const struct fringe_slot_hdr *staged_hdr(const struct maps *m);
int staged_read_source(struct maps *m, struct staged_source *out);
void staged_source_free(struct staged_source *s);
/* Counters summed over CPUs, FRINGE_STAGED_COUNTERS of them (index: staged
 * rule + 1, 0 the default, FRINGE_STAGED_LOST); the caller frees *out. */
int staged_read_counters(struct maps *m, struct fringe_counter **out);

struct staged_change {
	struct fringe_staged_key key;
	struct fringe_staged_change v;
};
/* Every changed-verdict pair, heaviest first (caller frees *out). */
int staged_read_changes(struct maps *m, struct staged_change **out, size_t *n);
/* The staged policy's rule names, by index (parsed from its source; kept
 * until another is staged).  -ENOENT when nothing is staged. */
int staged_rule_names(struct maps *m, const char (**names)[FRINGE_NAME_LEN], size_t *n);
/* "allow", "drop", "steer". */
const char *staged_class_name(unsigned int vc);

#endif
