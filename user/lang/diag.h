/* SPDX-License-Identifier: GPL-2.0 */
/* Located diagnostics shared by every language: FILE:LINE:COL: error: MESSAGE. */
#ifndef FRINGE_DIAG_H
#define FRINGE_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct pol_loc {
	int line;		/* physical line, from 1 */
	int col;		/* column in bytes, from 1 */
};

/* Diagnostics: every error is kept, printed as FILE:LINE:COL: error: MESSAGE. */
struct diag {
	struct pol_loc loc;
	char msg[240];
};
struct diags {
	const char *file;
	struct diag *v;
	size_t n, cap;
};
void diags_add(struct diags *d, struct pol_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diags_print(const struct diags *d, FILE *out);
void diags_free(struct diags *d);

#endif
