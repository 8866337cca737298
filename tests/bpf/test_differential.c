/* SPDX-License-Identifier: GPL-2.0 */
/* Differential test: random policies in the real data plane vs a reference classifier. */
/*
 * Each round derives everything from one seed: a random policy (nested and
 * overlapping IPv4/IPv6 prefixes from /0 to host routes, named sets of
 * prefixes, ports and MACs, proto, port lists and ranges, vlan, mac, in,
 * allow/drop, a default or none), written as text and loaded through the
 * fixture; then random packets biased towards the rules (inside their
 * prefixes and port ranges, at the edges, just outside), judged one by one by
 * the reference below, which is written from the language's description
 * (docs/policy.md) over its own structures
 * and shares nothing with the parser or the compiler.
 *
 * Checked per packet: the XDP action, and that the counter of the expected
 * rule (or the default) went up by one.  Per round: every rule counter, the
 * default counter and the interface pass/drop/policy/non-IP counters.
 *
 * Reproduce one round:  FRINGE_DIFF_SEED=0x... build/tests/bpf/test_differential
 * More or longer rounds: FRINGE_DIFF_ROUNDS=N FRINGE_DIFF_PACKETS=N
 * A failing round writes its policy to build/test-logs/differential-SEED.policy
 * (every round does with FRINGE_DIFF_KEEP=1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"
#include "pkt.h"

#define D_MAX_RULES 600
#define D_MAX_SETS 24
#define D_MAX_ITEMS 24
#define D_MAX_LIST 5
#define D_POOL 64
#define D_MACS 12
#define D_PRINT_MAX 8			/* detailed mismatch reports per round */
#define D_LOG_DIR "build/test-logs"

/* Fixed seeds, chosen for their policies: 52, 67, 95, 211, 299, 432, 572, 573 and
 * 600 rules; default allow, drop and absent three times each.  Then 64 and 65
 * rules, either side of the one-word path (policy_classify: a policy of at
 * most 64 rules has one bitmap word and skips the word search). */
static const uint64_t d_seeds[] = {
	0x5eed0010, 0x5eed0025, 0x5eed0013, 0x5eed0001, 0x5eed000a,
	0x5eed0003, 0x5eed000c, 0x5eed0021, 0x5eed002f,
	0x5eed06ee, 0x5eed0148,
};
#define D_PACKETS_DEFAULT 4000

/* ---- random numbers ------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static bool pct(struct rng *r, unsigned int p)
{
	return rnd(r, 100) < p;
}

/* ---- the reference's own model of a policy ---------------------------------- */

enum { K_PFX = 1, K_PORT, K_MAC };

struct d_pfx {
	uint8_t fam;		/* 4 or 6 */
	uint8_t len;
	uint8_t a[16];		/* network order, host bits zero */
};

struct d_range {
	uint32_t lo, hi;
};

struct d_set {
	char name[64];
	int kind;
	int n;
	struct d_pfx pfx[D_MAX_ITEMS];
	struct d_range port[D_MAX_ITEMS];
	uint8_t mac[D_MAX_ITEMS][6];
};

struct d_addr {
	bool on;
	int set;		/* index into sets, -1: the literal */
	struct d_pfx lit;
};

struct d_ports {
	bool on;
	int set;		/* -1: the literal list */
	int n;
	struct d_range r[D_MAX_LIST];	/* as written: may overlap */
};

struct d_rule {
	char name[64];
	int line;		/* where it starts in the policy text */
	struct d_addr src, dst;
	bool proto_on;
	uint8_t proto;
	bool proto_numeric;	/* written as a number */
	struct d_ports sport, dport;
	bool vlan_on;
	uint16_t vlan;
	bool mac_on;
	int mac_set;		/* -1: the literal */
	uint8_t mac[6];
	bool in_on;
	int in;			/* 0: fx0, 1: fx1 */
	bool drop;
};

struct d_policy {
	uint64_t seed;
	int n_rules, n_sets;
	struct d_rule rules[D_MAX_RULES];
	struct d_set sets[D_MAX_SETS];
	int dflt;		/* -1 absent, 0 allow, 1 drop */
	/* generator pools: rules and packets draw from them, so they collide */
	struct d_pfx pool4[D_POOL], pool6[D_POOL];
	int n4, n6;
	struct d_range ports[16];
	int n_ports;
	uint8_t macs[D_MACS][6];
	uint16_t vlans[6];
	/* knobs, per round */
	unsigned int p_src, p_dst, p_proto, p_dport, p_sport, p_vlan, p_mac, p_in, p_set;
	/* the policy as text */
	char *text;
	size_t text_len, text_cap;
	int line;
};

struct d_pkt {
	bool non_ip;
	uint16_t ethertype;
	uint8_t fam;
	uint8_t sa[16], da[16];
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t smac[6], dmac[6];	/* dmac is often a rule's MAC: `mac` is the source */
	int n_vlan;
	uint16_t vlan[2];
	bool qinq;
	int frag;		/* 0, 1 first, 2 later */
	uint8_t ext[4];
	int n_ext;
	int ip_options;
	int iface;		/* 0: fx0, 1: fx1 */
	int payload_len;
	int target;		/* rule the generator aimed at, -1 none */
	bool mutated;
};

/* ---- the reference classifier (docs/policy.md) ------------------ */

static bool ref_in_prefix(const struct d_pfx *p, uint8_t fam, const uint8_t *a)
{
	int whole = p->len / 8, rest = p->len % 8;

	if (p->fam != fam)
		return false;
	if (memcmp(p->a, a, whole))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00 >> rest);

		if ((p->a[whole] & m) != (a[whole] & m))
			return false;
	}
	return true;
}

static bool ref_addr(const struct d_policy *P, const struct d_addr *m, uint8_t fam,
		     const uint8_t *a)
{
	const struct d_set *s;

	if (m->set < 0)
		return ref_in_prefix(&m->lit, fam, a);
	s = &P->sets[m->set];
	for (int i = 0; i < s->n; i++)
		if (ref_in_prefix(&s->pfx[i], fam, a))
			return true;
	return false;
}

