// SPDX-License-Identifier: GPL-2.0
/* Node membership on etcd (SPEC §14): announce this node under a lease, watch the others, load the union. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "cluster.h"
#include "etcd.h"
#include "json.h"
#include "lex.h"
#include "log.h"
#include "overlay.h"
#include "records.h"

#define PROBE_MS		1000	/* keepalive (or a read) while in touch: also the health check */
#define BACKOFF_MIN_MS		200
#define BACKOFF_MAX_MS		5000	/* SPEC §14: reconnect at most 5 s apart */
#define FAILOVER_GRACE_MS	3000	/* to reach the next member before calling it an outage */
#define LOAD_DEBOUNCE_MS	30	/* a burst of events makes one load */
#define PUBLISH_RETRY_MS	3000
#define SELF_RETRY_MS		2000	/* announce underlay auto / mac auto not resolvable yet */
#define REJECT_LOG_BURST	10	/* rejection lines per window; the rest are counted */
#define REJECT_LOG_WINDOW_MS	10000
#define RECORD_MAX_B64		((RECORD_MAX_VALUE + 2) / 3 * 4)

struct rec_entry {
	char *key;
	int64_t mod_rev, lease;
	struct node_record r;
	bool accepted;		/* in the table last loaded */
	bool judged;		/* the union has ruled on this version once */
	uint64_t first_seen_s;
};

enum conn_state { C_DOWN, C_SYNC, C_WATCH, C_UP };
enum lease_state { L_NONE, L_ASKING, L_HELD };

struct cluster {
	struct maps *m;
	struct etcd *e;
	char *first_url;
	char nodes_key[CONFIG_PREFIX_MAX + 16];	/* PREFIX/nodes/ */
	unsigned int ttl;
	struct fringe_cluster_state *st;

	/* this node */
	bool announce;
	struct config_announce ann;
	char (*ifnames)[IF_NAMESIZE];	/* the config's interfaces, for prefix auto */
	size_t n_ifnames;
	struct node_def self;
	bool self_ok;
	char self_why[200];
	uint64_t self_retry_at;
	char *self_json;
	uint64_t self_since;

	struct nodes *file;
	struct rec_entry **recs;	/* sorted by key */
	size_t n_recs;

	enum conn_state conn;
	uint64_t retry_at, backoff, next_probe;
	struct etcd_call *sync_call, *watch_call, *probe_call, *lease_call, *pub_call;
	int64_t revision;
	bool ever_synced;
	bool outage;			/* said so in the log */
	uint64_t outage_since;
	uint64_t failover_since;	/* lost the serving member, trying the next */
	size_t serving;			/* the member the watch is on */
	bool overlay_before;		/* an overlay was in force when the daemon started */

	enum lease_state lease;
	int64_t lease_id;
	bool published, name_conflict;
	uint64_t publish_at;
	int64_t own_create_rev;

	bool dirty;
	uint64_t load_at;
	uint64_t fingerprint;
	bool loaded;

	uint64_t rlog_window;
	unsigned int rlog_n, rlog_quiet;
};

/* ---- the pinned state ------------------------------------------------------------- */

static size_t state_len(void)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	return (sizeof(struct fringe_cluster_state) + pg - 1) / pg * pg;
}

struct fringe_cluster_state *cluster_state_map(const char *pin_dir, bool create)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	void *p;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, FRINGE_CLUSTER_PIN);
	fd = bpf_obj_get(path);
	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) ||
			info.value_size != sizeof(struct fringe_cluster_state))) {
		close(fd);
		if (!create) {
			errno = EPROTO;
			return NULL;
		}
		unlink(path);	/* another fringe's layout: start over */
		fd = -1;
	}
	if (fd < 0 && create) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);

		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, FRINGE_CLUSTER_PIN, sizeof(__u32),
				    sizeof(struct fringe_cluster_state), 1, &opts);
		if (fd >= 0 && bpf_obj_pin(fd, path)) {
			err = errno;
			close(fd);
			errno = err;
			return NULL;
		}
	}
	if (fd < 0)
		return NULL;
	p = mmap(NULL, state_len(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = err;
		return NULL;
	}
	return p;
}

void cluster_state_unmap(struct fringe_cluster_state *s)
{
	if (s)
		munmap(s, state_len());
}

bool cluster_state_live(const struct fringe_cluster_state *s)
{
	return s && s->pid && (kill(s->pid, 0) == 0 || errno == EPERM);
}

static void state_endpoints(struct cluster *c)
{
	size_t n, cur = etcd_current(c->e);
	const struct etcd_endpoint *ep = etcd_endpoints(c->e, &n);

	c->st->n_endpoints = n;
	for (size_t i = 0; i < n && i < FRINGE_CLUSTER_MAX_ENDPOINTS; i++) {
		struct fringe_cluster_endpoint *s = &c->st->ep[i];

		snprintf(s->url, sizeof(s->url), "%s", ep[i].url);
		s->last_ok_ns = ep[i].last_ok_ns;
		s->last_err_ns = ep[i].last_err_ns;
		snprintf(s->error, sizeof(s->error), "%s", ep[i].error);
		s->healthy = ep[i].healthy;
		s->current = i == cur;
	}
}

/* ---- this node ------------------------------------------------------------------------ */

