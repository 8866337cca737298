// SPDX-License-Identifier: GPL-2.0
/* The daemon's config file: statements through the shared lexer, every error located. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lex.h"
#include "nodes.h"

const char *const config_mode_names[] = {
	[ATTACH_AUTO] = "auto", [ATTACH_NATIVE] = "native", [ATTACH_GENERIC] = "generic",
};

int config_parse_mode(const char *s, enum fringe_attach_mode *mode)
{
	for (int i = 0; i <= ATTACH_GENERIC; i++)
		if (!strcmp(s, config_mode_names[i])) {
			*mode = i;
			return 0;
		}
	return -EINVAL;
}

static const char *const directives[] = { "interface", "policy", "nodes", "metrics", "sflow",
					  "pin-dir", "cluster", "announce", "size", NULL };

/* Costs on a 64-bit kernel (map_mem_usage), rounded up; docs/fringe.8 lists them. */
const struct config_size config_sizes[FRINGE_SZ_COUNT] = {
	[FRINGE_SZ_BITMAPS] = { "bitmaps", 2048, 16, FRINGE_MAX_BITMAPS,
		"1040 B (520 B in each of the two policy slots)" },
	[FRINGE_SZ_V4_BLOCKS] = { "v4-blocks", 1024, FRINGE_V4_ROOTS + 16, FRINGE_V4_BLOCKS,
		"2 KiB (1 KiB in each of the two policy slots)" },
	[FRINGE_SZ_DEVICES] = { "devices", 1024, 1, FRINGE_MAX_DEVICES,
		"144 B + 32 B per possible CPU (names and counters of two policies' devices)" },
	[FRINGE_SZ_FLOWS] = { "flows", FRINGE_MAX_FLOWS, 64, 1u << 24,
		"about 140 B + 48 B per possible CPU, only while `flows --enable`" },
	[FRINGE_SZ_SRC_BUCKETS] = { "src-buckets", FRINGE_SRC_BUCKETS, 64, 1u << 24,
		"about 110 B, only while a policy has a `per-src` limit" },
	[FRINGE_SZ_APP_FLOWS] = { "app-flows", FRINGE_APP_FLOWS, 64, 1u << 24,
		"about 110 B, only while a policy has `app`, `modbus-fc` or `mqtt-type` rules" },
	[FRINGE_SZ_SAMPLE_RING] = { "sample-ring", FRINGE_SAMPLE_RING, 1u << 14, 1u << 28,
		"1 B (a power of 2; 296 B a sample), from the first `sample` rule or consumer on" },
	[FRINGE_SZ_DNS_ADDRESSES] = { "dns-addresses", FRINGE_DNS_LEARNED_MAX, 64, 1u << 22,
		"16 B, and about 150 B per address learned, only while a policy's sets list DNS names" },
};

int config_size_id(const char *name)
{
	for (int i = 0; i < FRINGE_SZ_COUNT; i++)
		if (!strcmp(name, config_sizes[i].name))
			return i;
	return -1;
}

int config_parse_size_value(int id, const char *s, uint32_t *out, const char **why)
{
	static char msg[96];
	const struct config_size *z = &config_sizes[id];
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno) {
		*why = "expected a number";
		return -EINVAL;
	}
	if (v < z->min || v > z->max) {
		snprintf(msg, sizeof(msg), "%s is %u to %u", z->name, z->min, z->max);
		*why = msg;
		return -ERANGE;
	}
	if (id == FRINGE_SZ_SAMPLE_RING && (v & (v - 1))) {
		*why = "sample-ring is a power of 2 (bytes)";
		return -ERANGE;
	}
	*out = v;
	return 0;
}

/* The names, for error messages: "bitmaps, v4-blocks, ...". */
static const char *size_names(void)
{
	static char buf[160];
	size_t n = 0;

	for (int i = 0; i < FRINGE_SZ_COUNT && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", config_sizes[i].name);
	return buf;
}

int config_parse_size_opt(const char *s, uint32_t sizes[FRINGE_SZ_COUNT], const char **why)
{
	static char msg[256];
	const char *eq = strchr(s, '=');
	char name[32];
	int id;

	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(name)) {
		*why = "expected NAME=N";
		return -EINVAL;
	}
	memcpy(name, s, eq - s);
	name[eq - s] = '\0';
	id = config_size_id(name);
	if (id < 0) {
		snprintf(msg, sizeof(msg), "unknown size '%s' (%s)", name, size_names());
		*why = msg;
		return -EINVAL;
	}
	return config_parse_size_value(id, eq + 1, &sizes[id], why) ? -EINVAL : 0;
}

static int parse_size(const struct lex_stmt *s, struct diags *d, struct config *c,
		      struct pol_loc *seen)
{
	const struct lex_tok *k = &s->tok[0];
	const char *why;
	int id;

