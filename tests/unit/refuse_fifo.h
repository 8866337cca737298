/* SPDX-License-Identifier: GPL-2.0 */
/* For the parsers' unit tests: a FIFO given as the file is refused at once, never waited on. */
#ifndef FRINGE_TEST_REFUSE_FIFO_H
#define FRINGE_TEST_REFUSE_FIFO_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"

/* parse(path, d): the parser under test on a file; 0 or -errno. A child
 * runs it under a 5 s alarm: a reader that blocks on the FIFO is killed. */
static void assert_fifo_refused(int (*parse)(const char *path, struct diags *d))
{
	char dir[] = "/tmp/fringe-test-fifo.XXXXXX", fifo[64];
	pid_t pid;
	int st;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/f", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct diags d = { 0 };

		alarm(5);
		_exit(parse(fifo, &d) < 0 && d.n == 1 && strstr(d.v[0].msg, "not a regular file") ?
		      0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(fifo);
	rmdir(dir);
	assert_true(WIFEXITED(st));	/* not killed by the alarm */
	assert_int_equal(WEXITSTATUS(st), 0);
}

#endif
