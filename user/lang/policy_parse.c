/* SPDX-License-Identifier: GPL-2.0 */
/* Parser of the policy language (docs/policy.md): statements to struct policy, every error located. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lex.h"
#include "policy.h"


const char *const pol_app_names[FRINGE_APP_COUNT + 1] = {
	[FRINGE_APP_NONE]	= "none",
	[FRINGE_APP_MQTT]	= "mqtt",
	[FRINGE_APP_MQTTS]	= "mqtts",
	[FRINGE_APP_COAP]	= "coap",
	[FRINGE_APP_COAPS]	= "coaps",
	[FRINGE_APP_MODBUS]	= "modbus",
	[FRINGE_APP_BACNET]	= "bacnet",
	[FRINGE_APP_OPCUA]	= "opcua",
	[FRINGE_APP_DNP3]	= "dnp3",
	[FRINGE_APP_DNS]	= "dns",
	[FRINGE_APP_NTP]	= "ntp",
	[FRINGE_APP_COUNT]	= NULL,
};

int pol_app_lookup(const char *name)
{
	int i;

	for (i = FRINGE_APP_NONE + 1; i < FRINGE_APP_COUNT; i++)
		if (!strcmp(name, pol_app_names[i]))
			return i;
	return 0;
}

/* ---- keyword tables ---------------------------------------------------- */

static const char *const policy_stmt_kws[] = { "set", "device", "rule", "default", NULL };
static const char *const policy_device_kws[] = { "mac", "ip", "class", NULL };
static const char *const policy_steer_kws[] = { "iface", "cpu", "node", "overlay", NULL };

/* Match keywords, by bit index of enum pol_match. */
static const char *const policy_match_kws[] = {
	"in", "src", "dst", "proto", "sport", "dport", "mac", "device", "class",
	"vlan", "app", "modbus-fc", "mqtt-type", NULL,
};

/* Everything that may follow the rule name, for "did you mean". */
static const char *const policy_rule_kws[] = {
	"in", "src", "dst", "proto", "sport", "dport", "mac", "device", "class",
	"vlan", "app", "modbus-fc", "mqtt-type", "allow", "drop", "steer",
	"limit", "burst", "per-src", "sample", NULL,
};

static const struct {
	const char *name;
	uint8_t num;
} policy_protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 }, { "sctp", 132 },
};
static const char *const policy_proto_names[] = { "icmp", "tcp", "udp", "icmpv6", "sctp", NULL };

/* MQTT control packet types (MQTT 5.0 §2.1.2), index = type. */
static const char *const policy_mqtt_types[] = {
	"", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp",
	"subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp",
	"disconnect", "auth", NULL,
};

/* ---- name tables --------------------------------------------------------- */

/* Open-addressing hash of byte strings: names and addresses are looked up
 * once per statement, and a policy may hold a million set items. */
struct policy_ent {
	char *key;		/* NULL: free slot */
	size_t klen;
	uint64_t hash;
	struct pol_loc loc;	/* where it was declared */
	long idx;		/* index of the parsed object; -1 when its statement failed */
};

struct policy_tab {
	struct policy_ent *v;
	size_t cap, n;		/* cap is 0 or a power of two */
};

static uint64_t policy_hash(const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static struct policy_ent *policy_tab_find(const struct policy_tab *t, const void *key, size_t n)
{
	uint64_t h = policy_hash(key, n);
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct policy_ent *e = &t->v[i];

		if (!e->key)
			return NULL;
		if (e->hash == h && e->klen == n && !memcmp(e->key, key, n))
			return e;
	}
}

