/* SPDX-License-Identifier: GPL-2.0 */
/* What every fuzz target checks of a parser's answer: an error has a message at a real place. */
#ifndef FRINGE_FUZZ_CHECK_H
#define FRINGE_FUZZ_CHECK_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void fuzz_fail(const char *why, const struct diags *d)
{
	fprintf(stderr, "fuzz check failed: %s\n", why);
	diags_print(d, stderr);
	abort();
}

/*
 * rc is the parser's (0, -EINVAL or -ENOMEM). On success there is no error;
 * on -EINVAL at least one, each with a message, at a line of the input
 * (1..lines, where a last line without newline counts) and a column from 1
 * to that line's length + 1 (just past its end: "needs a value").
 */
static void fuzz_check(const uint8_t *data, size_t size, int rc, const struct diags *d)
{
	size_t lines = 1;

	if (rc == -ENOMEM)
		return;
	if (rc != 0 && rc != -EINVAL)
		fuzz_fail("a return other than 0, -EINVAL, -ENOMEM", d);
	if (!rc && d->n)
		fuzz_fail("success with errors", d);
	if (rc == -EINVAL && !d->n)
		fuzz_fail("failure without an error", d);
	if (d->nv > DIAGS_KEEP || d->nv > d->n)
		fuzz_fail("more errors kept than the cap or than counted", d);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (size_t k = 0; k < d->nv; k++) {
		const struct diag *e = &d->v[k];
		size_t start = 0, len, line = 1;

		if (!e->msg[0])
			fuzz_fail("an error without a message", d);
		if (e->loc.line < 1 || (size_t)e->loc.line > lines)
			fuzz_fail("an error on a line the input does not have", d);
		for (size_t i = 0; i < size && line < (size_t)e->loc.line; i++)
			if (data[i] == '\n') {
				line++;
				start = i + 1;
			}
		for (len = 0; start + len < size && data[start + len] != '\n'; len++)
			;
		if (e->loc.col < 1 || (size_t)e->loc.col > len + 1)
			fuzz_fail("an error at a column the line does not have", d);
		/* One error per fault: the same message twice at one place is one
		 * fault reported twice (a copy against each earlier copy). */
		for (size_t j = 0; j < k; j++)
			if (d->v[j].loc.line == e->loc.line && d->v[j].loc.col == e->loc.col &&
			    !strcmp(d->v[j].msg, e->msg))
				fuzz_fail("one error reported twice at one place", d);
	}
}

#endif
