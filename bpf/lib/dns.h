/* SPDX-License-Identifier: GPL-2.0 */
/* DNS names in sets: remember queries, learn A/AAAA answers to them, find a learned address's sets. */
#ifndef FRINGE_BPF_DNS_H
#define FRINGE_BPF_DNS_H

#include "common.h"
#include "maps.h"
#include "pkt.h"

/*
 * What is parsed, and what is refused (counted `malformed`, nothing learned
 * from the rest of the answer):
 *  - UDP port 53 only, first fragments or whole datagrams; the first
 *    DNS_BUF bytes of the message (the rest of a larger answer is not read);
 *  - a header, then exactly one question (QR=1, opcode 0, RCODE 0 to learn);
 *  - names of at most DNS_MAX_LABELS labels and 255 bytes, compression
 *    pointers only backwards (no loop can be written) and at most
 *    DNS_MAX_JUMPS of them; label types 0x40/0x80 are refused;
 *  - up to DNS_MAX_RR answer records, each within the message; class IN
 *    A (4 bytes) and AAAA (16 bytes) whose owner is the question or a CNAME
 *    target reached from it in the same answer (records in order), CNAME
 *    chains of up to DNS_MAX_CHAIN names.  Authority and additional records
 *    teach nothing.
 */
#define DNS_BUF		2048		/* bytes of a message copied to scratch (a power of 2) */
#define DNS_MASK	(DNS_BUF - 1)
#define DNS_MAX_LABELS	32
#define DNS_MAX_JUMPS	8
#define DNS_MAX_RR	32
#define DNS_MAX_CHAIN	8
#define DNS_HDR		12
#define DNS_TYPE_A	1
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_AAAA	28

/* dns_name's walk, one step (a label or a pointer) per bpf_loop iteration. */
struct dns_naming {
	__u32 pos, len, total, jumps, end, next;
	int n;			/* labels so far; -1: malformed */
	int done;
};

/* dns_match, one label per bpf_loop iteration, from the last. */
struct dns_hashing {
	__u64 h;
	__u32 n;		/* labels of the name */
	__u32 slot;		/* whose names to match; DNS_HASH_ONLY: hash only */
	__u32 sets;
	__u32 staged;		/* also the staged policy's names (for their keys) */
	__u32 hit;		/* a name of either policy matched */
};
#define DNS_HASH_ONLY 0xff	/* not a slot (FRINGE_POLICY_SLOTS) */

/* The answer's walk, one record per bpf_loop iteration. */
struct dns_walk {
	__u64 generation;
	__u32 slot;
	__u32 pad;
	__u64 now;
	__u64 qname;
	__u32 off, len, left;
	__u32 sets;			/* of the question and the chain so far */
	__u32 n_chain;
	__u32 n_addrs;			/* in dns_scratch.addrs */
	__u32 malformed;
	__u32 staged;			/* a staged policy lists names too (dns_hashing) */
	__u32 hits;			/* a name of either policy matched */
};

/* An address of the answer to learn once the whole answer is found sound. */
struct dns_addr_rr {
	__u32 off;			/* of its 4 or 16 bytes in the message */
	__u32 ttl;
	__u32 sets;			/* of the chain up to its owner */
	__u32 family;
};

/*
 * Everything DNS works on lives here, in map memory, not on the stack: the
 * verifier does not track values in map memory, so the states of its loops
 * converge instead of multiplying with every label and record.
 */
struct dns_scratch {
	struct dns_naming nm;
	struct dns_hashing hs;
	struct dns_walk wk;
	/* keys and values of map updates: the stack of four nested calls is small */
	struct fringe_hkey hk;
	struct fringe_dns_addr_key ak;
	struct fringe_dns_learned lv;
	struct fringe_dns_query_key qk;
	struct fringe_dns_query qv;
	__u8 buf[DNS_BUF + 16];		/* + 16: an address read at any masked offset stays inside */
	__u16 lab_off[DNS_MAX_LABELS];
	__u8 lab_len[DNS_MAX_LABELS];
	__u64 chain[DNS_MAX_CHAIN];	/* fringe_dns_hash of the question and its CNAME targets */
	__u64 keys[FRINGE_DNS_KEYS];	/* the names/wildcards of the policy that matched */
	struct dns_addr_rr addrs[DNS_MAX_RR];
	struct fringe_bitmap bm[2];	/* a learned address's rules, src and dst (policy.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} fringe_dns_scratch SEC(".maps");

/* Keys in read-only data rather than on the stack (fringe_zero, maps.h):
 * the DNS path's frames add to the data plane's (512 bytes for every frame
 * of the deepest chain of calls and callbacks). */
static const __u32 dns_staged_slot = FRINGE_SLOT_STAGED;

static __always_inline void dns_count(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&fringe_dns_stats, &what);