/* Insert a key known to be absent; -ENOMEM on failure. */
static int policy_tab_add(struct policy_tab *t, const void *key, size_t n, struct pol_loc loc, long idx)
{
	uint64_t h = policy_hash(key, n);
	struct policy_ent *e;
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16, k;
		struct policy_ent *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (k = 0; k < t->cap; k++) {
			if (!t->v[k].key)
				continue;
			for (i = t->v[k].hash & (cap - 1); v[i].key; i = (i + 1) & (cap - 1))
				;
			v[i] = t->v[k];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	for (i = h & (t->cap - 1); t->v[i].key; i = (i + 1) & (t->cap - 1))
		;
	e = &t->v[i];
	e->key = malloc(n + 1);
	if (!e->key)
		return -ENOMEM;
	memcpy(e->key, key, n);
	e->key[n] = '\0';
	e->klen = n;
	e->hash = h;
	e->loc = loc;
	e->idx = idx;
	t->n++;
	return 0;
}

static void policy_tab_free(struct policy_tab *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- parser state -------------------------------------------------------- */

/* A name a rule uses, resolved once the whole file is read. */
struct policy_ref {
	size_t rule;
	uint32_t bit;		/* POL_M_SRC, _DST, _SPORT, _DPORT, _MAC (sets), _DEVICE, _CLASS */
	char name[FRINGE_NAME_LEN];
	struct pol_loc loc;	/* of the value token */
};

struct policy_parser {
	struct diags *d;
	struct policy *p;
	unsigned errors;
	bool oom;
	struct policy_tab sets, devices, rules, classes;
	struct policy_tab dev_macs, dev_ips;	/* idx: owning device */
	size_t cap_sets, cap_devices, cap_rules;
	struct policy_ref *refs;
	size_t n_refs, cap_refs;
	size_t rules_seen, devices_seen, set_items;
	bool default_seen;
	struct pol_loc default_loc;
};

/* One rule while it is being read. */
struct policy_rule_ctx {
	struct pol_rule r;
	struct policy_ref refs[8];	/* one per name-taking match at most */
	size_t n_refs;
	uint32_t seen;			/* matches written out (app is also implied) */
	const struct lex_tok *name, *proto_val, *port_kw, *app_val, *fc_kw, *mqtt_kw;
	bool verdict, limit, sample;
};

struct policy_cur {
	const struct lex_stmt *st;
	size_t i;
};

static void policy_err(struct policy_parser *ps, struct pol_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void policy_err(struct policy_parser *ps, struct pol_loc loc, const char *fmt, ...)
{
	char msg[sizeof(((struct diag *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diags_add(ps->d, loc, "%s", msg);
	ps->errors++;
}

static void policy_oom(struct policy_parser *ps)
{
	if (!ps->oom)
		diags_add(ps->d, (struct pol_loc){ 0, 0 }, "out of memory");
	ps->oom = true;
}

/* Room for one more element in *v (n used, *cap allocated). */
static bool policy_grow(struct policy_parser *ps, void **v, size_t n, size_t *cap, size_t size)
{
	size_t nc;
	void *nv;

	if (n < *cap)
		return true;
	nc = *cap ? 2 * *cap : 4;
	nv = realloc(*v, nc * size);
	if (!nv) {
		policy_oom(ps);
		return false;
	}
	*v = nv;
	*cap = nc;
	return true;
}
#define POLICY_GROW(ps, arr, n, cap) ({						\
	void *_v = (arr);							\
	bool _ok = policy_grow(ps, &_v, n, cap, sizeof(*(arr)));		\
	(arr) = _v;								\
	_ok;									\
})

static const struct lex_tok *policy_peek(const struct policy_cur *c)
{
	return c->i < c->st->n ? &c->st->tok[c->i] : NULL;
}

static const struct lex_tok *policy_next(struct policy_cur *c)
{
	const struct lex_tok *t = policy_peek(c);

	if (t)
		c->i++;
	return t;
}

/* The word after kw, or NULL after saying what is missing. */
static const struct lex_tok *policy_value(struct policy_parser *ps, struct policy_cur *c,
					  const struct lex_tok *kw, const char *what)
{
	const struct lex_tok *t = policy_next(c);

	if (!t) {
		policy_err(ps, kw->loc, "missing %s after '%s'", what, kw->s);
		return NULL;
	}
	if (t->kind != LEX_WORD) {
		policy_err(ps, t->loc, "expected %s after '%s', got '%s'", what, kw->s, t->s);
		return NULL;
	}
	return t;
}

/* ---- values ------------------------------------------------------------- */

/* Decimal digits only, at most max. */
static bool policy_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned dgt;

		if (s[i] < '0' || s[i] > '9')
			return false;
		dgt = s[i] - '0';
		if (dgt > max || v > (max - dgt) / 10)
			return false;
		v = v * 10 + dgt;
	}
	*out = v;
	return true;
}

static bool policy_name(struct policy_parser *ps, const struct lex_tok *t, const char *what,
			char out[FRINGE_NAME_LEN])
{
	if (!lex_name_ok(t->s, t->len)) {
		policy_err(ps, t->loc, "invalid %s name '%s' (1 to 63 of A-Z a-z 0-9 _ . -)", what, t->s);
		return false;
	}
	memcpy(out, t->s, t->len + 1);
	return true;
}

/* Linux's dev_valid_name(). */
static bool policy_ifname(struct policy_parser *ps, const struct lex_tok *t, char out[FRINGE_IFNAME_LEN])
{
	if (t->len >= FRINGE_IFNAME_LEN || !strcmp(t->s, ".") || !strcmp(t->s, "..") ||
	    strchr(t->s, '/') || strchr(t->s, ':')) {
		policy_err(ps, t->loc, "invalid interface name '%s' (1 to %d bytes, no '/' or ':')",
			   t->s, FRINGE_IFNAME_LEN - 1);
		return false;
	}
	memcpy(out, t->s, t->len + 1);
	return true;
}

/* Record a name as declared; a second declaration is an error. */
static bool policy_declare(struct policy_parser *ps, struct policy_tab *tab, const struct lex_tok *name,
			   const char *what)
{
	struct policy_ent *e = policy_tab_find(tab, name->s, name->len);

	if (e) {
		policy_err(ps, name->loc, "duplicate %s '%s' (first declared at %d:%d)", what, name->s,
			   e->loc.line, e->loc.col);
		return false;
	}
	if (policy_tab_add(tab, name->s, name->len, name->loc, -1)) {
		policy_oom(ps);
		return false;
	}
	return true;
}

/* Mark a declared name as parsed into slot idx. */
static void policy_defined(struct policy_tab *tab, const char *name, long idx)
{
	struct policy_ent *e = policy_tab_find(tab, name, strlen(name));

	if (e)
		e->idx = idx;
}

/* ADDR or ADDR/LEN (host only: ADDR), IPv4 or IPv6, host bits clear. */
static bool policy_prefix(struct policy_parser *ps, const struct lex_tok *t, bool host,
			  struct pol_prefix *out)
{
	char buf[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	const char *slash = strchr(t->s, '/');
	size_t alen = slash ? (size_t)(slash - t->s) : t->len;
	unsigned max, i;
	uint64_t len;
	int af;
	uint8_t masked[16];

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf))
		goto bad;
	memcpy(buf, t->s, alen);
	buf[alen] = '\0';
	af = memchr(buf, ':', alen) ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, out->addr) != 1)
		goto bad;
	out->family = af == AF_INET ? 4 : 6;
	max = af == AF_INET ? 32 : 128;
	len = max;
	if (slash && host) {
		policy_err(ps, t->loc, "expected a host address, not the prefix '%s'", t->s);
		return false;
	}
	if (slash && !policy_u64(slash + 1, t->len - alen - 1, max, &len)) {
		policy_err(ps, t->loc, "invalid prefix length in '%s' (0-%u)", t->s, max);
		return false;
	}
	out->len = len;
	memcpy(masked, out->addr, sizeof(masked));
	for (i = 0; i < max / 8; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		masked[i] &= keep ? (uint8_t)(0xff << (8 - keep)) : 0;
	}
	if (memcmp(masked, out->addr, sizeof(masked))) {
		/* strict like nft: a typo here would silently widen the match */
		inet_ntop(af, masked, net, sizeof(net));
		policy_err(ps, t->loc, "host bits set in %s (did you mean %s/%u?)", t->s, net, (unsigned)len);
		return false;
	}
	return true;
bad:
	policy_err(ps, t->loc, "invalid address '%s'", t->s);
	return false;
}

static bool policy_mac(struct policy_parser *ps, const struct lex_tok *t, uint8_t mac[6])
{
	if (lex_mac_parse(t->s, t->len, mac))
		return true;
	policy_err(ps, t->loc, "invalid MAC address '%s' (expected aa:bb:cc:dd:ee:ff)", t->s);
	return false;
}

/* N or A-B within [min, max]. */
static bool policy_range(struct policy_parser *ps, const struct lex_tok *t, uint32_t min, uint32_t max,
			 const char *what, struct pol_range *r)
{
	const char *dash = strchr(t->s, '-');
	uint64_t lo, hi;

	if (!dash) {
		if (!policy_u64(t->s, t->len, max, &lo) || lo < min) {
			policy_err(ps, t->loc, "invalid %s '%s' (%u-%u)", what, t->s, min, max);
			return false;
		}
		hi = lo;
	} else {
		size_t nlo = dash - t->s;

		if (!policy_u64(t->s, nlo, max, &lo) || lo < min ||
		    !policy_u64(dash + 1, t->len - nlo - 1, max, &hi) || hi < min) {
			policy_err(ps, t->loc, "invalid %s range '%s' (%u-%u)", what, t->s, min, max);
			return false;
		}
		if (lo > hi) {
			policy_err(ps, t->loc, "invalid %s range '%s' (start above end)", what, t->s);
			return false;
		}
	}
	r->lo = lo;
	r->hi = hi;
	return true;
}

