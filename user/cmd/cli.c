// SPDX-License-Identifier: GPL-2.0
/* Command-line plumbing: dispatch by unambiguous prefix, options, JSON/text printing. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "compile.h"
#include "log.h"

int cli_dispatch(struct cli *g, const struct cmd *table, const char *what, int argc, char **argv)
{
	const struct cmd *hit = NULL;
	size_t len = strlen(argv[0]);

	for (const struct cmd *c = table; c->name; c++) {
		if (!strcmp(c->name, argv[0])) {
			hit = c;
			break;
		}
		if (len && !strncmp(c->name, argv[0], len)) {
			if (hit) {
				fprintf(stderr, "fringe: ambiguous %s '%s' ('%s' or '%s')\n", what,
					argv[0], hit->name, c->name);
				return EXIT_USAGE;
			}
			hit = c;
		}
	}
	if (!hit) {
		fprintf(stderr, "fringe: unknown %s '%s'; try 'fringe help'\n", what, argv[0]);
		return EXIT_USAGE;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return printf("Usage: fringe %s\n", hit->grammar), 0;
	return hit->fn(g, argc, argv);
}

int cli_usage(const struct cmd *c)
{
	fprintf(stderr, "Usage: %s\n", c->grammar);
	return EXIT_USAGE;
}

bool cli_take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 1; i < *argc; i++)
		if (!strcmp(argv[i], flag)) {
			memmove(&argv[i], &argv[i + 1], (*argc - i) * sizeof(*argv));
			(*argc)--;
			return true;
		}
	return false;
}

const char *cli_take_opt(int *argc, char **argv, const char *opt, int *err)
{
	size_t len = strlen(opt);

	for (int i = 1; i < *argc; i++) {
		const char *v;
		int n;

		if (!strcmp(argv[i], opt)) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "fringe: %s needs a value\n", opt);
				*err = -EINVAL;
				return NULL;
			}
			v = argv[i + 1];
			n = 2;
		} else if (!strncmp(argv[i], opt, len) && argv[i][len] == '=') {
			v = argv[i] + len + 1;
			n = 1;
		} else {
			continue;
		}
		memmove(&argv[i], &argv[i + n], (*argc - i - n + 1) * sizeof(*argv));
		*argc -= n;
		return v;
	}
	return NULL;
}

void cli_print(struct cli *g, json_object *doc, void (*text)(json_object *doc))
{
	if (g->json)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED));
	else
		text(doc);
	fflush(stdout);
}

int cli_open(struct cli *g, struct maps *m, unsigned int flags)
{
	return maps_open(m, g->pin_dir, flags);
}

static unsigned int live_ifindex(const char *name)
{
	return if_nametoindex(name);
}

struct compile_env cli_live_env(void)
{
	int n = libbpf_num_possible_cpus();

	return (struct compile_env){ .resolve_ifname = live_ifindex, .ncpus = n > 0 ? n : 0 };
}