	if (c)
		*c += 1;
}

static __always_inline __u8 dns_u8(const struct dns_scratch *s, __u32 off)
{
	return s->buf[off & DNS_MASK];
}

static __always_inline __u16 dns_u16(const struct dns_scratch *s, __u32 off)
{
	return (__u16)dns_u8(s, off) << 8 | dns_u8(s, off + 1);
}


static long dns_name_cb(__u32 i, void *arg)
{
	struct dns_naming *x;
	struct dns_scratch *s;
	__u32 pos;
	__u8 c;

	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	if (!s)
		return 1;
	x = &s->nm;
	pos = x->pos;
	if (pos >= x->len)
		goto bad;
	c = dns_u8(s, pos);
	if (c == 0) {
		x->next = x->end ? x->end : pos + 1;
		x->done = 1;
		return 1;
	}
	if ((c & 0xc0) == 0xc0) {
		__u32 ptr;

		if (pos + 1 >= x->len || ++x->jumps > DNS_MAX_JUMPS)
			goto bad;
		ptr = (__u32)(c & 0x3f) << 8 | dns_u8(s, pos + 1);
		if (!x->end)
			x->end = pos + 2;
		/* Only backwards, so a chain of pointers always ends. */
		if (ptr >= pos)
			goto bad;
		x->pos = ptr;
		return 0;
	}
	if (c & 0xc0)
		goto bad;
	x->total += c + 1;
	if (x->n >= DNS_MAX_LABELS || x->total > 255 || pos + 1 + c > x->len)
		goto bad;
	s->lab_off[x->n & (DNS_MAX_LABELS - 1)] = pos + 1;
	s->lab_len[x->n & (DNS_MAX_LABELS - 1)] = c;
	x->n++;
	x->pos = pos + 1 + c;
	return 0;
bad:
	x->n = -1;
	x->done = 1;
	return 1;
}

/*
 * The name at off (the message's first len bytes): its labels into
 * s->lab_*, *next the offset after it where it was written.  The number of
 * labels (0 for the root), or -1 when it is malformed.
 */
/* (The offset after the name is left in s->nm.next.) */
static __always_inline int dns_name(struct dns_scratch *s, __u32 off, __u32 len)
{
	__builtin_memset(&s->nm, 0, sizeof(s->nm));
	s->nm.pos = off;
	s->nm.len = len;
	s->nm.total = 1;
	bpf_loop(DNS_MAX_LABELS + DNS_MAX_JUMPS + 1, dns_name_cb, NULL, 0);
	if (!s->nm.done || s->nm.n < 0)
		return -1;
	return s->nm.n;
}

/* A label's bytes folded into h, as fringe_dns_hash_label in abi.h does. */
static __always_inline __u64 dns_hash_label(const struct dns_scratch *s, __u64 h, __u32 off, __u32 len)
{
	h = (h ^ len) * FRINGE_DNS_FNV_PRIME;
	for (__u32 k = 0; k < 64; k += 8) {
		__u64 chunk, mask;

		if (k >= len)
			break;
		chunk = *(const __u64 *)&s->buf[(off + k) & DNS_MASK];
		mask = len - k >= 8 ? ~0ULL : (1ULL << (8 * (len - k))) - 1;
		chunk = (chunk | 0x2020202020202020ULL) & mask;
		h = (h ^ chunk) * FRINGE_DNS_FNV_PRIME;
	}
	return h;
}