	if (s->n != 3 || s->tok[1].kind != LEX_WORD || s->tok[2].kind != LEX_WORD) {
		diags_add(d, s->n > 3 ? s->tok[3].loc : k->loc, "'size' needs NAME N (%s)", size_names());
		return 1;
	}
	id = config_size_id(s->tok[1].s);
	if (id < 0) {
		diags_add(d, s->tok[1].loc, "unknown size '%s' (%s)", s->tok[1].s, size_names());
		return 1;
	}
	if (seen[id].line) {
		diags_add(d, s->tok[1].loc, "duplicate 'size %s' (first given at line %d)",
			  s->tok[1].s, seen[id].line);
		return 1;
	}
	seen[id] = s->tok[1].loc;
	if (config_parse_size_value(id, s->tok[2].s, &c->sizes[id], &why)) {
		diags_add(d, s->tok[2].loc, "bad size '%s': %s", s->tok[2].s, why);
		return 1;
	}
	return 0;
}

/* Where each single-valued directive was first seen (line 0: not yet). */
struct seen {
	struct pol_loc policy, nodes, metrics, sflow, pin_dir, cluster, announce;
	struct pol_loc size[FRINGE_SZ_COUNT];
};

static int port_parse(const char *s, unsigned int *port)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '+' || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hl;
	unsigned int port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return *why = "expected [IPv6]:PORT", -EINVAL;
		h = s + 1;
		hl = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return *why = "expected ADDR:PORT", -EINVAL;
		if (memchr(s, ':', colon - s))
			return *why = "an IPv6 address goes in brackets: [ADDR]:PORT", -EINVAL;
		hl = colon - s;
	}
	if (!hl || hl >= sizeof(host))
		return *why = "bad address", -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port_parse(colon + 1, &port))
		return *why = "port must be 1-65535", -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return *why = "bad IPv6 address", -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return *why = "bad IPv4 address (a numeric address is needed)", -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* HOST:PORT for sFlow: a name or address, resolved when used. */
/* A DNS name (RFC 1123) or a dotted IPv4 address, of n bytes at s. */
static bool host_name_ok(const char *s, size_t n)
{
	size_t label = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '.') {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(c) || c == '_' || (c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label && s[n - 1] != '-';
}

static int hostport_check(const char *s, const char **why)
{
	const char *colon;
	unsigned int port;

	if (s[0] == '[') {
		struct in6_addr a;
		char host[INET6_ADDRSTRLEN + 2];
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || close - s - 1 <= 0 ||
		    (size_t)(close - s - 1) >= sizeof(host))
			return *why = "expected [IPv6]:PORT", -EINVAL;
		memcpy(host, s + 1, close - s - 1);
		host[close - s - 1] = '\0';
		if (inet_pton(AF_INET6, host, &a) != 1)
			return *why = "bad IPv6 address", -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return *why = "expected HOST:PORT", -EINVAL;
		if (memchr(s, ':', colon - s))
			return *why = "an IPv6 address goes in brackets: [ADDR]:PORT", -EINVAL;
		if (colon - s > 253)
			return *why = "host name longer than 253 characters", -EINVAL;
		if (!host_name_ok(s, colon - s))
			return *why = "bad host name (labels of 1-63 letters, digits and '-', "
				      "joined by '.')", -EINVAL;
	}
	if (port_parse(colon + 1, &port))
		return *why = "port must be 1-65535", -EINVAL;
	return 0;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ')
			return false;
	return true;
}

