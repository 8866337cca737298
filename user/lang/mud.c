// SPDX-License-Identifier: GPL-2.0
/* MUD import (RFC 8520 over the RFC 8519 ACL model): faithfully into a policy fragment, or an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lex.h"
#include "mud.h"
#include "nodes.h"
#include "policy.h"
#include "strbuf.h"

#define MUD_PATH_LEN	512
#define MUD_SIDE_LEN	(POL_DNS_NAME_LEN + 80)

enum mud_dir { MUD_FROM, MUD_TO };

static const char *const mud_dir_key[] = { "from-device-policy", "to-device-policy" };
static const char *const mud_dir_word[] = { "from-device", "to-device" };

static const char *const mud_abstractions[] = {
	"manufacturer", "same-manufacturer", "model", "local-networks", "controller", "my-controller",
	NULL,
};
#define MUD_N_ABSTRACTIONS	6
/* Which name one manufacturer, model or controller (a string); the others are empty ([null]). */
static const bool mud_abstraction_valued[MUD_N_ABSTRACTIONS] = { true, false, true, false, true, false };

struct mud_ctx {
	const struct mud_opts *o;
	char *err;
	size_t errlen;
	bool failed;
	char prefix[FRINGE_NAME_LEN];		/* of every name we make */
	struct strbuf sets, rules;
	char (*dns)[POL_DNS_NAME_LEN];		/* names that have a set, in order */
	size_t n_dns;
	char (*rule_names)[FRINGE_NAME_LEN];
	size_t n_rules;
	unsigned int addr_sets;			/* bit f: the device's family-f address set is out */
	/* the value a valued abstraction first had, and where: its --map holds that one only */
	const char *abs_value[MUD_N_ABSTRACTIONS];
	char abs_path[MUD_N_ABSTRACTIONS][MUD_PATH_LEN];
};

/* One rule in the making: each side holds one match (a literal or @set). */
struct mud_rule {
	char src[MUD_SIDE_LEN], dst[MUD_SIDE_LEN];
	bool src_literal_fam, dst_literal_fam;	/* the side's match implies the family */
	int proto;				/* -1: any */
	char sport[48], dport[48];
	int fam;				/* 4, 6, or 0 for either */
};

/* Control characters (a newline in a JSON string...) become '?': a message or
 * comment stays one line, and a profile's text never becomes policy. */
static void mud_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* One comment line in b; whatever text it quotes cannot end it. */
static void mud_comment(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mud_comment(struct strbuf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mud_printable(line);
	sb_printf(b, "# %s\n", line);
}

static void mud_err(struct mud_ctx *x, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void mud_err(struct mud_ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->failed)
		return;		/* the first error is the one to fix */
	x->failed = true;
	n = snprintf(x->err, x->errlen, "%s: error: ", *path ? path : "/");
	if (n < 0 || (size_t)n >= x->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - n, fmt, ap);
	va_end(ap);
	mud_printable(x->err);
}

/* JSON Pointer escaping of one member name (RFC 6901): ~ -> ~0, / -> ~1. */
static void mud_path(char *out, const char *base, const char *key)
{
	char tmp[MUD_PATH_LEN];
	size_t n = (size_t)snprintf(tmp, MUD_PATH_LEN, "%s/", base);

	if (n >= MUD_PATH_LEN)
		n = MUD_PATH_LEN - 1;
	memcpy(out, tmp, n + 1);

	for (; *key && n + 3 < MUD_PATH_LEN; key++) {
		if (*key == '~' || *key == '/') {
			out[n++] = '~';
			out[n++] = *key == '~' ? '0' : '1';
		} else {
			out[n++] = *key;
		}
	}
	out[n < MUD_PATH_LEN ? n : MUD_PATH_LEN - 1] = 0;
}

static void mud_path_idx(char *out, const char *base, size_t i)
{
	char idx[24];

	snprintf(idx, sizeof(idx), "%zu", i);
	mud_path(out, base, idx);
}

static const char *mud_type_name(json_type t)
{
	switch (t) {
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	case json_type_int: return "an integer";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	default: return "null";
	}
}

/* o[key] of type t; NULL when absent (an error when required) or of another type (always an error). */
static json_object *mud_get(struct mud_ctx *x, json_object *o, const char *base, const char *key,
			    json_type t, bool required)
{
	char path[MUD_PATH_LEN];
	json_object *v;

	mud_path(path, base, key);
	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (required)
			mud_err(x, path, "missing (expected %s)", mud_type_name(t));
		return NULL;
	}
	if (json_object_get_type(v) != t) {
		mud_err(x, path, "expected %s, got %s", mud_type_name(t),
			mud_type_name(json_object_get_type(v)));
		return NULL;
	}
	return v;
}

/* An integer in [lo, hi] (JSON numbers or, as RFC 7951 allows for uint64, strings are not used here). */
static bool mud_int(struct mud_ctx *x, json_object *v, const char *path, long lo, long hi, long *out)
{
	long n;

	if (json_object_get_type(v) != json_type_int) {
		mud_err(x, path, "expected an integer, got %s", mud_type_name(json_object_get_type(v)));
		return false;
	}
	n = (long)json_object_get_int64(v);
	if (n < lo || n > hi) {
		mud_err(x, path, "%ld is out of range (%ld-%ld)", n, lo, hi);
		return false;
	}
	*out = n;
	return true;
}