static bool ref_port(const struct d_policy *P, const struct d_ports *m, uint16_t port)
{
	const struct d_range *r = m->set < 0 ? m->r : P->sets[m->set].port;
	int n = m->set < 0 ? m->n : P->sets[m->set].n;

	for (int i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return true;
	return false;
}

static bool ref_mac(const struct d_policy *P, const struct d_rule *R, const uint8_t *mac)
{
	const struct d_set *s;

	if (R->mac_set < 0)
		return !memcmp(R->mac, mac, 6);
	s = &P->sets[R->mac_set];
	for (int i = 0; i < s->n; i++)
		if (!memcmp(s->mac[i], mac, 6))
			return true;
	return false;
}

/* Index of the first rule that matches, -1 for the default. */
static int ref_classify(const struct d_policy *P, const struct d_pkt *k)
{
	/* Only TCP, UDP and SCTP carry ports, and not in later fragments. */
	bool ports = (k->proto == 6 || k->proto == 17 || k->proto == 132) && k->frag != 2;

	for (int r = 0; r < P->n_rules; r++) {
		const struct d_rule *R = &P->rules[r];

		if (R->in_on && R->in != k->iface)
			continue;
		if (R->src.on && !ref_addr(P, &R->src, k->fam, k->sa))
			continue;
		if (R->dst.on && !ref_addr(P, &R->dst, k->fam, k->da))
			continue;
		if (R->proto_on && R->proto != k->proto)	/* upper layer, after v6 ext headers */
			continue;
		if (R->sport.on && (!ports || !ref_port(P, &R->sport, k->sport)))
			continue;
		if (R->dport.on && (!ports || !ref_port(P, &R->dport, k->dport)))
			continue;
		if (R->vlan_on && (!k->n_vlan || k->vlan[0] != R->vlan))	/* outer tag */
			continue;
		if (R->mac_on && !ref_mac(P, R, k->smac))	/* source MAC */
			continue;
		return r;
	}
	return -1;
}

static bool ref_drops(const struct d_policy *P, int rule)
{
	return rule >= 0 ? P->rules[rule].drop : P->dflt == 1;
}

/* ---- prefixes and addresses ------------------------------------------------------ */

static int fam_bits(uint8_t fam)
{
	return fam == 4 ? 32 : 128;
}

static void pfx_mask(struct d_pfx *p)
{
	for (int i = 0; i < 16; i++) {
		int keep = p->len - 8 * i;

		if (i >= fam_bits(p->fam) / 8 || keep <= 0)
			p->a[i] = 0;
		else if (keep < 8)
			p->a[i] &= (uint8_t)(0xff00 >> keep);
	}
}

static void rnd_bytes(struct rng *r, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = rng_next(r) >> 56;
}

static int bit_get(const uint8_t *a, int i)
{
	return a[i / 8] >> (7 - i % 8) & 1;
}

static void bit_put(uint8_t *a, int i, int v)
{
	if (v)
		a[i / 8] |= 0x80 >> (i % 8);
	else
		a[i / 8] &= ~(0x80 >> (i % 8));
}

/* A longer prefix inside p. */
static struct d_pfx pfx_child(struct rng *r, const struct d_pfx *p)
{
	int bits = fam_bits(p->fam), room = bits - p->len;
	struct d_pfx c = *p;

	if (!room)
		return c;
	c.len = pct(r, 25) ? (uint32_t)bits : p->len + 1 + rnd(r, room < 12 ? room : 12);
	for (int i = p->len; i < c.len; i++)
		bit_put(c.a, i, rnd(r, 2));
	pfx_mask(&c);
	return c;
}

/* An address inside p: random host bits, often the first or last one. */
static void addr_in(struct rng *r, const struct d_pfx *p, uint8_t *a)
{
	int bits = fam_bits(p->fam), edge = rnd(r, 10);

	memset(a, 0, 16);
	memcpy(a, p->a, bits / 8);
	for (int i = p->len; i < bits; i++)
		bit_put(a, i, edge == 0 ? 0 : edge == 1 ? 1 : (int)rnd(r, 2));
}

/* An address just outside p (a network bit flipped), or inside for /0. */
static void addr_near(struct rng *r, const struct d_pfx *p, uint8_t *a)
{
	addr_in(r, p, a);
	if (p->len) {
		int b = pct(r, 60) ? p->len - 1 : (int)rnd(r, p->len);

		bit_put(a, b, !bit_get(a, b));
	}
}

static void gen_pool(struct rng *r, uint8_t fam, struct d_pfx *pool, int *n, int want)
{
	int roots = 3 + rnd(r, 3);

	*n = 0;
	for (int i = 0; i < roots; i++) {
		struct d_pfx p = { .fam = fam };

		p.len = fam == 4 ? 4 + rnd(r, 13) : 16 + rnd(r, 33);
		rnd_bytes(r, p.a, fam == 4 ? 4 : 16);
		pfx_mask(&p);
		pool[(*n)++] = p;
	}
	while (*n < want) {
		const struct d_pfx *parent = &pool[rnd(r, *n)];

		if (parent->len == fam_bits(fam))
			continue;
		pool[(*n)++] = pfx_child(r, parent);
	}
}

static struct d_pfx pick_prefix(struct d_policy *P, struct rng *r, uint8_t fam)
{
	const struct d_pfx *pool = fam == 4 ? P->pool4 : P->pool6;
	struct d_pfx p = pool[rnd(r, fam == 4 ? P->n4 : P->n6)];
	unsigned int k = rnd(r, 100);

	if (k < 2) {				/* everything of the family */
		memset(&p, 0, sizeof(p));
		p.fam = fam;
	} else if (k < 20) {
		p = pfx_child(r, &p);
	} else if (k < 30 && p.len) {		/* a shorter prefix around a pool one */
		p.len = rnd(r, p.len);
		pfx_mask(&p);
	}
	return p;
}

static uint8_t pick_fam(struct rng *r)
{
	return pct(r, 55) ? 4 : 6;
}

/* ---- ports ------------------------------------------------------------------------- */

static const uint16_t hot_ports[] = { 0, 1, 22, 53, 80, 443, 502, 1023, 1024, 1883, 5683,
				      8080, 8883, 20000, 65534, 65535 };
#define N_HOT (sizeof(hot_ports) / sizeof(hot_ports[0]))

static struct d_range gen_range(struct d_policy *P, struct rng *r)
{
	struct d_range g;
	unsigned int k = rnd(r, 100);

	if (k < 30) {
		g.lo = g.hi = hot_ports[rnd(r, N_HOT)];
	} else if (k < 42) {
		g.lo = g.hi = rnd(r, 65536);
	} else if (k < 80) {
		g = P->ports[rnd(r, P->n_ports)];
	} else {
		g.lo = rnd(r, 65536);
		g.hi = g.lo + rnd(r, 1u << rnd(r, 16));
		if (g.hi > 65535)
			g.hi = 65535;
	}
	return g;
}

/* Ranges that overlap or touch g, on purpose. */
static struct d_range range_near(struct rng *r, struct d_range g)
{
	struct d_range h;

	switch (rnd(r, 4)) {
	case 0:				/* adjacent above */
		h.lo = g.hi < 65535 ? g.hi + 1 : g.lo;
		h.hi = h.lo + rnd(r, 50);
		break;
	case 1:				/* inside */
		h.lo = g.lo + rnd(r, g.hi - g.lo + 1);
		h.hi = h.lo + rnd(r, g.hi - h.lo + 1);
		break;
	case 2:				/* straddling the top */
		h.lo = g.lo + rnd(r, g.hi - g.lo + 1);
		h.hi = g.hi + 1 + rnd(r, 100);
		break;
	default:			/* straddling the bottom */
		h.lo = g.lo > 100 ? g.lo - rnd(r, 100) : 0;
		h.hi = h.lo + rnd(r, g.hi - h.lo + 1);
		break;
	}
	if (h.hi > 65535)
		h.hi = 65535;
	if (h.lo > h.hi)
		h.lo = h.hi;
	return h;
}

static void gen_port_pool(struct d_policy *P, struct rng *r)
{
	P->n_ports = 0;
	while (P->n_ports < 16) {
		struct d_range g;

		if (P->n_ports >= 4 && pct(r, 40)) {
			g = range_near(r, P->ports[rnd(r, P->n_ports)]);
		} else {
			g.lo = pct(r, 50) ? hot_ports[rnd(r, N_HOT)] : rnd(r, 65536);
			g.hi = g.lo + rnd(r, 1u << rnd(r, 14));
			if (g.hi > 65535)
				g.hi = 65535;
		}
		P->ports[P->n_ports++] = g;
	}
}

/* ---- the random policy ---------------------------------------------------------------- */

static const struct {
	uint8_t num;
	const char *name;
} d_protos[] = {
	{ 6, "tcp" }, { 17, "udp" }, { 1, "icmp" }, { 58, "icmpv6" }, { 132, "sctp" },
};
/* Protocols without ports; none is an IPv6 extension header. */
static const uint8_t other_protos[] = { 2, 4, 41, 47, 50, 89, 103, 112, 115, 253, 255 };

static uint8_t gen_proto(struct rng *r, bool ports_only)
{
	static const uint8_t port_protos[] = { 6, 17, 132 };
	unsigned int k = rnd(r, 100);

	if (ports_only)
		return port_protos[k < 40 ? 0 : k < 80 ? 1 : 2];
	if (k < 30)
		return 6;
	if (k < 55)
		return 17;
	if (k < 65)
		return 132;
	if (k < 75)
		return 1;
	if (k < 85)
		return 58;
	return other_protos[rnd(r, sizeof(other_protos))];
}

/* Names: a unique stem, sometimes padded with any name character up to 63 bytes. */
static void gen_name(struct rng *r, char *name, size_t cap, const char *fmt, uint64_t seed, int i)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	int n = snprintf(name, cap, fmt, seed, i), want = n;

	if (pct(r, 20))
		want = pct(r, 30) ? 63 : n + 1 + (int)rnd(r, 63 - n);
	if (n < want)
		name[n++] = '-';
	while (n < want)
		name[n++] = chars[rnd(r, sizeof(chars) - 1)];
	name[n] = '\0';
}

