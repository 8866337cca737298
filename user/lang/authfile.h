/* SPDX-License-Identifier: GPL-2.0 */
/* The listener's users: `user:hash` lines with crypt(3) hashes, every error located; checking a password. */
#ifndef FRINGE_AUTHFILE_H
#define FRINGE_AUTHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define AUTHFILE_MAX_FILE	(1u << 20)
#define AUTHFILE_MAX_USER	64	/* bytes of a user name */
#define AUTHFILE_CACHE		16	/* verified credentials remembered */
#define AUTHFILE_CACHE_TTL_MS	(300 * 1000ULL)
/* crypt(3) runs for credentials not in the cache: at most this many at once,
 * refilled at this many a second.  A guesser cannot take the daemon's one
 * thread, and a client whose credentials are cached never waits for it. */
#define AUTHFILE_CRYPT_BURST	20
#define AUTHFILE_CRYPT_PER_S	10

struct auth_user {
	char *name;
	char *hash;		/* crypt(3) format: $y$..., $2b$..., $6$... */
	struct pol_loc loc;
};

struct auth_cache_entry {
	uint8_t digest[32];	/* HMAC-SHA256 of "user\0password" under a per-process key */
	uint64_t until_ms;	/* 0: empty */
};

struct auth_file {
	struct auth_user *users;
	size_t n;
	/* State of authfile_check(), zeroed by the parser. */
	struct auth_cache_entry cache[AUTHFILE_CACHE];
	unsigned int cache_next;
	double tokens;
	uint64_t tokens_ms;
	void *crypt_data;	/* libxcrypt's scratch (struct crypt_data), 32 KiB */
};

/*
 * One user a line, `NAME:HASH`, as htpasswd and chpasswd write them; blank
 * lines and lines starting with '#' are skipped.  A hash must be a complete
 * crypt(3) hash of a method libxcrypt considers sound (yescrypt `$y$`, bcrypt
 * `$2b$`/`$2y$`, SHA-crypt `$6$`/`$5$`, scrypt `$7$`, ...); DES and MD5 hashes
 * and Apache's `$apr1$` are refused.  Every error goes to d as LINE:COL.
 * Returns 0, -EINVAL when there were errors, or -ENOMEM; on failure *out is
 * freed and zeroed.
 */
int authfile_parse(const char *text, size_t len, struct diags *d, struct auth_file *out);
/* As authfile_parse on a file (diags_read_file: sets d->file when NULL; an
 * unreadable file, or one that is not a regular file, is an error at 0:0). */
int authfile_parse_file(const char *path, struct diags *d, struct auth_file *out);
void authfile_free(struct auth_file *a);

enum auth_result { AUTH_OK, AUTH_DENIED, AUTH_BUSY /* too many uncached checks: try later */ };

/*
 * Is `password` right for `user`?  An unknown user costs the same crypt(3) run
 * as a known one (against the first user's hash), and hashes are compared in
 * time independent of where they differ, so the answer does not tell a wrong
 * user from a wrong password.  now_ms is a monotonic clock, for the cache and
 * the crypt budget.
 */
enum auth_result authfile_check(struct auth_file *a, const char *user, const char *password,
				uint64_t now_ms);

#endif /* FRINGE_AUTHFILE_H */