/* Every member of o must be one of keys (NULL-terminated). */
static bool mud_known_keys(struct mud_ctx *x, json_object *o, const char *base, const char *what,
			   const char *const *keys)
{
	char path[MUD_PATH_LEN];

	json_object_object_foreach(o, k, v) {
		const char *const *w;

		(void)v;
		for (w = keys; *w && strcmp(*w, k); w++)
			;
		if (!*w) {
			mud_path(path, base, k);
			mud_err(x, path, "unknown %s match '%s': fringe cannot translate it faithfully",
				what, k);
			return false;
		}
	}
	return true;
}

/* ---- the parts of a rule -------------------------------------------------- */

/* `port` or `lower-port`/`upper-port` (RFC 8519 port-range-or-operator) -> "80", "1-1023", "0-79,81-65535". */
static bool mud_port(struct mud_ctx *x, json_object *p, const char *base, char *out, size_t len)
{
	static const char *const keys[] = { "operator", "port", "lower-port", "upper-port", NULL };
	char path[MUD_PATH_LEN];
	json_object *op, *port, *lo, *hi;
	long a, b;

	if (!mud_known_keys(x, p, base, "port", keys))
		return false;
	if (json_object_object_get_ex(p, "lower-port", &lo)) {
		hi = mud_get(x, p, base, "upper-port", json_type_int, true);
		mud_path(path, base, "lower-port");
		if (!hi || !mud_int(x, lo, path, 0, 65535, &a))
			return false;
		mud_path(path, base, "upper-port");
		if (!mud_int(x, hi, path, a, 65535, &b))
			return false;
		snprintf(out, len, "%ld-%ld", a, b);
		return true;
	}
	op = mud_get(x, p, base, "operator", json_type_string, false);
	port = mud_get(x, p, base, "port", json_type_int, true);
	mud_path(path, base, "port");
	if (x->failed || !mud_int(x, port, path, 0, 65535, &a))
		return false;
	mud_path(path, base, "operator");
	const char *o = op ? json_object_get_string(op) : "eq";
	if (!strcmp(o, "eq"))
		snprintf(out, len, "%ld", a);
	else if (!strcmp(o, "lte"))
		snprintf(out, len, "0-%ld", a);
	else if (!strcmp(o, "gte"))
		snprintf(out, len, "%ld-65535", a);
	else if (!strcmp(o, "lt") && a > 0)
		snprintf(out, len, "0-%ld", a - 1);
	else if (!strcmp(o, "gt") && a < 65535)
		snprintf(out, len, "%ld-65535", a + 1);
	else if (!strcmp(o, "neq") && a > 0 && a < 65535)
		snprintf(out, len, "0-%ld,%ld-65535", a - 1, a + 1);
	else if (!strcmp(o, "neq"))
		snprintf(out, len, a ? "0-65534" : "1-65535");
	else if (!strcmp(o, "lt") || !strcmp(o, "gt")) {
		mud_err(x, path, "'%s %ld' matches no port", o, a);
		return false;
	} else {
		mud_err(x, path, "unknown operator '%s' (expected eq, lt, gt, lte, gte or neq)", o);
		return false;
	}
	return true;
}

