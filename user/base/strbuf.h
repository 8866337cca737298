/* SPDX-License-Identifier: GPL-2.0 */
/* A growable, NUL-terminated text buffer for documents written piece by piece. */
#ifndef FRINGE_STRBUF_H
#define FRINGE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;		/* a failed append: the text is incomplete */
};

void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (malloc'd, the caller frees it), or NULL after a failed append. */
char *sb_take(struct strbuf *b);
void sb_free(struct strbuf *b);

#endif
