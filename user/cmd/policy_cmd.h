/* SPDX-License-Identifier: GPL-2.0 */
/* What the `fringe policy` commands share across files: building a file, naming a verdict. */
#ifndef FRINGE_POLICY_CMD_H
#define FRINGE_POLICY_CMD_H

#include <stddef.h>

#include "cli.h"
#include "compile.h"
#include "policy.h"

/* Parse and compile FILE; errors printed as FILE:LINE:COL.  0 or -errno. */
int policy_build(const char *path, const struct compile_env *env, struct policy *pol,
		 struct compiled *c);
/* "allow", "drop", "steer iface eth1", ... */
void policy_verdict_text(const struct fringe_rule_action *a, char *buf, size_t len);

/* The `policy show` document, also a part of `status`. */
json_object *policy_show_doc(struct maps *m);

#endif