static int find_set(struct d_policy *P, struct rng *r, int kind)
{
	int idx[D_MAX_SETS], n = 0;

	for (int i = 0; i < P->n_sets; i++)
		if (P->sets[i].kind == kind)
			idx[n++] = i;
	return n ? idx[rnd(r, n)] : -1;
}

static void gen_sets(struct d_policy *P, struct rng *r)
{
	P->n_sets = 3 + rnd(r, D_MAX_SETS - 2);
	for (int i = 0; i < P->n_sets; i++) {
		struct d_set *s = &P->sets[i];
		unsigned int k = rnd(r, 100);

		s->kind = k < 50 ? K_PFX : k < 85 ? K_PORT : K_MAC;
		gen_name(r, s->name, sizeof(s->name),
			 s->kind == K_PFX ? "S%" PRIx64 "_net%d" :
			 s->kind == K_PORT ? "S%" PRIx64 "_svc%d" : "S%" PRIx64 "_hw%d", P->seed, i);
		switch (s->kind) {
		case K_PFX:
			s->n = 1 + rnd(r, 20);
			for (int j = 0; j < s->n; j++) {
				if (j && pct(r, 20))	/* nested in, or equal to, an earlier item */
					s->pfx[j] = pct(r, 50) ? pfx_child(r, &s->pfx[rnd(r, j)]) :
								   s->pfx[rnd(r, j)];
				else
					s->pfx[j] = pick_prefix(P, r, pick_fam(r));
			}
			break;
		case K_PORT:
			s->n = 1 + rnd(r, 8);
			for (int j = 0; j < s->n; j++)
				s->port[j] = j && pct(r, 30) ? range_near(r, s->port[rnd(r, j)]) :
							      gen_range(P, r);
			break;
		default:
			s->n = 1 + rnd(r, 5);
			for (int j = 0; j < s->n; j++) {
				if (pct(r, 80)) {
					memcpy(s->mac[j], P->macs[rnd(r, D_MACS)], 6);
				} else {
					rnd_bytes(r, s->mac[j], 6);
					s->mac[j][0] = (s->mac[j][0] & 0xfe) | 0x02;
				}
			}
			break;
		}
	}
}

static void gen_addr_match(struct d_policy *P, struct rng *r, struct d_addr *m, int fam_hint)
{
	m->on = true;
	m->set = pct(r, P->p_set) ? find_set(P, r, K_PFX) : -1;
	if (m->set < 0)
		m->lit = pick_prefix(P, r, fam_hint ? fam_hint : pick_fam(r));
}

static void gen_port_match(struct d_policy *P, struct rng *r, struct d_ports *m)
{
	m->on = true;
	m->set = pct(r, P->p_set) ? find_set(P, r, K_PORT) : -1;
	if (m->set >= 0)
		return;
	m->n = pct(r, 70) ? 1 : 2 + rnd(r, D_MAX_LIST - 1);
	for (int i = 0; i < m->n; i++)
		m->r[i] = i && pct(r, 40) ? range_near(r, m->r[rnd(r, i)]) : gen_range(P, r);
}

/* How narrow a rule is, roughly in bits of the packet space it excludes. */
static int addr_score(const struct d_policy *P, const struct d_addr *m)
{
	int best = 64, n;

	if (!m->on)
		return 0;
	if (m->set < 0)
		return m->lit.fam == 4 ? m->lit.len : m->lit.len / 3;
	n = P->sets[m->set].n;
	for (int i = 0; i < n; i++) {
		const struct d_pfx *p = &P->sets[m->set].pfx[i];
		int sc = p->fam == 4 ? p->len : p->len / 3;

		best = sc < best ? sc : best;
	}
	while (n > 1)
		best--, n /= 2;
	return best;
}

static int ports_score(const struct d_policy *P, const struct d_ports *m)
{
	const struct d_range *g = m->set < 0 ? m->r : P->sets[m->set].port;
	int n = m->set < 0 ? m->n : P->sets[m->set].n, sc = 16;
	uint32_t width = 0;

	if (!m->on)
		return 0;
	for (int i = 0; i < n; i++)
		width += g[i].hi - g[i].lo + 1;
	while (width > 1 && sc > 1)
		sc--, width /= 2;
	return sc;
}

static int rule_score(const struct d_policy *P, const struct d_rule *R)
{
	return addr_score(P, &R->src) + addr_score(P, &R->dst) + ports_score(P, &R->sport) +
	       ports_score(P, &R->dport) + (R->proto_on ? 2 : 0) + (R->vlan_on ? 6 : 0) +
	       (R->mac_on ? 6 : 0) + (R->in_on ? 1 : 0);
}

static bool is_slash0(const struct d_addr *m)
{
	return m->on && m->set < 0 && m->lit.len == 0;
}

static bool is_host(const struct d_addr *m)
{
	return m->on && m->set < 0 && m->lit.len == fam_bits(m->lit.fam);
}

static void gen_rule(struct d_policy *P, struct rng *r, int i)
{
	struct d_rule *R = &P->rules[i];
	int n;

	memset(R, 0, sizeof(*R));
	R->src.set = R->dst.set = R->sport.set = R->dport.set = R->mac_set = -1;
	do {
		if (pct(r, P->p_src))
			gen_addr_match(P, r, &R->src, 0);
		if (pct(r, P->p_dst))
			/* mostly the family of a literal src, so the rule can match */
			gen_addr_match(P, r, &R->dst,
				       R->src.on && R->src.set < 0 && pct(r, 90) ? R->src.lit.fam : 0);
		if (pct(r, P->p_dport))
			gen_port_match(P, r, &R->dport);
		if (pct(r, P->p_sport))
			gen_port_match(P, r, &R->sport);
		if (pct(r, (R->sport.on || R->dport.on) ? P->p_proto * 3 / 4 : P->p_proto)) {
			R->proto_on = true;
			R->proto = gen_proto(r, R->sport.on || R->dport.on);
			R->proto_numeric = pct(r, 15);
		}
		if (pct(r, P->p_vlan)) {
			R->vlan_on = true;
			R->vlan = P->vlans[rnd(r, 6)];
		}
		if (pct(r, P->p_mac)) {
			R->mac_on = true;
			R->mac_set = pct(r, 30) ? find_set(P, r, K_MAC) : -1;
			if (R->mac_set < 0)
				memcpy(R->mac, P->macs[rnd(r, D_MACS)], 6);
		}
		if (pct(r, P->p_in)) {
			R->in_on = true;
			R->in = rnd(r, 2);
		}
		n = R->src.on + R->dst.on + R->proto_on + R->sport.on + R->dport.on + R->vlan_on +
		    R->mac_on + R->in_on;
		/* a rule that matches everything (of a family) would hide the rest;
		 * a few broad ones stay, to shadow others */
	} while (n == 0 || (n == 1 && (is_slash0(&R->src) || is_slash0(&R->dst) || R->in_on)) ||
		 (rule_score(P, R) < 10 && !pct(r, 10)));
	if ((R->sport.on || R->dport.on) && R->proto_on && R->proto != 6 && R->proto != 17 &&
	    R->proto != 132)
		R->proto = gen_proto(r, true);	/* ports need tcp, udp or sctp */
	R->drop = pct(r, 50);
}

