/* SPDX-License-Identifier: GPL-2.0 */
/* The `dns show` document: learned addresses with their names, sets and expiry, and the answer counters. */
#ifndef FRINGE_OUT_DNS_DOC_H
#define FRINGE_OUT_DNS_DOC_H

#include <json-c/json.h>

#include "maps.h"

/* NULL on failure (errno set). */
json_object *dns_doc(struct maps *m);

#endif
