/* SPDX-License-Identifier: GPL-2.0 */
/* Node membership on etcd (SPEC §14): announce this node under a lease, watch the others, load the union. */
#ifndef FRINGE_CLUSTER_H
#define FRINGE_CLUSTER_H

#include <stdbool.h>

#include "config.h"
#include "fringe/cluster.h"
#include "maps.h"
#include "nodes.h"

/*
 * Driven by the daemon's one loop: poll cluster_fd() for POLLIN, sleep at
 * most cluster_timeout_ms(), then call cluster_run().  Nothing in here
 * blocks on the store, so the loop keeps serving metrics and signals while
 * etcd is away; the table in force stays as it was (fail-static) until the
 * store is back, and is then rebuilt from a fresh read.
 */
struct cluster;

/* What it needs of cfg is copied; m must outlive the member. */
int cluster_open(struct cluster **out, struct maps *m, const struct config *cfg);
/* The lease is left to run out (a restart within it takes it back). */
void cluster_close(struct cluster *c);
int cluster_fd(struct cluster *c);
long cluster_timeout_ms(struct cluster *c);
void cluster_run(struct cluster *c);

/* The nodes file's nodes (taken; NULL: none) to load with the records. */
void cluster_set_nodes_file(struct cluster *c, struct nodes *file);
/* A re-read config's announce line (and interfaces, for `prefix auto`):
 * published again when the record changes. */
void cluster_set_announce(struct cluster *c, const struct config *cfg);

/* The pinned state: opened (created with create) and mapped; NULL and errno
 * when there is none.  cluster_state_unmap releases it. */
struct fringe_cluster_state *cluster_state_map(const char *pin_dir, bool create);
void cluster_state_unmap(struct fringe_cluster_state *s);
/* Whether the daemon that keeps s is running. */
bool cluster_state_live(const struct fringe_cluster_state *s);

#endif /* FRINGE_CLUSTER_H */
