/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the listener's users file and its password check (authfile.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "authfile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Made by other tools, so the check is known to interoperate with them:
 * `openssl passwd -6 -salt saltsalt s3cret`, Python's crypt with yescrypt and
 * bcrypt settings ($2y$ is what `htpasswd -B` writes). */
#define H_ALICE "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1"
#define H_BOB	"$2y$05$abcdefghijklmnopqrstuuoXuKqgZXLiJqzfmMXDDhSFPIvxV7t8."
#define H_CAROL "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79"
#define H_DAVE	"$2b$04$abcdefghijklmnopqrstuu12f.Pu8ic0A965BfTwGcW6x7Xin9Xgu"
/* 300,000 rounds of SHA-512 crypt for password "pw": slow enough to time. */
#define H_SLOW	"$6$rounds=300000$slowslow$dAbbV3KkS0UjBGlgrIwJt6KVS3n/RkgYfbdTsFfDIu9fzKhcdWz.c4PlBQwGoApkbLUihJGrHCRV1HQS5aMu3."

static const char good[] =
	"# fringe's dashboard and metrics users\n"
	"alice:" H_ALICE "\n"
	"\n"
	"bob:" H_BOB "\r\n"		/* CRLF, as an editor on another system writes */
	"   \n"
	"carol:" H_CAROL "  \n"		/* trailing blanks */
	"dave:" H_DAVE;			/* no final newline */

static void parse_ok(const char *text, struct auth_file *a)
{
	struct diags d = { .file = "users" };
	int rc = authfile_parse(text, strlen(text), &d, a);

	if (rc || d.n)
		diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void test_parse(void **state)
{
	struct auth_file a;

	parse_ok(good, &a);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.users[0].name, "alice");
	assert_string_equal(a.users[1].name, "bob");
	assert_string_equal(a.users[1].hash, H_BOB);
	assert_int_equal(a.users[1].loc.line, 4);
	assert_string_equal(a.users[2].hash, H_CAROL);
	assert_int_equal(a.users[3].loc.line, 7);
	authfile_free(&a);
}