static int policy_range_cmp(const void *a, const void *b)
{
	const struct pol_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sorted, with overlapping and adjacent ranges merged. */
static void policy_ranges_normalize(struct pol_range *v, size_t *n)
{
	size_t i, o = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), policy_range_cmp);
	for (i = 1; i < *n; i++) {
		if (v[i].lo <= v[o].hi + 1) {
			if (v[i].hi > v[o].hi)
				v[o].hi = v[i].hi;
		} else {
			v[++o] = v[i];
		}
	}
	*n = o + 1;
}

static int policy_prefix_cmp(const void *a, const void *b)
{
	const struct pol_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void policy_prefixes_dedup(struct pol_prefix *v, size_t *n)
{
	size_t i, o = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), policy_prefix_cmp);
	for (i = 1; i < *n; i++)
		if (policy_prefix_cmp(&v[i], &v[o]))
			v[++o] = v[i];
	*n = o + 1;
}

static int policy_mac_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static void policy_macs_dedup(uint8_t (*v)[6], size_t *n)
{
	size_t i, o = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), policy_mac_cmp);
	for (i = 1; i < *n; i++)
		if (memcmp(v[i], v[o], 6))
			memcpy(v[++o], v[i], 6);
	*n = o + 1;
}

static int policy_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void policy_names_dedup(char (*v)[POL_DNS_NAME_LEN], size_t *n)
{
	size_t i, o = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), policy_name_cmp);
	for (i = 1; i < *n; i++)
		if (strcmp(v[i], v[o]))
			memcpy(v[++o], v[i], sizeof(*v));
	*n = o + 1;
}

/* `V [, V]...` after kw: the value tokens in a malloc'd array, or 0 after an error. */
static size_t policy_list(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw,
			  const char *what, const struct lex_tok ***out)
{
	const struct lex_tok **v = NULL, *t, *comma;
	size_t n = 0, cap = 0;

	t = policy_value(ps, c, kw, what);
	while (t) {
		if (!POLICY_GROW(ps, v, n, &cap))
			break;
		v[n++] = t;
		comma = policy_peek(c);
		if (!comma || comma->kind != LEX_COMMA) {
			*out = v;
			return n;
		}
		c->i++;
		t = policy_value(ps, c, comma, what);
	}
	free(v);
	return 0;
}

/* ---- statements ---------------------------------------------------------- */

static const char *policy_kind_str(enum pol_set_kind k)
{
	return k == POL_SET_PREFIX ? "addresses" : k == POL_SET_PORT ? "ports" : "MAC addresses";
}

/* aa:bb:cc:dd:ee:ff shape (five single colons, no dots, no slash) rather than IPv6. */
static bool policy_mac_like(const char *s)
{
	int colons = 0;

	if (strstr(s, "::") || strchr(s, '.') || strchr(s, '/'))
		return false;
	for (; *s; s++)
		colons += *s == ':';
	return colons == 5;
}

bool policy_dns_name(const char *s, char out[POL_DNS_NAME_LEN])
{
	size_t n = strlen(s), i, start, labels = 0, o = 0;
	bool digits_only = true;

	if (n && s[n - 1] == '.')
		n--;
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		out[o++] = '*', out[o++] = '.';
		s += 2, n -= 2;
	}
	if (!n || n + o > 253)
		return false;
	for (start = 0, i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			size_t len = i - start;

			if (len < 1 || len > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			labels++;
			start = i + 1;
			if (i < n) {
				digits_only = true;
				out[o++] = '.';
			}
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		digits_only &= c >= '0' && c <= '9';
		out[o++] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
	}
	out[o] = 0;
	return labels >= 2 && !digits_only;
}

