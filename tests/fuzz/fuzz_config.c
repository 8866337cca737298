/* SPDX-License-Identifier: GPL-2.0 */
/* libFuzzer target: the daemon's config parser. */
#include "config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { .file = "fuzz.conf" };
	struct config c;
	int rc = config_parse((const char *)data, size, "/etc/fringe", &d, &c);

	if (!rc)
		config_free(&c);
	fuzz_check(data, size, rc, &d);
	diags_free(&d);
	return 0;
}