struct scored {
	int score;
	int idx;
};

static int scored_cmp(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	return x->score != y->score ? y->score - x->score : x->idx - y->idx;
}

/* Mostly narrow rules first, as real policies are, so later rules see traffic
 * too; the noise keeps plenty of rules shadowed, fully or in part. */
static void order_rules(struct d_policy *P, struct rng *r)
{
	static struct scored s[D_MAX_RULES];
	static struct d_rule tmp[D_MAX_RULES];

	for (int i = 0; i < P->n_rules; i++) {
		s[i].score = rule_score(P, &P->rules[i]) + rnd(r, 16);
		s[i].idx = i;
	}
	qsort(s, P->n_rules, sizeof(s[0]), scored_cmp);
	for (int i = 0; i < P->n_rules; i++)
		tmp[i] = P->rules[s[i].idx];
	for (int i = 0; i < P->n_rules; i++) {
		P->rules[i] = tmp[i];
		gen_name(r, P->rules[i].name, sizeof(P->rules[i].name), "d%" PRIx64 ".r%d", P->seed, i);
	}
}

static void gen_policy(struct d_policy *P, uint64_t seed)
{
	struct rng r = { seed };

	memset(P, 0, offsetof(struct d_policy, text));
	P->seed = seed;
	P->n_rules = 50 + rnd(&r, D_MAX_RULES - 50 + 1);
	P->dflt = (int)rnd(&r, 3) - 1;
	P->p_src = 30 + rnd(&r, 45);
	P->p_dst = 30 + rnd(&r, 45);
	P->p_proto = 25 + rnd(&r, 45);
	P->p_dport = 15 + rnd(&r, 40);
	P->p_sport = 5 + rnd(&r, 20);
	P->p_vlan = 3 + rnd(&r, 15);
	P->p_mac = 3 + rnd(&r, 15);
	P->p_in = rnd(&r, 6);
	P->p_set = 10 + rnd(&r, 35);
	gen_pool(&r, 4, P->pool4, &P->n4, 24 + rnd(&r, D_POOL - 24));
	gen_pool(&r, 6, P->pool6, &P->n6, 24 + rnd(&r, D_POOL - 24));
	gen_port_pool(P, &r);
	for (int i = 0; i < D_MACS; i++) {
		rnd_bytes(&r, P->macs[i], 6);
		P->macs[i][0] = (P->macs[i][0] & 0xfe) | 0x02;
	}
	P->vlans[0] = 1;
	P->vlans[1] = 4095;
	P->vlans[2] = 0;
	for (int i = 3; i < 6; i++)
		P->vlans[i] = 2 + rnd(&r, 4093);
	gen_sets(P, &r);
	for (int i = 0; i < P->n_rules; i++)
		gen_rule(P, &r, i);
	order_rules(P, &r);
}

/* ---- the policy as text ---------------------------------------------------------------- */

static void out(struct d_policy *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct d_policy *P, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = P->text_cap - P->text_len;

		va_start(ap, fmt);
		n = vsnprintf(P->text + P->text_len, room, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < room)
			break;
		P->text_cap = P->text_cap * 2 + n + 1;
		P->text = realloc(P->text, P->text_cap);
		assert_non_null(P->text);
	}
	for (int i = 0; i < n; i++)
		P->line += P->text[P->text_len + i] == '\n';
	P->text_len += n;
}

/* Between two words of a statement: mostly a space, sometimes a continuation. */
static void out_sep(struct d_policy *P, struct rng *r)
{
	unsigned int k = rnd(r, 100);

	out(P, k < 90 ? " " : k < 94 ? "\t" : k < 97 ? "   " : " \\\n    ");
}

static void out_addr(struct d_policy *P, struct rng *r, uint8_t fam, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	if (fam == 6 && pct(r, 20)) {		/* full form, either case */
		const char *f = pct(r, 50) ? "%x" : "%X";

		for (int i = 0; i < 8; i++) {
			out(P, "%s", i ? ":" : "");
			out(P, f, a[2 * i] << 8 | a[2 * i + 1]);
		}
		return;
	}
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, s, sizeof(s));
	out(P, "%s", s);
}

static void out_pfx(struct d_policy *P, struct rng *r, const struct d_pfx *p)
{
	out_addr(P, r, p->fam, p->a);
	if (p->len != fam_bits(p->fam) || pct(r, 50))	/* host routes with or without /N */
		out(P, "/%u", p->len);
}

static void out_range(struct d_policy *P, const struct d_range *g)
{
	if (g->lo == g->hi)
		out(P, "%u", g->lo);
	else
		out(P, "%u-%u", g->lo, g->hi);
}

