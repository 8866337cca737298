// SPDX-License-Identifier: GPL-2.0
/* `fringe learn`: watch live flows for a while, write the least-privilege policy that admits them. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "compile.h"
#include "file.h"
#include "flows.h"
#include "learn.h"
#include "log.h"
#include "policy.h"

/*
 * What is learned, from the flow table (fringe_flows), over the window:
 *  - a device is a source MAC, with the source addresses it used; a MAC that
 *    sends from more than LEARN_ADDRS_PER_MAC addresses is a router's, and
 *    its flows are learned per source address instead ("host-ADDR");
 *  - a service is what a device talked to: destination address, protocol and
 *    destination port, with `app A` when the data plane recognized every
 *    payload of it as A.  A flow whose source port looks like the service
 *    (a well-known or application port, towards an ephemeral one) is the
 *    device answering: its rule allows that source port towards the peer;
 *  - one allow rule per device and service, its comment saying what was
 *    seen; services whose every flow the policy in force dropped are written
 *    commented out; then `default drop`.
 */

#define LEARN_ADDRS_PER_MAC 4
#define LEARN_MAX_SECONDS 604800

struct obs {			/* one flow, as learned */
	/* device */
	uint8_t by_mac;
	uint8_t mac[6];
	uint8_t dfamily;
	uint8_t daddr[16];	/* the device's address when identified by it */
	/* service */
	uint8_t reply;		/* the device is the service: port is its source port */
	uint8_t family, proto;
	uint8_t has_port;	/* 0: no ports (ICMP, other protocols, later fragments) */
	uint16_t port;
	uint8_t peer[16];
	/* what was seen */
	uint8_t app;		/* as the flow table has it */
	uint8_t dropped;
	uint64_t packets, bytes, first, last;
};

static int obs_dev_cmp(const struct obs *a, const struct obs *b)
{
	if (a->by_mac != b->by_mac)
		return a->by_mac ? -1 : 1;
	if (a->by_mac)
		return memcmp(a->mac, b->mac, 6);
	if (a->dfamily != b->dfamily)
		return a->dfamily - b->dfamily;
	return memcmp(a->daddr, b->daddr, 16);
}

static int obs_cmp(const void *x, const void *y)
{
	const struct obs *a = x, *b = y;
	int c = obs_dev_cmp(a, b);

	if (c)
		return c;
	if (a->family != b->family)
		return a->family - b->family;
	if ((c = memcmp(a->peer, b->peer, 16)))
		return c;
	if (a->proto != b->proto)
		return a->proto - b->proto;
	if (a->has_port != b->has_port)
		return a->has_port - b->has_port;
	if (a->reply != b->reply)
		return a->reply - b->reply;
	return (int)a->port - (int)b->port;
}

static bool same_service(const struct obs *a, const struct obs *b)
{
	return !obs_dev_cmp(a, b) && a->family == b->family && !memcmp(a->peer, b->peer, 16) &&
	       a->proto == b->proto && a->has_port == b->has_port && a->reply == b->reply &&
	       a->port == b->port;
}

/* Well-known ports of the applications the data plane recognizes (app.h). */
static bool app_port(uint16_t port)
{
	static const uint16_t ports[] = { 1883, 8883, 502, 4840, 20000, 53, 5683, 5684, 47808, 123 };

	for (size_t i = 0; i < sizeof(ports) / sizeof(*ports); i++)
		if (port == ports[i])
			return true;
	return false;
}

/* How much a port looks like a service's: application, well-known, registered, ephemeral. */
static int port_score(uint16_t port)
{
	return app_port(port) ? 3 : port < 1024 ? 2 : port < 32768 ? 1 : 0;
}

static bool addr_usable(uint8_t family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == 4)
		return memcmp(a, zero, 4) && a[0] < 224;
	return memcmp(a, zero, 16) && a[0] != 0xff;
}

/* ---- a MAC with many source addresses is a router's ---------------------------------- */

struct mac_addr {
	uint8_t mac[6];
	uint8_t family;
	uint8_t addr[16];
};

static int ma_cmp_mac(const void *x, const void *y)
{
	const struct mac_addr *a = x, *b = y;
	int c = memcmp(a->mac, b->mac, 6);

	return c ? c : memcmp(&a->family, &b->family, 17);
}