static long dns_label_cb(__u32 i, void *arg)
{
	struct dns_hashing *x;
	struct dns_scratch *s;
	__u32 j;
	void *hash;
	__u32 *m;

	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	if (!s)
		return 1;
	x = &s->hs;
	if (i >= x->n)
		return 1;
	j = (x->n - 1 - i) & (DNS_MAX_LABELS - 1);
	x->h = dns_hash_label(s, x->h, s->lab_off[j], s->lab_len[j]);
	if (x->slot == DNS_HASH_ONLY)
		return 0;
	hash = bpf_map_lookup_elem(&fringe_slot_hash, &x->slot);	/* a slot here */
	if (!hash)
		return 1;
	/* The whole name is listed, or `*.SUFFIX` for a proper suffix. */
	__builtin_memset(&s->hk, 0, sizeof(s->hk));
	s->hk.kind = j == 0 ? FRINGE_HK_DNS_NAME : FRINGE_HK_DNS_WILD;
	*(__u64 *)s->hk.data = x->h & ~1ULL;
	m = bpf_map_lookup_elem(hash, &s->hk);
	if (m && *m)
		x->sets |= *m;
	/* A staged policy's names are learned too: their keys find its sets. */
	if (!(m && *m) && x->staged) {
		hash = bpf_map_lookup_elem(&fringe_slot_hash, &dns_staged_slot);
		m = hash ? bpf_map_lookup_elem(hash, &s->hk) : NULL;
	}
	if (m && *m) {
		__u64 key = (x->h & ~1ULL) | (j != 0);

		x->hit = 1;
		for (int q = 0; q < FRINGE_DNS_KEYS; q++) {
			if (s->keys[q] == key)
				break;
			if (!s->keys[q]) {
				s->keys[q] = key;
				break;
			}
		}
	}
	return 0;
}

/*
 * The name of n labels (dns_name, in s->lab_*) against the names of slot's
 * policy (DNS_HASH_ONLY: none): the mask of the sets that list it or a
 * wildcard above it.  *full is its hash.  The keys that matched are added
 * to s->keys (at most FRINGE_DNS_KEYS).
 */
/* (The name's hash is left in s->hs.h.) */
static __always_inline __u32 dns_match(struct dns_scratch *s, int n, __u32 slot)
{
	s->hs.h = FRINGE_DNS_FNV_BASIS;
	s->hs.n = n;
	s->hs.slot = slot;
	s->hs.sets = 0;
	s->hs.staged = s->wk.staged;
	s->hs.hit = 0;
	if (n > 0)
		bpf_loop(DNS_MAX_LABELS, dns_label_cb, NULL, 0);
	s->hs.h &= ~1ULL;
	return s->hs.sets;
}

/*
 * Learn the i-th address of the answer walked (s->addrs).  A callback of
 * fringe_dns_observe's own, after the walk, not a call from dns_rr: each
 * frame of the deepest chain of calls and callbacks adds to the data
 * plane's stack (512 bytes in all).
 */
static long dns_learn_cb(__u32 i, void *arg)
{
	const struct dns_addr_rr *a;
	struct fringe_dns_addr_key *k;
	struct fringe_dns_learned *l, *v;
	struct dns_scratch *s;
	__u64 expires, now;
	__u32 ttl, off;

	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	if (!s || i >= s->wk.n_addrs)
		return 1;
	a = &s->addrs[i & (DNS_MAX_RR - 1)];
	k = &s->ak;
	v = &s->lv;
	off = a->off & DNS_MASK;
	__builtin_memset(k, 0, sizeof(*k));
	k->family = a->family;
	if (a->family == 4)
		*(__u32 *)k->addr = *(const __u32 *)&s->buf[off];
	else
		__builtin_memcpy(k->addr, &s->buf[off], 16);
	ttl = a->ttl < FRINGE_DNS_TTL_MIN ? FRINGE_DNS_TTL_MIN :
	      a->ttl > FRINGE_DNS_TTL_MAX ? FRINGE_DNS_TTL_MAX : a->ttl;
	now = s->wk.now;
	expires = now + (__u64)ttl * 1000000000ULL;
	l = bpf_map_lookup_elem(&fringe_dns_learned, &fringe_zero);	/* the holder */
	if (!l)
		return 1;	/* no table: no policy lists names any more */
	l = bpf_map_lookup_elem(l, k);
	if (l) {
		if (l->generation != s->wk.generation || l->expires_ns <= now) {
			l->sets = 0;
			l->generation = s->wk.generation;
			__builtin_memset(l->keys, 0, sizeof(l->keys));
		}
		l->sets |= a->sets;
		if (expires > l->expires_ns || l->ttl != ttl)
			l->expires_ns = expires;
		l->ttl = ttl;
		l->qname = s->wk.qname;
		for (int q = 0; q < FRINGE_DNS_KEYS; q++) {
			__u64 key = s->keys[q];

			if (!key)
				break;
			for (int j = 0; j < FRINGE_DNS_KEYS; j++) {
				if (l->keys[j] == key)
					break;
				if (!l->keys[j]) {
					l->keys[j] = key;
					break;
				}
			}
		}
		return 0;
	}
	__builtin_memset(v, 0, sizeof(*v));
	v->expires_ns = expires;
	v->generation = s->wk.generation;
	v->qname = s->wk.qname;
	v->sets = a->sets;
	v->ttl = ttl;
	__builtin_memcpy(v->keys, s->keys, sizeof(v->keys));
	/* The holder again rather than its pointer kept across a call: a register less to spill. */
	l = bpf_map_lookup_elem(&fringe_dns_learned, &fringe_zero);
	if (!l)
		return 1;
	if (bpf_map_update_elem(l, k, v, BPF_NOEXIST) == 0)
		dns_count(FRINGE_DNS_INSERTED);
	else
		dns_count(FRINGE_DNS_FULL);
	return 0;
}