/* A name has a letter (or leads with `*.`) and no ':' or '/'. */
static bool policy_name_like(const char *s)
{
	if (strchr(s, ':') || strchr(s, '/'))
		return false;
	if (s[0] == '*')
		return true;
	for (; *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return true;
	return false;
}

static enum pol_set_kind policy_item_kind(const char *s)
{
	if (policy_mac_like(s))
		return POL_SET_MAC;
	if (strchr(s, ':') || strchr(s, '.'))
		return POL_SET_PREFIX;
	if (s[0] >= '0' && s[0] <= '9')
		return POL_SET_PORT;
	return 0;
}

static bool policy_set_item(struct policy_parser *ps, struct pol_set *s, const struct lex_tok *t,
			    size_t *cap)
{
	enum pol_set_kind kind = policy_item_kind(t->s);

	if (!kind) {
		policy_err(ps, t->loc,
			   "invalid set item '%s' (expected an address, CIDR, DNS name, port, port range or MAC)",
			   t->s);
		return false;
	}
	if (s->kind && kind != s->kind) {
		policy_err(ps, t->loc, "set '%s' mixes %s with %s: '%s'", s->name,
			   policy_kind_str(s->kind), policy_kind_str(kind), t->s);
		return false;
	}
	if (++ps->set_items == FRINGE_MAX_SET_ITEMS + 1)
		policy_err(ps, t->loc, "too many set items (more than %d in one policy)", FRINGE_MAX_SET_ITEMS);
	if (ps->set_items > FRINGE_MAX_SET_ITEMS)
		return false;
	s->kind = kind;
	switch (kind) {
	case POL_SET_PREFIX:
		if (policy_name_like(t->s)) {
			if (!POLICY_GROW(ps, s->names, s->n_names, &s->cap_names_))
				return false;
			if (!policy_dns_name(t->s, s->names[s->n_names])) {
				policy_err(ps, t->loc, "invalid DNS name '%s' in set '%s'", t->s, s->name);
				return false;
			}
			s->n_names++;
			return true;
		}
		if (!POLICY_GROW(ps, s->pfx, s->n_pfx, cap))
			return false;
		if (!policy_prefix(ps, t, false, &s->pfx[s->n_pfx]))
			return false;
		s->n_pfx++;
		return true;
	case POL_SET_PORT:
		if (!POLICY_GROW(ps, s->ports, s->n_ports, cap))
			return false;
		if (!policy_range(ps, t, 0, 65535, "port", &s->ports[s->n_ports]))
			return false;
		s->n_ports++;
		return true;
	case POL_SET_MAC:
		if (!POLICY_GROW(ps, s->macs, s->n_macs, cap))
			return false;
		if (!policy_mac(ps, t, s->macs[s->n_macs]))
			return false;
		s->n_macs++;
		return true;
	}
	return false;
}

static void policy_set_free(struct pol_set *s)
{
	free(s->names);
	free(s->pfx);
	free(s->ports);
	free(s->macs);
}

/* set NAME { ITEM, ITEM, ... } */
static void policy_stmt_set(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw)
{
	const struct lex_tok *name, *open, *t, *prev;
	struct pol_set s = { 0 };
	size_t cap = 0, n = 0;

	name = policy_value(ps, c, kw, "a set name");
	if (!name || !policy_name(ps, name, "set", s.name) || !policy_declare(ps, &ps->sets, name, "set"))
		return;
	s.loc = name->loc;
	open = policy_next(c);
	if (!open) {
		policy_err(ps, name->loc, "missing '{' after set name '%s'", s.name);
		return;
	}
	if (open->kind != LEX_LBRACE) {
		policy_err(ps, open->loc, "expected '{' after set name '%s', got '%s'", s.name, open->s);
		return;
	}
	for (;;) {
		t = policy_next(c);
		if (t && t->kind == LEX_RBRACE && n)
			break;			/* `a, }`: a trailing comma is fine */
		if (t && t->kind == LEX_RBRACE) {
			policy_err(ps, name->loc, "set '%s' is empty", s.name);
			goto fail;
		}
		if (!t) {
			policy_err(ps, open->loc, "unterminated set '%s' (missing '}')", s.name);
			goto fail;
		}
		if (t->kind != LEX_WORD) {
			policy_err(ps, t->loc, "unexpected '%s' in set '%s'", t->s, s.name);
			goto fail;
		}
		if (!policy_set_item(ps, &s, t, &cap))
			goto fail;
		n++;
		prev = t;
		t = policy_next(c);
		if (t && t->kind == LEX_COMMA)
			continue;
		if (t && t->kind == LEX_RBRACE)
			break;
		if (!t) {
			policy_err(ps, open->loc, "unterminated set '%s' (missing '}')", s.name);
			goto fail;
		}
		policy_err(ps, t->loc, "expected ',' or '}' after '%s', got '%s'", prev->s, t->s);
		goto fail;
	}
	if ((t = policy_next(c))) {
		policy_err(ps, t->loc, "unexpected '%s' after '}'", t->s);
		goto fail;
	}
	policy_prefixes_dedup(s.pfx, &s.n_pfx);
	policy_ranges_normalize(s.ports, &s.n_ports);
	policy_macs_dedup(s.macs, &s.n_macs);
	policy_names_dedup(s.names, &s.n_names);
	if (!POLICY_GROW(ps, ps->p->sets, ps->p->n_sets, &ps->cap_sets))
		goto fail;
	policy_defined(&ps->sets, s.name, ps->p->n_sets);
	ps->p->sets[ps->p->n_sets++] = s;
	return;
fail:
	policy_set_free(&s);
}

/* device NAME mac MAC [ip ADDR]... [class CLASS], attributes in any order */
static void policy_stmt_device(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw)
{
	struct pol_device dv = { 0 };
	struct policy_tab own = { 0 };	/* this device's addresses */
	const struct lex_tok *name, *t, *v, *mac_kw = NULL, *class_kw = NULL;
	struct policy_ent *e;
	size_t cap = 0, i;
	uint8_t key[17];

	name = policy_value(ps, c, kw, "a device name");
	if (!name || !policy_name(ps, name, "device", dv.name) ||
	    !policy_declare(ps, &ps->devices, name, "device"))
		return;
	dv.loc = name->loc;
	if (++ps->devices_seen == FRINGE_MAX_DEVICES + 1)
		policy_err(ps, kw->loc, "too many devices (more than %d)", FRINGE_MAX_DEVICES);
	if (ps->devices_seen > FRINGE_MAX_DEVICES)
		return;

	while ((t = policy_next(c))) {
		if (lex_is(t, "mac") || lex_is(t, "class")) {
			const struct lex_tok **seen = lex_is(t, "mac") ? &mac_kw : &class_kw;

			if (*seen) {
				policy_err(ps, t->loc, "duplicate '%s' in device '%s' (first at %d:%d)",
					   t->s, dv.name, (*seen)->loc.line, (*seen)->loc.col);
				goto fail;
			}
			*seen = t;
			if (seen == &class_kw) {
				v = policy_value(ps, c, t, "a class name");
				if (!v || !policy_name(ps, v, "class", dv.class_name))
					goto fail;
				/* known even if this device fails: no cascade of errors */
				if (!policy_tab_find(&ps->classes, v->s, v->len) &&
				    policy_tab_add(&ps->classes, v->s, v->len, v->loc, 0)) {
					policy_oom(ps);
					goto fail;
				}
				continue;
			}
			v = policy_value(ps, c, t, "a MAC address");
			if (!v || !policy_mac(ps, v, dv.mac))
				goto fail;
			if ((e = policy_tab_find(&ps->dev_macs, dv.mac, 6))) {
				policy_err(ps, v->loc, "MAC %s already belongs to device '%s'", v->s,
					   ps->p->devices[e->idx].name);
				goto fail;
			}
		} else if (lex_is(t, "ip")) {
			struct pol_prefix ip;

			v = policy_value(ps, c, t, "an address");
			if (!v || !policy_prefix(ps, v, true, &ip))
				goto fail;
			key[0] = ip.family;
			memcpy(key + 1, ip.addr, 16);
			if ((e = policy_tab_find(&ps->dev_ips, key, sizeof(key)))) {
				policy_err(ps, v->loc, "address %s already belongs to device '%s'", v->s,
					   ps->p->devices[e->idx].name);
				goto fail;
			}
			if ((e = policy_tab_find(&own, key, sizeof(key)))) {
				policy_err(ps, v->loc, "duplicate address %s in device '%s' (first at %d:%d)",
					   v->s, dv.name, e->loc.line, e->loc.col);
				goto fail;
			}
			if (policy_tab_add(&own, key, sizeof(key), v->loc, 0) ||
			    !POLICY_GROW(ps, dv.ips, dv.n_ips, &cap)) {
				policy_oom(ps);
				goto fail;
			}
			dv.ips[dv.n_ips++] = ip;
		} else if (t->kind != LEX_WORD) {
			policy_err(ps, t->loc, "unexpected '%s' in device '%s'", t->s, dv.name);
			goto fail;
		} else {
			const char *hint = lex_suggest(t->s, policy_device_kws);

			if (hint)
				policy_err(ps, t->loc, "unknown device attribute '%s' (did you mean '%s'?)", t->s, hint);
			else
				policy_err(ps, t->loc, "unknown device attribute '%s' (expected mac, ip or class)", t->s);
			goto fail;
		}
	}
	if (!mac_kw) {
		policy_err(ps, name->loc, "device '%s' needs 'mac MAC'", dv.name);
		goto fail;
	}
	if (!POLICY_GROW(ps, ps->p->devices, ps->p->n_devices, &ps->cap_devices))
		goto fail;
	if (policy_tab_add(&ps->dev_macs, dv.mac, 6, mac_kw->loc, ps->p->n_devices))
		goto oom;
	for (i = 0; i < dv.n_ips; i++) {
		key[0] = dv.ips[i].family;
		memcpy(key + 1, dv.ips[i].addr, 16);
		if (policy_tab_add(&ps->dev_ips, key, sizeof(key), dv.loc, ps->p->n_devices))
			goto oom;
	}
	policy_defined(&ps->devices, dv.name, ps->p->n_devices);
	ps->p->devices[ps->p->n_devices++] = dv;
	policy_tab_free(&own);
	return;
oom:
	policy_oom(ps);
fail:
	policy_tab_free(&own);
	free(dv.ips);
}

/* default allow|drop */
static void policy_stmt_default(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw)
{
	const struct lex_tok *v, *t;

	if (ps->default_seen) {
		policy_err(ps, kw->loc, "duplicate 'default' (first at %d:%d)", ps->default_loc.line,
			   ps->default_loc.col);
		return;
	}
	ps->default_seen = true;
	ps->default_loc = kw->loc;
	v = policy_value(ps, c, kw, "allow or drop");
	if (!v)
		return;
	if (!lex_is(v, "allow") && !lex_is(v, "drop")) {
		policy_err(ps, v->loc, "invalid default '%s' (expected allow or drop)", v->s);
		return;
	}
	if ((t = policy_next(c))) {
		policy_err(ps, t->loc, "unexpected '%s' after 'default %s'", t->s, v->s);
		return;
	}
	ps->p->has_default = true;
	ps->p->default_action = lex_is(v, "drop") ? FRINGE_ACT_DROP : FRINGE_ACT_ALLOW;
}

static void policy_rule_free(struct pol_rule *r)
{
	/* arrays shared with a @set belong to the set */
	if (r->src_set < 0)
		free(r->src);
	if (r->dst_set < 0)
		free(r->dst);
	if (r->sport_set < 0)
		free(r->sport);
	if (r->dport_set < 0)
		free(r->dport);
	if (r->mac_set < 0)
		free(r->mac);
}

/* Remember a name for resolution after the whole file is read. */
static bool policy_rule_ref(struct policy_parser *ps, struct policy_rule_ctx *x, const struct lex_tok *v,
			    const char *name, uint32_t bit)
{
	struct policy_ref *ref;

	if (!lex_name_ok(name, strlen(name))) {
		if (bit == POL_M_DEVICE)
			policy_err(ps, v->loc, "invalid device name '%s' (1 to 63 of A-Z a-z 0-9 _ . -)", v->s);
		else
			policy_err(ps, v->loc, "invalid set reference '%s' (expected @NAME)", v->s);
		return false;
	}
	ref = &x->refs[x->n_refs++];
	ref->bit = bit;
	ref->loc = v->loc;
	strcpy(ref->name, name);
	return true;
}

static bool policy_match_prefix(struct policy_parser *ps, struct policy_rule_ctx *x, const struct lex_tok *v,
				uint32_t bit, struct pol_prefix **out, size_t *n)
{
	if (v->s[0] == '@')
		return policy_rule_ref(ps, x, v, v->s + 1, bit);
	*out = malloc(sizeof(**out));
	if (!*out) {
		policy_oom(ps);
		return false;
	}
	if (!policy_prefix(ps, v, false, *out))
		return false;
	*n = 1;
	return true;
}

static bool policy_match_ports(struct policy_parser *ps, struct policy_cur *c, struct policy_rule_ctx *x,
			       const struct lex_tok *kw, uint32_t bit, struct pol_range **out, size_t *n)
{
	const struct lex_tok **v, *t = policy_peek(c);
	size_t nv, i, cap = 0;
	bool ok = true;

	if (!x->port_kw)
		x->port_kw = kw;
	if (t && t->kind == LEX_WORD && t->s[0] == '@') {
		c->i++;
		return policy_rule_ref(ps, x, t, t->s + 1, bit);
	}
	nv = policy_list(ps, c, kw, "a port", &v);
	if (!nv)
		return false;
	for (i = 0; ok && i < nv; i++) {
		ok = POLICY_GROW(ps, *out, *n, &cap) &&
		     policy_range(ps, v[i], 0, 65535, "port", &(*out)[*n]);
		*n += ok;
	}
	free(v);
	policy_ranges_normalize(*out, n);
	return ok;
}

static bool policy_match_modbus(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw,
				uint8_t fc[32])
{
	const struct lex_tok **v;
	struct pol_range r;
	size_t nv, i;
	uint32_t k;
	bool ok = true;

	nv = policy_list(ps, c, kw, "a function code", &v);
	if (!nv)
		return false;
	for (i = 0; ok && i < nv; i++) {
		ok = policy_range(ps, v[i], 1, 255, "function code", &r);
		for (k = r.lo; ok && k <= r.hi; k++)
			fc[k / 8] |= 1u << (k % 8);
	}
	free(v);
	return ok;
}

static bool policy_match_mqtt(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw,
			      uint16_t *types)
{
	const struct lex_tok **v;
	size_t nv, i;
	uint64_t k;
	bool ok = true;

	nv = policy_list(ps, c, kw, "an MQTT packet type", &v);
	if (!nv)
		return false;
	for (i = 0; ok && i < nv; i++) {
		const char *hint;

		for (k = 1; k < 16 && strcmp(v[i]->s, policy_mqtt_types[k]); k++)
			;
		if (k < 16 || (policy_u64(v[i]->s, v[i]->len, 15, &k) && k >= 1)) {
			*types |= 1u << k;
			continue;
		}
		ok = false;
		hint = lex_suggest(v[i]->s, policy_mqtt_types + 1);
		if (hint)
			policy_err(ps, v[i]->loc, "unknown MQTT packet type '%s' (did you mean '%s'?)",
				   v[i]->s, hint);
		else
			policy_err(ps, v[i]->loc, "unknown MQTT packet type '%s' (connect, publish, "
				   "subscribe, ... or 1-15)", v[i]->s);
	}
	free(v);
	return ok;
}

static bool policy_match_proto(struct policy_parser *ps, const struct lex_tok *v, uint8_t *proto)
{
	uint64_t n;
	const char *hint;
	size_t i;

	if (v->s[0] >= '0' && v->s[0] <= '9') {
		if (!policy_u64(v->s, v->len, 255, &n)) {
			policy_err(ps, v->loc, "invalid protocol number '%s' (0-255)", v->s);
			return false;
		}
		*proto = n;
		return true;
	}
	for (i = 0; i < sizeof(policy_protos) / sizeof(policy_protos[0]); i++) {
		if (!strcmp(v->s, policy_protos[i].name)) {
			*proto = policy_protos[i].num;
			return true;
		}
	}
	hint = lex_suggest(v->s, policy_proto_names);
	if (hint)
		policy_err(ps, v->loc, "unknown protocol '%s' (did you mean '%s'?)", v->s, hint);
	else
		policy_err(ps, v->loc, "unknown protocol '%s' (tcp, udp, icmp, icmpv6, sctp or 0-255)", v->s);
	return false;
}

static bool policy_match(struct policy_parser *ps, struct policy_cur *c, struct policy_rule_ctx *x,
			 const struct lex_tok *kw, int idx)
{
	struct pol_rule *r = &x->r;
	uint32_t bit = 1u << idx;
	const struct lex_tok *v;
	uint64_t n;
	int app;

	if (x->verdict) {
		policy_err(ps, kw->loc, "match '%s' after the verdict", kw->s);
		return false;
	}
	if (x->seen & bit) {
		policy_err(ps, kw->loc, "duplicate '%s' in rule '%s' (first at %d:%d)", kw->s, r->name,
			   r->match_loc[idx].line, r->match_loc[idx].col);
		return false;
	}
	x->seen |= bit;
	r->matches |= bit;
	r->match_loc[idx] = kw->loc;

	switch (bit) {
	case POL_M_IN:
		v = policy_value(ps, c, kw, "an interface name");
		return v && policy_ifname(ps, v, r->in_iface);
	case POL_M_SRC:
		v = policy_value(ps, c, kw, "an address, CIDR or @set");
		return v && policy_match_prefix(ps, x, v, bit, &r->src, &r->n_src);
	case POL_M_DST:
		v = policy_value(ps, c, kw, "an address, CIDR or @set");
		return v && policy_match_prefix(ps, x, v, bit, &r->dst, &r->n_dst);
	case POL_M_PROTO:
		v = policy_value(ps, c, kw, "a protocol");
		x->proto_val = v;
		return v && policy_match_proto(ps, v, &r->proto);
	case POL_M_SPORT:
		return policy_match_ports(ps, c, x, kw, bit, &r->sport, &r->n_sport);
	case POL_M_DPORT:
		return policy_match_ports(ps, c, x, kw, bit, &r->dport, &r->n_dport);
	case POL_M_MAC:
		v = policy_value(ps, c, kw, "a MAC address or @set");
		if (!v)
			return false;
		if (v->s[0] == '@')
			return policy_rule_ref(ps, x, v, v->s + 1, bit);
		r->mac = malloc(sizeof(*r->mac));
		if (!r->mac) {
			policy_oom(ps);
			return false;
		}
		r->n_mac = 1;
		return policy_mac(ps, v, r->mac[0]);
	case POL_M_DEVICE:
		v = policy_value(ps, c, kw, "a device name");
		return v && policy_rule_ref(ps, x, v, v->s, bit);
	case POL_M_CLASS:
		v = policy_value(ps, c, kw, "a class name");
		return v && policy_name(ps, v, "class", r->class_name) && policy_rule_ref(ps, x, v, v->s, bit);
	case POL_M_VLAN:
		v = policy_value(ps, c, kw, "a VLAN id");
		if (!v)
			return false;
		if (!policy_u64(v->s, v->len, 4095, &n)) {
			policy_err(ps, v->loc, "invalid VLAN id '%s' (0-4095)", v->s);
			return false;
		}
		r->vlan = n;
		return true;
	case POL_M_APP:
		v = policy_value(ps, c, kw, "an application");
		if (!v)
			return false;
		x->app_val = v;
		app = pol_app_lookup(v->s);
		if (!app) {
			const char *hint = lex_suggest(v->s, pol_app_names + 1);

			if (hint)
				policy_err(ps, v->loc, "unknown application '%s' (did you mean '%s'?)", v->s, hint);
			else
				policy_err(ps, v->loc, "unknown application '%s' (mqtt, mqtts, coap, coaps, "
					   "modbus, bacnet, opcua, dnp3, dns or ntp)", v->s);
			return false;
		}
		r->app = app;
		return true;
	case POL_M_MODBUS_FC:
		x->fc_kw = kw;
		return policy_match_modbus(ps, c, kw, r->modbus_fc);
	case POL_M_MQTT_TYPE:
		x->mqtt_kw = kw;
		return policy_match_mqtt(ps, c, kw, &r->mqtt_types);
	}
	return false;
}

static bool policy_verdict(struct policy_parser *ps, struct policy_cur *c, struct policy_rule_ctx *x,
			   const struct lex_tok *kw)
{
	struct pol_rule *r = &x->r;
	const struct lex_tok *t, *v;
	uint64_t n;

	if (x->verdict) {
		policy_err(ps, kw->loc, "second verdict '%s' in rule '%s' (first at %d:%d)", kw->s, r->name,
			   r->action_loc.line, r->action_loc.col);
		return false;
	}
	x->verdict = true;
	r->action_loc = kw->loc;
	if (lex_is(kw, "allow")) {
		r->action = FRINGE_ACT_ALLOW;
		return true;
	}
	if (lex_is(kw, "drop")) {
		r->action = FRINGE_ACT_DROP;
		return true;
	}
	t = policy_value(ps, c, kw, "a steer target (iface, cpu, node or overlay)");
	if (!t)
		return false;
	if (lex_is(t, "overlay")) {
		r->action = FRINGE_ACT_STEER_OVERLAY;
		return true;
	}
	if (lex_is(t, "iface")) {
		r->action = FRINGE_ACT_STEER_IFACE;
		v = policy_value(ps, c, t, "an interface name");
		return v && policy_ifname(ps, v, r->steer_iface);
	}
	if (lex_is(t, "node")) {
		r->action = FRINGE_ACT_STEER_NODE;
		v = policy_value(ps, c, t, "a node name");
		return v && policy_name(ps, v, "node", r->steer_node);
	}
	if (lex_is(t, "cpu")) {
		r->action = FRINGE_ACT_STEER_CPU;
		v = policy_value(ps, c, t, "a CPU number");
		if (!v)
			return false;
		if (!policy_u64(v->s, v->len, UINT32_MAX - 1, &n)) {
			policy_err(ps, v->loc, "invalid CPU number '%s'", v->s);
			return false;
		}
		r->steer_cpu = n;
		return true;
	}
	{
		const char *hint = lex_suggest(t->s, policy_steer_kws);

		if (hint)
			policy_err(ps, t->loc, "unknown steer target '%s' (did you mean '%s'?)", t->s, hint);
		else
			policy_err(ps, t->loc, "unknown steer target '%s' (expected iface, cpu, node or overlay)",
				   t->s);
	}
	return false;
}

/* N/s, N/min, Nkbit/s, Nmbit/s, Ngbit/s. */
static bool policy_rate(struct policy_parser *ps, const struct lex_tok *v, struct pol_limit *l)
{
	static const struct {
		const char *unit, *per;
		enum pol_rate_unit ru;
		uint64_t mult;
	} units[] = {
		{ "", "s", POL_RATE_PPS, 1 },
		{ "", "min", POL_RATE_PPM, 1 },
		{ "kbit", "s", POL_RATE_BPS, 1000 },
		{ "mbit", "s", POL_RATE_BPS, 1000000 },
		{ "gbit", "s", POL_RATE_BPS, 1000000000 },
	};
	const char *s = v->s, *slash = strchr(s, '/');
	size_t nd = strspn(s, "0123456789"), i;
	uint64_t n;

	if (!slash || !nd || slash < s + nd)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t ulen = strlen(units[i].unit);

		if ((size_t)(slash - s - nd) != ulen || strncasecmp(s + nd, units[i].unit, ulen) ||
		    strcmp(slash + 1, units[i].per))
			continue;
		if (!policy_u64(s, nd, UINT64_MAX / units[i].mult, &n)) {
			policy_err(ps, v->loc, "rate '%s' is too large", s);
			return false;
		}
		if (!n) {
			policy_err(ps, v->loc, "rate '%s' must be above 0", s);
			return false;
		}
		l->on = true;
		l->unit = units[i].ru;
		l->rate = n * units[i].mult;
		return true;
	}
bad:
	policy_err(ps, v->loc, "invalid rate '%s' (expected N/s, N/min, Nkbit/s, Nmbit/s or Ngbit/s)", s);
	return false;
}

