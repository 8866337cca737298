// SPDX-License-Identifier: GPL-2.0
/* Policy compiler: one rule bitmap per distinct value of each dimension, deduplicated. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

/* ---- bitmap pool ---------------------------------------------------------
 * Bitmaps are hashed by XOR of one random key per set bit (Zobrist hashing),
 * so adding or removing a rule updates the hash in O(1) while sweeping. */

struct work {
	struct fringe_bitmap b;
	uint64_t h;
};

struct pool {
	struct fringe_bitmap *v;
	uint64_t *vh;
	uint32_t n, cap;
	uint32_t *table;	/* open addressing: bitmap index + 1, 0 empty */
	uint32_t tmask;
	uint64_t z[FRINGE_MAX_RULES];
	bool full;
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int pool_init(struct pool *P)
{
	uint64_t seed = 0x66726e67;

	memset(P, 0, sizeof(*P));
	for (int i = 0; i < FRINGE_MAX_RULES; i++)
		P->z[i] = splitmix64(&seed);
	P->tmask = 2 * FRINGE_MAX_BITMAPS - 1;
	P->table = calloc(P->tmask + 1, sizeof(*P->table));
	P->cap = 256;
	P->v = malloc(P->cap * sizeof(*P->v));
	P->vh = malloc(P->cap * sizeof(*P->vh));
	return P->table && P->v && P->vh ? 0 : -ENOMEM;
}

static void pool_free(struct pool *P)
{
	free(P->table);
	free(P->v);
	free(P->vh);
}

static void work_set(struct pool *P, struct work *w, uint32_t r)
{
	uint64_t bit = 1ULL << (r % 64);

	if (!(w->b.word[r / 64] & bit)) {
		w->b.word[r / 64] |= bit;
		w->h ^= P->z[r];
	}
}

static void work_clear(struct pool *P, struct work *w, uint32_t r)
{
	uint64_t bit = 1ULL << (r % 64);

	if (w->b.word[r / 64] & bit) {
		w->b.word[r / 64] &= ~bit;
		w->h ^= P->z[r];
	}
}

static bool work_empty(const struct work *w)
{
	for (int i = 0; i < FRINGE_BITMAP_WORDS; i++)
		if (w->b.word[i])
			return false;
	return true;
}

/* The index of an equal bitmap, added if new; UINT32_MAX when the pool is full. */
static uint32_t pool_intern(struct pool *P, const struct work *w)
{
	uint32_t i = (uint32_t)(w->h ^ (w->h >> 32)) & P->tmask;

	for (;; i = (i + 1) & P->tmask) {
		uint32_t e = P->table[i];

		if (!e)
			break;
		if (P->vh[e - 1] == w->h &&
		    !memcmp(P->v[e - 1].word, w->b.word, sizeof(w->b.word)))
			return e - 1;
	}
	if (P->n >= FRINGE_MAX_BITMAPS) {
		P->full = true;
		return UINT32_MAX;
	}
	if (P->n == P->cap) {
		uint32_t cap = P->cap * 2;
		struct fringe_bitmap *v = realloc(P->v, cap * sizeof(*v));
		uint64_t *vh = v ? realloc(P->vh, cap * sizeof(*vh)) : NULL;

		if (v)
			P->v = v;
		if (!vh) {
			P->full = true;
			return UINT32_MAX;
		}
		P->vh = vh;
		P->cap = cap;
	}
	P->v[P->n] = w->b;
	P->v[P->n].summary = 0;
	for (int k = 0; k < FRINGE_BITMAP_WORDS; k++)
		if (w->b.word[k])
			P->v[P->n].summary |= 1ULL << k;
	P->vh[P->n] = w->h;
	P->table[i] = P->n + 1;
	return P->n++;
}

/* ---- growable arrays ------------------------------------------------------ */

#define PUSH(arr, n, cap, val)                                                  \
	({                                                                      \
		int ok_ = 1;                                                    \
		if ((n) == (cap)) {                                             \
			size_t nc_ = (cap) ? 2 * (cap) : 64;                    \
			void *p_ = realloc((arr), nc_ * sizeof(*(arr)));        \
			if (!p_)                                                \
				ok_ = 0;                                        \
			else {                                                  \
				(arr) = p_;                                     \
				(cap) = nc_;                                    \
			}                                                       \
		}                                                               \
		if (ok_)                                                        \
			(arr)[(n)++] = (val);                                   \
		ok_;                                                            \
	})

struct compiler {
	const struct policy *p;
	const struct compile_env *env;
	struct diags *d;
	struct compiled *c;
	struct pool P;
	size_t cap_lpm6, cap_hash, cap_dns_names;
	void *stack;		/* compile_family's ancestor stack, 129 levels */
	size_t cap_v4;
	int err;
};

/* Rules that do not constrain a dimension: they match any value of it. */
static void wildcard(struct compiler *C, uint32_t match_bits, struct work *w)
{
	memset(w, 0, sizeof(*w));
	for (uint32_t r = 0; r < C->p->n_rules; r++)
		if (!(C->p->rules[r].matches & match_bits))
			work_set(&C->P, w, r);
}

static uint32_t intern(struct compiler *C, const struct work *w)
{
	uint32_t id = pool_intern(&C->P, w);

	if (id == UINT32_MAX && !C->err)
		C->err = -E2BIG;
	return id == UINT32_MAX ? 0 : id;
}

/* ---- keyed dimensions: proto, vlan, device, mac, in ----------------------- */

struct kv {
	uint8_t key[16];
	uint32_t rule;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

typedef void (*emit_fn)(struct compiler *C, const uint8_t *key, uint32_t bitmap);

/* For each distinct key: bitmap = wildcard rules + rules naming that key. */
static void build_keyed(struct compiler *C, const struct work *W, struct kv *kv, size_t n,
			emit_fn emit)
{
	struct work w;

	qsort(kv, n, sizeof(*kv), kv_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		w = *W;
		while (j < n && !memcmp(kv[j].key, kv[i].key, sizeof(kv[i].key)))
			work_set(&C->P, &w, kv[j++].rule);
		emit(C, kv[i].key, intern(C, &w));
		i = j;
	}
}

static void emit_proto(struct compiler *C, const uint8_t *k, uint32_t b)
{
	C->c->dimtab[FRINGE_TAB_PROTO + k[0]] = b;
}

static void emit_vlan(struct compiler *C, const uint8_t *k, uint32_t b)
{
	C->c->dimtab[FRINGE_TAB_VLAN + (k[0] << 8 | k[1])] = b;
}

static void emit_device(struct compiler *C, const uint8_t *k, uint32_t b)
{
	C->c->dimtab[FRINGE_TAB_DEVICE + (k[0] << 8 | k[1])] = b;
}

static void emit_app(struct compiler *C, const uint8_t *k, uint32_t b)
{
	C->c->dimtab[FRINGE_TAB_APP + k[0]] = b;
}

static void emit_appx(struct compiler *C, const uint8_t *k, uint32_t b)
{
	C->c->dimtab[FRINGE_TAB_APPX + (k[0] << 8 | k[1])] = b;
}

static void emit_hash(struct compiler *C, uint8_t kind, const uint8_t *data, size_t len,
		      uint32_t v)
{
	struct hash_entry e = { .key.kind = kind, .value = v };

	memcpy(e.key.data, data, len);
	if (!PUSH(C->c->hash, C->c->n_hash, C->cap_hash, e))
		C->err = -ENOMEM;
}

static void emit_mac(struct compiler *C, const uint8_t *k, uint32_t b)
{
	emit_hash(C, FRINGE_HK_MAC, k, 6, b);
}

static void emit_in(struct compiler *C, const uint8_t *k, uint32_t b)
{
	emit_hash(C, FRINGE_HK_IN, k, 4, b);
}

static void fill_tab(struct compiler *C, uint32_t off, uint32_t n, uint32_t v)
{
	for (uint32_t i = 0; i < n; i++)
		C->c->dimtab[off + i] = v;
}

/* Compile one keyed dimension from (key, rule) pairs. */
static void compile_keyed(struct compiler *C, int dim, uint32_t match_bits, struct kv *kv,
			  size_t n, uint32_t tab_off, uint32_t tab_n, emit_fn emit)
{
	struct work W;
	uint32_t wid;

	if (!n)
		return;
	C->c->dims_used |= 1U << dim;
	wildcard(C, match_bits, &W);
	wid = intern(C, &W);
	C->c->miss_bitmap[dim] = wid;
	if (tab_n)
		fill_tab(C, tab_off, tab_n, wid);
	build_keyed(C, &W, kv, n, emit);
}

/* ---- ports: sweep over 0..65535 ------------------------------------------ */

struct port_event {
	uint32_t port;
	uint32_t rule;
	int add;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct port_event *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->add - y->add;	/* removals first: ranges of a rule are disjoint */
}

static void compile_ports(struct compiler *C, int dim, uint32_t bit, uint32_t tab_off, bool src)
{
	struct port_event *ev = NULL;
	size_t n = 0, cap = 0;
	struct work W, cur;
	uint32_t pos = 0;

	for (uint32_t r = 0; r < C->p->n_rules; r++) {
		const struct pol_rule *R = &C->p->rules[r];
		const struct pol_range *rg = src ? R->sport : R->dport;
		size_t nr = src ? R->n_sport : R->n_dport;

		if (!(R->matches & bit))
			continue;
		for (size_t i = 0; i < nr; i++) {
			struct port_event a = { rg[i].lo, r, 1 }, b = { rg[i].hi + 1, r, 0 };

			if (!PUSH(ev, n, cap, a) || (b.port <= 65535 && !PUSH(ev, n, cap, b))) {
				C->err = -ENOMEM;
				free(ev);
				return;
			}
		}
	}
	if (!n)
		return;
	C->c->dims_used |= 1U << dim;
	qsort(ev, n, sizeof(*ev), ev_cmp);
	wildcard(C, bit, &W);
	C->c->dimtab[tab_off + FRINGE_NO_PORT] = intern(C, &W);
	cur = W;
	for (size_t i = 0; i <= n; i++) {
		uint32_t next = i < n ? ev[i].port : 65536;

		if (next > pos) {
			fill_tab(C, tab_off + pos, next - pos, intern(C, &cur));
			pos = next;
		}
		if (i < n) {
			if (ev[i].add)
				work_set(&C->P, &cur, ev[i].rule);
			else
				work_clear(&C->P, &cur, ev[i].rule);
		}
	}
	free(ev);
}

/* ---- protocol and destination port in one table ----------------------------- */

/* The intersection of two pooled bitmaps, pooled (bitmap 0 is every rule). */
static uint32_t and_intern(struct compiler *C, uint32_t a, uint32_t b)
{
	struct work w;

	if (a == 0 || a == b)
		return b;
	if (b == 0)
		return a;
	memset(&w, 0, sizeof(w));
	for (int i = 0; i < FRINGE_BITMAP_WORDS; i++) {
		uint64_t x = C->P.v[a].word[i] & C->P.v[b].word[i];

		w.b.word[i] = x;
		for (; x; x &= x - 1)
			w.h ^= C->P.z[i * 64 + __builtin_ctzll(x)];
	}
	return intern(C, &w);
}

/* Fill FRINGE_TAB_L4 from the PROTO and DPORT tables: a packet then needs one
 * read where it needed two.  Ports come in runs of equal bitmaps, so each
 * run is intersected once. */
static void compile_l4(struct compiler *C)
{
	static const uint8_t with_ports[3] = { IPPROTO_TCP, IPPROTO_UDP, 132 };
	uint32_t *tab = C->c->dimtab, used = C->c->dims_used;
	bool proto = used & (1U << FRINGE_DIM_PROTO), dport = used & (1U << FRINGE_DIM_DPORT);

	if (!proto && !dport)
		return;
	C->c->dims_used = (used | 1U << FRINGE_DIM_PROTO) & ~(1U << FRINGE_DIM_DPORT);
	for (int c = 0; c < 3; c++) {
		uint32_t pid = proto ? tab[FRINGE_TAB_PROTO + with_ports[c]] : 0;
		uint32_t last = UINT32_MAX, res = 0;

		for (uint32_t port = 0; port < 65536; port++) {
			uint32_t did = dport ? tab[FRINGE_TAB_DPORT + port] : 0;

			if (did != last) {
				res = and_intern(C, pid, did);
				last = did;
			}
			tab[FRINGE_TAB_L4 + c * 65536 + port] = res;
		}
	}
	for (uint32_t v = 0; v < 256; v++)
		tab[FRINGE_TAB_L4 + FRINGE_L4_NOPORT + v] =
			and_intern(C, proto ? tab[FRINGE_TAB_PROTO + v] : 0,
				   dport ? tab[FRINGE_TAB_DPORT + FRINGE_NO_PORT] : 0);
}

/* ---- addresses: nested prefixes inherit the rules of their ancestors ------ */

struct pfx_rule {
	struct pol_prefix p;
	uint32_t rule;
};

static int pfx_cmp(const void *a, const void *b)
{
	const struct pfx_rule *x = a, *y = b;
	int c;

	if (x->p.family != y->p.family)
		return x->p.family - y->p.family;
	c = memcmp(x->p.addr, y->p.addr, 16);
	if (c)
		return c;
	if (x->p.len != y->p.len)
		return x->p.len - y->p.len;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static bool pfx_contains(const struct pol_prefix *a, const struct pol_prefix *b)
{
	int full = a->len / 8, rem = a->len % 8;

	if (a->family != b->family || a->len > b->len)
		return false;
	if (memcmp(a->addr, b->addr, full))
		return false;
	return !rem || !((a->addr[full] ^ b->addr[full]) & (0xff << (8 - rem)));
}

/* The octet-trie block below entry `octet` of block `blk`, made on first use;
 * a new block starts as 256 copies of the entry it replaces. */
static uint32_t v4_child(struct compiler *C, uint32_t blk, uint8_t octet)
{
	struct compiled *c = C->c;
	uint32_t e = c->v4blocks[blk].next[octet];
	struct fringe_v4_block nb;

	if (!(e & FRINGE_V4_LEAF))
		return e;
	if (c->n_v4blocks >= FRINGE_V4_BLOCKS) {
		if (!C->err)
			diags_add(C->d, (struct pol_loc){ 1, 1 },
				  "IPv4 prefixes need more than %d trie blocks; use fewer distinct /16s",
				  FRINGE_V4_BLOCKS);
		C->err = -E2BIG;
		return blk;
	}
	for (int i = 0; i < 256; i++)
		nb.next[i] = e;
	if (!PUSH(c->v4blocks, c->n_v4blocks, C->cap_v4, nb)) {
		C->err = -ENOMEM;
		return blk;
	}
	c->v4blocks[blk].next[octet] = c->n_v4blocks - 1;
	return c->n_v4blocks - 1;
}

/* Paint an IPv4 prefix's bitmap over its range of the octet trie.  Prefixes
 * come in sorted order, parents first, so a child always paints over its
 * parent's value and never over another prefix's block. */
static void v4_paint(struct compiler *C, uint8_t field, const struct pol_prefix *p, uint32_t b)
{
	uint32_t root = field == FRINGE_DIM_SRC ? 0 : 256, blk, span, lo;
	int depth;

	/* The first octet picks a root block: short prefixes fill whole blocks. */
	if (p->len <= 8) {
		span = 1u << (8 - p->len);
		lo = p->addr[0] & ~(span - 1) & 0xff;
		for (uint32_t r = lo; r < lo + span; r++)
			for (int a = 0; a < 256; a++)
				C->c->v4blocks[root + r].next[a] = FRINGE_V4_LEAF | b;
		return;
	}
	depth = (p->len - 1) / 8;
	blk = root + p->addr[0];
	for (int k = 1; k < depth && !C->err; k++)
		blk = v4_child(C, blk, p->addr[k]);
	if (C->err)
		return;
	span = 1u << (8 * (depth + 1) - p->len);
	lo = p->addr[depth] & ~(span - 1) & 0xff;
	for (uint32_t a = lo; a < lo + span; a++)
		C->c->v4blocks[blk].next[a] = FRINGE_V4_LEAF | b;
}

/* Emit an address prefix with its bitmap; returns the IPv6 trie entry's index, or -1. */
static long emit_addr(struct compiler *C, uint8_t field, const struct pol_prefix *p, uint32_t b)
{
	struct lpm6_entry e = { .key = { .prefixlen = 8 + p->len, .field = field }, .bitmap = b };

	if (p->family == 4) {
		v4_paint(C, field, p, b);
		return -1;
	}
	if (p->len == 128) {
		emit_hash(C, field == FRINGE_DIM_SRC ? FRINGE_HK_SRC6 : FRINGE_HK_DST6, p->addr, 16, b);
		return -1;
	}
	memcpy(e.key.addr, p->addr, 16);
	if (!PUSH(C->c->lpm6, C->c->n_lpm6, C->cap_lpm6, e)) {
		C->err = -ENOMEM;
		return -1;
	}
	return C->c->n_lpm6 - 1;
}

static void flag_hosts6(struct compiler *C, long idx)
{
	if (idx >= 0)
		C->c->lpm6[idx].bitmap |= FRINGE_LPM_HOSTS;
}

#define NO_OWN_RULE UINT32_MAX	/* a synthetic cover prefix */

struct addr_frame {
	struct pol_prefix p;
	struct work w;
	long idx;		/* trie entry, -1 when none */
};

/* Prefixes nest: each one's bitmap is its ancestors' plus its own rules.
 * v is sorted by address then length, so ancestors come first. */
static void compile_family(struct compiler *C, uint8_t field, const struct work *W,
			   struct pfx_rule *v, size_t n, uint8_t family)
{
	struct addr_frame *stack = C->stack;
	uint8_t full = family == 4 ? 32 : 128;
	int top = 0;
	size_t i = 0;

	/* The root, 0/0: the wildcard rules plus rules that name 0/0 itself. */
	memset(&stack[0].p, 0, sizeof(stack[0].p));
	stack[0].p.family = family;
	stack[0].w = *W;
	stack[0].idx = -1;
	while (i < n && v[i].p.len == 0)
		if (v[i++].rule != NO_OWN_RULE)
			work_set(&C->P, &stack[0].w, v[i - 1].rule);
	/* IPv4 paints the root even when empty: every octet-trie entry is defined. */
	if (family == 4 || !work_empty(&stack[0].w))
		stack[0].idx = emit_addr(C, field, &stack[0].p, intern(C, &stack[0].w));

	while (i < n) {
		size_t j = i;

		while (top > 0 && !pfx_contains(&stack[top].p, &v[i].p))
			top--;
		if (family == 6 && v[i].p.len == full)
			flag_hosts6(C, stack[top].idx);
		stack[top + 1].w = stack[top].w;
		top++;
		stack[top].p = v[i].p;
		while (j < n && v[j].p.len == v[i].p.len && !memcmp(v[j].p.addr, v[i].p.addr, 16)) {
			if (v[j].rule != NO_OWN_RULE)
				work_set(&C->P, &stack[top].w, v[j].rule);
			j++;
		}
		stack[top].idx = emit_addr(C, field, &stack[top].p, intern(C, &stack[top].w));
		i = j;
	}
}

/* A synthetic /64 above each IPv6 host, so the trie says when to probe the hash. */
static struct pol_prefix host_cover(const struct pol_prefix *h)
{
	struct pol_prefix c = *h;
	int len = FRINGE_HOST_COVER6;

	c.len = len;
	memset(c.addr + len / 8, 0, 16 - len / 8);
	return c;
}

static void compile_addr(struct compiler *C, int dim, uint32_t bit, bool src)
{
	struct pfx_rule *v = NULL;
	size_t n = 0, cap = 0, n4;
	bool used = false;
	struct work W;

	for (uint32_t r = 0; r < C->p->n_rules; r++) {
		const struct pol_rule *R = &C->p->rules[r];
		const struct pol_prefix *px = src ? R->src : R->dst;
		size_t np = src ? R->n_src : R->n_dst;

		if (!(R->matches & bit))
			continue;
		/* A set of DNS names alone has no address yet: its rules match none
		 * (the dimension is in use all the same, or they would match all). */
		used = true;
		for (size_t i = 0; i < np; i++) {
			struct pfx_rule e = { px[i], r };
			bool host = px[i].family == 6 && px[i].len == 128;
			struct pfx_rule cover = { host_cover(&px[i]), NO_OWN_RULE };

			if (!PUSH(v, n, cap, e) || (host && !PUSH(v, n, cap, cover))) {
				C->err = -ENOMEM;
				free(v);
				return;
			}
		}
	}
	if (!used)
		return;
	C->c->dims_used |= 1U << dim;
	if (n)
		qsort(v, n, sizeof(*v), pfx_cmp);
	wildcard(C, bit, &W);
	for (n4 = 0; n4 < n && v[n4].p.family == 4; n4++)
		;
	compile_family(C, dim, &W, v, n4, 4);
	/* v is NULL when the only sets are of DNS names: no offset on it */
	compile_family(C, dim, &W, n ? v + n4 : v, n - n4, 6);
	free(v);
}

/* ---- actions ---------------------------------------------------------------- */

static int compile_limit(const struct pol_limit *l, struct fringe_rule_action *a)
{
	unsigned __int128 burst;

	a->flags |= FRINGE_RF_LIMIT | (l->per_src ? FRINGE_RF_PER_SRC : 0);
	switch (l->unit) {
	case POL_RATE_PPS:
		a->rate = l->rate * 60;
		a->cost = FRINGE_UNITS_PER_PACKET;
		burst = (unsigned __int128)(l->burst ? l->burst : l->rate) * FRINGE_UNITS_PER_PACKET;
		break;
	case POL_RATE_PPM:
		a->rate = l->rate;
		a->cost = FRINGE_UNITS_PER_PACKET;
		burst = (unsigned __int128)(l->burst ? l->burst : (l->rate + 59) / 60) *
			FRINGE_UNITS_PER_PACKET;
		break;
	default:
		a->flags |= FRINGE_RF_BYTES;
		a->rate = l->rate / 1000;
		a->cost = FRINGE_UNITS_PER_BYTE;
		burst = (unsigned __int128)(l->burst ? l->burst : l->rate / 8) * FRINGE_UNITS_PER_BYTE;
		break;
	}
	if (!a->rate || l->rate > UINT64_MAX / 60 || burst > (uint64_t)INT64_MAX)
		return -ERANGE;
	a->burst = (uint64_t)burst;
	a->fill_ns = a->burst / a->rate + 1;
	return 0;
}

static void compile_actions(struct compiler *C)
{
	const struct compile_env *env = C->env;
	size_t cap = 0;

	for (uint32_t r = 0; r < C->p->n_rules; r++) {
		const struct pol_rule *R = &C->p->rules[r];
		struct fringe_rule_action *a = &C->c->actions[r];

		memcpy(C->c->names[r], R->name, FRINGE_NAME_LEN);
		a->action = R->action;
		switch (R->action) {
		case FRINGE_ACT_STEER_IFACE:
			if (env->resolve_ifname) {
				a->target = env->resolve_ifname(R->steer_iface);
				if (!a->target) {
					diags_add(C->d, R->action_loc, "no such interface '%s'",
						  R->steer_iface);
					break;
				}
				if (!PUSH(C->c->steer_ifindex, C->c->n_steer_ifindex, cap, a->target))
					C->err = -ENOMEM;
			}
			break;
		case FRINGE_ACT_STEER_CPU:
			a->target = R->steer_cpu;
			if (env->ncpus && R->steer_cpu >= env->ncpus)
				diags_add(C->d, R->action_loc, "no cpu %u (this machine has %u)",
					  R->steer_cpu, env->ncpus);
			C->c->uses_cpumap = true;
			break;
		case FRINGE_ACT_STEER_NODE: {
			int r = env->resolve_node ? env->resolve_node(env->node_ctx, R->steer_node,
								      &a->target) : 0;

			if (r == -ENODATA)
				diags_add(C->d, R->action_loc,
					  "'steer node %s': no nodes file is loaded (fringe nodes load FILE)",
					  R->steer_node);
			else if (r)
				diags_add(C->d, R->action_loc, "no node '%s' in the nodes file in force",
					  R->steer_node);
			break;
		}
		case FRINGE_ACT_STEER_OVERLAY:
			a->target = FRINGE_OV_ANY;	/* whichever node owns the destination */
			break;
		}
		if (R->limit.on && compile_limit(&R->limit, a) < 0)
			diags_add(C->d, R->loc, "limit of rule '%s' is out of range", R->name);
		if (R->sample_rate) {
			a->flags |= FRINGE_RF_SAMPLE;
			a->sample_rate = R->sample_rate;
		}
	}
}

/* ---- the compiler ------------------------------------------------------------ */

static int push_kv(struct kv **v, size_t *n, size_t *cap, const void *key, size_t len, uint32_t r)
{
	struct kv e = { .rule = r };

	memcpy(e.key, key, len);
	return PUSH(*v, *n, *cap, e) ? 0 : -ENOMEM;
}

static void compile_keyed_dims(struct compiler *C)
{
	const struct policy *p = C->p;
	struct kv *v = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	/* proto */
	for (uint32_t r = 0; r < p->n_rules; r++)
		if (p->rules[r].matches & POL_M_PROTO)
			err |= push_kv(&v, &n, &cap, &p->rules[r].proto, 1, r);
	compile_keyed(C, FRINGE_DIM_PROTO, POL_M_PROTO, v, n, FRINGE_TAB_PROTO, 256, emit_proto);

	/* vlan, untagged frames match the wildcard rules only */
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++)
		if (p->rules[r].matches & POL_M_VLAN) {
			uint8_t k[2] = { p->rules[r].vlan >> 8, p->rules[r].vlan & 0xff };

			err |= push_kv(&v, &n, &cap, k, 2, r);
		}
	compile_keyed(C, FRINGE_DIM_VLAN, POL_M_VLAN, v, n, FRINGE_TAB_VLAN, FRINGE_NO_VLAN + 1,
		      emit_vlan);

	/* device and class share one dimension: the identified source device */
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++) {
		const struct pol_rule *R = &p->rules[r];

		for (size_t i = 0; i < p->n_devices; i++) {
			const struct pol_device *D = &p->devices[i];
			bool hit = ((R->matches & POL_M_DEVICE) && R->device == (int)i) ||
				   ((R->matches & POL_M_CLASS) && D->class_name[0] &&
				    !strcmp(D->class_name, R->class_name));

			if (hit) {
				uint8_t k[2] = { i >> 8, i & 0xff };

				err |= push_kv(&v, &n, &cap, k, 2, r);
			}
		}
	}
	for (uint32_t r = 0; r < p->n_rules && !n; r++)
		if (p->rules[r].matches & (POL_M_DEVICE | POL_M_CLASS))
			n = (size_t)-1;	/* constrained, but no device qualifies */
	/* Declared devices are identified even when no rule names them: their
	 * counters and the `spoofed` count need it. */
	if (!n && p->n_devices)
		n = (size_t)-1;
	if (n == (size_t)-1) {
		struct work W;

		n = 0;
		C->c->dims_used |= 1U << FRINGE_DIM_DEVICE;
		wildcard(C, POL_M_DEVICE | POL_M_CLASS, &W);
		fill_tab(C, FRINGE_TAB_DEVICE, FRINGE_NO_DEVICE + 1, intern(C, &W));
	}
	compile_keyed(C, FRINGE_DIM_DEVICE, POL_M_DEVICE | POL_M_CLASS, v, n, FRINGE_TAB_DEVICE,
		      FRINGE_NO_DEVICE + 1, emit_device);
	if (C->c->dims_used & (1U << FRINGE_DIM_DEVICE)) {
		C->c->device_names = calloc(p->n_devices, sizeof(*C->c->device_names));
		if (!C->c->device_names)
			err = -ENOMEM;
		else
			C->c->n_devices = p->n_devices;
		for (size_t i = 0; i < p->n_devices && C->c->device_names; i++) {
			const struct pol_device *D = &p->devices[i];

			memcpy(C->c->device_names[i], D->name, FRINGE_NAME_LEN);
			emit_hash(C, FRINGE_HK_DEV_MAC, D->mac, 6, i);
			for (size_t j = 0; j < D->n_ips; j++)
				emit_hash(C, D->ips[j].family == 4 ? FRINGE_HK_DEV_IP4 : FRINGE_HK_DEV_IP6,
					  D->ips[j].addr, D->ips[j].family == 4 ? 4 : 16, i);
		}
	}