static int ma_cmp_addr(const void *x, const void *y)
{
	const struct mac_addr *a = x, *b = y;
	int c = memcmp(&a->family, &b->family, 17);

	return c ? c : memcmp(a->mac, b->mac, 6);
}

/* Distinct (MAC, source address) pairs of the flows, sorted by MAC. */
static struct mac_addr *pairs_of(const struct flow_row *rows, size_t n, size_t *np)
{
	struct mac_addr *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		memcpy(v[i].mac, rows[i].key.smac, 6);
		v[i].family = rows[i].key.family;
		memcpy(v[i].addr, rows[i].key.saddr, 16);
	}
	qsort(v, n, sizeof(*v), ma_cmp_mac);
	for (size_t i = 0; i < n; i++)
		if (!k || ma_cmp_mac(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*np = k;
	return v;
}

static size_t addrs_of_mac(const struct mac_addr *v, size_t n, const uint8_t *mac)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)	/* sorted by MAC: a run */
		c += !memcmp(v[i].mac, mac, 6);
	return c;
}

/* ---- writing the policy ------------------------------------------------------------ */

struct text {
	char *s;
	size_t n, cap;
	int err;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int len;

	for (;;) {
		size_t room = t->cap - t->n;

		va_start(ap, fmt);
		len = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? room : 0, fmt, ap);
		va_end(ap);
		if (len < 0) {
			t->err = -EINVAL;
			return;
		}
		if (t->s && (size_t)len < room) {
			t->n += len;
			return;
		}
		{
			size_t cap = (t->cap + len + 1) * 2;
			char *p = realloc(t->s, cap);

			if (!p) {
				t->err = -ENOMEM;
				return;
			}
			t->s = p;
			t->cap = cap;
		}
	}
}

static void addr_text(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, len);
}