/* limit RATE [burst B] [per-src] | sample 1/N */
static bool policy_modifier(struct policy_parser *ps, struct policy_cur *c, struct policy_rule_ctx *x,
			    const struct lex_tok *kw)
{
	struct pol_rule *r = &x->r;
	bool *seen = lex_is(kw, "limit") ? &x->limit : &x->sample;
	const struct lex_tok *v, *t, *burst = NULL, *per_src = NULL;
	uint64_t n;

	if (!x->verdict) {
		policy_err(ps, kw->loc, "modifier '%s' before the verdict", kw->s);
		return false;
	}
	if (*seen) {
		policy_err(ps, kw->loc, "duplicate '%s' in rule '%s'", kw->s, r->name);
		return false;
	}
	*seen = true;
	if (lex_is(kw, "sample")) {
		v = policy_value(ps, c, kw, "a rate 1/N");
		if (!v)
			return false;
		if (strncmp(v->s, "1/", 2) || !policy_u64(v->s + 2, v->len - 2, UINT32_MAX, &n) || !n) {
			policy_err(ps, v->loc, "invalid sample rate '%s' (expected 1/N, N from 1)", v->s);
			return false;
		}
		r->sample_rate = n;
		return true;
	}
	v = policy_value(ps, c, kw, "a rate");
	if (!v || !policy_rate(ps, v, &r->limit))
		return false;
	while ((t = policy_peek(c)) && (lex_is(t, "burst") || lex_is(t, "per-src"))) {
		const struct lex_tok **first = lex_is(t, "burst") ? &burst : &per_src;

		c->i++;
		if (*first) {
			policy_err(ps, t->loc, "duplicate '%s' in rule '%s'", t->s, r->name);
			return false;
		}
		*first = t;
		if (first == &per_src) {
			r->limit.per_src = true;
			continue;
		}
		v = policy_value(ps, c, t, "a burst size");
		if (!v)
			return false;
		if (!policy_u64(v->s, v->len, UINT64_MAX, &n) || !n) {
			policy_err(ps, v->loc, "invalid burst '%s' (a number above 0)", v->s);
			return false;
		}
		r->limit.burst = n;
	}
	return true;
}

