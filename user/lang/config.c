// SPDX-License-Identifier: GPL-2.0
/* The daemon's config file: statements through the shared lexer, every error located. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "lex.h"

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
					  "pin-dir", NULL };

/* Where each single-valued directive was first seen (line 0: not yet). */
struct seen {
	struct pol_loc policy, nodes, metrics, sflow, pin_dir;
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
	if (lex_is(kw, "metrics")) {
		if (!first_time(&seen->metrics, kw, d) || !(a = one_arg(s, d, "ADDR:PORT")))
			return 1;
		if (a->len >= sizeof(c->metrics) ||
		    config_parse_addr(a->s, &c->metrics_addr, &c->metrics_addrlen, &why)) {
			if (a->len >= sizeof(c->metrics))
				why = "too long";
			diags_add(d, a->loc, "bad metrics address '%s': %s", a->s, why);
			return 1;
		}
		snprintf(c->metrics, sizeof(c->metrics), "%s", a->s);
		return 0;
	}
	if (lex_is(kw, "sflow")) {
		if (!first_time(&seen->sflow, kw, d) || !(a = one_arg(s, d, "HOST:PORT")))
			return 1;
		if (hostport_check(a->s, &why)) {
			diags_add(d, a->loc, "bad sFlow collector '%s': %s", a->s, why);
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
				  "unknown directive '%s' (interface, policy, nodes, metrics, sflow or pin-dir)",
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

int config_parse_file(const char *path, struct diags *d, struct config *out)
{
	char *buf = NULL, *base = NULL;
	size_t n = 0;
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (d && !d->file)
		d->file = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto unreadable;
	}
	buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t got = read(fd, buf + n, CONFIG_MAX_FILE + 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			close(fd);
			goto unreadable;
		}
		if (!got)
			break;
		n += got;
		if (n > CONFIG_MAX_FILE) {
			err = -EFBIG;
			close(fd);
			goto unreadable;
		}
	}
	close(fd);
	base = config_base_dir(path);
	if (!base) {
		free(buf);
		return -ENOMEM;
	}
	err = config_parse(buf, n, base, d, out);
	free(base);
	free(buf);
	return err;

unreadable:
	free(buf);
	diags_add(d, (struct pol_loc){ 0, 0 }, "cannot read %s: %s", path,
		  err == -EFBIG ? "larger than 1 MiB" : strerror(-err));
	return err;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->ifaces);
	free(c->policy);
	free(c->nodes);
	free(c->sflow);
	free(c->pin_dir);
	memset(c, 0, sizeof(*c));
}