/* The source address the kernel picks toward the first member (announce underlay auto). */
static int source_toward(const char *url, int *family, uint8_t addr[16], char *why, size_t wl)
{
	const char *h = strstr(url, "://") + 3, *end;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	int fd, rc;

	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = h + strcspn(h, ":/");
	}
	snprintf(host, sizeof(host), "%.*s", (int)(end - h), h);
	rc = getaddrinfo(host, "2379", &hints, &ai);
	if (rc) {
		snprintf(why, wl, "cannot resolve %.80s: %s", host, gai_strerror(rc));
		return -ENOENT;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(why, wl, "no route toward %.80s: %s", host, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -ENETUNREACH;
	}
	close(fd);
	freeaddrinfo(ai);
	memset(addr, 0, 16);
	if (ss.ss_family == AF_INET) {
		*family = 4;
		memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		*family = 6;
		memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return 0;
}

static int copy_prefixes(struct node_def *s, const struct pol_prefix *p, size_t n)
{
	s->prefixes = calloc(n + 1, sizeof(*s->prefixes));
	s->prefix_loc = calloc(n + 1, sizeof(*s->prefix_loc));
	if (!s->prefixes || !s->prefix_loc)
		return -ENOMEM;
	memcpy(s->prefixes, p, n * sizeof(*p));
	s->n_prefixes = n;
	return 0;
}

/* `prefix auto`: the networks of the global addresses on the config's
 * interfaces other than the underlay (the workloads' side). */
static int auto_prefixes(struct cluster *c, const char *underlay_if, struct node_def *s)
{
	struct pol_prefix v[RECORD_MAX_PREFIXES];
	struct ifaddrs *ifs, *i;
	size_t n = 0;

	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i && n < RECORD_MAX_PREFIXES; i = i->ifa_next) {
		const uint8_t *a, *mask;
		struct pol_prefix p = {};
		bool listed = false, dup = false;
		size_t alen;

		if (!i->ifa_addr || !i->ifa_netmask || !strcmp(i->ifa_name, underlay_if))
			continue;
		for (size_t k = 0; k < c->n_ifnames; k++)
			listed |= !strcmp(c->ifnames[k], i->ifa_name);
		if (!listed)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			mask = (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
			alen = 4;
			p.family = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			mask = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
			alen = 16;
			p.family = 6;
			if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
				continue;	/* link-local */
		} else {
			continue;
		}
		if (p.family == 4 && a[0] == 127)
			continue;
		for (size_t b = 0; b < alen; b++) {
			p.addr[b] = a[b] & mask[b];
			p.len += __builtin_popcount(mask[b]);
		}
		for (size_t k = 0; k < n; k++)
			dup |= nodes_prefixes_overlap(&v[k], &p);
		if (!dup)
			v[n++] = p;
	}
	freeifaddrs(ifs);
	if (!n) {
		snprintf(c->self_why, sizeof(c->self_why),
			 "prefix auto: no addresses on the interfaces other than the underlay %s", underlay_if);
		return -ENOENT;
	}
	return copy_prefixes(s, v, n);
}

/* announce with its autos filled in: the host name, the source address toward
 * etcd, the MAC of the interface holding it. */
static int self_resolve(struct cluster *c)
{
	const struct config_announce *a = &c->ann;
	struct node_def *s = &c->self;
	struct ov_local l;
	char host[256], a4[64];
	int fam, err;

	record_def_free(s);
	memset(s, 0, sizeof(*s));
	c->self_ok = false;
	if (a->name[0]) {
		snprintf(s->name, sizeof(s->name), "%s", a->name);
	} else {
		if (gethostname(host, sizeof(host)))
			host[0] = '\0';
		host[strcspn(host, ".")] = '\0';
		if (!lex_name_ok(host, strlen(host))) {
			snprintf(c->self_why, sizeof(c->self_why),
				 "the host name '%.60s' is not a node name: give 'announce name NAME'", host);
			return -EINVAL;
		}
		snprintf(s->name, sizeof(s->name), "%s", host);
	}
	if (a->family) {
		s->family = a->family;
		memcpy(s->underlay, a->underlay, 16);
	} else {
		err = source_toward(c->first_url, &fam, s->underlay, c->self_why, sizeof(c->self_why));
		if (err)
			return err;
		s->family = fam;
	}
	inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->underlay, a4, sizeof(a4));
	err = overlay_live_env.local_iface(s->family, s->underlay, &l);
	if (err) {
		snprintf(c->self_why, sizeof(c->self_why), "underlay %s is not an address of this host: %s",
			 a4, strerror(-err));
		return err;
	}
	s->has_mac = true;
	memcpy(s->mac, a->has_mac ? a->mac : l.mac, 6);
	s->vni = a->vni;
	if (a->prefix_auto)
		err = auto_prefixes(c, l.ifname, s);
	else
		err = copy_prefixes(s, a->prefixes, a->n_prefixes);
	if (err)
		return err;
	if (!c->self_since)
		c->self_since = time(NULL);
	free(c->self_json);
	c->self_json = record_format(s, c->self_since);
	if (!c->self_json)
		return -ENOMEM;
	c->self_ok = true;
	snprintf(c->st->name, sizeof(c->st->name), "%s", s->name);
	pr_info("cluster: this node is '%s', underlay %s on %s, mac %02x:%02x:%02x:%02x:%02x:%02x, %zu prefix%s",
		s->name, a4, l.ifname, s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5],
		s->n_prefixes, s->n_prefixes == 1 ? "" : "es");
	return 0;
}

/* ---- records ----------------------------------------------------------------------------- */

