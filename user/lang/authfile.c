// SPDX-License-Identifier: GPL-2.0
/* The listener's users file (`user:hash`, crypt(3) hashes through libxcrypt), located errors, a timing-safe check. */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/crypto.h>

#include "authfile.h"

static uint8_t cache_key[32];	/* per process: cache digests mean nothing elsewhere */
static bool cache_key_set;

static bool user_char_ok(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != ':';
}

/* Why a hash is refused, or NULL when crypt(3) can check passwords against it. */
static const char *hash_problem(const char *hash, struct crypt_data *cd)
{
	const char *out;

	if (!strncmp(hash, "$apr1$", 6))
		return "Apache's MD5 ($apr1$) is not a crypt(3) method; make the hash with 'htpasswd -B' (bcrypt), 'mkpasswd -m yescrypt' or 'openssl passwd -6'";
	if (hash[0] == '{')
		return "an LDAP-style {SCHEME} hash is not a crypt(3) hash; make one with 'mkpasswd -m yescrypt' or 'openssl passwd -6'";
	switch (crypt_checksalt(hash)) {
	case CRYPT_SALT_OK:
	case CRYPT_SALT_TOO_CHEAP:
		break;
	case CRYPT_SALT_METHOD_LEGACY:
		return "not a crypt(3) hash of a sound method (libxcrypt deems it legacy: DES and MD5 hashes are refused, SHA-256 crypt too); make one with 'mkpasswd -m yescrypt' or 'openssl passwd -6'";
	case CRYPT_SALT_METHOD_DISABLED:
		return "this hashing method is disabled in libxcrypt";
	default:
		return "not a crypt(3) hash; make one with 'mkpasswd -m yescrypt' or 'openssl passwd -6'";
	}
	/* A complete hash is its own setting plus the digest: hashing anything
	 * with it gives a string of the same length.  A bare setting ("$6$salt")
	 * is accepted by crypt_checksalt but would never match. */
	out = crypt_rn("", hash, cd, sizeof(*cd));
	if (!out || out[0] == '*')
		return "crypt(3) cannot use this hash";
	if (strlen(out) != strlen(hash))
		return "incomplete hash (a salt without its digest?)";
	return NULL;
}

/* One line, without its newline; returns errors reported, or -ENOMEM. */
static int parse_line(char *line, size_t n, int lineno, struct diags *d, struct auth_file *a,
		      struct crypt_data *cd)
{
	struct pol_loc loc = { lineno, 1 };
	char *colon, *hash;
	struct auth_user *v;
	const char *why;
	size_t ul;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	if (!n || line[0] == '#')
		return 0;
	if (memchr(line, '\0', n)) {
		diags_add(d, loc, "NUL byte in the line");
		return 1;
	}
	colon = strchr(line, ':');
	if (!colon) {
		diags_add(d, loc, "expected USER:HASH");
		return 1;
	}
	ul = colon - line;
	if (!ul) {
		diags_add(d, loc, "empty user name before ':'");
		return 1;
	}
	if (ul > AUTHFILE_MAX_USER) {
		diags_add(d, loc, "user name longer than %d bytes", AUTHFILE_MAX_USER);
		return 1;
	}
	for (size_t i = 0; i < ul; i++)
		if (!user_char_ok(line[i])) {
			diags_add(d, (struct pol_loc){ lineno, (int)i + 1 },
				  "bad character in the user name (printable ASCII, no blanks)");
			return 1;
		}
	*colon = '\0';
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->users[i].name, line)) {
			diags_add(d, loc, "user '%s' is listed twice (first at line %d)", line,
				  a->users[i].loc.line);
			return 1;
		}
	hash = colon + 1;
	loc.col = (int)ul + 2;
	if (!*hash) {
		diags_add(d, loc, "user '%s' has no hash after ':'", line);
		return 1;
	}
	if (strpbrk(hash, " \t:")) {
		diags_add(d, loc, "a crypt(3) hash has no blanks or ':'");
		return 1;
	}
	why = hash_problem(hash, cd);
	if (why) {
		diags_add(d, loc, "user '%s': %s", line, why);
		return 1;
	}
	v = realloc(a->users, (a->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	a->users = v;
	v = &a->users[a->n];
	v->name = strdup(line);
	v->hash = strdup(hash);
	v->loc = (struct pol_loc){ lineno, 1 };
	if (!v->name || !v->hash) {
		free(v->name);
		free(v->hash);
		return -ENOMEM;
	}
	a->n++;
	return 0;
}

int authfile_parse(const char *text, size_t len, struct diags *d, struct auth_file *out)
{
	char *buf = NULL;
	int errs = 0, err = 0, lineno = 1;

	memset(out, 0, sizeof(*out));
	out->crypt_data = calloc(1, sizeof(struct crypt_data));
	buf = malloc(len + 1);
	if (!buf || !out->crypt_data) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (size_t at = 0; at < len; lineno++) {
		char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
		int r;

		buf[at + n] = '\0';
		r = parse_line(buf + at, n, lineno, d, out, out->crypt_data);
		if (r < 0) {
			err = r;
			goto fail;
		}
		errs += r;
		at += n + 1;
	}
	free(buf);
	if (errs) {
		err = -EINVAL;
		goto fail_freed;
	}
	out->tokens = AUTHFILE_CRYPT_BURST;
	return 0;
fail:
	free(buf);
fail_freed:
	authfile_free(out);
	return err;
}

int authfile_parse_file(const char *path, struct diags *d, struct auth_file *out)
{
	char *buf = NULL;
	size_t n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = diags_read_file(d, path, AUTHFILE_MAX_FILE, &buf, &n);
	if (err)
		return err;
	err = authfile_parse(buf, n, d, out);
	explicit_bzero(buf, n);
	free(buf);
	return err;
}

void authfile_free(struct auth_file *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->users[i].name);
		if (a->users[i].hash)
			explicit_bzero(a->users[i].hash, strlen(a->users[i].hash));
		free(a->users[i].hash);
	}
	free(a->users);
	if (a->crypt_data)
		explicit_bzero(a->crypt_data, sizeof(struct crypt_data));
	free(a->crypt_data);
	explicit_bzero(a->cache, sizeof(a->cache));
	memset(a, 0, sizeof(*a));
}