static void out_mac(struct d_policy *P, struct rng *r, const uint8_t *m)
{
	const char *f = pct(r, 80) ? "%02x:%02x:%02x:%02x:%02x:%02x" :
				     "%02X:%02X:%02X:%02X:%02X:%02X";

	out(P, f, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void out_comma(struct d_policy *P, struct rng *r)
{
	unsigned int k = rnd(r, 100);

	out(P, k < 70 ? "," : k < 90 ? ", " : k < 96 ? " , " : ", \\\n\t");
}

static void out_set(struct d_policy *P, struct rng *r, const struct d_set *s)
{
	out(P, "set %s {%s", s->name, pct(r, 70) ? " " : "");
	for (int i = 0; i < s->n; i++) {
		if (i)
			out_comma(P, r);
		if (s->kind == K_PFX)
			out_pfx(P, r, &s->pfx[i]);
		else if (s->kind == K_PORT)
			out_range(P, &s->port[i]);
		else
			out_mac(P, r, s->mac[i]);
	}
	out(P, "%s%s}\n", pct(r, 10) ? "," : "", pct(r, 70) ? " " : "");
}

static void out_addr_match(struct d_policy *P, struct rng *r, const struct d_addr *m)
{
	if (m->set >= 0)
		out(P, "@%s", P->sets[m->set].name);
	else
		out_pfx(P, r, &m->lit);
}

static void out_ports(struct d_policy *P, struct rng *r, const struct d_ports *m)
{
	if (m->set >= 0) {
		out(P, "@%s", P->sets[m->set].name);
		return;
	}
	for (int i = 0; i < m->n; i++) {
		if (i)
			out_comma(P, r);
		out_range(P, &m->r[i]);
	}
}

static void out_rule(struct d_policy *P, struct rng *r, struct d_rule *R)
{
	int order[8], n = 0;

	R->line = P->line + 1;
	out(P, "rule %s", R->name);
	for (int i = 0; i < 8; i++)
		order[n++] = i;
	for (int i = n - 1; i > 0; i--) {	/* matches in any order */
		int j = rnd(r, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < n; i++) {
		switch (order[i]) {
		case 0:
			if (!R->src.on)
				continue;
			out_sep(P, r);
			out(P, "src ");
			out_addr_match(P, r, &R->src);
			break;
		case 1:
			if (!R->dst.on)
				continue;
			out_sep(P, r);
			out(P, "dst ");
			out_addr_match(P, r, &R->dst);
			break;
		case 2:
			if (!R->proto_on)
				continue;
			out_sep(P, r);
			out(P, "proto ");
			for (size_t j = 0; j < sizeof(d_protos) / sizeof(d_protos[0]); j++)
				if (!R->proto_numeric && d_protos[j].num == R->proto) {
					out(P, "%s", d_protos[j].name);
					goto proto_done;
				}
			out(P, "%u", R->proto);
proto_done:
			break;
		case 3:
			if (!R->sport.on)
				continue;
			out_sep(P, r);
			out(P, "sport ");
			out_ports(P, r, &R->sport);
			break;
		case 4:
			if (!R->dport.on)
				continue;
			out_sep(P, r);
			out(P, "dport ");
			out_ports(P, r, &R->dport);
			break;
		case 5:
			if (!R->vlan_on)
				continue;
			out_sep(P, r);
			out(P, "vlan %u", R->vlan);
			break;
		case 6:
			if (!R->mac_on)
				continue;
			out_sep(P, r);
			out(P, "mac ");
			if (R->mac_set >= 0)
				out(P, "@%s", P->sets[R->mac_set].name);
			else
				out_mac(P, r, R->mac);
			break;
		case 7:
			if (!R->in_on)
				continue;
			out_sep(P, r);
			out(P, "in %s", R->in ? "fx1" : "fx0");
			break;
		}
	}
	out_sep(P, r);
	out(P, "%s%s\n", R->drop ? "drop" : "allow", pct(r, 4) ? "   # trailing comment" : "");
}

static void emit_policy(struct d_policy *P)
{
	struct rng r = { P->seed ^ 0x7465787400000000ULL };
	int n_stmt = P->n_sets + P->n_rules, dpos = rnd(&r, n_stmt + 1);

	P->text_len = 0;
	P->line = 0;
	out(P, "# fringe differential test, seed 0x%" PRIx64 ": %d rules, %d sets, default %s\n",
	    P->seed, P->n_rules, P->n_sets, P->dflt < 0 ? "absent" : P->dflt ? "drop" : "allow");
	for (int i = 0; i <= n_stmt; i++) {
		if (i == dpos && P->dflt >= 0)	/* anywhere in the file */
			out(P, "default %s\n", P->dflt ? "drop" : "allow");
		if (i == n_stmt)
			break;
		if (pct(&r, 3))
			out(P, pct(&r, 50) ? "\n" : "# a comment line\n");
		if (i < P->n_sets)
			out_set(P, &r, &P->sets[i]);
		else
			out_rule(P, &r, &P->rules[i - P->n_sets]);
	}
}

/* ---- random packets -------------------------------------------------------------------- */

static const struct d_pfx *addr_item(const struct d_policy *P, struct rng *r,
				     const struct d_addr *m, int fam)
{
	const struct d_set *s;
	const struct d_pfx *c[D_MAX_ITEMS];
	int n = 0;

	if (m->set < 0)
		return !fam || m->lit.fam == fam ? &m->lit : NULL;
	s = &P->sets[m->set];
	for (int i = 0; i < s->n; i++)
		if (!fam || s->pfx[i].fam == fam)
			c[n++] = &s->pfx[i];
	return n ? c[rnd(r, n)] : NULL;
}

static uint16_t port_in(const struct d_policy *P, struct rng *r, const struct d_ports *m)
{
	const struct d_range *g = m->set < 0 ? &m->r[rnd(r, m->n)] :
					       &P->sets[m->set].port[rnd(r, P->sets[m->set].n)];
	unsigned int k = rnd(r, 10);

	return k == 0 ? g->lo : k == 1 ? g->hi : g->lo + rnd(r, g->hi - g->lo + 1);
}

static uint16_t port_near(const struct d_policy *P, struct rng *r, const struct d_ports *m)
{
	const struct d_range *g = m->set < 0 ? &m->r[rnd(r, m->n)] :
					       &P->sets[m->set].port[rnd(r, P->sets[m->set].n)];

	if (pct(r, 50) && g->lo > 0)
		return g->lo - 1;
	return g->hi < 65535 ? g->hi + 1 : g->lo - 1;
}

static uint16_t random_port(const struct d_policy *P, struct rng *r)
{
	unsigned int k = rnd(r, 100);

	if (k < 30)
		return hot_ports[rnd(r, N_HOT)];
	if (k < 65) {
		const struct d_range *g = &P->ports[rnd(r, P->n_ports)];

		return g->lo + rnd(r, g->hi - g->lo + 1);
	}
	return rnd(r, 65536);
}

static void random_addr(const struct d_policy *P, struct rng *r, uint8_t fam, uint8_t *a)
{
	if (pct(r, 75)) {
		const struct d_pfx *p = fam == 4 ? &P->pool4[rnd(r, P->n4)] : &P->pool6[rnd(r, P->n6)];

		addr_in(r, p, a);
	} else {
		memset(a, 0, 16);
		rnd_bytes(r, a, fam == 4 ? 4 : 16);
	}
}

static void random_mac(const struct d_policy *P, struct rng *r, uint8_t *m)
{
	if (pct(r, 50)) {
		memcpy(m, P->macs[rnd(r, D_MACS)], 6);
	} else {
		rnd_bytes(r, m, 6);
		m[0] = (m[0] & 0xfe) | 0x02;
	}
}

static bool is_v6_ext(uint8_t p)
{
	return p == 0 || p == 43 || p == 44 || p == 51 || p == 60;
}

/* Break one match of rule R in packet k, so it (usually) no longer applies. */
static void mutate(const struct d_policy *P, struct rng *r, const struct d_rule *R,
		   struct d_pkt *k)
{
	for (int tries = 0; tries < 8; tries++) {
		const struct d_pfx *p;

		switch (rnd(r, 8)) {
		case 0:
			if (!R->src.on || !(p = addr_item(P, r, &R->src, k->fam)))
				continue;
			addr_near(r, p, k->sa);
			break;
		case 1:
			if (!R->dst.on || !(p = addr_item(P, r, &R->dst, k->fam)))
				continue;
			addr_near(r, p, k->da);
			break;
		case 2:
			if (!R->proto_on)
				continue;
			k->proto = gen_proto(r, pct(r, 50));
			break;
		case 3:
			if (!R->sport.on)
				continue;
			k->sport = port_near(P, r, &R->sport);
			break;
		case 4:
			if (!R->dport.on)
				continue;
			if (pct(r, 20))		/* a protocol without ports */
				k->proto = pct(r, 50) ? (k->fam == 4 ? 1 : 58) : 47;
			else
				k->dport = port_near(P, r, &R->dport);
			break;
		case 5:
			if (!R->vlan_on)
				continue;
			if (pct(r, 30)) {
				k->n_vlan = 0;
			} else if (pct(r, 50) && k->n_vlan == 2) {	/* inner tag only */
				k->vlan[1] = k->vlan[0];
				k->vlan[0] = P->vlans[rnd(r, 6)];
			} else {
				k->vlan[0] = R->vlan ^ (1 + rnd(r, 4095));
			}
			break;
		case 6:
			if (!R->mac_on)
				continue;
			k->smac[5 - rnd(r, 2)] ^= 1 + rnd(r, 255);
			break;
		default:
			if (!R->in_on)
				continue;
			k->iface = !k->iface;
			break;
		}
		k->mutated = true;
		return;
	}
}

static void gen_packet(const struct d_policy *P, struct rng *r, struct d_pkt *k)
{
	const struct d_rule *R = NULL;
	const struct d_pfx *p;
	bool ports;

	memset(k, 0, sizeof(*k));
	k->target = -1;
	if (pct(r, 2)) {			/* ARP, LLDP: neither IPv4 nor IPv6 */
		k->non_ip = true;
		k->ethertype = pct(r, 50) ? 0x0806 : 0x88cc;
		k->payload_len = 28 + rnd(r, 20);
		k->iface = pct(r, 10);
		if (pct(r, 30)) {		/* behind a tag */
			k->n_vlan = 1;
			k->vlan[0] = P->vlans[rnd(r, 6)];
		}
		return;
	}
	if (pct(r, 70)) {
		k->target = rnd(r, P->n_rules);
		R = &P->rules[k->target];
	}

	/* family and addresses */
	k->fam = pick_fam(r);
	if (R && R->src.on && (p = addr_item(P, r, &R->src, 0)))
		k->fam = p->fam;
	else if (R && R->dst.on && (p = addr_item(P, r, &R->dst, 0)))
		k->fam = p->fam;
	if (R && R->src.on && (p = addr_item(P, r, &R->src, k->fam)))
		addr_in(r, p, k->sa);
	else
		random_addr(P, r, k->fam, k->sa);
	if (R && R->dst.on && (p = addr_item(P, r, &R->dst, k->fam)))
		addr_in(r, p, k->da);
	else
		random_addr(P, r, k->fam, k->da);

	/* protocol and ports */
	ports = R && (R->sport.on || R->dport.on);
	k->proto = R && R->proto_on ? R->proto : gen_proto(r, ports);
	if (k->fam == 6 && is_v6_ext(k->proto))
		k->proto = 253;
	k->sport = R && R->sport.on ? port_in(P, r, &R->sport) : random_port(P, r);
	k->dport = R && R->dport.on ? port_in(P, r, &R->dport) : random_port(P, r);

	/* link layer */
	if (R && R->vlan_on) {
		k->n_vlan = pct(r, 70) ? 1 : 2;
		k->vlan[0] = R->vlan;
	} else if (pct(r, 15)) {
		k->n_vlan = pct(r, 75) ? 1 : 2;
		k->vlan[0] = P->vlans[rnd(r, 6)];
	}
	if (k->n_vlan) {
		k->vlan[1] = pct(r, 50) ? P->vlans[rnd(r, 6)] : rnd(r, 4096);
		k->qinq = pct(r, 35);
	}
	if (R && R->mac_on) {
		if (R->mac_set < 0) {
			memcpy(k->smac, R->mac, 6);
		} else {
			const struct d_set *s = &P->sets[R->mac_set];

			memcpy(k->smac, s->mac[rnd(r, s->n)], 6);
		}
	} else {
		random_mac(P, r, k->smac);
	}
	if (pct(r, 30))
		memcpy(k->dmac, P->macs[rnd(r, D_MACS)], 6);
	else
		memcpy(k->dmac, "\x02\x00\x00\x00\x00\x02", 6);
	k->iface = R && R->in_on ? R->in : pct(r, 10);

	/* network layer details */
	if (pct(r, 6))
		k->frag = 2;
	else if (pct(r, 4))
		k->frag = 1;
	if (k->fam == 6 && pct(r, 15)) {
		static const uint8_t ext[] = { 0, 60, 43, 51 };

		k->n_ext = 1 + rnd(r, 3);
		for (int i = 0; i < k->n_ext; i++)
			k->ext[i] = ext[rnd(r, sizeof(ext))];
	}
	if (k->fam == 4 && pct(r, 10))
		k->ip_options = 4 * (1 + rnd(r, 4));
	k->payload_len = rnd(r, 5) ? rnd(r, 48) : 0;

	if (R && pct(r, 30))
		mutate(P, r, R, k);
}

static const uint8_t d_payload[64] = {
	0x10, 0x2a, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'x', 0x00,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static size_t build_frame(const struct d_pkt *k, uint8_t *buf, size_t cap)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], smac[18], dmac[18];
	struct pkt_opts o = { 0 };

	if (k->non_ip && k->n_vlan) {	/* the tag and the real EtherType lead the payload */
		uint8_t p[4 + sizeof(d_payload)] = { k->vlan[0] >> 8, k->vlan[0] & 0xff,
						    k->ethertype >> 8, k->ethertype & 0xff };

		memcpy(p + 4, d_payload, k->payload_len);
		return pkt_build_raw(buf, cap, 0x8100, p, 4 + k->payload_len);
	}
	if (k->non_ip)
		return pkt_build_raw(buf, cap, k->ethertype, d_payload, k->payload_len);
	inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->sa, sa, sizeof(sa));
	inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->da, da, sizeof(da));
	snprintf(smac, sizeof(smac), "%02x:%02x:%02x:%02x:%02x:%02x", k->smac[0], k->smac[1],
		 k->smac[2], k->smac[3], k->smac[4], k->smac[5]);
	o.src = sa;
	o.dst = da;
	o.proto = k->proto;
	o.sport = k->sport;
	o.dport = k->dport;
	o.smac = smac;
	snprintf(dmac, sizeof(dmac), "%02x:%02x:%02x:%02x:%02x:%02x", k->dmac[0], k->dmac[1],
		 k->dmac[2], k->dmac[3], k->dmac[4], k->dmac[5]);
	o.dmac = dmac;
	o.n_vlan = k->n_vlan;
	o.vlan[0] = k->vlan[0];
	o.vlan[1] = k->vlan[1];
	o.qinq = k->qinq;
	o.frag = k->frag;
	o.v6_ext = k->ext;
	o.n_v6_ext = k->n_ext;
	o.ip_options = k->ip_options;
	o.payload = d_payload;
	o.payload_len = k->payload_len;
	return pkt_build(buf, cap, &o);
}

