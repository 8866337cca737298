/* SPDX-License-Identifier: GPL-2.0 */
/* libFuzzer target: MUD import, as `mud import` runs it; what it prints is a policy with no line of the profile's making. */
#include "fuzz_check.h"
#include "compile.h"
#include "mud.h"
#include "policy.h"

/* The sets the --maps name, as a site defines them. */
#define PRELUDE "set m0 { 10.9.0.1 }\nset m1 { 10.9.0.2 }\nset m2 { 10.9.0.3 }\n" \
		"set m3 { 10.9.0.4 }\nset m4 { 10.9.0.5 }\nset m5 { fd09::6 }\n"

static void mud_fail(const char *why, const char *text)
{
	fprintf(stderr, "fuzz check failed: %s\n%s", why, text ? text : "");
	abort();
}

/* Every line is a comment, the device line, a set or a rule of the device's. */
static void check_lines(const char *out)
{
	for (const char *l = out; *l; ) {
		const char *nl = strchr(l, '\n');

		if (!nl)
			mud_fail("a last line without newline", out);
		if (strncmp(l, "# ", 2) && strncmp(l, "device d mac 02:00:00:00:00:01 ip 10.0.0.1 ip fd00::1\n", 54) &&
		    strncmp(l, "set d.", 6) && strncmp(l, "rule d.", 7))
			mud_fail("a line the importer does not write", out);
		if (!strncmp(l, "rule d.", 7)) {
			char line[4096];
			size_t n = (size_t)(nl - l) < sizeof(line) - 1 ? (size_t)(nl - l) : sizeof(line) - 1;

			memcpy(line, l, n);
			line[n] = 0;
			/* from-device rules match the device, to-device ones its addresses */
			if (!strstr(line, " device d ") && !strstr(line, " dst 10.0.0.1/32 ") &&
			    !strstr(line, " dst fd00::1/128 ") && !strstr(line, " dst 10.0.0.1 ") &&
			    !strstr(line, " dst fd00::1 ") && !strstr(line, " dst @d.addrs"))
				mud_fail("a rule for someone else than the device", out);
		}
		l = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mud_opts o = { .file = "fuzz.json", .device = "d", .mac = "02:00:00:00:00:01",
			      .ips = { "10.0.0.1", "fd00::1" }, .n_ips = 2,
			      .map = { { "manufacturer", "m0" }, { "same-manufacturer", "m1" },
				       { "model", "m2" }, { "local-networks", "m3" },
				       { "controller", "m4" }, { "my-controller", "m5" } },
			      .n_map = 6 };
	char err[1024], *out = NULL;
	int rc = mud_import((const char *)data, size, &o, &out, err, sizeof(err));

	if (rc == -ENOMEM)
		return 0;
	if (rc == -EINVAL) {
		if (out)
			mud_fail("an error and a policy", out);
		if (err[0] != '/' || !strstr(err, ": error: ") || strchr(err, '\n'))
			mud_fail("an error without its JSON path on one line", err);
		return 0;
	}
	if (rc || !out)
		mud_fail("a return other than 0, -EINVAL, -ENOMEM", NULL);
	check_lines(out);

	/* What it prints, after the site's sets, is a policy that checks. */
	size_t n = strlen(PRELUDE) + strlen(out) + 1;
	char *text = malloc(n);
	struct diags d = { .file = "fuzz.policy" };
	struct compile_env env = { 0 };
	struct compiled c;
	struct policy p;

	if (!text)
		abort();
	snprintf(text, n, "%s%s", PRELUDE, out);
	if (policy_parse(text, strlen(text), &d, &p)) {
		diags_print(&d, stderr);
		mud_fail("the fragment does not parse", text);
	}
	if (compile_policy(&p, &env, &d, &c) == 0)
		compiled_free(&c);
	policy_free(&p);
	diags_free(&d);
	free(text);
	free(out);
	return 0;
}