/* Fill one side of the rule; a side holds one match. */
static bool mud_side(struct mud_ctx *x, char *side, const char *path, bool literal_fam, bool *fam_flag,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static bool mud_side(struct mud_ctx *x, char *side, const char *path, bool literal_fam, bool *fam_flag,
		     const char *fmt, ...)
{
	va_list ap;

	if (*side) {
		mud_err(x, path, "a second match on the same address ('%s' already): fringe matches "
			"one address, network or set per side", side);
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(side, MUD_SIDE_LEN, fmt, ap);
	va_end(ap);
	*fam_flag = literal_fam;
	return true;
}

/* The set holding DNS name n (made on first use): its name. */
static const char *mud_dns_set(struct mud_ctx *x, const char *name, const char *path)
{
	static char set[128];
	char canon[POL_DNS_NAME_LEN];
	bool added = false;
	size_t i;

	if (!policy_dns_name(name, canon) || canon[0] == '*') {
		mud_err(x, path, "'%s' is not a DNS name", name);
		return NULL;
	}
	for (i = 0; i < x->n_dns && strcmp(x->dns[i], canon); i++)
		;
	if (i == x->n_dns) {
		void *v = realloc(x->dns, (x->n_dns + 1) * sizeof(*x->dns));

		if (!v) {
			mud_err(x, path, "out of memory");
			return NULL;
		}
		x->dns = v;
		strcpy(x->dns[x->n_dns++], canon);
		added = true;
	}
	if (strlen(x->prefix) + 1 + strlen(canon) < FRINGE_NAME_LEN)
		snprintf(set, sizeof(set), "%s.%s", x->prefix, canon);
	else
		snprintf(set, sizeof(set), "%s.dns-%zu", x->prefix, i + 1);
	if (strlen(set) >= FRINGE_NAME_LEN) {
		mud_err(x, path, "the set for '%s' would be named '%s', longer than %d characters "
			"(use a shorter --device)", canon, set, FRINGE_NAME_LEN - 1);
		return NULL;
	}
	if (added)	/* not again for a name the last set already holds */
		sb_printf(&x->sets, "set %s { %s }\n", set, canon);
	return set;
}

/* ipv4 / ipv6 matches. */
static bool mud_l3(struct mud_ctx *x, json_object *l3, const char *base, int fam, enum mud_dir dir,
		   struct mud_rule *r)
{
	static const char *const keys4[] = { "protocol", "source-ipv4-network", "destination-ipv4-network",
		"ietf-acldns:src-dnsname", "ietf-acldns:dst-dnsname", NULL };
	static const char *const keys6[] = { "protocol", "source-ipv6-network", "destination-ipv6-network",
		"ietf-acldns:src-dnsname", "ietf-acldns:dst-dnsname", NULL };
	char path[MUD_PATH_LEN], net[64];
	json_object *v;
	long proto;

	if (!mud_known_keys(x, l3, base, fam == 4 ? "ipv4" : "ipv6", fam == 4 ? keys4 : keys6))
		return false;
	if (json_object_object_get_ex(l3, "protocol", &v)) {
		mud_path(path, base, "protocol");
		if (!mud_int(x, v, path, 0, 255, &proto))
			return false;
		r->proto = (int)proto;
	}
	for (int s = 0; s < 2; s++) {		/* 0: source, 1: destination */
		char *side = s ? r->dst : r->src;
		bool *ff = s ? &r->dst_literal_fam : &r->src_literal_fam;
		bool device_side = (dir == MUD_FROM) == (s == 0);
		const char *nkey = s ? (fam == 4 ? "destination-ipv4-network" : "destination-ipv6-network")
				     : (fam == 4 ? "source-ipv4-network" : "source-ipv6-network");
		const char *dkey = s ? "ietf-acldns:dst-dnsname" : "ietf-acldns:src-dnsname";

		if ((v = mud_get(x, l3, base, nkey, json_type_string, false))) {
			struct pol_prefix pfx;
			char why[160];

			/* Parsed whole: nothing but the network reaches the policy. */
			mud_path(path, base, nkey);
			if (nodes_prefix_parse(json_object_get_string(v), &pfx, why, sizeof(why))) {
				mud_err(x, path, "%s", why);
				return false;
			}
			if (pfx.family != fam) {
				mud_err(x, path, "'%s' is not an IPv%d network", json_object_get_string(v), fam);
				return false;
			}
			if (dir == MUD_TO && device_side) {
				mud_err(x, path, "a to-device entry that narrows the device's own address "
					"cannot be translated (the rule already matches the device's --ip)");
				return false;
			}
			nodes_prefix_str(&pfx, net, sizeof(net));
			if (!mud_side(x, side, path, true, ff, "%s", net))
				return false;
		}
		if ((v = mud_get(x, l3, base, dkey, json_type_string, false))) {
			const char *set;

			mud_path(path, base, dkey);
			if (device_side) {
				mud_err(x, path, "a DNS name for the device itself cannot be matched "
					"(fringe knows the device by its MAC and --ip)");
				return false;
			}
			set = mud_dns_set(x, json_object_get_string(v), path);
			if (!set || !mud_side(x, side, path, false, ff, "@%s", set))
				return false;
		}
		if (x->failed)
			return false;
	}
	return true;
}

/* tcp / udp matches. */
static bool mud_l4(struct mud_ctx *x, json_object *l4, const char *base, int proto, struct mud_rule *r)
{
	static const char *const keys_tcp[] = { "source-port", "destination-port",
		"ietf-mud:direction-initiated", NULL };
	static const char *const keys_udp[] = { "source-port", "destination-port", NULL };
	char path[MUD_PATH_LEN];
	json_object *v;

	if (!mud_known_keys(x, l4, base, proto == 6 ? "tcp" : "udp", proto == 6 ? keys_tcp : keys_udp))
		return false;
	if (r->proto >= 0 && r->proto != proto) {
		mud_err(x, base, "a %s match on an entry whose protocol is %d", proto == 6 ? "tcp" : "udp",
			r->proto);
		return false;
	}
	r->proto = proto;
	if (json_object_object_get_ex(l4, "ietf-mud:direction-initiated", &v)) {
		mud_path(path, base, "ietf-mud:direction-initiated");
		mud_err(x, path, "fringe judges each packet alone and cannot tell which side opened a "
			"TCP connection; this entry cannot be translated faithfully");
		return false;
	}
	if ((v = mud_get(x, l4, base, "source-port", json_type_object, false))) {
		mud_path(path, base, "source-port");
		if (!mud_port(x, v, path, r->sport, sizeof(r->sport)))
			return false;
	}
	if ((v = mud_get(x, l4, base, "destination-port", json_type_object, false))) {
		mud_path(path, base, "destination-port");
		if (!mud_port(x, v, path, r->dport, sizeof(r->dport)))
			return false;
	}
	return !x->failed;
}

/* The value of abstraction a at path: a string for manufacturer, model and
 * controller, the same one wherever it appears (one --map cannot stand for
 * two), and [null] (YANG empty, RFC 7951) for the others. */
static bool mud_abstraction_value(struct mud_ctx *x, json_object *v, const char *path, size_t a)
{
	json_type t = json_object_get_type(v);
	const char *s;

	if (!mud_abstraction_valued[a]) {
		if (t != json_type_array || json_object_array_length(v) != 1 ||
		    json_object_array_get_idx(v, 0)) {
			mud_err(x, path, "expected [null] (an empty leaf), got %s",
				t == json_type_array ? "another array" : mud_type_name(t));
			return false;
		}
		return true;
	}
	if (t != json_type_string) {
		mud_err(x, path, "expected a string, got %s", mud_type_name(t));
		return false;
	}
	s = json_object_get_string(v);
	if (!x->abs_value[a]) {
		x->abs_value[a] = s;
		snprintf(x->abs_path[a], MUD_PATH_LEN, "%s", path);
	} else if (strcmp(x->abs_value[a], s)) {
		mud_err(x, path, "'%s' here, '%s' at %s: one --map %s=@SET cannot tell two %ss apart, "
			"so this profile cannot be translated faithfully", s, x->abs_value[a],
			x->abs_path[a], mud_abstractions[a], mud_abstractions[a]);
		return false;
	}
	return true;
}

/* ietf-mud:mud abstractions: the other side of the flow is in the mapped set. */
static bool mud_abstraction(struct mud_ctx *x, json_object *m, const char *base, enum mud_dir dir,
			    struct mud_rule *r)
{
	char path[MUD_PATH_LEN], arg[64];
	size_t i;

	if (!mud_known_keys(x, m, base, "MUD", mud_abstractions))
		return false;
	json_object_object_foreach(m, k, v) {
		size_t a;

		mud_path(path, base, k);
		for (a = 0; strcmp(mud_abstractions[a], k); a++)
			;
		if (!mud_abstraction_value(x, v, path, a))
			return false;
		for (i = 0; i < x->o->n_map && strcmp(x->o->map[i].abstraction, k); i++)
			;
		if (i == x->o->n_map) {
			snprintf(arg, sizeof(arg), "--map %s=@SET", k);
			mud_err(x, path, "unmapped abstraction '%s' (say which set holds it: %s)", k, arg);
			return false;
		}
		if (!mud_side(x, dir == MUD_FROM ? r->dst : r->src, path, false,
			      dir == MUD_FROM ? &r->dst_literal_fam : &r->src_literal_fam, "@%s",
			      x->o->map[i].set))
			return false;
	}
	return true;
}

/* The device's addresses of family fam (0: all) as a match: one address or a set. */
static bool mud_device_addrs(struct mud_ctx *x, int fam, const char *path, char *out)
{
	const char *one = NULL;
	size_t n = 0, i;

	for (i = 0; i < x->o->n_ips; i++) {
		int f = strchr(x->o->ips[i], ':') ? 6 : 4;

		if (!fam || f == fam)
			n++, one = x->o->ips[i];
	}
	if (!n) {
		mud_err(x, path, "to-device entries match the device's address: give --ip ADDR%s",
			fam ? (fam == 4 ? " (an IPv4 one)" : " (an IPv6 one)") : "");
		return false;
	}
	if (n == 1) {
		snprintf(out, MUD_SIDE_LEN, "%s", one);
		return true;
	}
	snprintf(out, MUD_SIDE_LEN, "@%s.addrs%s", x->prefix, fam == 4 ? "4" : fam == 6 ? "6" : "");
	if (!(x->addr_sets & (1u << fam))) {
		x->addr_sets |= 1u << fam;
		bool first = true;

		sb_printf(&x->sets, "set %s {", out + 1);
		for (i = 0; i < x->o->n_ips; i++)
			if (!fam || (strchr(x->o->ips[i], ':') ? 6 : 4) == fam) {
				sb_printf(&x->sets, "%s %s", first ? "" : ",", x->o->ips[i]);
				first = false;
			}
		sb_printf(&x->sets, " }\n");
	}
	return true;
}

static const char *mud_proto_word(int p, char *buf, size_t len)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	}
	snprintf(buf, len, "%d", p);
	return buf;
}