	/* application, and its finer field (Modbus function, MQTT packet type) */
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++)
		if (p->rules[r].matches & POL_M_APP)
			err |= push_kv(&v, &n, &cap, &p->rules[r].app, 1, r);
	compile_keyed(C, FRINGE_DIM_APP, POL_M_APP, v, n, FRINGE_TAB_APP, FRINGE_MAX_APPS, emit_app);
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++) {
		const struct pol_rule *R = &p->rules[r];

		for (uint32_t x = 0; x < 256; x++) {
			uint32_t ix;
			uint8_t k[2];

			if ((R->matches & POL_M_MODBUS_FC) && (R->modbus_fc[x / 8] >> (x % 8) & 1))
				ix = FRINGE_APPX_MODBUS + x;
			else if ((R->matches & POL_M_MQTT_TYPE) && x < 16 && (R->mqtt_types >> x & 1))
				ix = FRINGE_APPX_MQTT + x;
			else
				continue;
			k[0] = ix >> 8;
			k[1] = ix & 0xff;
			err |= push_kv(&v, &n, &cap, k, 2, r);
		}
	}
	compile_keyed(C, FRINGE_DIM_APPX, POL_M_MODBUS_FC | POL_M_MQTT_TYPE, v, n, FRINGE_TAB_APPX,
		      FRINGE_APPX_NONE + 1, emit_appx);

	/* source MAC */
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++)
		if (p->rules[r].matches & POL_M_MAC)
			for (size_t i = 0; i < p->rules[r].n_mac; i++)
				err |= push_kv(&v, &n, &cap, p->rules[r].mac[i], 6, r);
	compile_keyed(C, FRINGE_DIM_MAC, POL_M_MAC, v, n, 0, 0, emit_mac);

	/* ingress interface */
	n = 0;
	for (uint32_t r = 0; r < p->n_rules; r++) {
		const struct pol_rule *R = &p->rules[r];
		uint32_t ifindex;

		if (!(R->matches & POL_M_IN))
			continue;
		ifindex = C->env->resolve_ifname ? C->env->resolve_ifname(R->in_iface) : r + 1;
		if (!ifindex) {
			diags_add(C->d, R->match_loc[0], "no such interface '%s'", R->in_iface);
			continue;
		}
		err |= push_kv(&v, &n, &cap, &ifindex, 4, r);
	}
	compile_keyed(C, FRINGE_DIM_IN, POL_M_IN, v, n, 0, 0, emit_in);
	free(v);
	if (err)
		C->err = -ENOMEM;
}