static int rec_find(struct cluster *c, const char *key, size_t *at)
{
	size_t lo = 0, hi = c->n_recs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(c->recs[mid]->key, key);

		if (!r) {
			*at = mid;
			return 1;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

static void rec_free(struct rec_entry *r)
{
	record_def_free(&r->r.def);
	free(r->key);
	free(r);
}

static void rec_remove(struct cluster *c, size_t i)
{
	rec_free(c->recs[i]);
	memmove(&c->recs[i], &c->recs[i + 1], (c->n_recs - i - 1) * sizeof(*c->recs));
	c->n_recs--;
}

static void count(struct cluster *c, enum fringe_cluster_event ev)
{
	__atomic_add_fetch(&c->st->events[ev], 1, __ATOMIC_RELAXED);
}

static void log_rejected_flush(struct cluster *c);

/* Rejections are logged, at most REJECT_LOG_BURST a window; all are counted. */
static void log_rejected(struct cluster *c, const char *key, const char *why)
{
	uint64_t now = mono_ms();

	if (now >= c->rlog_window + REJECT_LOG_WINDOW_MS) {
		log_rejected_flush(c);
		c->rlog_window = now;
		c->rlog_n = 0;
	}
	if (c->rlog_n++ < REJECT_LOG_BURST)
		pr_warn("cluster: rejected record %.200s: %s", key, why);
	else
		c->rlog_quiet++;
}

/* After a batch (a watch message, a read of everything): how many went unlogged. */
static void log_rejected_flush(struct cluster *c)
{
	if (!c->rlog_quiet)
		return;
	pr_warn("cluster: %u more records rejected without a log line of their own (fringe_cluster_events_total{type=\"rejected\"}, fringe cluster status)",
		c->rlog_quiet);
	c->rlog_quiet = 0;
}

static void mark_dirty(struct cluster *c)
{
	if (!c->dirty)
		c->load_at = mono_ms() + LOAD_DEBOUNCE_MS;
	c->dirty = true;
}

static bool own_key(struct cluster *c, const char *name)
{
	return c->announce && c->self_ok && !strcmp(name, c->self.name);
}

/* A key with its value (base64) at mod_rev. */
static void on_put(struct cluster *c, const char *key, size_t klen, const char *v64, int64_t create_rev,
		   int64_t mod_rev, int64_t lease)
{
	const char *name = key + strlen(c->nodes_key);
	struct rec_entry *r;
	size_t at, vlen;
	char *value;

	if (own_key(c, name)) {
		c->own_create_rev = create_rev;
		if (lease == c->lease_id && c->lease == L_HELD) {
			if (rec_find(c, key, &at))
				rec_remove(c, at);	/* was another node's */
			return;
		}
		/* Someone else holds this node's name: publish again when free. */
		if (c->published)
			pr_warn("cluster: the record of this node '%s' was replaced by another (lease %lld)",
				name, (long long)lease);
		c->published = false;
	}
	if (rec_find(c, key, &at)) {
		r = c->recs[at];
		if (r->mod_rev == mod_rev)
			return;	/* seen (a resync reads it again) */
		record_def_free(&r->r.def);
	} else {
		struct rec_entry **nv = realloc(c->recs, (c->n_recs + 1) * sizeof(*nv));

		r = calloc(1, sizeof(*r));
		if (!nv || !r || !(r->key = strndup(key, klen))) {
			free(r);
			if (nv)
				c->recs = nv;
			pr_err("cluster: out of memory for record %s", key);
			return;
		}
		c->recs = nv;
		memmove(&c->recs[at + 1], &c->recs[at], (c->n_recs - at) * sizeof(*c->recs));
		c->recs[at] = r;
		c->n_recs++;
		r->first_seen_s = time(NULL);
	}
	count(c, FRINGE_CEV_PUT);
	r->mod_rev = mod_rev;
	r->lease = lease;
	r->r.key = r->key;
	r->r.create_rev = create_rev;
	r->judged = false;
	r->accepted = false;
	if (strlen(v64) > RECORD_MAX_B64 + 4) {
		r->r.ok = false;
		snprintf(r->r.why, sizeof(r->r.why), "record of about %zu bytes (at most %d)",
			 strlen(v64) / 4 * 3, RECORD_MAX_VALUE);
	} else if (!(value = etcd_unb64(v64, &vlen))) {
		r->r.ok = false;
		snprintf(r->r.why, sizeof(r->r.why), "value is not base64");
	} else {
		r->r.ok = !record_parse(name, value, vlen, &r->r.def, &r->r.since, r->r.why,
					sizeof(r->r.why));
		free(value);
	}
	if (!r->r.ok) {
		r->judged = true;
		count(c, FRINGE_CEV_REJECTED);
		log_rejected(c, r->key, r->r.why);
	}
	mark_dirty(c);
}

static void on_delete(struct cluster *c, const char *key)
{
	size_t at;

	if (own_key(c, key + strlen(c->nodes_key)) && c->published) {
		pr_warn("cluster: the record of this node was deleted; publishing it again");
		c->published = false;
		c->publish_at = 0;
	}
	if (!rec_find(c, key, &at))
		return;
	count(c, FRINGE_CEV_DELETE);
	if (c->recs[at]->accepted)
		pr_info("cluster: node '%s' left (its record is gone)", c->recs[at]->r.def.name);
	rec_remove(c, at);
	mark_dirty(c);
}

/* One kv of a range reply or a watch event. */
static void on_kv(struct cluster *c, json_object *kv, bool del)
{
	json_object *k, *v;
	size_t klen;
	char *key;

	if (!json_object_object_get_ex(kv, "key", &k) || !(key = etcd_unb64(json_object_get_string(k), &klen)))
		return;
	if (strlen(key) != klen || strncmp(key, c->nodes_key, strlen(c->nodes_key))) {
		free(key);	/* a NUL in the key, or outside the range: never ours */
		return;
	}
	if (del)
		on_delete(c, key);
	else
		on_put(c, key, klen, json_object_object_get_ex(kv, "value", &v) ? json_object_get_string(v) : "",
		       etcd_int(kv, "create_revision"), etcd_int(kv, "mod_revision"), etcd_int(kv, "lease"));
	free(key);
}

/* ---- the table --------------------------------------------------------------------------- */

struct local_addrs {
	int n;
	struct { int family; uint8_t a[16]; } v[64];
};

static bool is_local(void *ctx, int family, const uint8_t *addr)
{
	const struct local_addrs *l = ctx;

	for (int i = 0; i < l->n; i++)
		if (l->v[i].family == family && !memcmp(l->v[i].a, addr, family == 4 ? 4 : 16))
			return true;
	return false;
}

static void local_addrs_read(struct local_addrs *l)
{
	struct ifaddrs *ifs, *i;

	l->n = 0;
	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i && l->n < 64; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(l->v[l->n].a, 0, 16);
		if (i->ifa_addr->sa_family == AF_INET) {
			l->v[l->n].family = 4;
			memcpy(l->v[l->n].a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else {
			l->v[l->n].family = 6;
			memcpy(l->v[l->n].a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
		l->n++;
	}
	freeifaddrs(ifs);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* What the data plane would be given: names, addresses, MACs, prefixes, VNIs, self. */
static uint64_t table_fingerprint(const struct nodes *n, const struct ov_built *b)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, n->self, strlen(n->self));

	h = fnv(h, &b->local, sizeof(b->local));
	for (size_t i = 0; i < n->n; i++) {
		h = fnv(h, n->v[i].name, strlen(n->v[i].name) + 1);
		h = fnv(h, &b->node[i], sizeof(b->node[i]));
		h = fnv(h, n->v[i].prefixes, n->v[i].n_prefixes * sizeof(*n->v[i].prefixes));
	}
	return h;
}

static void log_build_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		pr_err("cluster: %s", d->v[i].msg);
}

/* The union of the nodes file, this node and the records, loaded when it
 * differs from what is in force. */
static void cluster_load(struct cluster *c)
{
	const struct node_record **recs = calloc(c->n_recs + 1, sizeof(*recs));
	struct rec_entry **ent = calloc(c->n_recs + 1, sizeof(*ent));
	struct records_union_in in = { .file = c->file, .self_rev = INT64_MAX, .is_local = is_local };
	struct local_addrs *la = calloc(1, sizeof(*la));
	struct records_union u;
	struct diags d = { 0 };
	struct ov_built b;
	uint64_t gen = 0, h;
	size_t n = 0, from_store = 0, rejected = 0;
	int err;

	c->dirty = false;
	if (!recs || !ent || !la) {
		pr_err("cluster: out of memory building the table");
		goto out;
	}
	if (c->announce) {
		if (!c->self_ok)
			goto out;	/* said when it failed */
		in.self = &c->self;
		if (c->own_create_rev)
			in.self_rev = c->own_create_rev;
	}
	local_addrs_read(la);
	in.ctx = la;
	for (size_t i = 0; i < c->n_recs; i++) {
		if (!c->recs[i]->r.ok) {
			rejected++;
			continue;
		}
		ent[n] = c->recs[i];
		recs[n++] = &c->recs[i]->r;
	}
	in.recs = recs;
	in.n_recs = n;
	err = records_union(&in, &u);
	if (err) {
		pr_err("cluster: cannot build the table: %s; the overlay in force stays",
		       err == -EINVAL ? u.self_note : strerror(-err));
		records_union_free(&u);
		goto out;
	}
	if (u.self_note[0])
		pr_warn("cluster: prefixes of this node that older nodes hold are left out: %s", u.self_note);
	for (size_t i = 0; i < n; i++) {
		struct rec_entry *r = ent[i];

		if (u.accepted[i]) {
			from_store++;
			if (r->judged && !r->accepted)
				pr_info("cluster: record %s is accepted now", r->key);
		} else {
			rejected++;
			if (!r->judged || r->accepted) {
				count(c, FRINGE_CEV_REJECTED);
				log_rejected(c, r->key, u.why[i]);
			}
		}
		r->accepted = u.accepted[i];
		r->judged = true;
	}
	log_rejected_flush(c);
	c->st->n_records = c->n_recs;
	c->st->n_rejected = rejected;
	err = overlay_build(&u.nodes, &overlay_live_env, &d, &b);
	if (err) {
		log_build_diags(&d);
		pr_err("cluster: cannot resolve the table against this host; the overlay in force stays");
		diags_free(&d);
		overlay_note_load_failure(c->m);
		records_union_free(&u);
		goto out;
	}
	diags_free(&d);
	h = table_fingerprint(&u.nodes, &b);
	if (!c->loaded || h != c->fingerprint) {
		err = overlay_load(c->m, &u.nodes, &b, &gen);
		maps_unlock(c->m);
		if (err) {
			pr_err("cluster: cannot load the table: %s; the overlay in force stays", strerror(-err));
		} else {
			c->loaded = true;
			c->fingerprint = h;
			pr_info("cluster: loaded %zu nodes (%zu from etcd, %zu from the nodes file, %zu record%s rejected), generation %llu",
				u.nodes.n, from_store, u.nodes.n - from_store - (c->announce ? 1 : 0),
				rejected, rejected == 1 ? "" : "s", (unsigned long long)gen);
			c->st->overlay_generation = gen;
			for (size_t i = 0; i < u.nodes.n && i < FRINGE_MAX_NODES; i++) {
				struct fringe_cluster_node *cn = &c->st->node[i];

				memset(cn, 0, sizeof(*cn));
				snprintf(cn->name, sizeof(cn->name), "%s", u.nodes.v[i].name);
				cn->source = u.source[i];
				cn->since_s = u.source[i] == NODE_SRC_SELF ? c->self_since :
					      u.since[i] ? u.since[i] : (uint64_t)time(NULL);
			}
			for (size_t i = 0; i < n; i++)
				for (size_t k = 0; u.accepted[i] && k < u.nodes.n; k++)
					if (!strcmp(u.nodes.v[k].name, ent[i]->r.def.name)) {
						c->st->node[k].create_rev = ent[i]->r.create_rev;
						if (!ent[i]->r.since)
							c->st->node[k].since_s = ent[i]->first_seen_s;
					}
			c->st->n_nodes = u.nodes.n;
		}
	}
	overlay_built_free(&b);
	records_union_free(&u);
out:
	free(recs);
	free(ent);
	free(la);
}

/* ---- talking to etcd ------------------------------------------------------------------- */

static json_object *jb64(const char *s)
{
	char *b = etcd_b64(s, strlen(s));
	json_object *o = json_object_new_string(b ? b : "");

	free(b);
	return o;
}

static json_object *jnum(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

/* The range of every record: [PREFIX/nodes/, PREFIX/nodes0). */
static void add_range(struct cluster *c, json_object *o)
{
	char end[sizeof(c->nodes_key)];

	snprintf(end, sizeof(end), "%s", c->nodes_key);
	end[strlen(end) - 1]++;		/* '/' + 1 */
	json_object_object_add(o, "key", jb64(c->nodes_key));
	json_object_object_add(o, "range_end", jb64(end));
}

static void outage(struct cluster *c, const char *why)
{
	if (!c->outage) {
		pr_warn("cluster: etcd is out of reach or without quorum (%s): the table in force stays; retrying",
			why);
		c->outage = true;
		c->outage_since = c->failover_since ? c->failover_since : mono_ms();
	}
	c->failover_since = 0;
	c->st->up = 0;
}

/* Lost touch: a member that was serving failed over to the next one at once
 * (fringe_cluster_up stays 1 for FAILOVER_GRACE_MS, as losing one member of
 * three changes nothing); past that, or when the next fails too, it is an
 * outage: up 0, the table stays, retries back off up to BACKOFF_MAX_MS. */
static void go_down(struct cluster *c, const char *why)
{
	uint64_t now = mono_ms();
	bool was_up = c->conn == C_UP;

	etcd_cancel(c->e, c->sync_call);
	etcd_cancel(c->e, c->watch_call);
	etcd_cancel(c->e, c->probe_call);
	etcd_cancel(c->e, c->lease_call);
	etcd_cancel(c->e, c->pub_call);
	c->sync_call = c->watch_call = c->probe_call = c->lease_call = c->pub_call = NULL;
	if (c->lease == L_ASKING)
		c->lease = L_NONE;
	c->conn = C_DOWN;
	if (was_up && !c->failover_since) {
		pr_info("cluster: lost etcd member %s (%s); going on with the next",
			etcd_endpoints(c->e, &(size_t){ 0 })[c->serving].url, why);
		c->failover_since = now;
		c->retry_at = now;
		return;
	}
	if (c->failover_since) {
		/* The next member may still be electing a leader: keep trying
		 * until the grace runs out (cluster_run calls the outage then). */
		c->retry_at = now + BACKOFF_MIN_MS;
		return;
	}
	outage(c, why);
	c->retry_at = now + c->backoff;
	c->backoff = c->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff * 2;
}

static void header_rev(struct cluster *c, json_object *o)
{
	json_object *h;
	int64_t r;

	if (json_object_object_get_ex(o, "header", &h) && (r = etcd_int(h, "revision")) > c->revision) {
		c->revision = r;
		c->st->revision = r;
	}
}

static void watch_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;
	json_object *res, *evs;

	if (!msg) {
		c->watch_call = NULL;
		if (!strcmp(err, "closed"))
			etcd_rotate(c->e, "closed the watch");
		go_down(c, err);
		return;
	}
	if (!json_object_object_get_ex(msg, "result", &res))
		return;
	if (etcd_int(res, "compact_revision") || json_object_get_boolean(json_object_object_get(res, "canceled"))) {
		etcd_cancel(c->e, call);
		c->watch_call = NULL;
		pr_info("cluster: the watch was cancelled (revision compacted or leader lost); reading everything again");
		go_down(c, "watch cancelled");
		c->retry_at = mono_ms();
		return;
	}
	header_rev(c, res);
	if (json_object_get_boolean(json_object_object_get(res, "created")) && c->conn == C_WATCH) {
		c->conn = C_UP;
		c->st->up = 1;
		c->serving = etcd_current(c->e);
		if (c->failover_since)
			pr_info("cluster: failed over to %s in %llu ms",
				etcd_endpoints(c->e, &(size_t){ 0 })[c->serving].url,
				(unsigned long long)(mono_ms() - c->failover_since));
		c->failover_since = 0;
		c->backoff = BACKOFF_MIN_MS;
		c->next_probe = mono_ms() + PROBE_MS;
		c->st->last_sync_ns = real_ns();
		pr_info("cluster: in sync with etcd at %s, revision %lld, %zu records%s",
			etcd_endpoints(c->e, &(size_t){ 0 })[etcd_current(c->e)].url,
			(long long)c->revision, c->n_recs, c->outage ? " (back after an outage)" : "");
		if (c->outage)
			pr_info("cluster: the outage lasted %.1f s", (mono_ms() - c->outage_since) / 1000.0);
		c->outage = false;
		c->ever_synced = true;
	}
	if (json_object_object_get_ex(res, "events", &evs)) {
		for (size_t i = 0; i < json_object_array_length(evs); i++) {
			json_object *ev = json_object_array_get_idx(evs, i), *kv;
			const char *type = json_object_get_string(json_object_object_get(ev, "type"));

			if (json_object_object_get_ex(ev, "kv", &kv))
				on_kv(c, kv, type && !strcmp(type, "DELETE"));
		}
		log_rejected_flush(c);
		c->st->last_sync_ns = real_ns();
	}
}

static int str_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return strcmp(x ? x : "", y ? y : "");
}

static void sync_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;
	json_object *kvs, *body, *req;
	char **seen = NULL;
	size_t n = 0;

	c->sync_call = NULL;
	if (!msg) {
		go_down(c, err);
		return;
	}
	/* Keys gone while we were away are deletions. */
	if (json_object_object_get_ex(msg, "kvs", &kvs))
		n = json_object_array_length(kvs);
	seen = calloc(n + 1, sizeof(*seen));
	for (size_t i = 0; seen && i < n; i++) {
		size_t kl;

		seen[i] = etcd_unb64(json_object_get_string(json_object_object_get(
			json_object_array_get_idx(kvs, i), "key")), &kl);
	}
	if (seen)
		qsort(seen, n, sizeof(*seen), str_cmp);
	for (size_t i = c->n_recs; seen && i-- > 0;) {
		const char *key = c->recs[i]->key;

		if (!bsearch(&key, seen, n, sizeof(*seen), str_cmp))
			on_delete(c, key);
	}
	for (size_t k = 0; seen && k < n; k++)
		free(seen[k]);
	free(seen);
	for (size_t i = 0; i < n; i++)
		on_kv(c, json_object_array_get_idx(kvs, i), false);
	log_rejected_flush(c);
	c->revision = 0;
	header_rev(c, msg);
	mark_dirty(c);
	if (!c->loaded && !c->ever_synced)
		c->load_at = mono_ms();
	body = json_object_new_object();
	req = json_object_new_object();
	add_range(c, req);
	json_object_object_add(req, "start_revision", jnum(c->revision + 1));
	json_object_object_add(body, "create_request", req);
	c->watch_call = etcd_post(c->e, "/v3/watch", body, true, watch_reply, c);
	if (!c->watch_call) {
		go_down(c, "out of memory");
		return;
	}
	c->conn = C_WATCH;
}

static void start_sync(struct cluster *c)
{
	json_object *body = json_object_new_object();

	add_range(c, body);
	c->sync_call = etcd_post(c->e, "/v3/kv/range", body, false, sync_reply, c);
	if (c->sync_call)
		c->conn = C_SYNC;
	else
		go_down(c, "out of memory");
}

/* ---- the lease and the record ----------------------------------------------------------- */

static void publish(struct cluster *c);

static void lease_lost(struct cluster *c, const char *why)
{
	if (c->lease == L_HELD)
		pr_warn("cluster: lease %llx is gone (%s); asking for a new one",
			(unsigned long long)c->lease_id, why);
	c->lease = L_NONE;
	c->lease_id = 0;
	c->st->lease_id = 0;
	c->published = false;
	c->st->announced = 0;
}

static void grant_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;

	c->lease_call = NULL;
	if (!msg || !etcd_int(msg, "ID")) {
		c->lease = L_NONE;
		go_down(c, err ? err : "no lease granted");
		return;
	}
	c->lease = L_HELD;
	c->lease_id = etcd_int(msg, "ID");
	c->st->lease_id = c->lease_id;
	c->st->lease_ttl = etcd_int(msg, "TTL");
	c->st->lease_renewed_ns = real_ns();
	c->published = false;
	c->publish_at = 0;
	pr_info("cluster: lease %llx granted (ttl %llds)", (unsigned long long)c->lease_id,
		(long long)etcd_int(msg, "TTL"));
	publish(c);
}