static bool policy_loc_before(struct pol_loc a, struct pol_loc b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Checks that need the whole rule. */
static bool policy_rule_check(struct policy_parser *ps, struct policy_rule_ctx *x)
{
	struct pol_rule *r = &x->r;
	int app_idx = __builtin_ctz(POL_M_APP);

	if (!x->verdict) {
		policy_err(ps, x->name->loc, "rule '%s' has no verdict (allow, drop or steer)", r->name);
		return false;
	}
	if (x->port_kw && (x->seen & POL_M_PROTO) && r->proto != 6 && r->proto != 17 && r->proto != 132) {
		policy_err(ps, x->port_kw->loc, "'%s' needs proto tcp, udp or sctp, not '%s'", x->port_kw->s,
			   x->proto_val->s);
		return false;
	}
	if (x->fc_kw && x->mqtt_kw) {
		const struct lex_tok *later = policy_loc_before(x->fc_kw->loc, x->mqtt_kw->loc) ?
					      x->mqtt_kw : x->fc_kw;

		policy_err(ps, later->loc, "'modbus-fc' and 'mqtt-type' cannot both match (different applications)");
		return false;
	}
	/* modbus-fc / mqtt-type imply their application */
	if (x->fc_kw || x->mqtt_kw) {
		const struct lex_tok *kw = x->fc_kw ? x->fc_kw : x->mqtt_kw;
		int want = x->fc_kw ? FRINGE_APP_MODBUS : FRINGE_APP_MQTT;

		if ((x->seen & POL_M_APP) && r->app != want) {
			policy_err(ps, kw->loc, "'%s' needs app %s, not '%s'", kw->s, pol_app_names[want],
				   x->app_val->s);
			return false;
		}
		if (!(x->seen & POL_M_APP))
			r->match_loc[app_idx] = kw->loc;
		r->matches |= POL_M_APP;
		r->app = want;
	}
	return true;
}

/* rule NAME MATCH... VERDICT [MODIFIER]... */
static void policy_stmt_rule(struct policy_parser *ps, struct policy_cur *c, const struct lex_tok *kw)
{
	struct policy_rule_ctx x;
	const struct lex_tok *t;
	bool over;
	size_t i;
	int m;

	memset(&x, 0, sizeof(x));
	x.r.device = x.r.src_set = x.r.dst_set = x.r.sport_set = x.r.dport_set = x.r.mac_set = -1;
	over = ++ps->rules_seen > FRINGE_MAX_RULES;
	if (ps->rules_seen == FRINGE_MAX_RULES + 1)
		policy_err(ps, kw->loc, "too many rules (more than %d)", FRINGE_MAX_RULES);

	x.name = policy_value(ps, c, kw, "a rule name");
	if (!x.name || !policy_name(ps, x.name, "rule", x.r.name) ||
	    !policy_declare(ps, &ps->rules, x.name, "rule"))
		return;
	x.r.loc = x.name->loc;

	while ((t = policy_next(c))) {
		if (t->kind != LEX_WORD) {
			policy_err(ps, t->loc, "unexpected '%s' in rule '%s'", t->s, x.r.name);
			goto fail;
		}
		for (m = 0; policy_match_kws[m] && strcmp(t->s, policy_match_kws[m]); m++)
			;
		if (policy_match_kws[m]) {
			if (!policy_match(ps, c, &x, t, m))
				goto fail;
		} else if (lex_is(t, "allow") || lex_is(t, "drop") || lex_is(t, "steer")) {
			if (!policy_verdict(ps, c, &x, t))
				goto fail;
		} else if (lex_is(t, "limit") || lex_is(t, "sample")) {
			if (!policy_modifier(ps, c, &x, t))
				goto fail;
		} else if (lex_is(t, "burst") || lex_is(t, "per-src")) {
			policy_err(ps, t->loc, "'%s' must follow 'limit RATE'", t->s);
			goto fail;
		} else {
			const char *hint = lex_suggest(t->s, policy_rule_kws);

			if (hint)
				policy_err(ps, t->loc, "unknown keyword '%s' in rule '%s' (did you mean '%s'?)",
					   t->s, x.r.name, hint);
			else
				policy_err(ps, t->loc, "unknown keyword '%s' in rule '%s' (expected a match, "
					   "allow, drop or steer)", t->s, x.r.name);
			goto fail;
		}
	}
	if (!policy_rule_check(ps, &x) || over)
		goto fail;
	if (!POLICY_GROW(ps, ps->p->rules, ps->p->n_rules, &ps->cap_rules))
		goto fail;
	for (i = 0; i < x.n_refs; i++) {
		if (!POLICY_GROW(ps, ps->refs, ps->n_refs, &ps->cap_refs))
			goto fail;
		x.refs[i].rule = ps->p->n_rules;
		ps->refs[ps->n_refs++] = x.refs[i];
	}
	ps->p->rules[ps->p->n_rules++] = x.r;
	return;
fail:
	policy_rule_free(&x.r);
}

static void policy_stmt(struct policy_parser *ps, const struct lex_stmt *st)
{
	struct policy_cur c = { .st = st };
	const struct lex_tok *kw = policy_next(&c);
	const char *hint;

	if (!kw)		/* the lexer never returns empty statements */
		return;
	if (kw->kind != LEX_WORD)
		policy_err(ps, kw->loc, "unexpected '%s' at the start of a statement", kw->s);
	else if (lex_is(kw, "set"))
		policy_stmt_set(ps, &c, kw);
	else if (lex_is(kw, "device"))
		policy_stmt_device(ps, &c, kw);
	else if (lex_is(kw, "rule"))
		policy_stmt_rule(ps, &c, kw);
	else if (lex_is(kw, "default"))
		policy_stmt_default(ps, &c, kw);
	else if ((hint = lex_suggest(kw->s, policy_stmt_kws)))
		policy_err(ps, kw->loc, "unknown statement '%s' (did you mean '%s'?)", kw->s, hint);
	else
		policy_err(ps, kw->loc, "unknown statement '%s' (expected set, device, rule or default)", kw->s);
}

/* Bind the sets, devices and classes rules name, now that all are declared. */
static void policy_resolve(struct policy_parser *ps)
{
	struct policy *p = ps->p;
	size_t i;

	for (i = 0; i < ps->n_refs; i++) {
		const struct policy_ref *ref = &ps->refs[i];
		struct pol_rule *r = &p->rules[ref->rule];
		const char *kw = policy_match_kws[__builtin_ctz(ref->bit)];
		size_t n = strlen(ref->name);
		const struct policy_ent *e;
		const struct pol_set *s;
		enum pol_set_kind want;

		if (ref->bit == POL_M_CLASS) {
			if (!policy_tab_find(&ps->classes, ref->name, n))
				policy_err(ps, ref->loc, "no device has class '%s'", ref->name);
			continue;
		}
		if (ref->bit == POL_M_DEVICE) {
			e = policy_tab_find(&ps->devices, ref->name, n);
			if (!e)
				policy_err(ps, ref->loc, "unknown device '%s'", ref->name);
			else
				r->device = e->idx;	/* -1 when its declaration failed, already reported */
			continue;
		}
		e = policy_tab_find(&ps->sets, ref->name, n);
		if (!e) {
			policy_err(ps, ref->loc, "unknown set '@%s'", ref->name);
			continue;
		}
		if (e->idx < 0)
			continue;
		s = &p->sets[e->idx];
		want = ref->bit == POL_M_MAC ? POL_SET_MAC :
		       (ref->bit & (POL_M_SPORT | POL_M_DPORT)) ? POL_SET_PORT : POL_SET_PREFIX;
		if (s->kind != want) {
			policy_err(ps, ref->loc, "set '@%s' holds %s; '%s' needs %s", ref->name,
				   policy_kind_str(s->kind), kw, policy_kind_str(want));
			continue;
		}
		switch (ref->bit) {
		case POL_M_SRC:
			r->src = s->pfx, r->n_src = s->n_pfx, r->src_set = e->idx;
			break;
		case POL_M_DST:
			r->dst = s->pfx, r->n_dst = s->n_pfx, r->dst_set = e->idx;
			break;
		case POL_M_SPORT:
			r->sport = s->ports, r->n_sport = s->n_ports, r->sport_set = e->idx;
			break;
		case POL_M_DPORT:
			r->dport = s->ports, r->n_dport = s->n_ports, r->dport_set = e->idx;
			break;
		case POL_M_MAC:
			r->mac = s->macs, r->n_mac = s->n_macs, r->mac_set = e->idx;
			break;
		}
	}
}

void policy_free(struct policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_rules; i++)
		policy_rule_free(&p->rules[i]);
	for (i = 0; i < p->n_sets; i++)
		policy_set_free(&p->sets[i]);
	for (i = 0; i < p->n_devices; i++)
		free(p->devices[i].ips);
	free(p->rules);
	free(p->sets);
	free(p->devices);
	memset(p, 0, sizeof(*p));
	p->default_action = FRINGE_ACT_ALLOW;
}