/* The hash of a DNS name in canonical form (policy_dns_name), as the data plane computes it. */
static uint64_t dns_hash(const char *name)
{
	const char *end = name + strlen(name), *dot;
	uint64_t h = FRINGE_DNS_FNV_BASIS;

	/* labels from the last to the first */
	while (end > name) {
		for (dot = end; dot > name && dot[-1] != '.'; dot--)
			;
		h = fringe_dns_hash_label(h, (const uint8_t *)dot, (uint32_t)(end - dot));
		end = dot > name ? dot - 1 : name;
	}
	return h & ~1ULL;
}

struct dns_key {
	uint8_t kind;
	uint64_t hash;
	uint32_t sets;
};

static int dns_key_cmp(const void *a, const void *b)
{
	const struct dns_key *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->hash > y->hash) - (x->hash < y->hash);
}

/*
 * Sets that list DNS names (docs/policy.md, "DNS names"): each gets a bit
 * of the mask the data plane keeps per learned address.  The slot's hash
 * maps each name (and, for `*.W`, W) to the mask of the sets listing it;
 * FRINGE_TAB_DNS holds, per set, the rules whose src (then dst) names it.
 */
static void compile_dns_names(struct compiler *C)
{
	struct dns_key *keys = NULL;
	size_t n = 0, cap = 0;
	uint32_t bit = 0;

	for (size_t i = 0; i < C->p->n_sets; i++) {
		const struct pol_set *s = &C->p->sets[i];
		struct work src, dst;

		if (!s->n_names)
			continue;
		if (bit == FRINGE_DNS_MAX_SETS) {
			diags_add(C->d, s->loc, "set '%s': more than %d sets list DNS names", s->name,
				  FRINGE_DNS_MAX_SETS);
			C->err = -E2BIG;
			break;
		}
		for (size_t j = 0; j < s->n_names; j++) {
			const char *nm = s->names[j];
			bool wild = nm[0] == '*';
			struct dns_key k = { .kind = wild ? FRINGE_HK_DNS_WILD : FRINGE_HK_DNS_NAME,
					     .hash = dns_hash(wild ? nm + 2 : nm), .sets = 1U << bit };

			struct compiled_dns_name cn = { .key = k.hash | wild };
			size_t q;

			if (!PUSH(keys, n, cap, k)) {
				C->err = -ENOMEM;
				goto out;
			}
			/* For display: the name once, with every set listing it. */
			for (q = 0; q < C->c->n_dns_names && C->c->dns_names[q].key != cn.key; q++)
				;
			if (q == C->c->n_dns_names) {
				snprintf(cn.v.name, sizeof(cn.v.name), "%s", nm);
				if (!PUSH(C->c->dns_names, C->c->n_dns_names, C->cap_dns_names, cn)) {
					C->err = -ENOMEM;
					goto out;
				}
			}
			{
				struct fringe_dns_name *v = &C->c->dns_names[q].v;
				size_t used = strlen(v->sets);

				snprintf(v->sets + used, sizeof(v->sets) - used, "%s%s", used ? "," : "",
					 s->name);
			}
		}
		memset(&src, 0, sizeof(src));
		memset(&dst, 0, sizeof(dst));
		for (uint32_t r = 0; r < C->p->n_rules; r++) {
			const struct pol_rule *R = &C->p->rules[r];

			if ((R->matches & POL_M_SRC) && R->src_set == (int)i)
				work_set(&C->P, &src, r);
			if ((R->matches & POL_M_DST) && R->dst_set == (int)i)
				work_set(&C->P, &dst, r);
		}
		/* An empty bitmap too: entry 0 would be every rule. */
		C->c->dimtab[FRINGE_TAB_DNS + bit] = intern(C, &src);
		C->c->dimtab[FRINGE_TAB_DNS + FRINGE_DNS_MAX_SETS + bit] = intern(C, &dst);
		bit++;
	}
	if (!n)
		goto out;
	C->c->slot_flags |= FRINGE_SLOT_DNS;
	qsort(keys, n, sizeof(*keys), dns_key_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint32_t sets = 0;

		for (; j < n && !dns_key_cmp(&keys[i], &keys[j]); j++)
			sets |= keys[j].sets;
		emit_hash(C, keys[i].kind, (const uint8_t *)&keys[i].hash, sizeof(keys[i].hash), sets);
		i = j;
	}
out:
	free(keys);
}

