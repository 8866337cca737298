/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics: count located errors, keep the first DIAGS_KEEP by place, print them sorted. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "file.h"

static bool diag_before(struct pol_loc a, unsigned long sa, struct pol_loc b, unsigned long sb)
{
	if (a.line != b.line)
		return a.line < b.line;
	if (a.col != b.col)
		return a.col < b.col;
	return sa < sb;
}

/* A NULL d discards the message. Past DIAGS_KEEP the message replaces the
 * last kept one when it comes earlier in the file, else it is only counted;
 * so memory is bounded and the kept ones are the first of the file. If memory
 * runs out the message is counted but not kept. */
void diags_add(struct diags *d, struct pol_loc loc, const char *fmt, ...)
{
	struct diag *e = NULL;
	unsigned long seq;
	va_list ap;

	if (!d)
		return;
	seq = d->n++;
	if (d->nv < DIAGS_KEEP) {
		if (d->nv == d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 16;
			struct diag *v;

			if (cap > DIAGS_KEEP)
				cap = DIAGS_KEEP;
			v = realloc(d->v, cap * sizeof(*v));
			if (!v)
				return;
			d->v = v;
			d->cap = cap;
		}
		e = &d->v[d->nv++];
	} else {
		e = &d->v[d->last];
		if (!diag_before(loc, seq, e->loc, e->seq))
			return;	/* the usual case: errors come in file order */
	}
	e->loc = loc;
	e->seq = seq;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (d->nv == DIAGS_KEEP) {	/* full, or a kept one replaced: find the last again */
		d->last = 0;
		for (size_t i = 1; i < d->nv; i++)
			if (diag_before(d->v[d->last].loc, d->v[d->last].seq, d->v[i].loc, d->v[i].seq))
				d->last = i;
	}
}

static int diags_cmp(const void *a, const void *b)
{
	const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;

	return diag_before(x->loc, x->seq, y->loc, y->seq) ? -1 :
	       diag_before(y->loc, y->seq, x->loc, x->seq);
}

void diags_print(const struct diags *d, FILE *out)
{
	const struct diag *order[DIAGS_KEEP];
	const char *file;
	size_t i;

	if (!d || !d->n)
		return;
	file = d->file ? d->file : "<input>";
	for (i = 0; i < d->nv; i++)
		order[i] = &d->v[i];
	qsort(order, d->nv, sizeof(*order), diags_cmp);
	for (i = 0; i < d->nv; i++)
		fprintf(out, "%s:%d:%d: error: %s\n", file, order[i]->loc.line, order[i]->loc.col,
			order[i]->msg);
	if (d->n > d->nv)
		fprintf(out, "%s: %zu more error%s not shown\n", file, d->n - d->nv,
			d->n - d->nv == 1 ? "" : "s");
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	free(d->v);
	d->v = NULL;
	d->n = d->nv = d->cap = d->last = 0;
}

int diags_read_file(struct diags *d, const char *path, size_t max, char **buf, size_t *len)
{
	char why[64];
	int err;

	if (d && !d->file)
		d->file = path;
	err = file_read(path, max, buf, len);
	if (err)
		diags_add(d, (struct pol_loc){ 0, 0 }, "cannot read %s: %s", path,
			  file_strerror(err, max, why, sizeof(why)));
	return err;
}