static void test_check(void **state)
{
	struct auth_file a;
	uint64_t t = 1000;

	parse_ok(good, &a);
	assert_int_equal(authfile_check(&a, "alice", "s3cret", t), AUTH_OK);
	assert_int_equal(authfile_check(&a, "bob", "hunter2", t), AUTH_OK);
	assert_int_equal(authfile_check(&a, "carol", "correct horse", t), AUTH_OK);
	assert_int_equal(authfile_check(&a, "dave", "b", t), AUTH_OK);
	assert_int_equal(authfile_check(&a, "alice", "s3cret ", t), AUTH_DENIED);
	assert_int_equal(authfile_check(&a, "alice", "", t), AUTH_DENIED);
	assert_int_equal(authfile_check(&a, "alice", "hunter2", t), AUTH_DENIED);	/* bob's */
	assert_int_equal(authfile_check(&a, "Alice", "s3cret", t), AUTH_DENIED);
	/* An unknown user with the first user's password (the dummy hash's) is refused. */
	assert_int_equal(authfile_check(&a, "mallory", "s3cret", t), AUTH_DENIED);
	assert_int_equal(authfile_check(&a, "", "", t), AUTH_DENIED);
	authfile_free(&a);

	/* No users: everything refused. */
	parse_ok("# nobody yet\n", &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(authfile_check(&a, "alice", "s3cret", t), AUTH_DENIED);
	authfile_free(&a);
}

/* crypt(3) runs at most AUTHFILE_CRYPT_BURST times at once; verified
 * credentials are remembered and never wait for the budget. */
static void test_budget_and_cache(void **state)
{
	struct auth_file a;
	uint64_t t = 5000;
	int denied = 0;

	parse_ok(good, &a);
	assert_int_equal(authfile_check(&a, "bob", "hunter2", t), AUTH_OK);	/* now cached */
	for (int i = 0; i < AUTHFILE_CRYPT_BURST + 5; i++)
		if (authfile_check(&a, "bob", "guess", t) == AUTH_DENIED)
			denied++;
	assert_int_equal(denied, AUTHFILE_CRYPT_BURST - 1);
	assert_int_equal(authfile_check(&a, "bob", "guess", t), AUTH_BUSY);
	assert_int_equal(authfile_check(&a, "nobody", "guess", t), AUTH_BUSY);
	/* Cached: served at once even with the budget spent. */
	assert_int_equal(authfile_check(&a, "bob", "hunter2", t), AUTH_OK);
	/* ...but not a near miss of it, nor another user with the same password. */
	assert_int_equal(authfile_check(&a, "bob", "hunter2x", t), AUTH_BUSY);
	assert_int_equal(authfile_check(&a, "alice", "hunter2", t), AUTH_BUSY);
	/* The budget refills with time: one check per 1000/AUTHFILE_CRYPT_PER_S ms. */
	t += 1000 / AUTHFILE_CRYPT_PER_S;
	assert_int_equal(authfile_check(&a, "alice", "s3cret", t), AUTH_OK);
	assert_int_equal(authfile_check(&a, "alice", "nope", t), AUTH_BUSY);
	t += 1000;
	assert_int_equal(authfile_check(&a, "alice", "nope", t), AUTH_DENIED);
	/* A cached entry expires. */
	t += AUTHFILE_CACHE_TTL_MS + 1;
	assert_int_equal(authfile_check(&a, "bob", "hunter2", t), AUTH_OK);	/* by crypt again */
	authfile_free(&a);
}

static double check_ms(struct auth_file *a, const char *user, const char *pw, uint64_t *t)
{
	struct timespec t0, t1;
	double best = 1e9;

	for (int i = 0; i < 3; i++) {
		*t += 1000;	/* a refilled budget every time */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(authfile_check(a, user, pw, *t), AUTH_DENIED);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < best)
			best = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	return best;
}

/* A wrong user costs a crypt(3) run like a wrong password.  Without the dummy
 * run it would be a thousand times faster; the bound is loose on purpose. */
static void test_unknown_user_costs_a_crypt(void **state)
{
	struct auth_file a;
	uint64_t t = 0;
	double known, unknown;

	parse_ok("slow:" H_SLOW "\n", &a);
	known = check_ms(&a, "slow", "wrong", &t);
	unknown = check_ms(&a, "nosuchuser", "wrong", &t);
	print_message("wrong password %.1f ms, unknown user %.1f ms\n", known, unknown);
	assert_true(known > 5);
	assert_true(unknown > known / 3);
	authfile_free(&a);
}

struct err_case {
	const char *text;
	int line, col;
	const char *msg;
};

static const struct err_case err_cases[] = {
	{ "alice\n", 1, 1, "expected USER:HASH" },
	{ ":" H_ALICE "\n", 1, 1, "empty user name" },
	{ "al ice:" H_ALICE "\n", 1, 3, "bad character in the user name" },
	{ "alice:" H_ALICE "\nbob:" H_BOB "\nalice:" H_BOB "\n", 3, 1, "user 'alice' is listed twice (first at line 1)" },
	{ "alice:\n", 1, 7, "user 'alice' has no hash" },
	{ "alice:s3cret\n", 1, 7, "not a crypt(3) hash of a sound method" },
	{ "alice:$apr1$ahmn2t7H$kDA5yZ5RIm4cciFIDTbbV0\n", 1, 7, "Apache's MD5 ($apr1$)" },
	{ "alice:$1$nf86dUWo$55F36XtLdR2Lo2NzsM.PR.\n", 1, 7, "DES and MD5 hashes are refused" },
	{ "alice:abJnggxhB/yWI\n", 1, 7, "DES and MD5 hashes are refused" },
	{ "alice:$5$abcdefgh$XEPmEiAJvPG31m/DaIsyckkv.Sxd.8NrmElXxCKFQr/\n", 1, 7, "legacy" },
	{ "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", 1, 7, "LDAP-style" },
	{ "alice:$6$saltsalt\n", 1, 7, "incomplete hash" },
	{ "alice:$6$saltsalt$As4wrv0kZlfch1du9WeH7qhsky\n", 1, 7, "incomplete hash" },
	{ "alice:$6$saltsalt$ x\n", 1, 7, "no blanks or ':'" },
	{ "# ok\n\nbob:" H_BOB "\nx:y:z\n", 4, 3, "no blanks or ':'" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:" H_BOB "\n", 1, 1, "longer than 64 bytes" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++) {
		const struct err_case *e = &err_cases[i];
		struct diags d = { .file = "users" };
		struct auth_file a;
		int rc = authfile_parse(e->text, strlen(e->text), &d, &a);

		if (rc != -EINVAL || d.n != 1 || d.v[0].loc.line != e->line ||
		    d.v[0].loc.col != e->col || !strstr(d.v[0].msg, e->msg)) {
			fprintf(stderr, "case %zu: %s\n", i, e->text);
			diags_print(&d, stderr);
		}
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(d.n, 1);
		assert_int_equal(d.v[0].loc.line, e->line);
		assert_int_equal(d.v[0].loc.col, e->col);
		assert_non_null(strstr(d.v[0].msg, e->msg));
		assert_null(a.users);
		assert_int_equal(a.n, 0);
		diags_free(&d);
	}
}

/* Every bad line is reported, not only the first; the good ones do not hide them. */
static void test_all_errors(void **state)
{
	const char *text = "alice:" H_ALICE "\nbroken\nbob:$1$nf86dUWo$55F36XtLdR2Lo2NzsM.PR.\ncarol:" H_CAROL "\n:x\n";
	struct diags d = { .file = "users" };
	struct auth_file a;

	assert_int_equal(authfile_parse(text, strlen(text), &d, &a), -EINVAL);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].loc.line, 2);
	assert_int_equal(d.v[1].loc.line, 3);
	assert_int_equal(d.v[2].loc.line, 5);
	diags_free(&d);
}

static void test_file(void **state)
{
	char path[] = "/tmp/fringe-test-authfile-XXXXXX";
	struct diags d = { 0 };
	struct auth_file a;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	assert_int_equal(authfile_parse_file(path, &d, &a), 0);
	assert_int_equal(a.n, 4);
	assert_ptr_equal(d.file, path);
	authfile_free(&a);
	unlink(path);
	assert_int_equal(authfile_parse_file(path, &d, &a), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "No such file"));
	diags_free(&d);
	d = (struct diags){ 0 };
	assert_int_equal(authfile_parse_file("/tmp", &d, &a), -EISDIR);
	assert_int_equal(d.n, 1);
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_budget_and_cache),
		cmocka_unit_test(test_unknown_user_costs_a_crypt),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
