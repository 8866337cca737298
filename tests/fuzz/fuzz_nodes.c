/* SPDX-License-Identifier: GPL-2.0 */
/* libFuzzer target: the nodes file parser, as `nodes check` runs it. */
#include "fuzz_check.h"
#include "nodes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { .file = "fuzz.nodes" };
	struct nodes n;
	int rc = nodes_parse((const char *)data, size, &d, &n);

	if (!rc)
		nodes_free(&n);
	fuzz_check(data, size, rc, &d);
	diags_free(&d);
	return 0;
}