static void grant(struct cluster *c)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "TTL", jnum(c->ttl));
	c->lease = L_ASKING;
	c->lease_call = etcd_post(c->e, "/v3/lease/grant", body, false, grant_reply, c);
	if (!c->lease_call)
		c->lease = L_NONE;
}

/* A keepalive's answer: the lease lives (TTL > 0) or is gone.  Also the
 * health check while announcing (it needs a leader). */
static void keepalive_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;
	json_object *res = msg;
	bool reclaim = c->lease == L_ASKING;

	if (call == c->lease_call)
		c->lease_call = NULL;
	if (call == c->probe_call)
		c->probe_call = NULL;
	if (!msg) {
		if (reclaim)
			c->lease = L_NONE;
		go_down(c, err);
		return;
	}
	json_object_object_get_ex(msg, "result", &res);
	if (etcd_int(res, "TTL") <= 0) {
		if (reclaim)
			pr_info("cluster: the lease of the previous run (%llx) has run out; asking for a new one",
				(unsigned long long)c->lease_id);
		else
			lease_lost(c, "expired");
		c->lease_id = 0;
		grant(c);
		return;
	}
	c->st->lease_renewed_ns = real_ns();
	c->st->last_sync_ns = real_ns();
	if (reclaim) {
		c->lease = L_HELD;
		c->st->lease_ttl = c->ttl;
		pr_info("cluster: took back lease %llx of the previous run (%llds left)",
			(unsigned long long)c->lease_id, (long long)etcd_int(res, "TTL"));
		c->published = false;
		c->publish_at = 0;
		publish(c);
	}
}