static void describe_packet(const struct d_pkt *k, char *buf, size_t cap)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	size_t n;

	if (k->non_ip) {
		snprintf(buf, cap, "non-IP ethertype 0x%04x%s, %d payload bytes, on fx%d",
			 k->ethertype, k->n_vlan ? " behind an 802.1Q tag" : "", k->payload_len,
			 k->iface);
		return;
	}
	inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->sa, sa, sizeof(sa));
	inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->da, da, sizeof(da));
	n = snprintf(buf, cap,
		     "IPv%u %s -> %s proto %u sport %u dport %u smac %02x:%02x:%02x:%02x:%02x:%02x "
		     "dmac %02x:%02x:%02x:%02x:%02x:%02x on fx%d",
		     k->fam, sa, da, k->proto, k->sport, k->dport, k->smac[0], k->smac[1], k->smac[2],
		     k->smac[3], k->smac[4], k->smac[5], k->dmac[0], k->dmac[1], k->dmac[2],
		     k->dmac[3], k->dmac[4], k->dmac[5], k->iface);
	if (k->n_vlan && n < cap)
		n += snprintf(buf + n, cap - n, ", outer tag 0x%04x vlan %u", k->qinq ? 0x88a8 : 0x8100,
			      k->vlan[0]);
	if (k->n_vlan > 1 && n < cap)
		n += snprintf(buf + n, cap - n, ", inner vlan %u", k->vlan[1]);
	if (k->frag && n < cap)
		n += snprintf(buf + n, cap - n, ", %s fragment", k->frag == 1 ? "first" : "later");
	for (int i = 0; i < k->n_ext && n < cap; i++)
		n += snprintf(buf + n, cap - n, "%s%u", i ? "," : ", v6 ext ", k->ext[i]);
	if (k->ip_options && n < cap)
		n += snprintf(buf + n, cap - n, ", %d option bytes", k->ip_options);
	if (n < cap)
		snprintf(buf + n, cap - n, ", %d payload bytes%s", k->payload_len,
			 k->mutated ? " (mutated)" : "");
}

