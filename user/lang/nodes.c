// SPDX-License-Identifier: GPL-2.0
/* The nodes file (docs/overlay.md): statements through the shared lexer, every error located. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "nodes.h"

static const char *const node_opts[] = { "underlay", "mac", "prefix", "vni", NULL };

/* ---- values ------------------------------------------------------------- */

/* A numeric IPv4 or IPv6 address (no prefix length). */
static int addr_parse(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 6;
	return 0;
}

static bool addr_unicast(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == 4)
		return memcmp(a, zero, 4) && (a[0] & 0xf0) != 0xe0 && memcmp(a, "\xff\xff\xff\xff", 4);
	return memcmp(a, zero, 16) && a[0] != 0xff;
}

/* ADDR or ADDR/LEN, host bits clear; 0 or an error message in why. */
static int prefix_parse(const char *s, struct pol_prefix *out, char *why, size_t whylen)
{
	const char *slash = strchr(s, '/');
	char buf[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	unsigned int max;
	uint8_t masked[16];
	char *end;
	int fam;

	memset(out, 0, sizeof(*out));
	if (!alen || alen >= sizeof(buf))
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	fam = addr_parse(buf, out->addr);
	if (!fam)
		goto bad;
	out->family = fam;
	max = fam == 4 ? 32 : 128;
	len = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			goto badlen;
		len = strtoul(slash + 1, &end, 10);
		if (*end || len > max)
			goto badlen;
	}
	out->len = len;
	memcpy(masked, out->addr, 16);
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		masked[i] &= keep ? (uint8_t)(0xff << (8 - keep)) : 0;
	}
	if (memcmp(masked, out->addr, 16)) {
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, masked, net, sizeof(net));
		snprintf(why, whylen, "host bits set in %s (did you mean %s/%lu?)", s, net, len);
		return -EINVAL;
	}
	return 0;
badlen:
	snprintf(why, whylen, "invalid prefix length in '%s' (0-%u)", s, max);
	return -EINVAL;
bad:
	snprintf(why, whylen, "invalid prefix '%s' (expected an IPv4 or IPv6 address or CIDR)", s);
	return -EINVAL;
}

