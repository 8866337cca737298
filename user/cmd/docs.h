/* SPDX-License-Identifier: GPL-2.0 */
/* The documents behind the `--json` commands, built once for the commands and the daemon's JSON API. */
#ifndef FRINGE_DOCS_H
#define FRINGE_DOCS_H

#include <stddef.h>

#include <json-c/json.h>

#include "maps.h"
#include "overlay_doc.h"	/* overlay_show_doc(): `nodes show` */
#include "policy_cmd.h"		/* policy_show_doc(): `policy show` */

/* `stats`: interfaces, samples and flows, applications and devices, the overlay. */
json_object *stats_doc(struct maps *m);
/* `flows --top N`: the heaviest flows; *err set when the table cannot be read. */
json_object *flows_doc(struct maps *m, size_t top, int *err);
/* `cluster status`: the etcd members, the revision, the lease, the nodes seen. */
struct fringe_cluster_state;
json_object *cluster_doc(struct maps *m, const struct fringe_cluster_state *st);

#endif
