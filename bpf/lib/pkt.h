/* SPDX-License-Identifier: GPL-2.0 */
/* What parsing learns about a packet: struct pkt, shared by every stage. */
#ifndef FRINGE_BPF_PKT_H
#define FRINGE_BPF_PKT_H

#include "common.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_ 132

enum { PARSE_IP = 0, PARSE_NON_IP = 1 };

/* The rule memo, consulted early (identify_remembered): the rule is known
 * (p->rule), or the memo is known not to hold it. */
enum rule_memo_state {
	RULE_MEMO_UNKNOWN,
	RULE_MEMO_HIT,
	RULE_MEMO_MISSED,
};

enum pkt_frag {
	PKT_FRAG_NONE,
	PKT_FRAG_FIRST,		/* first fragment: ports present */
	PKT_FRAG_LATER,		/* non-first fragment: no ports, no app */
};

/* How app.h recognized the packet's application (TCP needs flow state). */
enum app_state {
	APP_NONE,
	APP_SEEN,		/* a UDP payload passed the check */
	APP_CANDIDATE,		/* a TCP segment without payload on the app's port */
	APP_CONFIRMS,		/* a TCP payload passed the check: confirms the flow */
	APP_UNCONFIRMED,	/* a TCP payload failed it: A only if the flow is confirmed */
	APP_FAILED,		/* a UDP payload failed it: not A (the flow table notes it) */
};

struct pkt {
	struct fringe_scratch_head head;	/* first: user space reads it (abi.h) */
	__u32 len;		/* frame length */
	__u32 l4_off;		/* offset of the L4 header from data */
	/* One 8-byte word, a flow's key for the memos (pkt_flow_word). */
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* upper-layer protocol */
	__u8 has_ports;
	__u8 frag;		/* enum pkt_frag */
	/* One 8-byte word too: the sender's MAC, then the VLAN (pkt_mac_word). */
	__u8 smac[6];
	__u16 vlan;		/* outer VLAN id, FRINGE_NO_VLAN when untagged */
	/* The application, detail first: their three bytes are a word's low
	 * ones (rule_memo_who). */
	__u16 appx;		/* FRINGE_APPX_* */
	__u8 app;		/* enum fringe_app */
	__u8 app_maybe;		/* APP_UNCONFIRMED: the app the port names */
	__u8 app_state;		/* enum app_state */
	__u8 ov;		/* 1: a nodes file is in force (overlay.h); 0: the overlay costs nothing more */
	__u16 l4_len;		/* bytes of L4 header and payload within the frame */
	/* Addresses at 8-byte offsets: the memos read them as two words each. */
	__u8 saddr[16] __attribute__((aligned(8)));	/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 device;		/* the sender's FRINGE_HK_DEV_* value, FRINGE_NO_DEVICE when none */
	__u32 rule;		/* the active policy's rule (index; >= FRINGE_MAX_RULES: default) */
	__u8 staged;		/* a staged policy judges the packet too (staged.h) */
	__u8 memo;		/* enum rule_memo_state: what identification learned of the rule memo */
	__u8 tcp_hlen;		/* TCP: the header's length by its data offset, 0 when not in the packet */
	__u32 claimed;		/* the device a spoofed packet claims (policy_device), for the rule memo */
} __attribute__((aligned(8)));	/* zeroed per packet: in 8-byte stores */
_Static_assert(sizeof(struct pkt) == 88, "struct pkt: fringe_scratch is pinned at this size");
/* The words the memos read (below, maps.h) start at 8-byte offsets. */
_Static_assert(__builtin_offsetof(struct pkt, sport) % 8 == 0 &&
	       __builtin_offsetof(struct pkt, proto) == __builtin_offsetof(struct pkt, sport) + 5 &&
	       __builtin_offsetof(struct pkt, has_ports) == __builtin_offsetof(struct pkt, sport) + 6,
	       "struct pkt: pkt_flow_word's word, rule_memo_flow's");
_Static_assert(__builtin_offsetof(struct pkt, smac) % 8 == 0 &&
	       __builtin_offsetof(struct pkt, vlan) == __builtin_offsetof(struct pkt, smac) + 6,
	       "struct pkt: pkt_mac_word's word, rule_memo_mac's");
_Static_assert(__builtin_offsetof(struct pkt, appx) % 8 == 0 &&
	       __builtin_offsetof(struct pkt, app) == __builtin_offsetof(struct pkt, appx) + 2 &&
	       __builtin_offsetof(struct pkt, app_maybe) == __builtin_offsetof(struct pkt, appx) + 3,
	       "struct pkt: rule_memo_who's word, app_detect's store");
_Static_assert(__builtin_offsetof(struct pkt, saddr) % 8 == 0 &&
	       __builtin_offsetof(struct pkt, daddr) % 8 == 0, "struct pkt: memo_addr's words");

/* Ports, family, protocol, has_ports and fragment state: the whole word. */
static __always_inline __u64 pkt_flow_key(const struct pkt *p)
{
	return *(const __u64 *)&p->sport;
}

/* The packet's ports, family and protocol as one word (the rest masked off). */
static __always_inline __u64 pkt_flow_word(const struct pkt *p)
{
	return pkt_flow_key(p) & 0xffffffffffffULL;
}

/* The packet's source MAC and family as one word. */
static __always_inline __u64 pkt_mac_word(const struct pkt *p)
{
	return (*(const __u64 *)p->smac & 0xffffffffffffULL) | (__u64)p->family << 48;
}

#endif