static bool mud_rule_name(struct mud_ctx *x, const char *ace, const char *path, char *out)
{
	size_t i;

	if ((size_t)snprintf(out, FRINGE_NAME_LEN, "%s.%s", x->prefix, ace) >= FRINGE_NAME_LEN ||
	    !lex_name_ok(out, strlen(out))) {
		mud_err(x, path, "'%s' cannot name a rule (names are [A-Za-z0-9_.-], at most %d "
			"characters with the prefix '%s.')", ace, FRINGE_NAME_LEN - 1, x->prefix);
		return false;
	}
	for (i = 0; i < x->n_rules; i++)
		if (!strcmp(x->rule_names[i], out)) {
			mud_err(x, path, "a second entry named '%s'", ace);
			return false;
		}
	void *v = realloc(x->rule_names, (x->n_rules + 1) * sizeof(*x->rule_names));

	if (!v) {
		mud_err(x, path, "out of memory");
		return false;
	}
	x->rule_names = v;
	strcpy(x->rule_names[x->n_rules++], out);
	return true;
}

/* Who the device is in a from-device rule. */
static bool mud_device_sel(struct mud_ctx *x, const char *path, char *out, size_t len)
{
	if (x->o->device)
		snprintf(out, len, "device %s", x->o->device);
	else if (x->o->mac)
		snprintf(out, len, "mac %s", x->o->mac);
	else {
		mud_err(x, path, "from-device entries need the device: --device NAME (declared in the "
			"policy, or with --mac) or --mac MAC");
		return false;
	}
	return true;
}

