/* SPDX-License-Identifier: GPL-2.0 */
/* Application recognition for `app`, `modbus-fc` and `mqtt-type`: the port, then a header check. */
#ifndef FRINGE_BPF_APP_H
#define FRINGE_BPF_APP_H

#include "common.h"
#include "maps.h"
#include "pkt.h"

/*
 * A packet is application A when one of its ports is A's well-known port and
 * its payload passes A's header check.  TCP needs two more rules, since a
 * segment need not start with a message:
 *  - a segment without payload (handshake, ACK, FIN) on A's port is a
 *    *candidate*: it matches `app A` rules (so the handshake is admitted), but
 *    no `modbus-fc`/`mqtt-type` rule, having no message to judge;
 *  - the first segment whose payload passes the check *confirms* the flow
 *    (fringe_app_flows); later segments of a confirmed flow are A even when
 *    they continue a message, and an unconfirmed flow's payload that fails
 *    the check is not A (a port-only impostor).
 */

#define TCP_FLAGS_OFF 12

/* n bytes of the frame at off, or NULL when the frame is shorter. */
#define APP_BYTES(data, data_end, off, n)                                               \
	({                                                                              \
		const __u8 *b_ = (const __u8 *)(data) + ((off) & 0x3fff);               \
		(const void *)(b_ + (n)) > (data_end) ? NULL : b_;                      \
	})

static __always_inline int app_tls_record(const __u8 *b)
{
	return b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4;
}

/* MQTT fixed header: a known type, its fixed flags, a well-formed remaining length. */
static __always_inline int app_mqtt(void *data, void *data_end, __u32 off, __u32 plen, __u16 *appx)
{
	const __u8 *b = APP_BYTES(data, data_end, off, 2);
	__u8 type, flags;

	if (!b || plen < 2)
		return 0;
	type = b[0] >> 4;
	flags = b[0] & 0xf;
	if (type == 0)
		return 0;
	if (type == 3) {			/* PUBLISH: QoS 3 does not exist */
		if ((flags & 0x6) == 0x6)
			return 0;
	} else if (type == 6 || type == 8 || type == 10) {
		if (flags != 0x2)		/* PUBREL, SUBSCRIBE, UNSUBSCRIBE */
			return 0;
	} else if (flags) {
		return 0;
	}
	/* Remaining length: 1 to 4 bytes, the last without the continuation
	 * bit.  Its first byte is read already: most messages end there. */
	if (!(b[1] & 0x80)) {
		*appx = FRINGE_APPX_MQTT + type;
		return 1;
	}
#pragma unroll
	for (int i = 2; i <= 4; i++) {
		const __u8 *c = APP_BYTES(data, data_end, off + i, 1);

		if (!c || (__u32)i >= plen)
			return 0;
		if (!(*c & 0x80)) {
			*appx = FRINGE_APPX_MQTT + type;
			return 1;
		}
	}
	return 0;
}

/* Modbus/TCP MBAP header: protocol id 0, a length that fits a PDU, then the function code. */
static __always_inline int app_modbus(void *data, void *data_end, __u32 off, __u32 plen, __u16 *appx)
{
	const __u8 *b = APP_BYTES(data, data_end, off, 8);
	__u16 len;

	if (!b || plen < 8)
		return 0;
	len = (__u16)b[4] << 8 | b[5];
	if (b[2] || b[3] || len < 2 || len > 254)
		return 0;
	*appx = FRINGE_APPX_MODBUS + b[7];
	return 1;
}

static __always_inline int app_coap(const __u8 *b, __u32 plen)
{
	__u8 tkl = b[0] & 0xf, cls = b[1] >> 5;

	return (b[0] >> 6) == 1 && tkl <= 8 && plen >= 4u + tkl &&
	       (cls == 0 || cls == 2 || cls == 4 || cls == 5);
}

static __always_inline int app_opcua(const __u8 *b)
{
	__u32 t = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];

	if (b[3] != 'F' && b[3] != 'C' && b[3] != 'A')
		return 0;
	return t == ('H' << 16 | 'E' << 8 | 'L') || t == ('A' << 16 | 'C' << 8 | 'K') ||
	       t == ('O' << 16 | 'P' << 8 | 'N') || t == ('M' << 16 | 'S' << 8 | 'G') ||
	       t == ('C' << 16 | 'L' << 8 | 'O') || t == ('E' << 16 | 'R' << 8 | 'R') ||
	       t == ('R' << 16 | 'H' << 8 | 'E');
}

static __always_inline int app_dns(const __u8 *b)
{
	__u8 opcode = (b[2] >> 3) & 0xf;
	__u16 qd = (__u16)b[4] << 8 | b[5];

	return (opcode <= 2 || opcode == 4 || opcode == 5) && qd >= 1 && qd <= 16 && !(b[3] & 0x40);
}

