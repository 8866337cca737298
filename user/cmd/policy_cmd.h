/* SPDX-License-Identifier: GPL-2.0 */
/* What the `fringe policy` commands share across files: building a file, naming a verdict. */
#ifndef FRINGE_POLICY_CMD_H
#define FRINGE_POLICY_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "compile.h"
#include "policy.h"

/* Parse and compile FILE; errors printed as FILE:LINE:COL.  0 or -errno. */
int policy_build(const char *path, const struct compile_env *env, struct policy *pol,
		 struct compiled *c);
/* The same, handing the text read over (*text, the caller frees); `what`
 * ends the error line ("nothing was staged"). */
int policy_build_keep(const char *path, char **text, size_t *len, const struct compile_env *env,
		      struct policy *pol, struct compiled *c, const char *what);
/* The same on text already read from path. */
int policy_build_text(const char *path, const char *text, size_t len,
		      const struct compile_env *env, struct policy *pol, struct compiled *c,
		      const char *what);
/* "allow", "drop", "steer iface eth1", ... */
void policy_verdict_text(const struct fringe_rule_action *a, char *buf, size_t len);

/* Put a compiled policy in force as `policy load` does, printing its
 * document; 0, or 1 when it failed (reported). */
int policy_put(struct cli *g, struct maps *m, const char *label, const struct policy *pol,
	       const struct compiled *c, unsigned long long secs);
/* CLOCK_REALTIME ns as 2026-12-07T02:40:00Z. */
void policy_time_text(uint64_t ns, char *buf, size_t len);

/* The rules table of a `policy show` document (rules, default). */
void policy_rules_text(json_object *doc, const char *verdict_title);

/* The `policy show` document, also a part of `status`. */
json_object *policy_show_doc(struct maps *m);

/* The staged policy (staged_cmd.c): `policy show --staged` and `policy diff`
 * documents ({"staged": false} when none); NULL with *err on failure. */
json_object *staged_show_doc(struct maps *m, int *err);
void staged_show_text(json_object *doc);
json_object *staged_diff_doc(struct maps *m, int *err);
void staged_diff_text(json_object *doc);
int cmd_policy_show_staged(struct cli *g);

#endif