static void mud_emit(struct mud_ctx *x, const char *name, const char *devsel, const struct mud_rule *r,
		     const char *verdict)
{
	char pbuf[16];

	sb_printf(&x->rules, "rule %s", name);
	if (devsel)
		sb_printf(&x->rules, " %s", devsel);
	if (*r->src)
		sb_printf(&x->rules, " src %s", r->src);
	if (*r->dst)
		sb_printf(&x->rules, " dst %s", r->dst);
	if (r->proto >= 0)
		sb_printf(&x->rules, " proto %s", mud_proto_word(r->proto, pbuf, sizeof(pbuf)));
	if (*r->sport)
		sb_printf(&x->rules, " sport %s", r->sport);
	if (*r->dport)
		sb_printf(&x->rules, " dport %s", r->dport);
	sb_printf(&x->rules, " %s\n", verdict);
}

static bool mud_ace(struct mud_ctx *x, json_object *ace, const char *base, enum mud_dir dir, int acl_fam)
{
	static const char *const keys[] = { "ipv4", "ipv6", "tcp", "udp", "ietf-mud:mud", NULL };
	char path[MUD_PATH_LEN], mpath[MUD_PATH_LEN], name[FRINGE_NAME_LEN], devsel[96];
	struct mud_rule r = { .proto = -1, .fam = acl_fam };
	json_object *jn, *m, *v, *act, *fw;
	const char *verdict;

	jn = mud_get(x, ace, base, "name", json_type_string, true);
	mud_path(path, base, "name");
	if (!jn || !mud_rule_name(x, json_object_get_string(jn), path, name))
		return false;
	mud_path(mpath, base, "matches");
	m = mud_get(x, ace, base, "matches", json_type_object, false);
	if (x->failed)
		return false;
	if (m) {
		json_object *v4 = NULL, *v6 = NULL;

		if (!mud_known_keys(x, m, mpath, "ACL", keys))
			return false;
		v4 = mud_get(x, m, mpath, "ipv4", json_type_object, false);
		v6 = mud_get(x, m, mpath, "ipv6", json_type_object, false);
		if (x->failed)
			return false;
		if (v4 && v6) {
			mud_err(x, mpath, "both ipv4 and ipv6 matches in one entry");
			return false;
		}
		if ((v4 && acl_fam == 6) || (v6 && acl_fam == 4)) {
			mud_err(x, mpath, "an ipv%d match in an IPv%d ACL", v4 ? 4 : 6, acl_fam);
			return false;
		}
		if (v4 || v6) {
			r.fam = v4 ? 4 : 6;
			mud_path(path, mpath, v4 ? "ipv4" : "ipv6");
			if (!mud_l3(x, v4 ? v4 : v6, path, r.fam, dir, &r))
				return false;
		}
		if ((v = mud_get(x, m, mpath, "tcp", json_type_object, false))) {
			mud_path(path, mpath, "tcp");
			if (!mud_l4(x, v, path, 6, &r))
				return false;
		}
		if ((v = mud_get(x, m, mpath, "udp", json_type_object, false))) {
			mud_path(path, mpath, "udp");
			if (*r.sport || *r.dport || r.proto == 6) {
				mud_err(x, path, "tcp and udp matches in one entry");
				return false;
			}
			if (!mud_l4(x, v, path, 17, &r))
				return false;
		}
		if ((v = mud_get(x, m, mpath, "ietf-mud:mud", json_type_object, false))) {
			mud_path(path, mpath, "ietf-mud:mud");
			if (!mud_abstraction(x, v, path, dir, &r))
				return false;
		}
		if (x->failed)
			return false;
	}
	act = mud_get(x, ace, base, "actions", json_type_object, true);
	mud_path(path, base, "actions");
	fw = act ? mud_get(x, act, path, "forwarding", json_type_string, true) : NULL;
	if (!fw)
		return false;
	mud_path(path, path, "forwarding");
	verdict = json_object_get_string(fw);
	if (!strcmp(verdict, "accept"))
		verdict = "allow";
	else if (!strcmp(verdict, "drop"))
		verdict = "drop";
	else {
		mud_err(x, path, "'%s' cannot be translated faithfully (fringe allows or drops; it "
			"sends no rejection)", verdict);
		return false;
	}
	if (dir == MUD_TO) {
		if (!mud_device_addrs(x, r.fam, base, r.dst))
			return false;
		r.dst_literal_fam = true;
		devsel[0] = 0;
	} else if (!mud_device_sel(x, base, devsel, sizeof(devsel))) {
		return false;
	}
	/* An IPv4 ACL's entry must not match IPv6 packets (and the reverse):
	 * when neither side's match implies the family, say it on a free side. */
	if (r.fam && !(*r.src && r.src_literal_fam) && !(*r.dst && r.dst_literal_fam)) {
		char *free_side = !*r.src ? r.src : !*r.dst ? r.dst : NULL;

		if (!free_side) {
			mud_err(x, mpath, "both sides are DNS names or abstractions, so the rule cannot "
				"be held to IPv%d", r.fam);
			return false;
		}
		strcpy(free_side, r.fam == 4 ? "0.0.0.0/0" : "::/0");
	}
	mud_emit(x, name, *devsel ? devsel : NULL, &r, verdict);
	return true;
}

