// SPDX-License-Identifier: GPL-2.0
/* The dashboard's embedded files by path, with their content types. */
#include <string.h>

#include "web.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

const struct web_file *web_file_find(const char *url, const char **type)
{
	size_t ul = strcspn(url, "?");

	for (const struct web_file *f = web_files; f->path; f++)
		if (strlen(f->path) == ul && !strncmp(f->path, url, ul)) {
			*type = type_of(f->name);
			return f;
		}
	return NULL;
}