static char *path_join(const char *base, const char *p)
{
	char *out;

	if (p[0] == '/' || !base || !*base)
		return strdup(p);
	if (asprintf(&out, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", p) < 0)
		return NULL;
	return out;
}

/* One word argument after the keyword, nothing more. */
static const struct lex_tok *one_arg(const struct lex_stmt *s, struct diags *d, const char *what)
{
	if (s->n < 2) {
		const struct lex_tok *k = &s->tok[0];

		diags_add(d, (struct pol_loc){ k->loc.line, k->loc.col + (int)k->len },
			  "'%s' needs %s", k->s, what);
		return NULL;
	}
	if (s->tok[1].kind != LEX_WORD) {
		diags_add(d, s->tok[1].loc, "expected %s, found '%s'", what, s->tok[1].s);
		return NULL;
	}
	if (s->n > 2) {
		diags_add(d, s->tok[2].loc, "unexpected '%s' after %s", s->tok[2].s, what);
		return NULL;
	}
	return &s->tok[1];
}

/* A single-valued directive seen twice is an error at the second one. */
static bool first_time(struct pol_loc *seen, const struct lex_tok *kw, struct diags *d)
{
	if (seen->line) {
		diags_add(d, kw->loc, "duplicate '%s' (first given at line %d)", kw->s, seen->line);
		return false;
	}
	*seen = kw->loc;
	return true;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int parse_interface(const struct lex_stmt *s, struct diags *d, struct config *c)
{
	const struct lex_tok *name;
	struct config_iface *v, *ifc;
	int errs = 0;

	if (s->n < 2 || s->tok[1].kind != LEX_WORD) {
		const struct lex_tok *k = &s->tok[0];

		if (s->n < 2)
			diags_add(d, (struct pol_loc){ k->loc.line, k->loc.col + (int)k->len },
				  "'interface' needs an interface name");
		else
			diags_add(d, s->tok[1].loc, "expected an interface name, found '%s'",
				  s->tok[1].s);
		return 1;
	}
	name = &s->tok[1];
	if (!ifname_ok(name->s)) {
		diags_add(d, name->loc, "bad interface name '%s' (1-%d characters, no '/', ':' or blanks)",
			  name->s, IF_NAMESIZE - 1);
		errs++;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, name->s)) {
			diags_add(d, name->loc, "interface '%s' is listed twice (first at line %d)",
				  name->s, c->ifaces[i].loc.line);
			errs++;
			break;	/* against the first copy only */
		}
	if (c->n_ifaces >= FRINGE_MAX_IFACES - 1) {
		diags_add(d, name->loc, "too many interfaces (at most %d)", FRINGE_MAX_IFACES - 1);
		errs++;
	}
	v = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->ifaces = v;
	ifc = &c->ifaces[c->n_ifaces];
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->name, sizeof(ifc->name), "%s", name->s);
	ifc->mode = ATTACH_AUTO;
	ifc->loc = name->loc;

	if (s->n == 2)
		goto out;
	if (!lex_is(&s->tok[2], "mode")) {
		diags_add(d, s->tok[2].loc, "unexpected '%s' after the interface name (expected 'mode')",
			  s->tok[2].s);
		errs++;
		goto out;
	}
	if (s->n < 4) {
		diags_add(d, (struct pol_loc){ s->tok[2].loc.line, s->tok[2].loc.col + 4 },
			  "'mode' needs native, generic or auto");
		errs++;
		goto out;
	}
	if (s->tok[3].kind != LEX_WORD || config_parse_mode(s->tok[3].s, &ifc->mode)) {
		diags_add(d, s->tok[3].loc, "unknown mode '%s' (native, generic or auto)", s->tok[3].s);
		errs++;
	}
	if (s->n > 4) {
		diags_add(d, s->tok[4].loc, "unexpected '%s' after the mode", s->tok[4].s);
		errs++;
	}
out:
	if (!errs)
		c->n_ifaces++;
	return errs;
}

/* ---- cluster and announce ---------------------------------------- */

static struct pol_loc loc_after(const struct lex_tok *t)
{
	return (struct pol_loc){ t->loc.line, t->loc.col + (int)t->len };
}

/* A word option's value: the next token, which must be a word. */
static const struct lex_tok *opt_value(const struct lex_stmt *s, size_t *i, struct diags *d,
				       const char *what)
{
	const struct lex_tok *k = &s->tok[*i];

	if (*i + 1 >= s->n) {
		diags_add(d, loc_after(k), "'%s' needs %s", k->s, what);
		(*i)++;
		return NULL;
	}
	*i += 2;
	if (s->tok[*i - 1].kind != LEX_WORD) {
		diags_add(d, s->tok[*i - 1].loc, "expected %s after '%s', found '%s'", what, k->s,
			  s->tok[*i - 1].s);
		return NULL;
	}
	return &s->tok[*i - 1];
}

/* Which of opts k is; -1 after reporting an unknown option of `what` (a
 * did-you-mean when it is a near miss, else the list in expected). */
static int opt_lookup(const struct lex_tok *k, const char *const *opts, const char *what,
		      const char *expected, struct diags *d)
{
	const char *hint;

	for (int o = 0; opts[o]; o++)
		if (lex_is(k, opts[o]))
			return o;
	hint = k->kind == LEX_WORD ? lex_suggest(k->s, opts) : NULL;
	if (hint)
		diags_add(d, k->loc, "unknown %s option '%s' (did you mean '%s'?)", what, k->s, hint);
	else
		diags_add(d, k->loc, "unexpected '%s' (expected %s)", k->s, expected);
	return -1;
}

/* An option given twice is an error at the second. */
static bool opt_once(struct pol_loc *seen, const struct lex_tok *k, struct diags *d)
{
	if (seen->line) {
		diags_add(d, k->loc, "duplicate '%s' (first given at %d:%d)", k->s, seen->line,
			  seen->col);
		return false;
	}
	*seen = k->loc;
	return true;
}

static bool host_is_loopback(const char *h)
{
	uint8_t a[16];
	int fam = nodes_addr_parse(h, a);

	if (!strcmp(h, "localhost"))
		return true;
	if (fam == 4)
		return a[0] == 127;
	return fam == 6 && !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
}

/* http(s)://HOST[:PORT][/] with HOST a name, an IPv4 address or [IPv6];
 * normalised to SCHEME://HOST:PORT.  0, or -EINVAL with why. */
static int etcd_url_parse(const char *s, bool insecure, char **out, const char **why)
{
	const char *p, *host, *hend, *port = NULL;
	char h[256];
	unsigned int pnum = CONFIG_ETCD_PORT;
	bool tls;
	size_t hl;

	if (!strncmp(s, "https://", 8))
		tls = true, p = s + 8;
	else if (!strncmp(s, "http://", 7))
		tls = false, p = s + 7;
	else
		return *why = "expected http://HOST[:PORT] or https://HOST[:PORT]", -EINVAL;
	host = p;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend)
			return *why = "an IPv6 address needs its closing ']'", -EINVAL;
		host = p + 1;
		hl = hend - host;
		p = hend + 1;
	} else {
		p += strcspn(p, ":/");
		hl = p - host;
	}
	if (!hl || hl >= sizeof(h))
		return *why = "no host", -EINVAL;
	memcpy(h, host, hl);
	h[hl] = '\0';
	if (host[-1] == '[') {
		uint8_t a[16];

		if (nodes_addr_parse(h, a) != 6)
			return *why = "bad IPv6 address", -EINVAL;
	} else {
		for (size_t i = 0; i < hl; i++)
			if (!(h[i] == '.' || h[i] == '-' || (h[i] >= '0' && h[i] <= '9') ||
			      (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')))
				return *why = "bad host name", -EINVAL;
	}
	if (*p == ':') {
		char num[8];
		size_t n = strcspn(p + 1, "/");

		port = p + 1;
		if (n >= sizeof(num))
			return *why = "port must be 1-65535", -EINVAL;
		memcpy(num, port, n);
		num[n] = '\0';
		if (port_parse(num, &pnum))
			return *why = "port must be 1-65535", -EINVAL;
		p = port + n;
	}
	if (*p && strcmp(p, "/"))
		return *why = "a path is not expected (give SCHEME://HOST:PORT)", -EINVAL;
	if (!tls && !insecure && !host_is_loopback(h))
		return *why = "plain http to an address other than loopback is refused "
			      "(use https:// with ca, cert and key, or add 'insecure')", -EINVAL;
	if (asprintf(out, "%s://%s%s%s:%u", tls ? "https" : "http", host[-1] == '[' ? "[" : "", h,
		     host[-1] == '[' ? "]" : "", pnum) < 0)
		return -ENOMEM;
	return 0;
}

static int parse_cluster(const struct lex_stmt *s, const char *base, struct diags *d,
			 struct config *c, struct pol_loc *seen_line)
{
	static const char *const opts[] = { "prefix", "ttl", "ca", "cert", "key", "insecure", NULL };
	struct config_cluster *cl = &c->cluster;
	struct pol_loc seen[6] = {};
	const struct lex_tok *kw = &s->tok[0], *v;
	size_t i, url_first;
	int errs = 0;

	if (!first_time(seen_line, kw, d))
		return 1;
	cl->loc = kw->loc;
	if (s->n < 2 || !lex_is(&s->tok[1], "etcd")) {
		diags_add(d, s->n < 2 ? loc_after(kw) : s->tok[1].loc,
			  "'cluster' needs 'etcd URL[,URL]...' (the only store fringe speaks)");
		return 1;
	}
	if (s->n < 3) {
		diags_add(d, loc_after(&s->tok[1]), "'etcd' needs the URL of at least one etcd member");
		return 1;
	}
	/* Options first, so that `insecure` anywhere on the line governs the URLs. */
	for (i = 3; i < s->n; i++)
		if (lex_is(&s->tok[i], "insecure"))
			cl->insecure = true;
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", CONFIG_CLUSTER_PREFIX);
	cl->ttl = CONFIG_CLUSTER_TTL;
	url_first = 2;
	for (i = url_first;;) {
		const struct lex_tok *t = &s->tok[i];
		const char *why;
		char *u = NULL;
		int r;

		if (t->kind != LEX_WORD) {
			diags_add(d, t->loc, "expected an etcd URL, found '%s'", t->s);
			errs++;
		} else if (cl->n_urls >= CONFIG_ETCD_MAX_URLS) {
			diags_add(d, t->loc, "too many etcd URLs (at most %d)", CONFIG_ETCD_MAX_URLS);
			errs++;
		} else if ((r = etcd_url_parse(t->s, cl->insecure, &u, &why))) {
			if (r == -ENOMEM)
				return r;
			diags_add(d, t->loc, "bad etcd URL '%s': %s", t->s, why);
			errs++;
		} else {
			for (size_t k = 0; k < cl->n_urls; k++)
				if (!strcmp(cl->urls[k], u)) {
					diags_add(d, t->loc, "etcd URL '%s' is listed twice", t->s);
					errs++;
					break;	/* against the first copy only */
				}
			cl->urls[cl->n_urls++] = u;
		}
		i++;
		if (i >= s->n || s->tok[i].kind != LEX_COMMA)
			break;
		if (++i >= s->n) {
			diags_add(d, loc_after(&s->tok[i - 1]), "expected an etcd URL after ','");
			return errs + 1;
		}
	}
	while (i < s->n) {
		const struct lex_tok *k = &s->tok[i];
		int opt = opt_lookup(k, opts, "cluster", "prefix, ttl, ca, cert, key or insecure", d);
		char **dst;

		if (opt < 0)
			return errs + 1;
		if (!opt_once(&seen[opt], k, d))
			errs++;
		if (opt == 5) {		/* insecure */
			i++;
			continue;
		}
		v = opt_value(s, &i, d, opt == 0 ? "a key prefix" : opt == 1 ? "seconds" : "a file path");
		if (!v) {
			errs++;
			continue;
		}
		switch (opt) {
		case 0: {	/* prefix */
			size_t n = v->len;
			bool ok = v->s[0] == '/' && n <= CONFIG_PREFIX_MAX;

			while (n > 1 && v->s[n - 1] == '/')
				n--;
			for (size_t k2 = 0; ok && k2 < n; k2++)
				ok = (unsigned char)v->s[k2] > ' ' && v->s[k2] != 0x7f;
			if (!ok) {
				diags_add(d, v->loc,
					  "bad key prefix '%s' (starts with '/', at most %d printable characters)",
					  v->s, CONFIG_PREFIX_MAX);
				errs++;
				break;
			}
			snprintf(cl->prefix, sizeof(cl->prefix), "%.*s", (int)(n == 1 ? 0 : n), v->s);
			break;
		}
		case 1: {	/* ttl */
			char *end;
			unsigned long x;

			errno = 0;
			x = strtoul(v->s, &end, 10);
			if (v->s[0] < '0' || v->s[0] > '9' || *end || errno ||
			    x < CONFIG_CLUSTER_TTL_MIN || x > CONFIG_CLUSTER_TTL_MAX) {
				diags_add(d, v->loc, "bad ttl '%s' (seconds, %d-%d)", v->s,
					  CONFIG_CLUSTER_TTL_MIN, CONFIG_CLUSTER_TTL_MAX);
				errs++;
			} else {
				cl->ttl = x;
			}
			break;
		}
		default:	/* ca, cert, key */
			dst = opt == 2 ? &cl->ca : opt == 3 ? &cl->cert : &cl->key;
			free(*dst);
			*dst = path_join(base, v->s);
			if (!*dst)
				return -ENOMEM;
		}
	}
	if (!cl->cert != !cl->key) {
		diags_add(d, cl->cert ? seen[3] : seen[4], "'%s' needs '%s' too (the client certificate and its key)",
			  cl->cert ? "cert" : "key", cl->cert ? "key" : "cert");
		errs++;
	}
	for (size_t k = 0; k < cl->n_urls && (cl->ca || cl->cert); k++)
		if (!strncmp(cl->urls[k], "http://", 7)) {
			diags_add(d, s->tok[2].loc, "ca, cert and key are for https:// URLs; '%s' is plain http",
				  cl->urls[k]);
			errs++;
			break;
		}
	return errs;
}

static int parse_announce(const struct lex_stmt *s, struct diags *d, struct config *c,
			  struct pol_loc *seen_line)
{
	static const char *const opts[] = { "name", "underlay", "mac", "prefix", "vni", NULL };
	struct config_announce *a = &c->announce;
	struct pol_loc seen[5] = {};
	const struct lex_tok *kw = &s->tok[0], *v;
	char why[200];
	int errs = 0;

	if (!first_time(seen_line, kw, d))
		return 1;
	a->loc = kw->loc;
	a->vni = FRINGE_VNI_DEFAULT;
	for (size_t i = 1; i < s->n;) {
		const struct lex_tok *k = &s->tok[i];
		int opt = opt_lookup(k, opts, "announce", "name, underlay, mac, prefix or vni", d);

		if (opt < 0)
			return errs + 1;
		if (!opt_once(&seen[opt], k, d))
			errs++;
		if (opt == 3 && i + 1 < s->n && lex_is(&s->tok[i + 1], "auto")) {
			/* The networks on the other interfaces, found at announce time. */
			a->prefix_auto = true;
			i += 2;
			continue;
		}
		if (opt == 3) {		/* prefix CIDR[,CIDR]... */
			a->n_prefixes = 0;
			for (i++;;) {
				const struct lex_tok *t = i < s->n ? &s->tok[i] : NULL;
				struct pol_prefix p, *nv;

				if (!t || t->kind != LEX_WORD) {
					diags_add(d, t ? t->loc : loc_after(&s->tok[i - 1]),
						  "expected a prefix%s%s%s", t ? ", found '" : "",
						  t ? t->s : "", t ? "'" : "");
					return errs + 1;
				}
				if (nodes_prefix_parse(t->s, &p, why, sizeof(why))) {
					diags_add(d, t->loc, "%s", why);
					errs++;
				} else {
					for (size_t j = 0; j < a->n_prefixes; j++)
						if (nodes_prefixes_overlap(&a->prefixes[j], &p)) {
							diags_add(d, t->loc, "prefix %s overlaps another announced prefix",
								  t->s);
							errs++;
							break;
						}
					nv = realloc(a->prefixes, (a->n_prefixes + 1) * sizeof(*nv));
					if (!nv)
						return -ENOMEM;
					a->prefixes = nv;
					a->prefixes[a->n_prefixes++] = p;
				}
				i++;
				if (i >= s->n || s->tok[i].kind != LEX_COMMA)
					break;
				i++;
			}
			continue;
		}
		v = opt_value(s, &i, d, opt == 0 ? "a node name" : opt == 1 ? "an address or 'auto'" :
					opt == 2 ? "a MAC address or 'auto'" : "a VNI");
		if (!v) {
			errs++;
			continue;
		}
		switch (opt) {
		case 0:		/* name */
			if (!lex_name_ok(v->s, v->len)) {
				diags_add(d, v->loc, "invalid node name '%s' (1 to 63 of A-Z a-z 0-9 _ . -)",
					  v->s);
				errs++;
			} else {
				snprintf(a->name, sizeof(a->name), "%s", v->s);
			}
			break;
		case 1:		/* underlay */
			if (lex_is(v, "auto")) {
				a->family = 0;
				break;
			}
			a->family = nodes_addr_parse(v->s, a->underlay);
			if (!a->family) {
				diags_add(d, v->loc, "underlay '%s' is not an IP address (or 'auto')", v->s);
				errs++;
			} else if (!nodes_addr_unicast(a->family, a->underlay)) {
				diags_add(d, v->loc, "underlay '%s' is not a unicast address", v->s);
				a->family = 0;
				errs++;
			}
			break;
		case 2:		/* mac */
			if (lex_is(v, "auto")) {
				a->has_mac = false;
				break;
			}
			if (!lex_mac_parse(v->s, v->len, a->mac) || (a->mac[0] & 1) ||
			    !memcmp(a->mac, "\0\0\0\0\0\0", 6)) {
				diags_add(d, v->loc, "invalid MAC address '%s' (a unicast aa:bb:cc:dd:ee:ff, or 'auto')",
					  v->s);
				errs++;
			} else {
				a->has_mac = true;
			}
			break;
		case 4: {	/* vni */
			char *end;
			unsigned long long x;

			errno = 0;
			x = strtoull(v->s, &end, 10);
			if (v->s[0] < '0' || v->s[0] > '9' || *end || errno || x < 1 ||
			    x > FRINGE_VNI_MAX) {
				diags_add(d, v->loc, "invalid VNI '%s' (1-%u)", v->s, FRINGE_VNI_MAX);
				errs++;
			} else {
				a->vni = x;
			}
			break;
		}
		}
	}
	if (!seen[3].line) {
		diags_add(d, loc_after(&s->tok[s->n - 1]),
			  "'announce' needs 'prefix CIDR[,CIDR]...' or 'prefix auto' (the workloads' prefixes on this node)");
		errs++;
	}
	return errs;
}

/* A word argument of keyword kw at tok[i], or an error after tok[i - 1]. */
static const struct lex_tok *word_at(const struct lex_stmt *s, size_t i, struct diags *d,
				     const char *kw, const char *what)
{
	const struct lex_tok *p = &s->tok[i - 1];

	if (i >= s->n) {
		diags_add(d, (struct pol_loc){ p->loc.line, p->loc.col + (int)p->len },
			  "'%s' needs %s", kw, what);
		return NULL;
	}
	if (s->tok[i].kind != LEX_WORD) {
		diags_add(d, s->tok[i].loc, "expected %s, found '%s'", what, s->tok[i].s);
		return NULL;
	}
	return &s->tok[i];
}

/* metrics ADDR:PORT [tls CERT KEY] [auth FILE] */
static int parse_metrics(const struct lex_stmt *s, const char *base, struct diags *d,
			 struct config *c)
{
	const struct lex_tok *a = word_at(s, 1, d, "metrics", "ADDR:PORT"), *o, *f, *k;
	struct pol_loc tls_at = { 0 }, auth_at = { 0 };
	const char *why;
	int errs = 0;

	if (!a)
		return 1;
	if (a->len >= sizeof(c->metrics) ||
	    config_parse_addr(a->s, &c->metrics_addr, &c->metrics_addrlen, &why)) {
		if (a->len >= sizeof(c->metrics))
			why = "too long";
		diags_add(d, a->loc, "bad metrics address '%s': %s", a->s, why);
		errs++;
	} else {
		snprintf(c->metrics, sizeof(c->metrics), "%s", a->s);
	}
	for (size_t i = 2; i < s->n; i++) {
		o = &s->tok[i];
		if (lex_is(o, "tls")) {
			if (tls_at.line) {
				diags_add(d, o->loc, "duplicate 'tls' (first given at column %d)", tls_at.col);
				return errs + 1;
			}
			tls_at = o->loc;
			if (!(f = word_at(s, i + 1, d, "tls", "a certificate file and a private key file (PEM)")))
				return errs + 1;
			if (!(k = word_at(s, i + 2, d, "tls", "a private key file (PEM) after the certificate")))
				return errs + 1;
			free(c->tls_cert);
			free(c->tls_key);
			c->tls_cert = path_join(base, f->s);
			c->tls_key = path_join(base, k->s);
			if (!c->tls_cert || !c->tls_key)
				return -ENOMEM;
			i += 2;
		} else if (lex_is(o, "auth")) {
			if (auth_at.line) {
				diags_add(d, o->loc, "duplicate 'auth' (first given at column %d)", auth_at.col);
				return errs + 1;
			}
			auth_at = o->loc;
			if (!(f = word_at(s, i + 1, d, "auth", "a users file (USER:HASH lines)")))
				return errs + 1;
			free(c->auth);
			c->auth = path_join(base, f->s);
			if (!c->auth)
				return -ENOMEM;
			i += 1;
		} else {
			diags_add(d, o->loc, "unexpected '%s' after the metrics address (expected 'tls' or 'auth')",
				  o->s);
			return errs + 1;
		}
	}
	return errs;
}

bool config_announce_equal(const struct config_announce *a, const struct config_announce *b)
{
	return !strcmp(a->name, b->name) && a->family == b->family && a->prefix_auto == b->prefix_auto &&
	       !memcmp(a->underlay, b->underlay, 16) && a->has_mac == b->has_mac &&
	       (!a->has_mac || !memcmp(a->mac, b->mac, 6)) && a->vni == b->vni &&
	       a->n_prefixes == b->n_prefixes &&
	       (!a->n_prefixes || !memcmp(a->prefixes, b->prefixes, a->n_prefixes * sizeof(*a->prefixes)));
}

/* Returns the number of errors reported, or -ENOMEM. */
static int parse_stmt(const struct lex_stmt *s, const char *base, struct diags *d,
		      struct config *c, struct seen *seen)
{
	const struct lex_tok *kw = &s->tok[0], *a;
	const char *why;
	char **dst = NULL;
	int err;

	if (kw->kind != LEX_WORD) {
		diags_add(d, kw->loc, "unexpected '%s' at the start of a statement", kw->s);
		return 1;
	}
	if (lex_is(kw, "interface"))
		return parse_interface(s, d, c);
	if (lex_is(kw, "cluster"))
		return parse_cluster(s, base, d, c, &seen->cluster);
	if (lex_is(kw, "announce"))
		return parse_announce(s, d, c, &seen->announce);
	if (lex_is(kw, "size"))
		return parse_size(s, d, c, seen->size);

	if (lex_is(kw, "policy") || lex_is(kw, "nodes") || lex_is(kw, "pin-dir")) {
		bool pol = lex_is(kw, "policy"), nodes = lex_is(kw, "nodes");

		if (!first_time(pol ? &seen->policy : nodes ? &seen->nodes : &seen->pin_dir, kw, d))
			return 1;
		a = one_arg(s, d, pol || nodes ? "a file path" : "a directory");
		if (!a)
			return 1;
		dst = pol ? &c->policy : nodes ? &c->nodes : &c->pin_dir;
		free(*dst);
		*dst = path_join(base, a->s);
		return *dst ? 0 : -ENOMEM;
	}
	if (lex_is(kw, "metrics"))
		return first_time(&seen->metrics, kw, d) ? parse_metrics(s, base, d, c) : 1;
	if (lex_is(kw, "sflow")) {
		if (!first_time(&seen->sflow, kw, d) || !(a = one_arg(s, d, "HOST:PORT")))
			return 1;
		if (hostport_check(a->s, &why)) {
			diags_add(d, a->loc, "bad sFlow collector '%.64s%s': %s", a->s,
				  a->len > 64 ? "..." : "", why);
			return 1;
		}
		err = set_str(&c->sflow, a->s);
		return err;
	}
	{
		/* A near miss gets a suggestion: same first letter and length within one. */
		const char *hint = NULL;

		for (int i = 0; directives[i]; i++)
			if (directives[i][0] == kw->s[0] &&
			    (size_t)abs((int)strlen(directives[i]) - (int)kw->len) <= 1)
				hint = directives[i];
		if (hint)
			diags_add(d, kw->loc, "unknown directive '%s' (did you mean '%s'?)", kw->s, hint);
		else
			diags_add(d, kw->loc,
				  "unknown directive '%s' (interface, policy, nodes, metrics, sflow, pin-dir, cluster, announce or size)",
				  kw->s);
	}
	return 1;
}

int config_parse(const char *text, size_t len, const char *base_dir, struct diags *d,
		 struct config *out)
{
	struct lex_file f;
	struct seen seen = {};
	const char *why;
	int err, errs = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->metrics, sizeof(out->metrics), "%s", CONFIG_METRICS_DEFAULT);
	config_parse_addr(CONFIG_METRICS_DEFAULT, &out->metrics_addr, &out->metrics_addrlen, &why);

	err = lex_statements(text, len, d, &f);
	if (err == -ENOMEM)
		return err;
	if (err == -E2BIG) {	/* refused whole, the reason reported */
		err = -EINVAL;
		goto fail_freed;
	}
	if (err)
		errs++;
	for (size_t i = 0; i < f.n; i++) {
		int r = parse_stmt(&f.stmt[i], base_dir, d, out, &seen);

		if (r < 0) {
			err = r;
			goto fail;
		}
		errs += r;
	}
	lex_free(&f);
	if (out->announce.prefix_auto && !out->n_ifaces) {
		diags_add(d, out->announce.loc,
			  "'announce prefix auto' takes the networks of the 'interface' lines, and there are none");
		errs++;
	}
	if (!errs && out->cluster.loc.line && !out->announce.loc.line && !out->nodes) {
		diags_add(d, out->cluster.loc,
			  "a node that does not announce itself needs a nodes file naming it ('nodes PATH' with 'self')");
		errs++;
	}
	if (out->announce.loc.line && !out->cluster.loc.line) {
		diags_add(d, out->announce.loc,
			  "'announce' needs a 'cluster etcd URL...' line (where to announce this node)");
		errs++;
	}
	if (!errs)
		return 0;
	err = -EINVAL;
	goto fail_freed;
fail:
	lex_free(&f);
fail_freed:
	config_free(out);
	return err;
}

static char *config_base_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir, *out;

	if (slash == path)
		return strdup("/");
	dir = slash ? strndup(path, slash - path) : strdup(".");
	if (!dir || dir[0] == '/')
		return dir;
	/* Relative: anchor it now, so reloads do not depend on the working directory. */
	if (!getcwd(cwd, sizeof(cwd)))
		return dir;
	if (!strcmp(dir, "."))
		out = strdup(cwd);
	else if (asprintf(&out, "%s/%s", strcmp(cwd, "/") ? cwd : "", dir) < 0)
		out = NULL;
	free(dir);
	return out;
}

int config_parse_text(const char *path, const char *text, size_t len, struct diags *d,
		      struct config *out)
{
	char *base = config_base_dir(path);
	int err;

	if (d && !d->file)
		d->file = path;
	if (!base) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	err = config_parse(text, len, base, d, out);
	free(base);
	return err;
}

int config_parse_file(const char *path, struct diags *d, struct config *out)
{
	char *buf;
	size_t n;
	int err;

	memset(out, 0, sizeof(*out));
	err = diags_read_file(d, path, CONFIG_MAX_FILE, &buf, &n);
	if (err)
		return err;
	err = config_parse_text(path, buf, n, d, out);
	free(buf);
	return err;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->ifaces);
	free(c->policy);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->auth);
	free(c->nodes);
	free(c->sflow);
	free(c->pin_dir);
	for (size_t i = 0; i < c->cluster.n_urls; i++)
		free(c->cluster.urls[i]);
	free(c->cluster.ca);
	free(c->cluster.cert);
	free(c->cluster.key);
	free(c->announce.prefixes);
	memset(c, 0, sizeof(*c));
}