static long dns_rr(__u32 i, void *arg)
{
	struct dns_walk *w;
	struct dns_scratch *s;
	__u32 next, type, rdlen, rd;
	int n, in_chain = 0;

	/* Only s and next live across the loops of dns_name and dns_match;
	 * the rest is read again from the message: a small frame (dns.h's
	 * callbacks run on the data plane's stack). */
	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	if (!s)
		return 1;
	w = &s->wk;
	if (!w->left)
		return 1;
	w->left--;
	n = dns_name(s, w->off, w->len);
	next = s->nm.next;
	if (n < 0 || next + 10 > w->len ||
	    next + 10 + dns_u16(s, next + 8) > w->len) {
		w->malformed = 1;
		return 1;
	}
	w->off = next + 10 + dns_u16(s, next + 8);
	/* The owner's hash, without matching: a name of the chain or not. */
	dns_match(s, n, DNS_HASH_ONLY);
	w = &s->wk;
	for (int j = 0; j < DNS_MAX_CHAIN; j++)
		if (j < w->n_chain && s->chain[j] == s->hs.h)
			in_chain = 1;
	if (!in_chain || dns_u16(s, next + 2) != 1)		/* class IN */
		return !w->left;
	type = dns_u16(s, next);
	rdlen = dns_u16(s, next + 8);
	rd = next + 10;
	if (type == DNS_TYPE_CNAME) {
		n = dns_name(s, rd, rd + rdlen);
		if (n < 0) {
			w->malformed = 1;
			return 1;
		}
		dns_match(s, n, w->slot);
		w = &s->wk;
		w->sets |= s->hs.sets;
		w->hits |= s->hs.hit;
		if (w->n_chain < DNS_MAX_CHAIN)
			s->chain[w->n_chain++ & (DNS_MAX_CHAIN - 1)] = s->hs.h;
	} else if ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16)) {
		if (w->hits && w->n_addrs < DNS_MAX_RR) {
			struct dns_addr_rr *a = &s->addrs[w->n_addrs++ & (DNS_MAX_RR - 1)];

			a->family = type == DNS_TYPE_A ? 4 : 6;
			a->off = rd;
			a->ttl = (__u32)dns_u16(s, next + 4) << 16 | dns_u16(s, next + 6);
			a->sets = w->sets;
		}
	}
	return !w->left;
}

/*
 * A DNS datagram crossing the interface (UDP, port 53 on either side), the
 * packet in fringe_scratch, judged under slot.  A query is remembered; an
 * answer to a remembered query teaches the addresses of the names the
 * policy's sets list, before the answer goes on.  A function of its own,
 * verified once: DNS costs the data plane a call only when a policy lists
 * names.  Under the active slot, a staged policy's names are learned as
 * well; the staged program calls it with FRINGE_SLOT_STAGED when only the
 * staged policy lists names.
 */