static bool mud_acl(struct mud_ctx *x, json_object *acl, const char *base, enum mud_dir dir)
{
	char path[MUD_PATH_LEN], ipath[MUD_PATH_LEN];
	json_object *t, *aces, *list;
	int fam = 0;
	size_t i;

	t = mud_get(x, acl, base, "type", json_type_string, false);
	if (t) {
		const char *s = json_object_get_string(t);
		const char *tail = strchr(s, ':') ? strchr(s, ':') + 1 : s;

		if (!strcmp(tail, "ipv4-acl-type"))
			fam = 4;
		else if (!strcmp(tail, "ipv6-acl-type"))
			fam = 6;
		else if (strcmp(tail, "mixed-eth-ipv4-ipv6-acl-type")) {
			mud_path(path, base, "type");
			mud_err(x, path, "ACL type '%s' cannot be translated (expected ipv4-acl-type, "
				"ipv6-acl-type or mixed-eth-ipv4-ipv6-acl-type)", s);
			return false;
		}
	}
	aces = mud_get(x, acl, base, "aces", json_type_object, true);
	mud_path(path, base, "aces");
	list = aces ? mud_get(x, aces, path, "ace", json_type_array, true) : NULL;
	if (!list)
		return false;
	mud_path(path, path, "ace");
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *ace = json_object_array_get_idx(list, i);

		mud_path_idx(ipath, path, i);
		if (json_object_get_type(ace) != json_type_object) {
			mud_err(x, ipath, "expected an object, got %s",
				mud_type_name(json_object_get_type(ace)));
			return false;
		}
		if (!mud_ace(x, ace, ipath, dir, fam))
			return false;
	}
	return true;
}

/* The ACLs named by from-device-policy or to-device-policy, in order, and the implied denial after them. */
static bool mud_direction(struct mud_ctx *x, json_object *mud, json_object *acls, enum mud_dir dir)
{
	char base[MUD_PATH_LEN], path[MUD_PATH_LEN], ipath[MUD_PATH_LEN], name[128];
	json_object *pol, *al, *list;
	size_t i, j;

	mud_path(base, "", "ietf-mud:mud");
	pol = mud_get(x, mud, base, mud_dir_key[dir], json_type_object, false);
	if (!pol)
		return !x->failed;
	mud_path(base, base, mud_dir_key[dir]);
	al = mud_get(x, pol, base, "access-lists", json_type_object, true);
	mud_path(path, base, "access-lists");
	list = al ? mud_get(x, al, path, "access-list", json_type_array, true) : NULL;
	if (!list)
		return false;
	mud_path(path, path, "access-list");
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *ref = json_object_array_get_idx(list, i), *jn, *acl = NULL;
		const char *want;

		mud_path_idx(ipath, path, i);
		if (json_object_get_type(ref) != json_type_object) {
			mud_err(x, ipath, "expected an object, got %s",
				mud_type_name(json_object_get_type(ref)));
			return false;
		}
		jn = mud_get(x, ref, ipath, "name", json_type_string, true);
		if (!jn)
			return false;
		want = json_object_get_string(jn);
		for (j = 0; j < json_object_array_length(acls); j++) {
			json_object *a = json_object_array_get_idx(acls, j), *an;

			if (json_object_object_get_ex(a, "name", &an) &&
			    json_object_get_type(an) == json_type_string &&
			    !strcmp(json_object_get_string(an), want)) {
				acl = a;
				break;
			}
		}
		if (!acl) {
			mud_path(ipath, ipath, "name");
			mud_err(x, ipath, "no ACL named '%s' in ietf-access-control-list:acls", want);
			return false;
		}
		snprintf(ipath, sizeof(ipath), "/ietf-access-control-list:acls/acl/%zu", j);
		mud_comment(&x->rules, "%s: ACL %s", mud_dir_word[dir], want);
		if (!mud_acl(x, acl, ipath, dir))
			return false;
	}
	/* A MUD profile lists what the device may do: the rest is denied. */
	struct mud_rule deny = { .proto = -1 };
	char devsel[96];

	snprintf(name, sizeof(name), "%s.%s-default", x->prefix, mud_dir_word[dir]);
	if (strlen(name) >= FRINGE_NAME_LEN) {
		mud_err(x, base, "the rule '%s' would be longer than %d characters (use a shorter "
			"--device)", name, FRINGE_NAME_LEN - 1);
		return false;
	}
	if (dir == MUD_FROM) {
		if (!mud_device_sel(x, base, devsel, sizeof(devsel)))
			return false;
		mud_emit(x, name, devsel, &deny, "drop");
	} else {
		if (!mud_device_addrs(x, 0, base, deny.dst))
			return false;
		mud_emit(x, name, NULL, &deny, "drop");
	}
	return true;
}