static struct etcd_call *keepalive(struct cluster *c)
{
	json_object *body = json_object_new_object();

	json_object_object_add(body, "ID", jnum(c->lease_id));
	return etcd_post(c->e, "/v3/lease/keepalive", body, false, keepalive_reply, c);
}

static void publish_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err);

static void put_record(struct cluster *c, bool if_absent)
{
	char key[sizeof(c->nodes_key) + FRINGE_NAME_LEN];
	json_object *body = json_object_new_object(), *put = json_object_new_object();
	json_object *op = json_object_new_object(), *arr;

	snprintf(key, sizeof(key), "%s%s", c->nodes_key, c->self.name);
	json_object_object_add(put, "key", jb64(key));
	json_object_object_add(put, "value", jb64(c->self_json));
	json_object_object_add(put, "lease", jnum(c->lease_id));
	json_object_object_add(op, "request_put", put);
	arr = json_object_new_array();
	json_object_array_add(arr, op);
	json_object_object_add(body, "success", arr);
	/* The name is this node's when the key is free or already under its lease. */
	{
		json_object *cmp = json_object_new_object(), *ca = json_object_new_array();
		json_object *rq = json_object_new_object(), *fa = json_object_new_array();
		json_object *fop = json_object_new_object();

		json_object_object_add(cmp, "key", jb64(key));
		if (if_absent) {
			json_object_object_add(cmp, "target", json_object_new_string("CREATE"));
			json_object_object_add(cmp, "create_revision", jnum(0));
		} else {
			json_object_object_add(cmp, "target", json_object_new_string("LEASE"));
			json_object_object_add(cmp, "lease", jnum(c->lease_id));
		}
		json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
		json_object_array_add(ca, cmp);
		json_object_object_add(body, "compare", ca);
		json_object_object_add(rq, "key", jb64(key));
		json_object_object_add(fop, "request_range", rq);
		json_object_array_add(fa, fop);
		json_object_object_add(body, "failure", fa);
	}
	c->pub_call = etcd_post(c->e, "/v3/kv/txn", body, false, publish_reply, c);
}