__noinline int fringe_dns_observe(struct xdp_md *ctx, __u32 slot_arg)
{
	__u32 slot = slot_arg < FRINGE_POLICY_SLOTS ? slot_arg : 0, cur = slot;
	struct fringe_dns_query *q, *qv;
	void *queries;
	const struct fringe_slot_hdr *hdr;
	struct fringe_meta *meta;
	struct dns_scratch *s;
	struct dns_walk *w;
	struct fringe_dns_query_key *qk;
	__u32 len, off, next, flags, qd, an;
	const struct pkt *p;
	__u64 qname;
	int n, is_answer;

	if (!ctx)
		return 0;
	p = bpf_map_lookup_elem(&fringe_scratch, &fringe_zero);
	meta = bpf_map_lookup_elem(&fringe_meta, &fringe_zero);
	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	if (!p || !meta || !s)
		return 0;
	if (cur >= FRINGE_POLICY_SLOTS)
		return 0;
	hdr = &meta->slot[cur];
	w = &s->wk;
	__builtin_memset(w, 0, sizeof(*w));
	w->generation = hdr->generation;
	w->staged = cur != FRINGE_SLOT_STAGED && (meta->flags & FRINGE_META_STAGED) &&
		    (meta->slot[FRINGE_SLOT_STAGED].flags & FRINGE_SLOT_DNS);
	w->slot = cur;
	qk = &s->qk;
	qv = &s->qv;
	__builtin_memset(qk, 0, sizeof(*qk));
	qk->family = p->family;
	if (p->proto != IPPROTO_UDP || !p->has_ports || p->l4_len < 8 + DNS_HDR)
		return 0;
	is_answer = p->sport == 53;
	if (!is_answer && p->dport != 53)
		return 0;
	len = p->l4_len - 8;
	if (len > DNS_BUF)
		len = DNS_BUF;
	off = p->l4_off + 8;
	if (len < DNS_HDR || len > DNS_BUF ||
	    bpf_xdp_load_bytes(ctx, off & 0xffff, s->buf, len) < 0)
		goto malformed;
	flags = dns_u16(s, 2);
	qd = dns_u16(s, 4);
	an = dns_u16(s, 6);
	if (((flags >> 15) & 1) != is_answer || (flags >> 11 & 0xf) != 0 || qd != 1) {
		if (is_answer)
			goto malformed;
		return 0;	/* a query fringe has no use for (opcode, several questions) */
	}
	n = dns_name(s, DNS_HDR, len);
	next = s->nm.next;
	if (n < 0 || next + 4 > len)
		goto malformed;
	__builtin_memset(s->keys, 0, sizeof(s->keys));
	w->sets = dns_match(s, n, slot);
	w->hits = s->hs.hit;
	qname = s->hs.h;

	qk->txid = *(__u16 *)&s->buf[0];
	if (p->family == 4) {
		__builtin_memcpy(qk->client, is_answer ? p->daddr : p->saddr, 4);
		__builtin_memcpy(qk->server, is_answer ? p->saddr : p->daddr, 4);
	} else {
		__builtin_memcpy(qk->client, is_answer ? p->daddr : p->saddr, 16);
		__builtin_memcpy(qk->server, is_answer ? p->saddr : p->daddr, 16);
	}
	qk->client_port = is_answer ? p->dport : p->sport;
	w->now = bpf_ktime_get_ns();
	queries = bpf_map_lookup_elem(&fringe_dns_queries, &fringe_zero);
	if (!queries)
		return 0;
	if (!is_answer) {
		qv->qname = qname;
		qv->expires_ns = w->now + FRINGE_DNS_QUERY_NS;
		bpf_map_update_elem(queries, qk, qv, BPF_ANY);
		dns_count(FRINGE_DNS_QUERIES);
		return 0;
	}
	/* An answer teaches only when it answers a query seen, once. */
	q = bpf_map_lookup_elem(queries, qk);
	if (!q || q->qname != qname || q->expires_ns < w->now) {
		dns_count(FRINGE_DNS_UNSOLICITED);
		return 0;
	}
	bpf_map_delete_elem(queries, qk);
	if ((flags & 0xf) != 0) {		/* RCODE: NXDOMAIN and the like */
		dns_count(FRINGE_DNS_NO_MATCH);
		return 0;
	}
	s->chain[0] = qname;
	w->n_chain = 1;
	w->qname = qname;
	w->off = next + 4;
	w->len = len;
	w->left = an < DNS_MAX_RR ? an : DNS_MAX_RR;
	/* A broken answer teaches nothing: walk it whole, then learn. */
	if (w->left)
		bpf_loop(DNS_MAX_RR, dns_rr, NULL, 0);
	if (w->malformed)
		goto malformed;
	if (w->n_addrs)
		bpf_loop(DNS_MAX_RR, dns_learn_cb, NULL, 0);
	dns_count(w->n_addrs ? FRINGE_DNS_LEARNED : FRINGE_DNS_NO_MATCH);
	return 0;
malformed:
	dns_count(FRINGE_DNS_MALFORMED);
	return 0;
}

