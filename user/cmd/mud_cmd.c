// SPDX-License-Identifier: GPL-2.0
/* `fringe mud import FILE`: a MUD profile (RFC 8520) as a policy fragment on stdout, or an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file.h"
#include "mud.h"

#define MUD_MAX_FILE	(4u << 20)

static void mud_text(json_object *doc)
{
	fputs(jget_str(doc, "policy"), stdout);
}

int cmd_mud_import(struct cli *g, int argc, char **argv)
{
	struct mud_opts o = { .file = argv[1], .device = cli_opt(g, "--device"),
			      .mac = cli_opt(g, "--mac") };
	const char *const *ips, *const *maps;
	char err[1024], why[64], *text = NULL, *out = NULL, *copy[MUD_MAX_MAPS] = { 0 };
	int n_ips, n_maps, rc = 1;
	json_object *doc;
	size_t len = 0;

	ips = cli_opt_all(g, "--ip", &n_ips);
	maps = cli_opt_all(g, "--map", &n_maps);
	if (n_ips > MUD_MAX_IPS || n_maps > MUD_MAX_MAPS)
		return cli_usage_err(g, "at most %d --ip and %d --map", MUD_MAX_IPS, MUD_MAX_MAPS);
	for (int i = 0; i < n_ips; i++)
		o.ips[o.n_ips++] = ips[i];
	for (int i = 0; i < n_maps; i++) {
		char *eq;

		copy[i] = strdup(maps[i]);
		eq = copy[i] ? strchr(copy[i], '=') : NULL;
		if (!eq || eq[1] != '@') {
			rc = cli_usage_err(g, "bad --map '%s' (ABSTRACTION=@SET)", maps[i]);
			goto out;
		}
		*eq = 0;
		o.map[o.n_map].abstraction = copy[i];
		o.map[o.n_map++].set = eq + 2;
	}
	rc = file_read(argv[1], MUD_MAX_FILE, &text, &len);
	if (rc) {
		cli_err("cannot read MUD file '%s': %s", argv[1],
			file_strerror(rc, MUD_MAX_FILE, why, sizeof(why)));
		rc = 1;
		goto out;
	}
	if (mud_import(text, len, &o, &out, err, sizeof(err))) {
		/* FILE: /JSON/PATH: error: MESSAGE, as a file's errors are reported */
		cli_note("%s: %s", argv[1], err);
		cli_err("MUD file '%s' not translated, nothing printed: %s", argv[1], err);
		rc = 1;
		goto out;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "policy", jstr(out));
	cli_print(g, doc, mud_text);
	json_object_put(doc);
	rc = 0;
out:
	for (int i = 0; i < n_maps; i++)
		free(copy[i]);
	free(text);
	free(out);
	return rc;
}
