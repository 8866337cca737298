/* SPDX-License-Identifier: GPL-2.0 */
/* The overlay as a document: `nodes show`, `stats`, the JSON API. */
#ifndef FRINGE_OVERLAY_DOC_H
#define FRINGE_OVERLAY_DOC_H

#include <json-c/json.h>

#include "maps.h"

/* {"self", "generation", "load_failures", "loaded_at", "underlay": {...},
 * "nodes": [{"name", "id", "self", "underlay", "vni", "mac", "mac_source",
 * "prefixes", "tx_packets", "tx_bytes", "rx_packets", "rx_bytes", "source" (file,
 * etcd), "since", "age_seconds"}]}. */
json_object *overlay_show_doc(struct maps *m);

#endif