static void publish_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;
	json_object *resp, *kvs;
	int64_t lease = 0;

	c->pub_call = NULL;
	if (!msg) {
		c->publish_at = mono_ms() + PUBLISH_RETRY_MS;
		pr_warn("cluster: cannot publish this node's record: %s; retrying", err);
		return;
	}
	if (json_object_get_boolean(json_object_object_get(msg, "succeeded"))) {
		if (!c->published)
			pr_info("cluster: published %s%s under lease %llx: %s", c->nodes_key, c->self.name,
				(unsigned long long)c->lease_id, c->self_json);
		c->published = true;
		c->name_conflict = false;
		c->st->announced = 1;
		header_rev(c, msg);
		return;
	}
	/* The key exists: under our lease (a restart within it) put it back; else it is another node's. */
	resp = json_object_array_get_idx(json_object_object_get(msg, "responses"), 0);
	kvs = json_object_object_get(json_object_object_get(resp, "response_range"), "kvs");
	if (kvs && json_object_array_length(kvs))
		lease = etcd_int(json_object_array_get_idx(kvs, 0), "lease");
	if (!kvs || !json_object_array_length(kvs)) {
		put_record(c, true);	/* gone meanwhile */
		return;
	}
	if (lease == c->lease_id) {
		put_record(c, false);
		return;
	}
	if (!c->name_conflict) {
		c->name_conflict = true;
		pr_err("cluster: the name '%s' is held by another node (lease %llx): this node is not announced; retrying every %d s",
		       c->self.name, (unsigned long long)lease, PUBLISH_RETRY_MS / 1000);
		count(c, FRINGE_CEV_REJECTED);
	}
	c->publish_at = mono_ms() + PUBLISH_RETRY_MS;
	c->st->announced = 0;
}