void nodes_prefix_str(const struct pol_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

/* ---- statements ------------------------------------------------------------ */

static struct pol_loc after(const struct lex_tok *t)
{
	return (struct pol_loc){ t->loc.line, t->loc.col + (int)t->len };
}

static int parse_self(const struct lex_stmt *s, struct diags *d, struct nodes *out)
{
	const struct lex_tok *kw = &s->tok[0], *v;

	if (s->n < 2) {
		diags_add(d, after(kw), "'self' needs the name of this node");
		return 1;
	}
	v = &s->tok[1];
	if (v->kind != LEX_WORD || !lex_name_ok(v->s, v->len)) {
		diags_add(d, v->loc, "invalid node name '%s' (1 to 63 of A-Z a-z 0-9 _ . -)", v->s);
		return 1;
	}
	if (s->n > 2) {
		diags_add(d, s->tok[2].loc, "unexpected '%s' after the node name", s->tok[2].s);
		return 1;
	}
	if (out->self_loc.line) {
		diags_add(d, kw->loc, "duplicate 'self' (first given at line %d)", out->self_loc.line);
		return 1;
	}
	out->self_loc = v->loc;
	/* `self auto`: the node whose underlay address this host holds, found at load. */
	out->self_auto = lex_is(v, "auto");
	if (!out->self_auto)
		memcpy(out->self, v->s, v->len + 1);
	return 0;
}

static void node_def_free(struct node_def *n)
{
	free(n->prefixes);
	free(n->prefix_loc);
	n->prefixes = NULL;
	n->prefix_loc = NULL;
	n->n_prefixes = 0;
}

/* The arrays grow geometrically: their room is the next power of two (at
 * least 4) of n_prefixes, so they grow when n_prefixes reaches one. */
static int push_prefix(struct node_def *n, const struct pol_prefix *p, struct pol_loc loc)
{
	size_t k = n->n_prefixes;

	if (!k || (k >= 4 && !(k & (k - 1)))) {
		size_t room = k ? 2 * k : 4;
		struct pol_prefix *v = realloc(n->prefixes, room * sizeof(*v));
		struct pol_loc *l;

		if (!v)
			return -ENOMEM;
		n->prefixes = v;
		l = realloc(n->prefix_loc, room * sizeof(*l));
		if (!l)
			return -ENOMEM;
		n->prefix_loc = l;
	}
	n->prefixes[n->n_prefixes] = *p;
	n->prefix_loc[n->n_prefixes] = loc;
	n->n_prefixes++;
	return 0;
}

/* `prefix CIDR[,CIDR]...` from token *i (the first CIDR); advances *i past the list. */
static int parse_prefixes(const struct lex_stmt *s, size_t *i, struct diags *d, struct node_def *n)
{
	int errs = 0;
	char why[200];

	for (;;) {
		const struct lex_tok *t = &s->tok[*i];
		struct pol_prefix p;

		if (t->kind != LEX_WORD) {
			/* One error for one bad token: a stray comma is skipped and
			 * the list goes on; anything else ends the statement. */
			diags_add(d, t->loc, "expected a prefix, found '%s'", t->s);
			errs++;
			if (t->kind != LEX_COMMA || *i + 1 >= s->n) {
				*i = s->n;
				return errs;
			}
			(*i)++;
			continue;
		}
		if (prefix_parse(t->s, &p, why, sizeof(why))) {
			diags_add(d, t->loc, "%s", why);
			errs++;
		} else if (push_prefix(n, &p, t->loc)) {
			return -ENOMEM;
		}
		(*i)++;
		if (*i >= s->n || s->tok[*i].kind != LEX_COMMA)
			return errs;
		(*i)++;
		if (*i >= s->n) {
			diags_add(d, after(&s->tok[*i - 1]), "expected a prefix after ','");
			return errs + 1;
		}
	}
}

/* One underlay address at token t into (*family, addr); 0 or 1 (an error reported). */
static int underlay_one(const struct lex_tok *t, struct diags *d, uint8_t *family, uint8_t addr[16])
{
	if (t->kind != LEX_WORD) {
		diags_add(d, t->loc, "expected an underlay address, found '%s'", t->s);
		return 1;
	}
	*family = addr_parse(t->s, addr);
	if (!*family) {
		diags_add(d, t->loc, strchr(t->s, '/') ?
			  "underlay '%s' is a prefix; give the node's address" :
			  "underlay '%s' is not an IP address (a numeric IPv4 or IPv6 address)",
			  t->s);
		return 1;
	}
	if (!addr_unicast(*family, addr)) {
		diags_add(d, t->loc, "underlay '%s' is not a unicast address", t->s);
		*family = 0;
		return 1;
	}
	return 0;
}

/* `underlay ADDR[,ADDR]` from token *i: at most one address of each family. */
static int parse_underlay(const struct lex_stmt *s, size_t *i, struct diags *d, struct node_def *n)
{
	const struct lex_tok *t = &s->tok[*i];
	int errs;

	n->underlay_loc = t->loc;
	errs = underlay_one(t, d, &n->family, n->underlay);
	(*i)++;
	if (*i >= s->n || s->tok[*i].kind != LEX_COMMA)
		return errs;
	if (++(*i) >= s->n) {
		diags_add(d, after(&s->tok[*i - 1]), "expected an underlay address after ','");
		return errs + 1;
	}
	t = &s->tok[*i];
	for (int o = 0; node_opts[o]; o++)
		if (lex_is(t, node_opts[o])) {
			diags_add(d, t->loc, "expected an underlay address after ',', found '%s'", t->s);
			return errs + 1;	/* the option is parsed as such */
		}
	(*i)++;
	n->alt_loc = t->loc;
	if (underlay_one(t, d, &n->alt_family, n->alt_underlay))
		return errs + 1;
	if (n->family && n->alt_family == n->family) {
		diags_add(d, t->loc, "node '%s' has two IPv%d underlay addresses (at most one of each family)",
			  n->name, n->family);
		n->alt_family = 0;
		return errs + 1;
	}
	if (*i < s->n && s->tok[*i].kind == LEX_COMMA) {
		diags_add(d, s->tok[*i].loc, "at most two underlay addresses, one IPv4 and one IPv6");
		while (*i < s->n && s->tok[*i].kind == LEX_COMMA)
			*i += 2;	/* past the rest of the list */
		return errs + 1;
	}
	return errs;
}

static int parse_node(const struct lex_stmt *s, struct diags *d, struct nodes *out)
{
	const struct lex_tok *kw = &s->tok[0], *name;
	struct pol_loc seen[4] = {};
	struct node_def n = { .vni = FRINGE_VNI_DEFAULT };
	struct node_def *v;
	bool dup = false;
	int errs = 0, r;
	size_t i;

	if (s->n < 2) {
		diags_add(d, after(kw), "'node' needs a name");
		return 1;
	}
	name = &s->tok[1];
	if (name->kind != LEX_WORD || !lex_name_ok(name->s, name->len)) {
		diags_add(d, name->loc, "invalid node name '%s' (1 to 63 of A-Z a-z 0-9 _ . -)",
			  name->s);
		return 1;
	}
	memcpy(n.name, name->s, name->len + 1);
	n.loc = name->loc;
	for (size_t k = 0; k < out->n; k++)
		if (!strcmp(out->v[k].name, n.name)) {
			diags_add(d, name->loc, "duplicate node '%s' (first declared at %d:%d)", n.name,
				  out->v[k].loc.line, out->v[k].loc.col);
			errs++;
			dup = true;
			break;	/* against the first copy only: one error per statement */
		}

	for (i = 2; i < s->n;) {
		const struct lex_tok *k = &s->tok[i], *val;
		int opt = -1;

		for (int o = 0; node_opts[o]; o++)
			if (lex_is(k, node_opts[o]))
				opt = o;
		if (opt < 0) {
			const char *hint = k->kind == LEX_WORD ? lex_suggest(k->s, node_opts) : NULL;

			if (hint)
				diags_add(d, k->loc, "unknown node option '%s' (did you mean '%s'?)",
					  k->s, hint);
			else
				diags_add(d, k->loc,
					  "unexpected '%s' (expected underlay, mac, prefix or vni)", k->s);
			errs++;
			break;
		}
		if (seen[opt].line) {
			diags_add(d, k->loc, "duplicate '%s' (first given at %d:%d)", k->s,
				  seen[opt].line, seen[opt].col);
			errs++;
		}
		seen[opt] = k->loc;
		if (++i >= s->n) {
			diags_add(d, after(k), "'%s' needs a value", k->s);
			errs++;
			break;
		}
		val = &s->tok[i];
		if (opt == 0) {		/* underlay */
			errs += parse_underlay(s, &i, d, &n);
			continue;
		}
		if (opt == 2) {		/* prefix */
			r = parse_prefixes(s, &i, d, &n);
			if (r < 0) {
				node_def_free(&n);
				return r;
			}
			errs += r;
			continue;
		}
		i++;
		if (val->kind != LEX_WORD) {
			diags_add(d, val->loc, "expected a value for '%s', found '%s'", k->s, val->s);
			errs++;
			continue;
		}
		switch (opt) {
		case 1:		/* mac */
			if (!lex_mac_parse(val->s, strlen(val->s), n.mac)) {
				diags_add(d, val->loc, "invalid MAC address '%s' (expected aa:bb:cc:dd:ee:ff)",
					  val->s);
				errs++;
			} else if ((n.mac[0] & 1) || !memcmp(n.mac, "\0\0\0\0\0\0", 6)) {
				diags_add(d, val->loc, "MAC address '%s' is not a unicast address", val->s);
				errs++;
			}
			n.has_mac = true;
			break;
		case 3: {	/* vni */
			char *end;
			unsigned long long x;

			errno = 0;
			x = strtoull(val->s, &end, 10);
			if (val->s[0] < '0' || val->s[0] > '9' || *end) {
				diags_add(d, val->loc, "invalid VNI '%s' (a number, 1-%u)", val->s,
					  FRINGE_VNI_MAX);
				errs++;
			} else if (errno || x < 1 || x > FRINGE_VNI_MAX) {
				diags_add(d, val->loc, "VNI %s is out of range (1-%u)", val->s,
					  FRINGE_VNI_MAX);
				errs++;
			} else {
				n.vni = x;
			}
			break;
		}
		}
	}
	if (dup) {	/* the first copy is kept and checked; this one is reported once */
		node_def_free(&n);
		return errs;
	}
	if (!seen[0].line || !seen[2].line) {	/* one error for what the statement lacks */
		diags_add(d, name->loc, "node '%s' needs %s%s%s", n.name,
			  seen[0].line ? "" : "'underlay ADDR'",
			  seen[0].line || seen[2].line ? "" : " and ",
			  seen[2].line ? "" : "'prefix CIDR[,CIDR]...'");
		errs++;
	}
	if (out->n >= FRINGE_MAX_NODES) {
		diags_add(d, name->loc, "too many nodes (at most %d)", FRINGE_MAX_NODES);
		node_def_free(&n);
		return errs + 1;
	}
	/* Kept even when wrong (the file fails anyway), so later checks of
	 * duplicates and of `self` do not report errors that are not there. */
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v) {
		node_def_free(&n);
		return -ENOMEM;
	}
	out->v = v;
	out->v[out->n++] = n;
	return errs;
}