int compile_policy(const struct policy *p, const struct compile_env *env, struct diags *d,
		   struct compiled *out)
{
	struct compiler C = { .p = p, .env = env, .d = d, .c = out };
	size_t errors = d->n;

	memset(out, 0, sizeof(*out));
	if (p->n_rules > FRINGE_MAX_RULES) {
		diags_add(d, p->rules[FRINGE_MAX_RULES].loc, "more than %d rules", FRINGE_MAX_RULES);
		return -E2BIG;
	}
	out->n_rules = p->n_rules;
	out->default_action = p->default_action;
	out->dimtab = calloc(FRINGE_TAB_COMPILE_SIZE, sizeof(*out->dimtab));
	out->actions = calloc(p->n_rules + 1, sizeof(*out->actions));
	out->names = calloc(p->n_rules + 1, sizeof(*out->names));
	C.stack = calloc(130, sizeof(struct addr_frame));
	/* The octet trie's root blocks, one per first octet of src and dst. */
	out->v4blocks = calloc(FRINGE_V4_ROOTS, sizeof(*out->v4blocks));
	out->n_v4blocks = FRINGE_V4_ROOTS;
	C.cap_v4 = FRINGE_V4_ROOTS;
	if (!out->dimtab || !out->actions || !out->names || !C.stack || !out->v4blocks ||
	    pool_init(&C.P)) {
		C.err = -ENOMEM;
		goto out;
	}
	for (int r = 0; r < FRINGE_V4_ROOTS; r++)	/* bitmap 0 until painted */
		for (int a = 0; a < 256; a++)
			out->v4blocks[r].next[a] = FRINGE_V4_LEAF;

