/* SPDX-License-Identifier: GPL-2.0 */
/* cmocka glue for the BPF fixture: one private data plane per test, skipped without privileges. */
#ifndef FRINGE_TEST_FIXTURE_CMOCKA_H
#define FRINGE_TEST_FIXTURE_CMOCKA_H

/* Include after <cmocka.h> and "fixture.h". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -1;
	err = fx_open(f);
	if (err == -EPERM) {
		fprintf(stderr, "SKIP: needs root and BPF (fx_open: %s)\n", strerror(-err));
		free(f);
		*state = NULL;
		return 0;
	}
	if (err) {
		fprintf(stderr, "fx_open: %s\n", strerror(-err));
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f) {
		fx_close(f);
		free(f);
	}
	return 0;
}

static struct fx *get_fx(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void load_ok(struct fx *f, const char *policy)
{
	int err = fx_load(f, policy);

	if (err)
		fail_msg("fx_load failed (%s) for policy:\n%s", strerror(-err), policy);
}

#endif