/*
 * The sets a learned, unexpired address is in under the policy of hdr (0
 * when none).  After a reload the mask is found again from the names that
 * taught it, once per address.
 */
static __always_inline __u32 dns_sets_of(const struct fringe_dns_addr_key *k,
					 const struct fringe_slot_hdr *hdr, void *hash)
{
	struct fringe_dns_learned *l;
	void *learned = bpf_map_lookup_elem(&fringe_dns_learned, &fringe_zero);	/* the holder */
	__u32 sets = 0;

	if (!learned)
		return 0;
	l = bpf_map_lookup_elem(learned, k);
	if (!l || l->expires_ns <= bpf_ktime_get_ns())
		return 0;
	if (l->generation == hdr->generation)
		return l->sets;
	if (!hash)
		return 0;
	for (int i = 0; i < FRINGE_DNS_KEYS; i++) {
		union hkey_buf hk = HKEY_ZERO;
		__u64 key = l->keys[i], name = key & ~1ULL;
		__u32 *m;

		if (!key)
			break;
		hk.k.kind = key & 1 ? FRINGE_HK_DNS_WILD : FRINGE_HK_DNS_NAME;
		__builtin_memcpy(hk.k.data, &name, 8);
		m = bpf_map_lookup_elem(hash, &hk.k);
		if (m)
			sets |= *m;
	}
	l->sets = sets;
	l->generation = hdr->generation;
	return sets;
}

/*
 * The rules a learned address admits as `field`, besides b (its trie
 * bitmap): when the address of the packet in fringe_scratch is learned, the
 * union goes to the scratch bitmap of field and 1 is returned; 0 otherwise.
 * Verified once, called only under a policy that lists names, and only
 * after policy_dns_known found the address: its key is the scratch's ak.
 */
__noinline int fringe_dns_union(const struct fringe_bitmap *b, __u32 field, __u32 slot_arg)
{
	/* Any slot, the staged one (FRINGE_SLOT_STAGED) included. */
	__u32 sets, base, idx, slot, cur;
	const struct fringe_slot_hdr *hdr;
	struct fringe_meta *meta;
	struct dns_scratch *s;
	struct fringe_bitmap *u;
	void *hash, *dimtab, *bitmaps;

	if (!b || slot_arg >= FRINGE_POLICY_SLOTS)
		return 0;
	slot = cur = slot_arg;
	meta = bpf_map_lookup_elem(&fringe_meta, &fringe_zero);
	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	hash = bpf_map_lookup_elem(&fringe_slot_hash, &slot);
	dimtab = bpf_map_lookup_elem(&fringe_slot_dimtab, &slot);
	bitmaps = bpf_map_lookup_elem(&fringe_slot_bitmaps, &slot);
	if (!meta || !s || !hash || !dimtab || !bitmaps)
		return 0;
	if (cur >= FRINGE_POLICY_SLOTS)
		return 0;
	hdr = &meta->slot[cur];
	/* The address's key is in the scratch: policy_dns_known built it for
	 * this field just before the call, to find the address learned. */
	sets = dns_sets_of(&s->ak, hdr, hash);
	if (!sets)
		return 0;
	u = &s->bm[field == FRINGE_DIM_SRC ? 0 : 1];
	__builtin_memcpy(u, b, sizeof(*u));
	base = FRINGE_TAB_DNS + (field == FRINGE_DIM_SRC ? 0 : FRINGE_DNS_MAX_SETS);
	for (int i = 0; i < FRINGE_DNS_MAX_SETS && sets; i++) {
		struct fringe_bitmap *d;
		__u32 bit = __builtin_ctz(sets), *ip;

		sets &= sets - 1;
		idx = base + (bit & (FRINGE_DNS_MAX_SETS - 1));
		ip = bpf_map_lookup_elem(dimtab, &idx);
		d = ip ? bpf_map_lookup_elem(bitmaps, ip) : NULL;
		if (!d)
			continue;
		u->summary |= d->summary;
		for (int w = 0; w < FRINGE_BITMAP_WORDS; w++)
			u->word[w] |= d->word[w];
	}
	return 1;
}

#endif