static bool mud_check_opts(struct mud_ctx *x)
{
	unsigned char buf[16];
	size_t i;

	for (i = 0; i < x->o->n_ips; i++) {
		const char *a = x->o->ips[i];

		if (inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, buf) != 1) {
			mud_err(x, "", "--ip '%s' is not an IPv4 or IPv6 address", a);
			return false;
		}
	}
	for (i = 0; i < x->o->n_map; i++) {
		const char *const *w;

		for (w = mud_abstractions; *w && strcmp(*w, x->o->map[i].abstraction); w++)
			;
		if (!*w || !lex_name_ok(x->o->map[i].set, strlen(x->o->map[i].set))) {
			mud_err(x, "", "--map %s=@%s: expected ABSTRACTION=@SET with ABSTRACTION one of "
				"manufacturer, same-manufacturer, model, local-networks, controller, "
				"my-controller", x->o->map[i].abstraction, x->o->map[i].set);
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(x->o->map[j].abstraction, x->o->map[i].abstraction)) {
				mud_err(x, "", "--map %s given twice (@%s, @%s): define one set that "
					"holds both", x->o->map[i].abstraction, x->o->map[j].set,
					x->o->map[i].set);
				return false;
			}
	}
	if (x->o->device && !lex_name_ok(x->o->device, strlen(x->o->device))) {
		mud_err(x, "", "--device '%s' is not a name ([A-Za-z0-9_.-], 1-63 characters)", x->o->device);
		return false;
	}
	if (x->o->mac && !lex_mac_parse(x->o->mac, strlen(x->o->mac), buf)) {
		mud_err(x, "", "--mac '%s' is not a MAC address", x->o->mac);
		return false;
	}
	return true;
}

/* ---- members given twice ----------------------------------------------------
 * JSON parsers keep one of two same-named members (json-c the last) while a
 * reader sees the first: {"destination-ipv4-network": "10.1.0.0/24",
 * "destination-ipv4-network": "0.0.0.0/0"} would widen the rule unseen.
 * RFC 7951 forbids it; the text (already valid JSON) is scanned for it. */

#define MUD_DUP_DEPTH	64	/* json-c refuses nesting deeper than 32 */

struct mud_dup_level {
	bool obj;
	size_t idx;		/* array: the current element */
	char **keys;		/* object: its members' names, decoded */
	size_t n, cap;
};

/* The closing quote of the JSON string that opens at s. */
static const char *mud_str_end(const char *s, const char *lim)
{
	for (s++; s < lim && *s != '"'; s++)
		if (*s == '\\')
			s++;
	return s;
}

/* The JSON string at s (its opening quote) decoded, and its end in *end. */
static char *mud_dup_key(const char *s, const char *lim, const char **end)
{
	const char *p = mud_str_end(s, lim);
	bool esc = memchr(s + 1, '\\', (size_t)(p - s - 1)) != NULL;
	char *raw, *k;
	json_object *j;

	*end = p;
	if (!esc)
		return strndup(s + 1, (size_t)(p - s - 1));
	raw = strndup(s, (size_t)(p - s + 1));
	j = raw ? json_tokener_parse(raw) : NULL;
	k = j ? strdup(json_object_get_string(j)) : NULL;
	json_object_put(j);
	free(raw);
	return k;
}

static int mud_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Report a member given twice with its JSON path; false when one is. */
static bool mud_no_dup_members(struct mud_ctx *x, const char *json, size_t len)
{
	struct mud_dup_level st[MUD_DUP_DEPTH] = { 0 };
	const char *p = json, *lim = json + len;
	bool want_key = false, ok = true;
	int top = -1;

	for (; ok && p < lim; p++) {
		struct mud_dup_level *l = top >= 0 ? &st[top] : NULL;

		if (*p == '"') {
			const char *end;
			char *k;

			if (!l || !l->obj || !want_key) {
				p = mud_str_end(p, lim);	/* a string value */
				continue;
			}
			k = mud_dup_key(p, lim, &end);
			p = end;
			want_key = false;
			if (k && l->n == l->cap) {
				char **v = realloc(l->keys, (l->cap * 2 + 8) * sizeof(char *));

				if (v)
					l->keys = v, l->cap = l->cap * 2 + 8;
			}
			if (!k || l->n == l->cap) {
				free(k);
				mud_err(x, "", "out of memory");
				ok = false;
				break;
			}
			l->keys[l->n++] = k;
		} else if (*p == '{' || *p == '[') {
			if (top + 1 == MUD_DUP_DEPTH) {
				mud_err(x, "", "nested too deeply");
				ok = false;
				break;
			}
			st[++top] = (struct mud_dup_level){ .obj = *p == '{' };
			want_key = *p == '{';
		} else if (*p == ',') {
			if (l && l->obj)
				want_key = true;
			else if (l)
				l->idx++;
		} else if ((*p == '}' || *p == ']') && l) {
			char path[MUD_PATH_LEN] = "";
			char *dup = NULL;

			if (l->obj && l->n > 1) {
				char **sorted = malloc(l->n * sizeof(char *));

				if (sorted) {
					memcpy(sorted, l->keys, l->n * sizeof(char *));
					qsort(sorted, l->n, sizeof(char *), mud_cmp_str);
					for (size_t i = 1; i < l->n && !dup; i++)
						if (!strcmp(sorted[i - 1], sorted[i]))
							dup = sorted[i];
				}
				if (dup) {
					for (int i = 0; i < top; i++) {
						if (st[i].obj)
							mud_path(path, path, st[i].keys[st[i].n - 1]);
						else
							mud_path_idx(path, path, st[i].idx);
					}
					mud_path(path, path, dup);
					mud_err(x, path, "given twice: a JSON parser keeps one of the two "
						"and a reader may see the other (RFC 7951: member names "
						"are unique)");
					ok = false;
				}
				free(sorted);
			}
			for (size_t i = 0; i < l->n; i++)
				free(l->keys[i]);
			free(l->keys);
			top--;
			want_key = false;
		}
	}
	for (; top >= 0; top--) {
		for (size_t i = 0; i < st[top].n; i++)
			free(st[top].keys[i]);
		free(st[top].keys);
	}
	return ok;
}

