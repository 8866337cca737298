/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics: collect located errors, print them sorted as FILE:LINE:COL: error: MESSAGE. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* A NULL d discards the message.  If memory runs out the message is lost:
 * callers count their errors themselves and never rely on d->n alone. */
void diags_add(struct diags *d, struct pol_loc loc, const char *fmt, ...)
{
	struct diag *e;
	va_list ap;

	if (!d)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	e = &d->v[d->n++];
	e->loc = loc;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static int diags_cmp(const void *a, const void *b)
{
	const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;

	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	if (x->loc.col != y->loc.col)
		return x->loc.col < y->loc.col ? -1 : 1;
	return x < y ? -1 : x > y;	/* same place: keep the order they were added in */
}

void diags_print(const struct diags *d, FILE *out)
{
	const char *file;
	const struct diag **order;
	size_t i;

	if (!d || !d->n)
		return;
	file = d->file ? d->file : "<input>";
	order = malloc(d->n * sizeof(*order));
	for (i = 0; i < d->n; i++) {
		if (order)
			order[i] = &d->v[i];
		else	/* no memory to sort: print as added */
			fprintf(out, "%s:%d:%d: error: %s\n", file, d->v[i].loc.line,
				d->v[i].loc.col, d->v[i].msg);
	}
	if (!order)
		return;
	qsort(order, d->n, sizeof(*order), diags_cmp);
	for (i = 0; i < d->n; i++)
		fprintf(out, "%s:%d:%d: error: %s\n", file, order[i]->loc.line,
			order[i]->loc.col, order[i]->msg);
	free(order);
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