static int parse_stmt(const struct lex_stmt *s, struct diags *d, struct nodes *out)
{
	static const char *const stmts[] = { "self", "node", NULL };
	const struct lex_tok *kw = &s->tok[0];
	const char *hint;

	if (lex_is(kw, "self"))
		return parse_self(s, d, out);
	if (lex_is(kw, "node"))
		return parse_node(s, d, out);
	hint = kw->kind == LEX_WORD ? lex_suggest(kw->s, stmts) : NULL;
	if (hint)
		diags_add(d, kw->loc, "unknown statement '%s' (did you mean '%s'?)", kw->s, hint);
	else
		diags_add(d, kw->loc, "unknown statement '%s' (expected 'self' or 'node')", kw->s);
	return 1;
}

/* ---- whole-file checks ------------------------------------------------------- */

struct pfx_ref {
	const struct pol_prefix *p;
	struct pol_loc loc;
	size_t node;
};

static int pfx_cmp(const void *a, const void *b)
{
	const struct pfx_ref *x = a, *y = b;
	int c;

	if (x->p->family != y->p->family)
		return x->p->family - y->p->family;
	c = memcmp(x->p->addr, y->p->addr, 16);
	if (c)
		return c;
	return (int)x->p->len - (int)y->p->len;
}

static bool pfx_contains(const struct pol_prefix *a, const struct pol_prefix *b)
{
	unsigned int full = a->len / 8, rest = a->len % 8;

	if (a->family != b->family || a->len > b->len)
		return false;
	if (memcmp(a->addr, b->addr, full))
		return false;
	return !rest || !((a->addr[full] ^ b->addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

static bool loc_before(struct pol_loc a, struct pol_loc b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* No prefix may contain another: sorted by address, then length, a prefix that
 * overlaps anything overlaps the last prefix that overlapped nothing. */
static int check_overlaps(const struct nodes *out, struct diags *d)
{
	struct pfx_ref *v, *top = NULL;
	size_t n = 0, k = 0;
	int errs = 0;
	char a[64], b[64];

	for (size_t i = 0; i < out->n; i++)
		n += out->v[i].n_prefixes;
	if (n > FRINGE_MAX_OV_PREFIXES) {
		diags_add(d, out->v[out->n - 1].loc, "too many prefixes (%zu; at most %d)", n,
			  FRINGE_MAX_OV_PREFIXES);
		return 1;
	}
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < out->n; i++)
		for (size_t j = 0; j < out->v[i].n_prefixes; j++)
			v[k++] = (struct pfx_ref){ &out->v[i].prefixes[j], out->v[i].prefix_loc[j], i };
	qsort(v, n, sizeof(*v), pfx_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct pfx_ref *early, *late;

		if (!top || !pfx_contains(top->p, v[i].p)) {
			top = &v[i];
			continue;
		}
		early = loc_before(top->loc, v[i].loc) ? top : &v[i];
		late = early == top ? &v[i] : top;
		nodes_prefix_str(late->p, a, sizeof(a));
		nodes_prefix_str(early->p, b, sizeof(b));
		if (late->node == early->node)
			diags_add(d, late->loc, "prefix %s overlaps %s, also of node '%s' (%d:%d)", a,
				  b, out->v[late->node].name, early->loc.line, early->loc.col);
		else
			diags_add(d, late->loc, "prefix %s of node '%s' overlaps %s of node '%s' (%d:%d)",
				  a, out->v[late->node].name, b, out->v[early->node].name,
				  early->loc.line, early->loc.col);
		errs++;
	}
	free(v);
	return errs;
}

static int check_file(struct nodes *out, struct diags *d)
{
	int errs = 0, r;
	const struct node_def *self = NULL;

	if (!out->self_loc.line) {
		diags_add(d, (struct pol_loc){ 1, 1 },
			  "no 'self' statement: name the node this file is loaded on (self NAME)");
		errs++;
	} else if (!out->self_auto) {
		for (size_t i = 0; i < out->n; i++)
			if (!strcmp(out->v[i].name, out->self)) {
				self = &out->v[i];
				out->self_idx = i;
			}
		if (!self) {
			diags_add(d, out->self_loc, "self '%s' is not a listed node", out->self);
			errs++;
		}
	}
	for (size_t i = 0; i < out->n; i++) {
		const struct node_def *n = &out->v[i];

		if (!n->family)
			continue;	/* its underlay was reported */
		if (self && self->family && n != self)
			errs += nodes_check_reachable(out, n, d);
		for (size_t j = 0; j < i; j++) {
			const struct node_def *o = &out->v[j];
			const struct pol_loc *at = NULL;

			for (int f = 4; f <= 6 && !at; f += 2)
				if (nodes_underlay(n, f) && nodes_underlay(o, f) &&
				    !memcmp(nodes_underlay(n, f), nodes_underlay(o, f), 16))
					at = n->family == f ? &n->underlay_loc : &n->alt_loc;
			if (at) {
				diags_add(d, *at, "node '%s' has the underlay address of node '%s' (%d:%d)",
					  n->name, o->name, o->underlay_loc.line, o->underlay_loc.col);
				errs++;
				break;
			}
		}
	}
	r = check_overlaps(out, d);
	if (r < 0)
		return r;
	return errs + r;
}

int nodes_parse(const char *text, size_t len, struct diags *d, struct nodes *out)
{
	struct lex_file f;
	int err, errs = 0;

	memset(out, 0, sizeof(*out));
	err = lex_statements(text, len, d, &f);
	if (err == -ENOMEM)
		return err;
	if (err == -E2BIG)	/* refused whole, the reason reported */
		return -EINVAL;
	if (err)
		errs++;
	for (size_t i = 0; i < f.n; i++) {
		int r = parse_stmt(&f.stmt[i], d, out);

		if (r < 0) {
			lex_free(&f);
			nodes_free(out);
			return r;
		}
		errs += r;
	}
	lex_free(&f);
	err = check_file(out, d);
	if (err < 0) {
		nodes_free(out);
		return err;
	}
	errs += err;
	if (errs) {
		nodes_free(out);
		return -EINVAL;
	}
	return 0;
}

int nodes_parse_file(const char *path, struct diags *d, struct nodes *out)
{
	size_t n;
	char *buf;
	int err;

	memset(out, 0, sizeof(*out));
	err = diags_read_file(d, path, NODES_MAX_FILE, &buf, &n);
	if (err)
		return err;
	err = nodes_parse(buf, n, d, out);
	free(buf);
	return err;
}

void nodes_free(struct nodes *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_def_free(&n->v[i]);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

const uint8_t *nodes_underlay(const struct node_def *nd, int f)
{
	if (nd->family == f)
		return nd->underlay;
	if (nd->alt_family == f)
		return nd->alt_underlay;
	return NULL;
}

int nodes_tunnel_family(const struct nodes *n, const struct node_def *nd)
{
	const struct node_def *self = &n->v[n->self_idx];

	if (nd->family && nodes_underlay(self, nd->family))
		return nd->family;
	if (nd->alt_family && nodes_underlay(self, nd->alt_family))
		return nd->alt_family;
	return 0;
}

int nodes_check_reachable(const struct nodes *n, const struct node_def *nd, struct diags *d)
{
	if (nodes_tunnel_family(n, nd))
		return 0;
	diags_add(d, nd->underlay_loc,
		  "node '%s' has only an IPv%d underlay, and this node '%s' has no IPv%d underlay address to reach it",
		  nd->name, nd->family, n->v[n->self_idx].name, nd->family);
	return 1;
}

const struct node_def *nodes_find(const struct nodes *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->v[i].name, name))
			return &n->v[i];
	return NULL;
}

/* ---- the pieces other languages share (the daemon's `announce`, cluster records) ---- */

int nodes_addr_parse(const char *s, uint8_t addr[16])
{
	return addr_parse(s, addr);
}

bool nodes_addr_unicast(int family, const uint8_t *addr)
{
	return addr_unicast(family, addr);
}

int nodes_prefix_parse(const char *s, struct pol_prefix *out, char *why, size_t whylen)
{
	return prefix_parse(s, out, why, whylen);
}

bool nodes_prefixes_overlap(const struct pol_prefix *a, const struct pol_prefix *b)
{
	return pfx_contains(a, b) || pfx_contains(b, a);
}