int mud_import(const char *json, size_t len, const struct mud_opts *o, char **out, char *err,
	       size_t errlen)
{
	struct mud_ctx x = { .o = o, .err = err, .errlen = errlen };
	struct json_tokener *tok;
	json_object *root = NULL, *mud, *acls_c, *acls, *v;
	struct strbuf doc = { 0 };
	enum json_tokener_error jerr;
	int ret = -EINVAL;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	snprintf(x.prefix, sizeof(x.prefix), "%s", o->device ? o->device : "mud");
	if (!mud_check_opts(&x))
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root || jerr != json_tokener_success || (size_t)json_tokener_get_parse_end(tok) < len) {
		size_t at = json_tokener_get_parse_end(tok);

		if (root && jerr == json_tokener_success)
			while (at < len && strchr(" \t\r\n", json[at]))
				at++;
		if (!root || jerr != json_tokener_success || at < len) {
			snprintf(err, errlen, "/: error: invalid JSON at byte %zu: %s", at,
				 jerr != json_tokener_success ? json_tokener_error_desc(jerr)
							      : "text after the document");
			goto out;
		}
	}
	if (!mud_no_dup_members(&x, json, len))
		goto out;
	if (json_object_get_type(root) != json_type_object) {
		mud_err(&x, "", "expected an object, got %s", mud_type_name(json_object_get_type(root)));
		goto out;
	}
	mud = mud_get(&x, root, "", "ietf-mud:mud", json_type_object, true);
	acls_c = mud_get(&x, root, "", "ietf-access-control-list:acls", json_type_object, true);
	if (!mud || !acls_c)
		goto out;
	acls = mud_get(&x, acls_c, "/ietf-access-control-list:acls", "acl", json_type_array, true);
	if (!acls)
		goto out;
	for (size_t i = 0; i < json_object_array_length(acls); i++) {
		char ipath[MUD_PATH_LEN];

		json_object *acl = json_object_array_get_idx(acls, i), *n;

		mud_path_idx(ipath, "/ietf-access-control-list:acls/acl", i);
		if (json_object_get_type(acl) != json_type_object) {
			mud_err(&x, ipath, "expected an object");
			goto out;
		}
		n = mud_get(&x, acl, ipath, "name", json_type_string, true);
		if (!n)
			goto out;
		/* the name is the list's key: a policy refers to one ACL by it */
		for (size_t j = 0; j < i; j++) {
			json_object *m = json_object_object_get(json_object_array_get_idx(acls, j), "name");

			if (!strcmp(json_object_get_string(m), json_object_get_string(n))) {
				mud_path(ipath, ipath, "name");
				mud_err(&x, ipath, "a second ACL named '%s'", json_object_get_string(n));
				goto out;
			}
		}
	}
	if (!mud_direction(&x, mud, acls, MUD_FROM) || !mud_direction(&x, mud, acls, MUD_TO))
		goto out;
	if (!json_object_object_get_ex(mud, "from-device-policy", &v) &&
	    !json_object_object_get_ex(mud, "to-device-policy", &v)) {
		mud_err(&x, "/ietf-mud:mud", "neither from-device-policy nor to-device-policy: the "
			"profile says nothing to translate");
		goto out;
	}

	mud_comment(&doc, "Imported by `fringe mud import` from %s", o->file ? o->file : "a MUD file");
	if (json_object_object_get_ex(mud, "mud-url", &v) && json_object_get_type(v) == json_type_string)
		mud_comment(&doc, "mud-url: %s", json_object_get_string(v));
	if (json_object_object_get_ex(mud, "systeminfo", &v) && json_object_get_type(v) == json_type_string)
		mud_comment(&doc, "systeminfo: %s", json_object_get_string(v));
	if (o->device && o->mac) {
		sb_printf(&doc, "device %s mac %s", o->device, o->mac);
		for (size_t i = 0; i < o->n_ips; i++)
			sb_printf(&doc, " ip %s", o->ips[i]);
		sb_printf(&doc, "\n");
	}
	sb_printf(&doc, "%s%s", x.sets.s ? x.sets.s : "", x.rules.s ? x.rules.s : "");
	*out = sb_take(&doc);
	ret = *out ? 0 : -ENOMEM;
out:
	if (ret && !*err)
		snprintf(err, errlen, "/: error: out of memory");
	sb_free(&doc);
	sb_free(&x.sets);
	sb_free(&x.rules);
	free(x.dns);
	free(x.rule_names);
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}