	/* Bitmap 0 is every rule: the data plane uses it for unconstrained dimensions. */
	{
		struct work all;

		memset(&all, 0, sizeof(all));
		for (uint32_t r = 0; r < p->n_rules; r++)
			work_set(&C.P, &all, r);
		intern(&C, &all);
	}
	compile_actions(&C);
	compile_dns_names(&C);
	compile_addr(&C, FRINGE_DIM_SRC, POL_M_SRC, true);
	compile_addr(&C, FRINGE_DIM_DST, POL_M_DST, false);
	compile_ports(&C, FRINGE_DIM_SPORT, POL_M_SPORT, FRINGE_TAB_SPORT, true);
	compile_ports(&C, FRINGE_DIM_DPORT, POL_M_DPORT, FRINGE_TAB_DPORT, false);
	compile_keyed_dims(&C);
	compile_l4(&C);

	if (out->n_lpm6 + out->n_hash > FRINGE_MAX_SET_ITEMS) {
		diags_add(d, (struct pol_loc){ 1, 1 },
			  "policy needs %zu address/MAC entries, more than the %d the data plane holds",
			  out->n_lpm6 + out->n_hash, FRINGE_MAX_SET_ITEMS);
		C.err = -E2BIG;
	}
	if (C.P.full || C.err == -E2BIG) {
		if (C.P.full)
			diags_add(d, (struct pol_loc){ 1, 1 },
				  "policy needs more than %d distinct rule sets per value; split or simplify it",
				  FRINGE_MAX_BITMAPS);
		C.err = -E2BIG;
	}
	out->bitmaps = C.P.v;
	out->n_bitmaps = C.P.n;
	C.P.v = NULL;
out:
	free(C.stack);
	pool_free(&C.P);
	if (!C.err && d->n > errors)
		C.err = -EINVAL;
	if (C.err)
		compiled_free(out);
	return C.err;
}

void compiled_free(struct compiled *c)
{
	free(c->bitmaps);
	free(c->dimtab);
	free(c->lpm6);
	free(c->hash);
	free(c->dns_names);
	free(c->actions);
	free(c->names);
	free(c->steer_ifindex);
	free(c->device_names);
	free(c->v4blocks);
	memset(c, 0, sizeof(*c));
}