/* Equal strings?  Time depends on the length of `want` only. */
static bool ct_streq(const char *got, const char *want)
{
	size_t wl = strlen(want), gl = strlen(got);
	unsigned char diff = wl != gl;

	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? got[i] : 0);
	return !diff;
}

static bool ct_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

static int cache_digest(const char *user, const char *password, uint8_t out[32])
{
	size_t ul = strlen(user), pl = strlen(password);
	char *msg;
	int err;

	if (!cache_key_set) {
		if (getrandom(cache_key, sizeof(cache_key), 0) != sizeof(cache_key))
			return -EIO;
		cache_key_set = true;
	}
	msg = malloc(ul + pl + 1);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, user, ul + 1);
	memcpy(msg + ul + 1, password, pl);
	err = gnutls_hmac_fast(GNUTLS_MAC_SHA256, cache_key, sizeof(cache_key), msg, ul + pl + 1,
			       out) ? -EIO : 0;
	explicit_bzero(msg, ul + pl + 1);
	free(msg);
	return err;
}

enum auth_result authfile_check(struct auth_file *a, const char *user, const char *password,
				uint64_t now_ms)
{
	const struct auth_user *u = NULL;
	uint8_t dg[32];
	bool have_dg, ok;
	const char *out;

	if (!a->n || !a->crypt_data)
		return AUTH_DENIED;
	have_dg = !cache_digest(user, password, dg);
	if (have_dg)
		for (int i = 0; i < AUTHFILE_CACHE; i++)
			if (a->cache[i].until_ms > now_ms && ct_memeq(a->cache[i].digest, dg, 32))
				return AUTH_OK;

	/* The crypt budget: a token bucket refilled with time. */
	if (now_ms > a->tokens_ms) {
		a->tokens += (now_ms - a->tokens_ms) * (AUTHFILE_CRYPT_PER_S / 1000.0);
		if (a->tokens > AUTHFILE_CRYPT_BURST)
			a->tokens = AUTHFILE_CRYPT_BURST;
	}
	a->tokens_ms = now_ms;
	if (a->tokens < 1)
		return AUTH_BUSY;
	a->tokens -= 1;

	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->users[i].name, user))
			u = &a->users[i];
	/* An unknown user is checked against a real hash too: same method, same cost. */
	out = crypt_rn(password, u ? u->hash : a->users[0].hash, a->crypt_data,
		       sizeof(struct crypt_data));
	ok = out && out[0] != '*' && ct_streq(out, u ? u->hash : a->users[0].hash) && u;
	if (ok && have_dg) {
		struct auth_cache_entry *e = &a->cache[a->cache_next++ % AUTHFILE_CACHE];

		memcpy(e->digest, dg, sizeof(dg));
		e->until_ms = now_ms + AUTHFILE_CACHE_TTL_MS;
	}
	explicit_bzero(dg, sizeof(dg));
	return ok ? AUTH_OK : AUTH_DENIED;
}