int policy_parse(const char *text, size_t len, struct diags *d, struct policy *out)
{
	struct policy_parser ps = { .d = d, .p = out };
	struct lex_file lf;
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	out->default_action = FRINGE_ACT_ALLOW;
	err = lex_statements(text, len, d, &lf);
	if (err == -ENOMEM) {
		policy_oom(&ps);
		return -ENOMEM;
	}
	if (err == -E2BIG)	/* refused whole, the reason reported */
		return -EINVAL;
	if (err)
		ps.errors++;
	for (i = 0; i < lf.n && !ps.oom; i++)
		policy_stmt(&ps, &lf.stmt[i]);
	if (!ps.oom)
		policy_resolve(&ps);

	lex_free(&lf);
	policy_tab_free(&ps.sets);
	policy_tab_free(&ps.devices);
	policy_tab_free(&ps.rules);
	policy_tab_free(&ps.classes);
	policy_tab_free(&ps.dev_macs);
	policy_tab_free(&ps.dev_ips);
	free(ps.refs);
	err = ps.oom ? -ENOMEM : ps.errors ? -EINVAL : 0;
	if (err)
		policy_free(out);
	return err;
}

int policy_parse_file(const char *path, struct diags *d, struct policy *out)
{
	size_t n;
	char *buf;
	int err;

	memset(out, 0, sizeof(*out));
	out->default_action = FRINGE_ACT_ALLOW;
	err = diags_read_file(d, path, POLICY_MAX_FILE, &buf, &n);
	if (err)
		return err;
	err = policy_parse(buf, n, d, out);
	free(buf);
	return err;
}