/* ---- one round -------------------------------------------------------------------------- */

static struct fx d_fx;
static int d_fx_err = -ENODEV;
static int d_packets = D_PACKETS_DEFAULT;

struct round {
	uint64_t seed;
	char name[64];
};

static const char *rule_name(const struct d_policy *P, int rule)
{
	return rule >= 0 ? P->rules[rule].name : "(default)";
}

static uint64_t counter_of(const struct d_policy *P, int rule, uint64_t dflt0)
{
	return rule >= 0 ? fx_rule_packets(&d_fx, P->rules[rule].name) :
			   fx_default_packets(&d_fx) - dflt0;
}

static void save_policy(const struct d_policy *P, char *path, size_t cap)
{
	FILE *f;

	mkdir("build", 0755);
	mkdir(D_LOG_DIR, 0755);
	snprintf(path, cap, D_LOG_DIR "/differential-%" PRIx64 ".policy", P->seed);
	f = fopen(path, "w");
	if (!f || fwrite(P->text, 1, P->text_len, f) != P->text_len) {
		snprintf(path, cap, "(could not write " D_LOG_DIR "/differential-%" PRIx64 ".policy)",
			 P->seed);
	}
	if (f)
		fclose(f);
}

struct tally {
	uint64_t pass, drop, non_ip;
};

static int iface_stats(int iface, struct fringe_iface_stats *st)
{
	return fx_iface_stats(&d_fx, iface ? d_fx.ifindex2 : d_fx.ifindex, st);
}

