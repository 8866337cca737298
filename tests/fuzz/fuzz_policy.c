/* SPDX-License-Identifier: GPL-2.0 */
/* libFuzzer target: the policy parser and the compiler behind it, as `policy check` runs them. */
#include "fuzz_check.h"	/* first: the C library before abi.h */
#include "compile.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct compile_env env = { .ncpus = 0 };	/* policy check: nothing resolved */
	struct diags d = { .file = "fuzz.policy" };
	struct compiled c;
	struct policy p;
	int rc = policy_parse((const char *)data, size, &d, &p);

	if (!rc) {
		rc = compile_policy(&p, &env, &d, &c);
		if (!rc)
			compiled_free(&c);
		policy_free(&p);
	}
	fuzz_check(data, size, rc, &d);
	diags_free(&d);
	return 0;
}