static void publish(struct cluster *c)
{
	if (!c->announce || !c->self_ok || c->lease != L_HELD || c->pub_call || c->conn == C_DOWN)
		return;
	put_record(c, true);
}

/* ---- the member ------------------------------------------------------------------------ */

static void probe_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	struct cluster *c = ctx;

	c->probe_call = NULL;
	if (!msg) {
		go_down(c, err);
		return;
	}
	header_rev(c, msg);
	c->st->last_sync_ns = real_ns();
}

static void probe(struct cluster *c)
{
	json_object *body;

	if (c->lease == L_HELD) {
		c->probe_call = keepalive(c);
		return;
	}
	body = json_object_new_object();
	add_range(c, body);
	json_object_object_add(body, "count_only", json_object_new_boolean(1));
	c->probe_call = etcd_post(c->e, "/v3/kv/range", body, false, probe_reply, c);
}

void cluster_run(struct cluster *c)
{
	uint64_t now;

	etcd_dispatch(c->e);
	now = mono_ms();
	if (c->announce && !c->self_ok && now >= c->self_retry_at) {
		int err = self_resolve(c);

		if (err) {
			pr_err("cluster: cannot announce this node: %s; retrying", c->self_why);
			c->self_retry_at = now + SELF_RETRY_MS;
		} else {
			mark_dirty(c);
		}
	}
	if (c->failover_since && now >= c->failover_since + FAILOVER_GRACE_MS)
		outage(c, "no other member answered in time");
	if (c->conn == C_DOWN && now >= c->retry_at)
		start_sync(c);
	if (c->conn == C_UP) {
		if (c->announce && c->self_ok && c->lease == L_NONE) {
			if (c->lease_id) {	/* the previous run's: take it back */
				c->lease = L_ASKING;
				c->lease_call = keepalive(c);
				if (!c->lease_call)
					c->lease = L_NONE;
			} else {
				grant(c);
			}
		}
		if (c->lease == L_HELD && !c->published && now >= c->publish_at)
			publish(c);
		if (!c->probe_call && now >= c->next_probe) {
			probe(c);
			c->next_probe = now + PROBE_MS;
		}
	}
	/* Before the first read of the store, the table in force (a previous
	 * run's, say) stays: loading the nodes file alone would drop the peers. */
	if (c->dirty && now >= c->load_at && (c->ever_synced || !c->overlay_before))
		cluster_load(c);
	state_endpoints(c);
}

int cluster_fd(struct cluster *c)
{
	return etcd_fd(c->e);
}

static void until(long *t, uint64_t now, uint64_t due)
{
	long d = due > now ? (long)(due - now) : 0;

	if (*t < 0 || d < *t)
		*t = d;
}

long cluster_timeout_ms(struct cluster *c)
{
	uint64_t now = mono_ms();
	long t = etcd_timeout_ms(c->e);

	if (c->conn == C_DOWN)
		until(&t, now, c->retry_at);
	if (c->failover_since)
		until(&t, now, c->failover_since + FAILOVER_GRACE_MS);
	if (c->conn == C_UP && !c->probe_call)
		until(&t, now, c->next_probe);
	if (c->dirty)
		until(&t, now, c->load_at);
	if (c->announce && !c->self_ok)
		until(&t, now, c->self_retry_at);
	if (c->conn == C_UP && c->lease == L_HELD && !c->published && !c->pub_call)
		until(&t, now, c->publish_at);
	return t;
}