static void test_round(void **state)
{
	const struct round *rd = *state;
	struct d_policy *P;
	uint64_t *ref, *track, ref_dflt = 0, track_dflt = 0, dflt0;
	struct fringe_iface_stats st0[2], st1[2];
	struct tally t[2] = { 0 };
	struct rng r = { rd->seed ^ 0x7061636b65747300ULL };
	int failures = 0, printed = 0, printed_c = 0, hit_rules = 0, n_v6 = 0, n_vlan = 0, n_frag = 0, n_ext = 0,
	    n_target = 0, n_mut = 0, n_drop = 0;
	int m_src = 0, m_dst = 0, m_set = 0, m_proto = 0, m_ports = 0, m_vlan = 0, m_mac = 0,
	    m_in = 0, m_slash0 = 0, m_host = 0;
	char path[256], desc[512];
	uint8_t frame[1024];
	struct timespec ts0, ts1;
	int err;

	if (d_fx_err == -EPERM)
		skip();
	assert_int_equal(d_fx_err, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts0);

	P = calloc(1, sizeof(*P));
	assert_non_null(P);
	gen_policy(P, rd->seed);
	emit_policy(P);
	ref = calloc(P->n_rules, sizeof(*ref));
	track = calloc(P->n_rules, sizeof(*track));
	assert_non_null(ref);
	assert_non_null(track);

	err = fx_load(&d_fx, P->text);
	if (err) {
		save_policy(P, path, sizeof(path));
		fail_msg("seed 0x%" PRIx64 ": the generated policy did not load (%s); it is in %s",
			 P->seed, strerror(-err), path);
	}
	/* Fresh names: every counter starts at zero. */
	for (int i = 0; i < P->n_rules; i++) {
		uint64_t c = fx_rule_packets(&d_fx, P->rules[i].name);

		if (c) {
			save_policy(P, path, sizeof(path));
			fail_msg("seed 0x%" PRIx64 ": rule %s counts %" PRIu64 " right after the load "
				 "(want 0); policy in %s", P->seed, P->rules[i].name, c, path);
		}
	}
	dflt0 = fx_default_packets(&d_fx);
	assert_int_equal(iface_stats(0, &st0[0]), 0);
	assert_int_equal(iface_stats(1, &st0[1]), 0);

	for (int i = 0; i < d_packets; i++) {
		struct d_pkt k;
		uint32_t act = UINT32_MAX, want_act;
		int want = -1, got_rule = -2;
		uint64_t after;
		size_t len;
		bool ok;

		gen_packet(P, &r, &k);
		len = build_frame(&k, frame, sizeof(frame));
		describe_packet(&k, desc, sizeof(desc));
		if (!len)
			fail_msg("seed 0x%" PRIx64 " packet %d: pkt_build refused %s", P->seed, i, desc);
		err = fx_run(&d_fx, frame, len, k.iface ? d_fx.ifindex2 : d_fx.ifindex, &act);
		if (err)
			fail_msg("seed 0x%" PRIx64 " packet %d: test run failed: %s", P->seed, i,
				 strerror(-err));

		if (k.non_ip) {		/* match no rule, pass, counted as non-IP */
			t[k.iface].non_ip++;
			t[k.iface].pass++;
			if (act == XDP_PASS)
				continue;
			failures++;
			if (printed++ < D_PRINT_MAX)
				print_error("seed 0x%" PRIx64 " packet %d: %s: XDP action %u, want "
					    "XDP_PASS\n", P->seed, i, desc, act);
			continue;
		}

		want = ref_classify(P, &k);
		want_act = ref_drops(P, want) ? XDP_DROP : XDP_PASS;
		if (want >= 0) {
			ref[want]++;
		} else {
			ref_dflt++;
		}
		if (want_act == XDP_DROP) {
			t[k.iface].drop++;
			n_drop++;
		} else {
			t[k.iface].pass++;
		}
		n_v6 += k.fam == 6;
		n_vlan += k.n_vlan > 0;
		n_frag += k.frag != 0;
		n_ext += k.n_ext > 0;
		n_target += k.target >= 0;
		n_mut += k.mutated;

		/* The expected counter moved by one (so no other did: one counter per packet). */
		after = counter_of(P, want, dflt0);
		ok = act == want_act && after == (want >= 0 ? track[want] : track_dflt) + 1;
		if (ok) {
			if (want >= 0)
				track[want]++;
			else
				track_dflt++;
			continue;
		}

		/* Which counter did move: that is the rule the data plane chose. */
		failures++;
		for (int j = 0; j < P->n_rules; j++) {
			uint64_t c = fx_rule_packets(&d_fx, P->rules[j].name);

			if (c != track[j]) {
				got_rule = j;
				track[j] = c;
			}
		}
		after = fx_default_packets(&d_fx) - dflt0;
		if (after != track_dflt) {
			got_rule = -1;
			track_dflt = after;
		}
		if (printed++ < D_PRINT_MAX) {
			print_error("seed 0x%" PRIx64 " packet %d: %s\n"
				    "    want rule %s (line %d, %s): %s\n"
				    "    got  rule %s (line %d): %s\n",
				    P->seed, i, desc, rule_name(P, want),
				    want >= 0 ? P->rules[want].line : 0,
				    want >= 0 ? "first match" : "no rule matches",
				    want_act == XDP_DROP ? "XDP_DROP" : "XDP_PASS",
				    got_rule == -2 ? "(no counter moved)" : rule_name(P, got_rule),
				    got_rule >= 0 ? P->rules[got_rule].line : 0,
				    act == XDP_DROP ? "XDP_DROP" : act == XDP_PASS ? "XDP_PASS" :
				    "other XDP action");
		}
	}

	/* Every counter equals the reference's count. */
	for (int j = 0; j < P->n_rules; j++) {
		uint64_t c = fx_rule_packets(&d_fx, P->rules[j].name);

		hit_rules += ref[j] > 0;
		if (c != ref[j]) {
			failures++;
			if (printed_c++ < D_PRINT_MAX)
				print_error("seed 0x%" PRIx64 ": rule %s (line %d) counted %" PRIu64
					    " packets, reference %" PRIu64 "\n",
					    P->seed, P->rules[j].name, P->rules[j].line, c, ref[j]);
		}
	}
	if (fx_default_packets(&d_fx) - dflt0 != ref_dflt) {
		failures++;
		print_error("seed 0x%" PRIx64 ": default counted %" PRIu64 " packets, reference %" PRIu64
			    "\n", P->seed, fx_default_packets(&d_fx) - dflt0, ref_dflt);
	}
	assert_int_equal(iface_stats(0, &st1[0]), 0);
	assert_int_equal(iface_stats(1, &st1[1]), 0);
	for (int i = 0; i < 2; i++) {
		const struct fringe_counter *v0 = st0[i].verdict, *v1 = st1[i].verdict;
		uint64_t pass = v1[FRINGE_V_PASS].packets - v0[FRINGE_V_PASS].packets;
		uint64_t drop = v1[FRINGE_V_DROP].packets - v0[FRINGE_V_DROP].packets;
		uint64_t pol = st1[i].drops[FRINGE_DROP_POLICY] - st0[i].drops[FRINGE_DROP_POLICY];
		uint64_t nip = st1[i].non_ip - st0[i].non_ip;

		if (pass != t[i].pass || drop != t[i].drop || pol != t[i].drop || nip != t[i].non_ip) {
			failures++;
			print_error("seed 0x%" PRIx64 ": fx%d counted pass %" PRIu64 " drop %" PRIu64
				    " (policy %" PRIu64 ") non-IP %" PRIu64 "; reference pass %" PRIu64
				    " drop %" PRIu64 " non-IP %" PRIu64 "\n",
				    P->seed, i, pass, drop, pol, nip, t[i].pass, t[i].drop, t[i].non_ip);
		}
	}

	/* What this round covered. */
	for (int j = 0; j < P->n_rules; j++) {
		const struct d_rule *R = &P->rules[j];

		m_src += R->src.on;
		m_dst += R->dst.on;
		m_set += (R->src.on && R->src.set >= 0) + (R->dst.on && R->dst.set >= 0) +
			 (R->sport.on && R->sport.set >= 0) + (R->dport.on && R->dport.set >= 0) +
			 (R->mac_on && R->mac_set >= 0);
		m_proto += R->proto_on;
		m_ports += R->sport.on || R->dport.on;
		m_vlan += R->vlan_on;
		m_mac += R->mac_on;
		m_in += R->in_on;
		m_slash0 += is_slash0(&R->src) || is_slash0(&R->dst);
		m_host += is_host(&R->src) || is_host(&R->dst);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	print_message("seed 0x%" PRIx64 ": %d rules (src %d, dst %d, @set %d, /0 %d, host %d, "
		      "proto %d, ports %d, vlan %d, mac %d, in %d), %d sets, default %s; "
		      "%d packets (aimed %d, mutated %d, IPv6 %d, VLAN %d, fragments %d, v6 ext %d, "
		      "non-IP %" PRIu64 "): %d rules hit, default %" PRIu64 ", %d dropped; %.1fs\n",
		      P->seed, P->n_rules, m_src, m_dst, m_set, m_slash0, m_host, m_proto, m_ports,
		      m_vlan, m_mac, m_in, P->n_sets,
		      P->dflt < 0 ? "absent" : P->dflt ? "drop" : "allow", d_packets, n_target, n_mut,
		      n_v6, n_vlan, n_frag, n_ext, t[0].non_ip + t[1].non_ip, hit_rules, ref_dflt,
		      n_drop,
		      (ts1.tv_sec - ts0.tv_sec) + (ts1.tv_nsec - ts0.tv_nsec) / 1e9);

	if (!failures && getenv("FRINGE_DIFF_KEEP")) {
		save_policy(P, path, sizeof(path));
		print_message("seed 0x%" PRIx64 ": policy kept in %s\n", P->seed, path);
	}
	if (failures) {
		save_policy(P, path, sizeof(path));
		print_error("seed 0x%" PRIx64 ": %d mismatches; policy in %s; reproduce with "
			    "FRINGE_DIFF_SEED=0x%" PRIx64 " build/tests/bpf/test_differential\n",
			    P->seed, failures, path, P->seed);
	}
	free(ref);
	free(track);
	free(P->text);
	free(P);
	if (failures)
		fail_msg("seed 0x%" PRIx64 ": data plane and reference disagree", rd->seed);
}

static int group_setup(void **state)
{
	d_fx_err = fx_open(&d_fx);
	if (d_fx_err && d_fx_err != -EPERM)
		fprintf(stderr, "fx_open: %s\n", strerror(-d_fx_err));
	return 0;
}

static int group_teardown(void **state)
{
	if (!d_fx_err)
		fx_close(&d_fx);
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

int main(void)
{
	size_t n_seeds = sizeof(d_seeds) / sizeof(d_seeds[0]), n;
	struct CMUnitTest *tests;
	struct round *rounds;
	uint64_t one = env_u64("FRINGE_DIFF_SEED", 0);
	int rc;

	d_packets = env_u64("FRINGE_DIFF_PACKETS", D_PACKETS_DEFAULT);
	n = one ? 1 : env_u64("FRINGE_DIFF_ROUNDS", n_seeds);
	tests = calloc(n, sizeof(*tests));
	rounds = calloc(n, sizeof(*rounds));
	if (!tests || !rounds)
		return 1;
	for (size_t i = 0; i < n; i++) {
		/* beyond the fixed seeds: a range of their own (rule names stay unique) */
		rounds[i].seed = one ? one : i < n_seeds ? d_seeds[i] : 0x5eed10000 + i;
		snprintf(rounds[i].name, sizeof(rounds[i].name), "differential_seed_0x%" PRIx64,
			 rounds[i].seed);
		tests[i].name = rounds[i].name;
		tests[i].test_func = test_round;
		tests[i].initial_state = &rounds[i];
	}
	rc = _cmocka_run_group_tests("differential", tests, n, group_setup, group_teardown);
	if (d_fx_err == -EPERM) {
		printf("SKIP: loading BPF programs needs privileges (CAP_BPF, CAP_NET_ADMIN)\n");
		rc = 77;
	}
	free(tests);
	free(rounds);
	return rc;
}