static void wall_text(uint64_t mono_ns, int64_t offset, char *buf, size_t len)
{
	time_t t = (time_t)(((int64_t)mono_ns + offset) / 1000000000LL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The device's name: dev-MAC or host-ADDR (':' of IPv6 as '-'). */
static void dev_name(const struct obs *o, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (o->by_mac) {
		snprintf(buf, len, "dev-%02x-%02x-%02x-%02x-%02x-%02x", o->mac[0], o->mac[1],
			 o->mac[2], o->mac[3], o->mac[4], o->mac[5]);
		return;
	}
	addr_text(o->dfamily, o->daddr, a, sizeof(a));
	for (char *p = a; *p; p++)
		if (*p == ':')
			*p = '-';
	snprintf(buf, len, "host-%s", a);
}

/* One `device` line per MAC device, with the addresses only it used. */
static void write_devices(struct text *t, const struct obs *v, size_t n, const struct mac_addr *by_addr,
			  size_t npairs, struct learn_summary *L)
{
	char name[64], a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		if (i && !obs_dev_cmp(&v[i - 1], &v[i]))
			continue;
		L->devices++;
		if (!v[i].by_mac)
			continue;
		dev_name(&v[i], name, sizeof(name));
		put(t, "device %s mac %02x:%02x:%02x:%02x:%02x:%02x", name, v[i].mac[0], v[i].mac[1],
		    v[i].mac[2], v[i].mac[3], v[i].mac[4], v[i].mac[5]);
		for (size_t k = 0; k < npairs; k++) {
			const struct mac_addr *p = &by_addr[k];
			/* by_addr is sorted by address: another MAC with it sits next to it. */
			bool shared = (k > 0 && !memcmp(&by_addr[k - 1].family, &p->family, 17)) ||
				      (k + 1 < npairs && !memcmp(&by_addr[k + 1].family, &p->family, 17));

			if (memcmp(p->mac, v[i].mac, 6) || shared || !addr_usable(p->family, p->addr))
				continue;
			addr_text(p->family, p->addr, a, sizeof(a));
			put(t, " ip %s", a);
		}
		put(t, "\n");
	}
}

static void write_rule(struct text *t, const struct obs *s, uint64_t nflows, bool app_ok,
		       int64_t offset, char (*names)[64], size_t *nnames, struct learn_summary *L)
{
	char dev[64], name[64], svc[40], first[32], last[32], peer[INET6_ADDRSTRLEN], pb[8];
	const char *proto = cli_proto_name(s->proto, pb, sizeof(pb));
	int dup = 1;

	dev_name(s, dev, sizeof(dev));
	if (app_ok)
		snprintf(svc, sizeof(svc), "%s", pol_app_names[s->app]);
	else if (s->has_port)
		snprintf(svc, sizeof(svc), "%s%u", proto, s->port);
	else
		snprintf(svc, sizeof(svc), "%s", proto);
	if (s->reply)
		strncat(svc, "-answers", sizeof(svc) - strlen(svc) - 1);
	/* Unique within the file: -2, -3... for further peers of the same service. */
	for (;;) {
		bool taken = false;

		if (dup == 1)
			snprintf(name, sizeof(name), "%.*s-%s", (int)(62 - strlen(svc)), dev, svc);
		else
			snprintf(name, sizeof(name), "%.*s-%s-%d", (int)(58 - strlen(svc)), dev, svc, dup);
		for (size_t i = 0; i < *nnames && !taken; i++)
			taken = !strcmp(names[i], name);
		if (!taken)
			break;
		dup++;
	}
	memcpy(names[(*nnames)++], name, sizeof(name));

	wall_text(s->first, offset, first, sizeof(first));
	wall_text(s->last, offset, last, sizeof(last));
	addr_text(s->family, s->peer, peer, sizeof(peer));
	put(t, "\n# %llu packet%s, %llu bytes in %llu flow%s; first seen %s, last seen %s%s\n",
	    (unsigned long long)s->packets, s->packets == 1 ? "" : "s", (unsigned long long)s->bytes,
	    (unsigned long long)nflows, nflows == 1 ? "" : "s", first, last,
	    s->reply ? "; the device answering on its own port" : "");
	if (!s->has_port && (s->proto == 6 || s->proto == 17 || s->proto == 132))
		put(t, "# non-first fragments: they carry no ports, so no port can be required\n");
	if (s->app && !app_ok)
		put(t, "# not every payload passed the %s header check: matched by port, not by app\n",
		    pol_app_names[s->app & 0x7f] ? pol_app_names[s->app & 0x7f] : "application");
	if (s->dropped) {
		put(t, "# every packet of it was dropped by the policy in force; uncomment to allow:\n# ");
		L->commented++;
	} else {
		L->rules++;
	}
	if (s->by_mac) {
		put(t, "rule %s device %s", name, dev);
	} else {
		char a[INET6_ADDRSTRLEN];

		addr_text(s->dfamily, s->daddr, a, sizeof(a));
		put(t, "rule %s src %s", name, a);
	}
	put(t, " dst %s proto %s", peer, proto);
	if (s->has_port)
		put(t, " %s %u", s->reply ? "sport" : "dport", s->port);
	if (app_ok)
		put(t, " app %s", pol_app_names[s->app]);
	put(t, " allow\n");
}

/* ---- the command --------------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct flow_row *)a)->key, &((const struct flow_row *)b)->key,
		      sizeof(struct fringe_flow_key));
}

/* Flows seen during the window: counts minus what the table held at its start. */
static size_t window_flows(struct flow_row *rows, size_t n, struct flow_row *base, size_t nb,
			   uint64_t t0)
{
	size_t k = 0;

	qsort(base, nb, sizeof(*base), key_cmp);
	for (size_t i = 0; i < n; i++) {
		struct flow_row *r = &rows[i];
		struct flow_row *b = nb ? bsearch(r, base, nb, sizeof(*base), key_cmp) : NULL;

		if (b) {
			if (r->packets <= b->packets)
				continue;
			r->packets -= b->packets;
			r->bytes -= b->bytes;
			if (r->first_ns < t0)
				r->first_ns = t0;
		}
		if (!r->packets)
			continue;
		rows[k++] = *r;
	}
	return k;
}

static int learn_write(const char *path, const char *text, size_t len)
{
	if (!strcmp(path, "-"))
		return fwrite(text, 1, len, stdout) == len ? 0 : -EIO;
	return file_write(path, text, len, 0644);	/* temporary by mkstemp, fsync, rename */
}

/* The learned text must be a policy `policy check` accepts. */
static int learn_validate(const char *text, size_t len)
{
	struct compile_env env = { .ncpus = 0 };
	struct diags d = { .file = "<learned policy>" };
	struct compiled c;
	struct policy p;
	int err = policy_parse(text, len, &d, &p);

	if (!err) {
		err = compile_policy(&p, &env, &d, &c);
		if (!err)
			compiled_free(&c);
		policy_free(&p);
	}
	cli_diags(&d);
	diags_free(&d);
	return err;
}

static int learn_build(struct flow_row *rows, size_t n, uint64_t secs, int64_t offset,
		       struct text *t, struct learn_summary *L)
{
	struct obs *v = calloc(n + 1, sizeof(*v));
	struct mac_addr *pairs = NULL, *by_addr = NULL;
	char (*names)[64] = calloc(n + 1, sizeof(*names));
	size_t npairs = 0, nnames = 0;
	char when[32];

	if (!v || !names || !(pairs = pairs_of(rows, n, &npairs)) ||
	    !(by_addr = calloc(npairs + 1, sizeof(*by_addr)))) {
		t->err = -ENOMEM;
		goto out;
	}
	memcpy(by_addr, pairs, npairs * sizeof(*pairs));
	qsort(by_addr, npairs, sizeof(*by_addr), ma_cmp_addr);

	for (size_t i = 0; i < n; i++) {
		const struct fringe_flow_key *k = &rows[i].key;
		struct obs *o = &v[i];
		bool ports = k->flags & FRINGE_FK_PORTS;

		o->by_mac = addrs_of_mac(pairs, npairs, k->smac) <= LEARN_ADDRS_PER_MAC;
		memcpy(o->mac, k->smac, 6);
		if (!o->by_mac) {
			memset(o->mac, 0, 6);
			o->dfamily = k->family;
			memcpy(o->daddr, k->saddr, 16);
		}
		o->family = k->family;
		o->proto = k->proto;
		o->has_port = ports;
		o->reply = ports && port_score(k->sport) > port_score(k->dport);
		o->port = !ports ? 0 : o->reply ? k->sport : k->dport;
		memcpy(o->peer, k->daddr, 16);
		o->app = rows[i].app;
		o->dropped = rows[i].action == 1;	/* XDP_DROP */
		o->packets = rows[i].packets;
		o->bytes = rows[i].bytes;
		o->first = rows[i].first_ns;
		o->last = rows[i].last_ns;
	}
	qsort(v, n, sizeof(*v), obs_cmp);
	L->flows = n;

	wall_text(clock_ns(CLOCK_MONOTONIC), offset, when, sizeof(when));
	put(t, "# Learned by `fringe learn` over %llu s, until %s: %zu flow%s.\n",
	    (unsigned long long)secs, when, n, n == 1 ? "" : "s");
	put(t, "# Least privilege: each rule admits one device's traffic to one service it was\n"
	       "# seen using; anything else is dropped.  Review it, then `fringe policy test` it\n"
	       "# on a capture and load it with `fringe policy load FILE --confirm SECONDS`.\n");
	if (!n)
		put(t, "# Nothing was seen: this policy drops everything.\n");
	put(t, "\n");
	write_devices(t, v, n, by_addr, npairs, L);

	for (size_t i = 0; i < n;) {
		struct obs s = v[i];
		uint64_t nflows = 1;
		bool mismatch = s.app & FRINGE_FLOW_APP_MISMATCH, dropped = s.dropped;
		uint8_t app = s.app & 0x7f;
		size_t j = i + 1;

		for (; j < n && same_service(&v[i], &v[j]); j++) {
			s.packets += v[j].packets;
			s.bytes += v[j].bytes;
			if (v[j].first < s.first)
				s.first = v[j].first;
			if (v[j].last > s.last)
				s.last = v[j].last;
			mismatch |= v[j].app & FRINGE_FLOW_APP_MISMATCH;
			if (v[j].app & 0x7f)
				app = v[j].app & 0x7f;
			dropped &= v[j].dropped;
			nflows++;
		}
		s.app = app < FRINGE_APP_COUNT ? app : 0;
		s.dropped = dropped;
		write_rule(t, &s, nflows, s.app && !mismatch && s.has_port, offset, names, &nnames, L);
		i = j;
	}
	put(t, "\ndefault drop\n");
out:
	free(v);
	free(pairs);
	free(by_addr);
	free(names);
	return t->err;
}

int learn_policy_text(struct flow_row *rows, size_t n, uint64_t secs, int64_t offset,
		      char **text, size_t *len, struct learn_summary *sum)
{
	struct text t = {};
	int err;

	memset(sum, 0, sizeof(*sum));
	err = learn_build(rows, n, secs, offset, &t, sum);
	if (err) {
		free(t.s);
		return err;
	}
	*text = t.s;
	*len = t.n;
	return 0;
}

int cmd_learn(struct cli *g, int argc, char **argv)
{
	const char *output = cli_opt(g, "--output");
	struct flow_row *base = NULL, *rows = NULL;
	size_t nb = 0, n = 0;
	struct learn_summary L = {};
	struct text t = {};
	unsigned long long secs;
	uint64_t cleared, t0;
	int64_t offset;
	bool was_on;
	struct maps m;
	int err;

	err = cli_opt_ull(g, "--duration", 1, LEARN_MAX_SECONDS, "seconds", &secs);
	if (err)
		return err;
	if (g->json && !strcmp(output, "-"))
		return cli_usage_err(g, "--json and --output - would both write to stdout");
	if (cli_open(g, &m, 0))
		return 1;
	{
		struct fringe_iface_info info;
		int attached = 0;

		for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++)
			attached += !bpf_map_lookup_elem(m.fd[M_IFACES], &s, &info) && info.in_use;
		if (!attached) {
			cli_err("no interface is attached: there is no traffic to learn from (fringe attach IFACE)");
			maps_close(&m);
			return 1;
		}
	}

	/* The flow table, on for the window; what it held before is subtracted. */
	was_on = flows_enabled(&m);
	if (was_on)
		err = flows_read(&m, &base, &nb);
	else
		err = flows_set_enabled(&m, true, &cleared);
	maps_unlock(&m);
	if (err) {
		cli_err("cannot use the flow table: %s", strerror(-err));
		goto out;
	}
	t0 = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (!g->json)
		cli_note("learning for %llu s (Ctrl-C stops early and writes what was seen)...", secs);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (uint64_t i = 0; i < secs * 10 && !stop; i++)
		usleep(100000);
	if (stop)
		secs = (clock_ns(CLOCK_MONOTONIC_COARSE) - t0) / 1000000000ULL;
	err = flows_read(&m, &rows, &n);
	if (!was_on) {
		int e = flows_set_enabled(&m, false, &cleared);

		maps_unlock(&m);
		if (e)
			cli_err("cannot switch the flow table off again: %s", strerror(-e));
	}
	if (err) {
		cli_err("cannot read the flow table: %s", strerror(-err));
		goto out;
	}
	n = window_flows(rows, n, base, nb, t0);
	offset = (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)clock_ns(CLOCK_MONOTONIC);
	err = learn_policy_text(rows, n, secs, offset, &t.s, &t.n, &L);
	if (!err && learn_validate(t.s, t.n)) {
		cli_err("the learned policy does not compile (a bug in fringe): not written");
		err = -EINVAL;
		goto out;
	}
	if (!err)
		err = learn_write(output, t.s, t.n);
	if (err) {
		cli_err("cannot write %s: %s", output, strerror(-err));
		goto out;
	}
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "output", jstr(output));
		json_object_object_add(o, "duration", ju64(secs));
		json_object_object_add(o, "flows", ju64(L.flows));
		json_object_object_add(o, "devices", ju64(L.devices));
		json_object_object_add(o, "rules", ju64(L.rules));
		json_object_object_add(o, "commented_out", ju64(L.commented));
		cli_print(g, o, NULL);
		json_object_put(o);
	} else {
		cli_note("learned %zu rules for %zu devices from %zu flows in %llu s%s%s%s",
			 L.rules, L.devices, L.flows, secs,
			 L.commented ? " (and commented out services the policy in force dropped)" : "",
			 strcmp(output, "-") ? ": wrote " : "", strcmp(output, "-") ? output : "");
	}
out:
	free(base);
	free(rows);
	free(t.s);
	maps_close(&m);
	return err ? 1 : 0;
}
