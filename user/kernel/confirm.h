/* SPDX-License-Identifier: GPL-2.0 */
/* Commit-confirm: a policy loaded with --confirm S goes back by itself unless confirmed in time. */
#ifndef FRINGE_CONFIRM_H
#define FRINGE_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>

#include "maps.h"

#define CONFIRM_MAX_SECONDS 86400

/* What awaits confirmation (fringe_meta.confirm_*); false when nothing does. */
bool confirm_pending(const struct maps *m, uint64_t *generation, uint64_t *deadline_ns);

/* Before a load with --confirm (the pin dir's lock held): record that the
 * generation about to be loaded needs confirmation within `seconds`, and
 * start the watcher, a detached process (its own session, no terminal) that
 * restores the previous policy at the deadline.  Both happen before the new
 * policy goes in force, so no moment of the loading process's death leaves
 * an unconfirmed policy without its revert.  0 or -errno. */
int confirm_arm(struct maps *m, uint64_t generation, unsigned int seconds);
/* The load failed: nothing awaits confirmation (the watcher sees it and exits). */
void confirm_disarm(struct maps *m, uint64_t generation);

/* Revert when the deadline has passed: 1 reverted (*from, *to: the generations),
 * 0 nothing due, -errno.  A pending record whose generation is not in force
 * (its load never flipped) is cleared.  Takes the pin dir's lock. */
int confirm_revert_due(struct maps *m, uint64_t *from, uint64_t *to);

/* `policy confirm`: 0 confirmed (*generation), -ENOENT nothing pending,
 * -ETIMEDOUT too late (the policy was reverted: *generation is the one that
 * was).  Takes the pin dir's lock. */
int confirm_commit(struct maps *m, uint64_t *generation);

#endif
