/* SPDX-License-Identifier: GPL-2.0 */
/* The policy language (docs/policy.md): syntax tree and parser. */
#ifndef FRINGE_POLICY_H
#define FRINGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fringe/abi.h"

#include "diag.h"

struct pol_prefix {
	uint8_t family;		/* 4 or 6 */
	uint8_t len;		/* prefix length in bits */
	uint8_t addr[16];	/* network byte order, host bits zeroed */
};

struct pol_range {
	uint32_t lo, hi;	/* inclusive */
};

enum pol_set_kind { POL_SET_PREFIX = 1, POL_SET_PORT, POL_SET_MAC };

#define POL_DNS_NAME_LEN 256	/* a name of at most 253 characters, NUL-terminated */

struct pol_set {
	char name[FRINGE_NAME_LEN];
	enum pol_set_kind kind;
	struct pol_loc loc;
	struct pol_prefix *pfx;
	size_t n_pfx;
	struct pol_range *ports;
	size_t n_ports;
	uint8_t (*macs)[6];
	size_t n_macs;
	/* DNS names and wildcards (`*.example.com`) of an address set: lower
	 * case, no trailing dot; their addresses are learned at run time. */
	char (*names)[POL_DNS_NAME_LEN];
	size_t n_names;
	size_t cap_names_;	/* the parser's */
};

struct pol_device {
	char name[FRINGE_NAME_LEN];
	struct pol_loc loc;
	uint8_t mac[6];
	struct pol_prefix *ips;	/* host addresses (/32, /128) */
	size_t n_ips;
	char class_name[FRINGE_NAME_LEN]; /* "" when none */
};

/* Which matches a rule carries (bit per match keyword). */
enum pol_match {
	POL_M_IN	= 1 << 0,
	POL_M_SRC	= 1 << 1,
	POL_M_DST	= 1 << 2,
	POL_M_PROTO	= 1 << 3,
	POL_M_SPORT	= 1 << 4,
	POL_M_DPORT	= 1 << 5,
	POL_M_MAC	= 1 << 6,
	POL_M_DEVICE	= 1 << 7,
	POL_M_CLASS	= 1 << 8,
	POL_M_VLAN	= 1 << 9,
	POL_M_APP	= 1 << 10,
	POL_M_MODBUS_FC	= 1 << 11,
	POL_M_MQTT_TYPE	= 1 << 12,
};

enum pol_rate_unit {
	POL_RATE_PPS,		/* N/s */
	POL_RATE_PPM,		/* N/min */
	POL_RATE_BPS,		/* bits per second (kbit/s, mbit/s, gbit/s) */
};

struct pol_limit {
	bool on;
	enum pol_rate_unit unit;
	uint64_t rate;		/* in unit (bits/s for POL_RATE_BPS) */
	uint64_t burst;		/* packets, or bytes for POL_RATE_BPS; 0: one second's worth */
	bool per_src;
};

struct pol_rule {
	char name[FRINGE_NAME_LEN];
	struct pol_loc loc;
	uint32_t matches;		/* enum pol_match */
	struct pol_loc match_loc[16];	/* where each match was written, by bit index */

	char in_iface[FRINGE_IFNAME_LEN];
	struct pol_prefix *src;		/* literal or expanded @set */
	size_t n_src;
	struct pol_prefix *dst;
	size_t n_dst;
	uint8_t proto;
	struct pol_range *sport;	/* sorted, disjoint */
	size_t n_sport;
	struct pol_range *dport;
	size_t n_dport;
	uint8_t (*mac)[6];
	size_t n_mac;
	/* When a match names a @set, src/dst/sport/dport/mac above point at that
	 * set's own (read-only) array instead of a copy, so rules sharing a big
	 * set cost nothing; these hold the set's index, -1 for literals. */
	int src_set, dst_set, sport_set, dport_set, mac_set;
	int device;			/* index into policy.devices; -1 when absent */
	char class_name[FRINGE_NAME_LEN];
	uint16_t vlan;
	uint8_t app;			/* enum fringe_app (IoT issue) */
	uint8_t modbus_fc[32];		/* bitmap: code c is bit c % 8 of byte c / 8 */
	uint16_t mqtt_types;		/* bitmap: type t is bit t (1..15) */

	uint8_t action;			/* enum fringe_action */
	char steer_iface[FRINGE_IFNAME_LEN];
	uint32_t steer_cpu;
	char steer_node[FRINGE_NAME_LEN];
	struct pol_loc action_loc;

	struct pol_limit limit;
	uint32_t sample_rate;		/* 1 in N; 0: no sampling */
};

struct policy {
	struct pol_set *sets;
	size_t n_sets;
	struct pol_device *devices;
	size_t n_devices;
	struct pol_rule *rules;
	size_t n_rules;
	uint8_t default_action;		/* FRINGE_ACT_ALLOW unless `default drop` */
	bool has_default;
};

/* Parse and validate; every error goes to diags (d may be NULL).  *out is
 * overwritten, not freed.  Returns 0, -EINVAL when there were errors, or
 * -ENOMEM; on failure the policy is freed and zeroed.
 * policy_parse_file sets d->file to path when it is NULL; when the file cannot
 * be read it adds "cannot read PATH: REASON" at 0:0 and returns -errno
 * (-EFBIG above 256 MiB). */
#define POLICY_MAX_FILE	(256u << 20)	/* far above any real policy; bounds memory */
int policy_parse(const char *text, size_t len, struct diags *d, struct policy *out);
int policy_parse_file(const char *path, struct diags *d, struct policy *out);
void policy_free(struct policy *p);

/* Whether s is a DNS name or wildcard as a set item: labels of letters,
 * digits, '-' and '_' (1-63 bytes, no leading or trailing '-'), at least two,
 * at most 253 bytes in all, optionally led by `*.` and ended by '.'; the
 * last label not all digits.  Writes the canonical form (lower case, no
 * trailing dot) to out when it is one. */
bool policy_dns_name(const char *s, char out[POL_DNS_NAME_LEN]);

/* Names of application protocols for `app`: index = enum fringe_app value,
 * [FRINGE_APP_NONE] is "none", [FRINGE_APP_COUNT] is NULL. */
extern const char *const pol_app_names[];
int pol_app_lookup(const char *name);	/* 0 when unknown */

#endif /* FRINGE_POLICY_H */
