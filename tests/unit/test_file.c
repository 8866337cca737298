/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the whole-file reader, the crash-safe writer and the pid lock file (user/base/file.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "file.h"

static char dir[] = "/tmp/fringe-test-file.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void put(const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *path(const char *name)
{
	static char p[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void test_read_regular(void **state)
{
	char *buf;
	size_t len;

	put("a", "hello\n");
	assert_int_equal(file_read(path("a"), 100, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "hello\n", 6);
	assert_int_equal(buf[len], '\0');	/* NUL-terminated for convenience */
	free(buf);
	put("empty", "");
	assert_int_equal(file_read(path("empty"), 100, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_non_null(buf);
	free(buf);
}

/* ConfigMaps are symlinks to symlinks: they are followed. */
static void test_read_symlink(void **state)
{
	char *buf;
	size_t len;

	put("target", "x y\n");
	assert_int_equal(symlink(path("target"), path("link")), 0);
	assert_int_equal(file_read(path("link"), 100, &buf, &len), 0);
	assert_int_equal(len, 4);
	free(buf);
}

static void test_read_too_large(void **state)
{
	char *buf = (char *)1;
	size_t len = 7;
	char msg[128];

	put("big", "0123456789");
	assert_int_equal(file_read(path("big"), 9, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(file_read(path("big"), 10, &buf, &len), 0);
	free(buf);
	file_strerror(-EFBIG, 4u << 20, msg, sizeof(msg));
	assert_string_equal(msg, "larger than 4 MiB");
}

/* A FIFO must be refused at once, not hang the reader until a writer comes. */
static void test_read_fifo(void **state)
{
	char *buf;
	size_t len;
	char msg[128];
	pid_t pid;
	int st;

	assert_int_equal(mkfifo(path("fifo"), 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		alarm(5);
		_exit(file_read(path("fifo"), 100, &buf, &len) == -FILE_ENOTREG ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));	/* not killed by the alarm */
	assert_int_equal(WEXITSTATUS(st), 0);
	file_strerror(-FILE_ENOTREG, 100, msg, sizeof(msg));
	assert_string_equal(msg, "not a regular file");
}

/* /dev/zero is refused before a byte is read; a directory too. */
static void test_read_devices(void **state)
{
	char *buf;
	size_t len;
	struct rlimit old, lim;

	getrlimit(RLIMIT_AS, &old);
	lim = old;
	lim.rlim_cur = 1ull << 30;	/* would fail long before 256 MiB x 2 if it grew */
	setrlimit(RLIMIT_AS, &lim);
	assert_int_equal(file_read("/dev/zero", 256u << 20, &buf, &len), -FILE_ENOTREG);
	assert_int_equal(file_read("/dev/null", 100, &buf, &len), -FILE_ENOTREG);
	setrlimit(RLIMIT_AS, &old);
	assert_int_equal(file_read(dir, 100, &buf, &len), -EISDIR);
	assert_int_equal(file_read(path("missing"), 100, &buf, &len), -ENOENT);
}

/* A file whose size stat does not know (procfs) is read up to the limit, never past it. */
static void test_read_unknown_size(void **state)
{
	char *buf;
	size_t len;

	assert_int_equal(file_read("/proc/self/status", 1u << 20, &buf, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr(buf, "Pid:"));
	free(buf);
	assert_int_equal(file_read("/proc/self/status", 16, &buf, &len), -EFBIG);
}

static size_t count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_whole(void **state)
{
	char *buf;
	size_t len, before;
	struct stat st;

	assert_int_equal(file_write(path("out"), "abc\n", 4, 0640), 0);
	assert_int_equal(file_read(path("out"), 100, &buf, &len), 0);
	assert_int_equal(len, 4);
	free(buf);
	assert_int_equal(stat(path("out"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* replaced whole */
	before = count_entries();
	assert_int_equal(file_write(path("out"), "z", 1, 0644), 0);
	assert_int_equal(file_read(path("out"), 100, &buf, &len), 0);
	assert_int_equal(len, 1);
	free(buf);
	assert_int_equal(count_entries(), before);	/* no temporary left behind */
}

/* A symlink planted at the target is replaced, its pointee never written. */
static void test_write_no_follow(void **state)
{
	char *buf;
	size_t len;
	struct stat st;

	put("victim", "precious\n");
	assert_int_equal(symlink(path("victim"), path("planted")), 0);
	assert_int_equal(file_write(path("planted"), "owned\n", 6, 0644), 0);
	assert_int_equal(file_read(path("victim"), 100, &buf, &len), 0);
	assert_string_equal(buf, "precious\n");
	free(buf);
	assert_int_equal(lstat(path("planted"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* Aborted output leaves neither the target nor a temporary. */
static void test_write_abort(void **state)
{
	struct file_out o;
	size_t before = count_entries();

	assert_int_equal(file_out_open(&o, path("never"), 0644), 0);
	assert_non_null(o.f);
	fputs("partial", o.f);
	assert_int_equal(count_entries(), before + 1);
	file_out_abort(&o);
	assert_int_equal(count_entries(), before);
	assert_int_equal(access(path("never"), F_OK), -1);
	/* a directory that does not exist: a clean error */
	assert_int_equal(file_out_open(&o, "/nonexistent-dir/x", 0644), -ENOENT);
}

/* A stream refuses a planted symlink or hard link and writes a plain file in place. */
static void test_open_stream(void **state)
{
	char *buf;
	size_t len;
	FILE *f;
	int err;

	put("precious", "keep\n");
	assert_int_equal(symlink(path("precious"), path("s.pcap")), 0);
	assert_null(file_open_stream(path("s.pcap"), 0644, &err));
	assert_int_equal(err, -ELOOP);
	assert_int_equal(link(path("precious"), path("h.pcap")), 0);
	assert_null(file_open_stream(path("h.pcap"), 0644, &err));
	assert_int_equal(err, -EMLINK);
	assert_int_equal(file_read(path("precious"), 100, &buf, &len), 0);
	assert_string_equal(buf, "keep\n");
	free(buf);
	assert_int_equal(mkfifo(path("f.pcap"), 0600), 0);
	assert_null(file_open_stream(path("f.pcap"), 0644, &err));	/* never blocks */
	assert_int_equal(err, -ENXIO);
	f = file_open_stream("/dev/null", 0644, &err);
	assert_non_null(f);
	fclose(f);
	put("old.pcap", "old old old\n");
	f = file_open_stream(path("old.pcap"), 0644, &err);
	assert_non_null(f);
	fputs("new\n", f);
	fclose(f);
	assert_int_equal(file_read(path("old.pcap"), 100, &buf, &len), 0);
	assert_string_equal(buf, "new\n");	/* truncated */
	free(buf);
}

/* The second taker of a pid lock is refused and told who holds it. */
static void test_pidlock(void **state)
{
	struct file_lock a, b;
	long holder = 0;
	int p[2], st;
	pid_t pid;
	char c;

	assert_int_equal(file_lock_holder(path("daemon.lock")), 0);	/* absent */
	assert_int_equal(file_lock_take(&a, path("daemon.lock"), &holder), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		long h = 0;
		int rc = file_lock_take(&b, path("daemon.lock"), &h);

		_exit(rc == -EBUSY && h == (long)getppid() &&
		      file_lock_holder(path("daemon.lock")) == (long)getppid() ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	file_lock_release(&a);
	assert_int_equal(access(path("daemon.lock"), F_OK), -1);	/* removed by its holder */
	/* free again: another process takes it */
	pid = fork();
	if (!pid)
		_exit(file_lock_take(&b, path("daemon.lock"), &holder) ? 1 : (write(p[1], "x", 1), sleep(1), 0));
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(file_lock_take(&a, path("daemon.lock"), &holder), -EBUSY);
	assert_int_equal(holder, pid);
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the holder died without releasing: the file stays, free */
	assert_int_equal(file_lock_holder(path("daemon.lock")), 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_regular),
		cmocka_unit_test(test_read_symlink),
		cmocka_unit_test(test_read_too_large),
		cmocka_unit_test(test_read_fifo),
		cmocka_unit_test(test_read_devices),
		cmocka_unit_test(test_read_unknown_size),
		cmocka_unit_test(test_write_whole),
		cmocka_unit_test(test_write_no_follow),
		cmocka_unit_test(test_write_abort),
		cmocka_unit_test(test_open_stream),
		cmocka_unit_test(test_pidlock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