static int announce_copy(struct config_announce *dst, const struct config_announce *src)
{
	*dst = *src;
	dst->prefixes = calloc(src->n_prefixes + 1, sizeof(*dst->prefixes));
	if (!dst->prefixes)
		return -ENOMEM;
	memcpy(dst->prefixes, src->prefixes, src->n_prefixes * sizeof(*dst->prefixes));
	return 0;
}

static void drop_key_reply(void *ctx, struct etcd_call *call, json_object *msg, const char *err)
{
	if (!msg)
		pr_warn("cluster: cannot delete the record under the old name: %s (it leaves with its lease)",
			err);
}

void cluster_set_announce(struct cluster *c, const struct config *cfg)
{
	const struct config_announce *a = &cfg->announce;
	char old_name[FRINGE_NAME_LEN], *old_json = c->self_json ? strdup(c->self_json) : NULL;
	bool was_published = c->published;

	snprintf(old_name, sizeof(old_name), "%s", c->self_ok ? c->self.name : "");
	free(c->ann.prefixes);
	if (!a || !a->loc.line || announce_copy(&c->ann, a)) {
		memset(&c->ann, 0, sizeof(c->ann));
		if (c->announce)
			pr_warn("cluster: the announce line is gone; this node's record stays until a restart (its lease keeps it)");
		free(old_json);
		return;
	}
	c->announce = true;
	c->self_json = NULL;
	free(c->ifnames);
	c->ifnames = calloc(cfg->n_ifaces + 1, sizeof(*c->ifnames));
	c->n_ifnames = 0;
	for (size_t i = 0; c->ifnames && i < cfg->n_ifaces; i++)
		snprintf(c->ifnames[c->n_ifnames++], IF_NAMESIZE, "%s", cfg->ifaces[i].name);
	if (self_resolve(c)) {
		pr_err("cluster: cannot announce this node: %s; retrying", c->self_why);
		c->self_retry_at = mono_ms() + SELF_RETRY_MS;
	} else if (!old_json || strcmp(old_json, c->self_json)) {
		if (was_published && old_name[0] && strcmp(old_name, c->self.name)) {
			char key[sizeof(c->nodes_key) + FRINGE_NAME_LEN];
			json_object *body = json_object_new_object();

			snprintf(key, sizeof(key), "%s%s", c->nodes_key, old_name);
			json_object_object_add(body, "key", jb64(key));
			etcd_post(c->e, "/v3/kv/deleterange", body, false, drop_key_reply, c);
		}
		pr_info("cluster: the announce line changed; publishing the new record");
		c->published = false;
		c->publish_at = 0;
		c->own_create_rev = 0;
		mark_dirty(c);
		publish(c);
	}
	free(old_json);
}

void cluster_set_nodes_file(struct cluster *c, struct nodes *file)
{
	if (c->file) {
		nodes_free(c->file);
		free(c->file);
	}
	c->file = file;
	mark_dirty(c);
	c->load_at = mono_ms();
}

int cluster_open(struct cluster **out, struct maps *m, const struct config *conf)
{
	const struct config_cluster *cfg = &conf->cluster;
	struct etcd_opts eo = { .urls = cfg->urls, .n_urls = cfg->n_urls, .ca = cfg->ca,
				.cert = cfg->cert, .key = cfg->key };
	struct cluster *c = calloc(1, sizeof(*c));
	struct ov_state ov;
	int err;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->m = m;
	err = etcd_open(&c->e, &eo);
	if (err)
		goto fail;
	c->st = cluster_state_map(m->pin_dir, true);
	if (!c->st) {
		err = -errno;
		pr_err("cannot keep the cluster state in %s: %s", m->pin_dir, strerror(errno));
		goto fail;
	}
	if (c->st->version != FRINGE_CLUSTER_VERSION) {
		memset(c->st, 0, sizeof(*c->st));
		c->st->version = FRINGE_CLUSTER_VERSION;
	}
	c->st->pid = getpid();
	c->st->up = 0;
	c->st->announced = 0;
	snprintf(c->st->prefix, sizeof(c->st->prefix), "%s", cfg->prefix);
	c->lease_id = c->st->lease_id;	/* the previous run's, taken back when alive */
	snprintf(c->nodes_key, sizeof(c->nodes_key), "%s/nodes/", cfg->prefix);
	c->first_url = strdup(cfg->urls[0]);
	c->ttl = cfg->ttl;
	c->backoff = BACKOFF_MIN_MS;
	c->conn = C_DOWN;
	if (!overlay_read(m, &ov)) {
		c->overlay_before = ov.loaded;
		overlay_state_free(&ov);
	}
	if (!c->first_url) {
		err = -ENOMEM;
		goto fail;
	}
	if (conf->announce.loc.line)
		cluster_set_announce(c, conf);
	state_endpoints(c);
	pr_info("cluster: members %s%s, records under %s, lease ttl %us%s", cfg->urls[0],
		cfg->n_urls > 1 ? " and more" : "", c->nodes_key, c->ttl,
		c->announce ? "" : " (not announcing: no announce line)");
	*out = c;
	return 0;
fail:
	cluster_close(c);
	return err;
}

void cluster_close(struct cluster *c)
{
	if (!c)
		return;
	if (c->st) {
		c->st->pid = 0;
		c->st->up = 0;
		cluster_state_unmap(c->st);
	}
	etcd_close(c->e);
	for (size_t i = 0; i < c->n_recs; i++)
		rec_free(c->recs[i]);
	free(c->recs);
	if (c->file) {
		nodes_free(c->file);
		free(c->file);
	}
	record_def_free(&c->self);
	free(c->ann.prefixes);
	free(c->ifnames);
	free(c->self_json);
	free(c->first_url);
	free(c);
}
