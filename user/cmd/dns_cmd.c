// SPDX-License-Identifier: GPL-2.0
/* `fringe dns show`: the addresses learned for the policy's DNS names, and the answers seen. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dns_doc.h"

static void dns_show_text(json_object *doc)
{
	json_object *learned, *answers;
	size_t n;

	json_object_object_get_ex(doc, "learned", &learned);
	json_object_object_get_ex(doc, "answers", &answers);
	n = json_object_array_length(learned);
	printf("%-39s %8s %10s  %s\n", "ADDRESS", "TTL", "EXPIRES IN", "NAMES (SETS)");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(learned, i), *names, *sets, *e;

		json_object_object_get_ex(o, "names", &names);
		json_object_object_get_ex(o, "sets", &sets);
		json_object_object_get_ex(o, "expires_in", &e);
		printf("%-39s %7llus %9.0fs  ", jget_str(o, "address"), jget_u64(o, "ttl"),
		       json_object_get_double(e));
		for (size_t k = 0; k < json_object_array_length(names); k++)
			printf("%s%s", k ? ", " : "", json_object_get_string(json_object_array_get_idx(names, k)));
		printf(" (");
		for (size_t k = 0; k < json_object_array_length(sets); k++)
			printf("%s@%s", k ? ", " : "", json_object_get_string(json_object_array_get_idx(sets, k)));
		printf(")\n");
	}
	printf("%zu learned; queries %llu; answers: learned %llu, no_match %llu, unsolicited %llu, "
	       "malformed %llu; evictions %llu, not learned (full) %llu\n",
	       n, jget_u64(doc, "queries"), jget_u64(answers, "learned"), jget_u64(answers, "no_match"),
	       jget_u64(answers, "unsolicited"), jget_u64(answers, "malformed"),
	       jget_u64(doc, "evictions"), jget_u64(doc, "full"));
}

int cmd_dns_show(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;

	if (cli_open(g, &m, 0))
		return 1;
	doc = dns_doc(&m);
	maps_close(&m);
	if (!doc) {
		cli_err("cannot read the learned DNS addresses: %s", strerror(errno));
		return 1;
	}
	cli_print(g, doc, dns_show_text);
	json_object_put(doc);
	return 0;
}
