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

/*
 * Diagnostics, as a compiler's -ferror-limit: every error is counted (n is
 * exact), the first DIAGS_KEEP by place are kept in full and printed as
 * FILE:LINE:COL: error: MESSAGE, then one line says how many more there
 * were. Memory stays bounded whatever the number of errors.
 */
#define DIAGS_KEEP 100
struct diag {
	struct pol_loc loc;
	unsigned long seq;	/* order added: ties at one place print in it */
	char msg[240];
};
struct diags {
	const char *file;
	struct diag *v;		/* the kept errors, nv of them, unsorted */
	size_t nv, cap;
	size_t last;		/* index of the kept error that comes last, once full */
	size_t n;		/* every error reported, kept or not */
};
void diags_add(struct diags *d, struct pol_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diags_print(const struct diags *d, FILE *out);
void diags_free(struct diags *d);
/* The whole file for a parser (file_read: regular files only, up to max
 * bytes); on failure the error is reported to d at 0:0 ("cannot read PATH:
 * WHY"). d->file becomes path unless already set. 0 or -errno. */
int diags_read_file(struct diags *d, const char *path, size_t max, char **buf, size_t *len);

#endif