/* Which application a port pair names, by transport: 0 when none. */
static __always_inline __u8 app_by_port(__u8 proto, __u16 port)
{
	if (proto == IPPROTO_TCP) {
		switch (port) {
		case 1883: return FRINGE_APP_MQTT;
		case 8883: return FRINGE_APP_MQTTS;
		case 502: return FRINGE_APP_MODBUS;
		case 4840: return FRINGE_APP_OPCUA;
		case 20000: return FRINGE_APP_DNP3;
		case 53: return FRINGE_APP_DNS;
		}
	} else if (proto == IPPROTO_UDP) {
		switch (port) {
		case 5683: return FRINGE_APP_COAP;
		case 5684: return FRINGE_APP_COAPS;
		case 47808: return FRINGE_APP_BACNET;
		case 20000: return FRINGE_APP_DNP3;
		case 53: return FRINGE_APP_DNS;
		case 123: return FRINGE_APP_NTP;
		}
	}
	return FRINGE_APP_NONE;
}

/* The header check of app on the payload at off (plen bytes). */
static __always_inline int app_check(__u8 app, __u8 proto, void *data, void *data_end, __u32 off,
				     __u32 plen, __u16 *appx)
{
	const __u8 *b = APP_BYTES(data, data_end, off, 4);

	switch (app) {
	case FRINGE_APP_MQTT:
		return app_mqtt(data, data_end, off, plen, appx);
	case FRINGE_APP_MODBUS:
		return app_modbus(data, data_end, off, plen, appx);
	}
	if (!b || plen < 4)
		return 0;
	switch (app) {
	case FRINGE_APP_MQTTS:
		return plen >= 5 && app_tls_record(b);
	case FRINGE_APP_COAP:
		return app_coap(b, plen);
	case FRINGE_APP_COAPS:		/* DTLS 1.0/1.2 record header */
		return plen >= 13 && b[0] >= 20 && b[0] <= 25 && b[1] == 0xfe &&
		       (b[2] == 0xff || b[2] == 0xfd);
	case FRINGE_APP_BACNET:		/* BVLC: type 0x81, a known function, the UDP length */
		return b[0] == 0x81 && b[1] <= 0x0c && ((__u32)b[2] << 8 | b[3]) == plen;
	case FRINGE_APP_OPCUA:
		return plen >= 8 && app_opcua(b);
	case FRINGE_APP_DNP3:		/* link header start bytes and a sane length */
		return plen >= 10 && b[0] == 0x05 && b[1] == 0x64 && b[2] >= 5;
	case FRINGE_APP_DNS: {
		/* Over TCP a 2-byte length comes first. */
		__u32 hoff = proto == IPPROTO_TCP ? 2 : 0;
		const __u8 *h = APP_BYTES(data, data_end, off + hoff, 12);

		return h && plen >= 12 + hoff && app_dns(h);
	}
	case FRINGE_APP_NTP: {		/* version 1-4, mode 1-7, a full header */
		__u8 vn = (b[0] >> 3) & 7, mode = b[0] & 7;

		return plen >= 48 && vn >= 1 && vn <= 4 && mode >= 1;
	}
	}
	return 0;
}

/* Stateless part, at parse time: p->app, p->appx, and what TCP state must decide.
 * Inline: a function call costs more than the whole check on CPUs whose
 * return-stack mitigations make every `ret` expensive. */
static __always_inline void app_detect(struct __ctx_buff *ctx, struct pkt *p)
{
	__u8 app, found = FRINGE_APP_NONE, maybe = FRINGE_APP_NONE, state = APP_NONE;
	__u16 appx = FRINGE_APPX_NONE;
	__u32 hlen, plen, off;
	void *data, *data_end;

	if (!p->has_ports)
		goto out;
	app = app_by_port(p->proto, p->dport);
	if (!app)
		app = app_by_port(p->proto, p->sport);
	if (!app)
		goto out;
	if (p->proto == IPPROTO_TCP) {
		hlen = p->tcp_hlen;	/* 0 when the header is cut short */
		if (hlen < 20 || hlen > p->l4_len)
			goto out;
	} else {
		hlen = 8;
		if (p->l4_len < 8)
			goto out;
	}
	plen = p->l4_len - hlen;
	off = p->l4_off + hlen;
	if (!plen) {
		if (p->proto == IPPROTO_TCP) {
			found = app;		/* a candidate: handshake or bare ACK */
			state = APP_CANDIDATE;
		}
		goto out;
	}
	/* Fresh packet pointers (parse_packet says why). */
	data = ctx_data_again(ctx);
	data_end = ctx_data_end_again(ctx);
	if (app_check(app, p->proto, data, data_end, off, plen, &appx)) {
		found = app;
		state = p->proto == IPPROTO_TCP ? APP_CONFIRMS : APP_SEEN;
	} else {
		appx = FRINGE_APPX_NONE;
		if (p->proto == IPPROTO_TCP) {
			maybe = app;		/* a continuation, if the flow is confirmed */
			state = APP_UNCONFIRMED;
		} else {
			state = APP_FAILED;
		}
	}
out:
	/* The detail, the application and the maybe as one 4-byte store: the
	 * rule memo reads the first two so (rule_memo_who). */
	*(__u32 *)&p->appx = appx | (__u32)found << 16 | (__u32)maybe << 24;
	p->app_state = state;
}

static __always_inline void app_flow_key(struct fringe_app_flow_key *k, const struct pkt *p)
{
	k->family = p->family;
	k->proto = p->proto;
	k->sport = p->sport;
	k->dport = p->dport;
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
}

/* A memo hit consults fringe_app_flows anyway once in this many, so that
 * a flow in steady use stays recent there (and returns if it was evicted).
 * Each consultation is a call and a hash lookup, about 60 ns here: once in
 * 16 it cost every packet of a confirmed flow 4 ns on average, once in 64
 * costs 1.  A flow's LRU entry is still touched many times a second at any
 * rate worth the memo, and the memo puts back an entry the LRU dropped. */
#define APP_MEMO_REFRESH 64

/* Whether the packet's application depends on its flow's state. */
static __always_inline int app_needs_flow(const struct pkt *p)
{
	return p->app_state == APP_CONFIRMS || p->app_state == APP_UNCONFIRMED;
}

/* p's entry in this CPU's application memo and rule memo (policy.h): the
 * words that tell flows apart, folded to one; the same index for both, so
 * a packet that asks both hashes once. */
static __always_inline __u32 flow_memo_index(const struct pkt *p)
{
	return memo_slot(pkt_flow_key(p) ^ memo_addr_fold(p->saddr) ^
			 memo_addr_fold(p->daddr) << 1);
}

/* This CPU's memo entry for p's flow (NULL never happens: the index is below its size). */
static __always_inline struct app_memo *app_memo_of(const struct pkt *p)
{
	__u32 idx = flow_memo_index(p);

	return bpf_map_lookup_elem(&fringe_app_memo, &idx);
}

/* The entry remembers p's flow as confirmed under the policy of generation:
 * the words compared at once, one branch. */
static __always_inline int app_memo_holds(const struct app_memo *m, const struct pkt *p,
					  __u64 generation)
{
	return !((m->generation ^ generation) | (m->flow ^ pkt_flow_word(p)) |
		 memo_addr_differs(&m->saddr, p->saddr) | memo_addr_differs(&m->daddr, p->daddr));
}

/* Stateful part, only when the policy matches on applications: a confirming
 * payload records its flow in fringe_app_flows, a continuation is the
 * application its flow was confirmed as.  This CPU's memo of confirmed flows
 * (fringe_app_memo, under the policy generation) answers first. */
static __always_inline void app_track(struct pkt *p, __u64 generation)
{
	struct fringe_app_flow_key k = {};
	__u32 *app;
	struct app_memo *m;
	__u8 known = 0;
	int hit;
	void *flows;

	if (!app_needs_flow(p))
		return;
	m = app_memo_of(p);
	if (!m)
		return;
	hit = app_memo_holds(m, p, generation);
	if (hit && ++m->hits % APP_MEMO_REFRESH) {
		known = m->app;
		goto out;
	}
	/* Installed by the load of any policy with app rules. */
	flows = held_map(&fringe_app_flows);
	if (!flows)
		return;
	app_flow_key(&k, p);
	app = bpf_map_lookup_elem(flows, &k);
	if (app)
		known = *app;
	else if (hit)
		known = m->app;		/* evicted there, still confirmed here */
	else if (p->app_state == APP_CONFIRMS)
		known = p->app;
	if (!known)
		return;
	if (!app) {
		__u32 v = known;

		if (bpf_map_update_elem(flows, &k, &v, BPF_ANY))
			return;
	}
	if (!hit) {
		m->generation = generation;
		memo_addr_set(&m->saddr, p->saddr);
		memo_addr_set(&m->daddr, p->daddr);
		m->flow = pkt_flow_word(p);
		m->hits = 0;
	}
	m->app = known;
out:
	if (p->app_state == APP_UNCONFIRMED && known == p->app_maybe)
		p->app = known;		/* continues a confirmed flow */
}

#endif
