// SPDX-License-Identifier: GPL-2.0
/* The sample consumer: drains fringe_samples in batches into a pcap file or sFlow datagrams. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
/* pcap/bpf.h redefines the kernel's struct bpf_insn: only the dump API is needed. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
struct bpf_program;
#include <pcap/dlt.h>
#include <pcap/pcap.h>

#include "file.h"
#include "log.h"
#include "sampler.h"
#include "sflow.h"

/* XDP never sees the Ethernet FCS; sFlow's frame_length counts it and
 * `stripped` says it is not in the header, as hardware agents report. */
#define SFLOW_FCS_LEN 4

/* A rule's sample pool and drops, read at most once per poll.  A sample's
 * pool is the rule's packet count when it was taken: between two reads it
 * is placed on the line from one to the other by the sample's time, and it
 * never goes back.  (One value for every sample of a poll told collectors
 * that renormalize by pool deltas, as pmacct does, that a poll's packets
 * all came before its first sample: their estimates ran a quarter high.) */
struct rule_cache {
	uint64_t batch;
	uint64_t read_ns, prev_ns;	/* CLOCK_MONOTONIC of the last two reads */
	uint32_t pool, prev_pool;	/* the packet count they read */
	uint32_t given;			/* the last pool a sample was given */
	uint32_t drops;
	bool known;			/* read before */
};

struct sampler {
	struct maps *m;
	struct sampler_opts o;
	struct ring_buffer *rb;
	struct file_lock lock;
	int ring_fd;			/* the ring buffer fringe_samples holds */
	uint64_t batch;			/* sampler_poll calls: rule_cache generation */
	struct rule_cache *cache;	/* by counter id */
	struct fringe_sample_stats *percpu;
	uint64_t start_mono;		/* CLOCK_MONOTONIC at open: older samples are stale */
	int64_t wall_offset;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t taken0, lost0;		/* data-plane totals at open */
	struct sampler_totals t;
	int err;			/* a write or send error inside the ring callback */
	bool done;			/* max_samples reached */

	pcap_t *pcap;
	pcap_dumper_t *dumper;

	int sock;
	char target[300];
	struct sflow_agent agent;
	struct sflow_dgram dg;
	uint32_t dg_seq;
	uint64_t dg_first_mono;		/* when the part-filled datagram got its first sample */
	uint64_t next_counters;		/* CLOCK_MONOTONIC of the next counter samples */
	uint32_t *flow_seq;		/* flow samples by source ifIndex */
	uint32_t counter_seq[FRINGE_MAX_IFACES];
	int last_send_errno;		/* keep_going: log each new cause once */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void wall_offset_update(struct sampler *s)
{
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);

	s->wall_offset = (int64_t)(clock_ns(CLOCK_REALTIME) - mono);
}

/* ---- data-plane sample counters ------------------------------------------------ */

int sampler_stats_read(struct maps *m, uint32_t id, uint64_t *taken, uint64_t *lost)
{
	struct fringe_sample_stats v;

	*taken = *lost = 0;
	if (bpf_map_lookup_elem(m->fd[M_SAMPLE_STATS], &id, &v))
		return -errno;
	*taken = v.taken;
	*lost = v.lost;
	return 0;
}

int sampler_stats_sum(struct maps *m, uint64_t *taken, uint64_t *lost)
{
	__u32 n = FRINGE_MAX_COUNTERS, out_batch = 0;
	struct fringe_sample_stats *v = calloc(n, sizeof(*v));
	__u32 *keys = calloc(n, sizeof(*keys));
	int err = 0;

	*taken = *lost = 0;
	if (!v || !keys) {
		err = -ENOMEM;
		goto out;
	}
	/* One batch read of the whole array; one lookup per id otherwise. */
	if (bpf_map_lookup_batch(m->fd[M_SAMPLE_STATS], NULL, &out_batch, keys, v, &n, NULL) &&
	    errno != ENOENT) {
		for (__u32 id = 0; id < FRINGE_MAX_COUNTERS && !err; id++) {
			uint64_t t, l;

			err = sampler_stats_read(m, id, &t, &l);
			*taken += t;
			*lost += l;
		}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		*taken += v[i].taken;
		*lost += v[i].lost;
	}
out:
	free(v);
	free(keys);
	return err;
}

/* ---- one consumer per ring buffer ------------------------------------------------ */

/* Two consumers of one BPF ring buffer would race on its consumer position and
 * each see part of the samples (or some twice).  An flock on a file named
 * after the map's id serialises them: the id is unique while the map lives,
 * whatever pin path or mount namespace the consumer sees it through, and the
 * lock goes away with the process, however it ends.  The holder removes the
 * file when it stops; a taker checks that the file it locked is still the one
 * at the path, so a removal between its open and its flock is harmless. */
static int sampler_lock(struct sampler *s)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[128];
	long holder;
	int err;

	if (bpf_obj_get_info_by_fd(s->ring_fd, &info, &len)) {
		err = -errno;
		pr_err("cannot read the sample ring buffer's id: %s", strerror(-err));
		return err;
	}
	if (mkdir(SAMPLER_LOCK_DIR, 0755) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create %s: %s", SAMPLER_LOCK_DIR, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), SAMPLER_LOCK_DIR "/sample-map%u.lock", info.id);
	err = file_lock_take(&s->lock, path, &holder);
	if (err == -EBUSY && holder)
		pr_err("the sample ring buffer is already drained by another consumer (pid %ld: "
		       "a 'fringe sample' or the daemon's sflow export); stop it first (lock %s)",
		       holder, path);
	else if (err == -EBUSY)
		pr_err("the sample ring buffer is already drained by another consumer (pid unknown: "
		       "a 'fringe sample' or the daemon's sflow export); stop it first (lock %s)", path);
	else if (err)
		pr_err("cannot lock %s: %s", path, strerror(-err));
	return err;
}

static void sampler_unlock(struct sampler *s)
{
	file_lock_release(&s->lock);
}

/* ---- pcap ---------------------------------------------------------------------- */

static int pcap_out_open(struct sampler *s)
{
	const char *path = s->o.pcap_path;
	int err;

	s->pcap = pcap_open_dead(DLT_EN10MB, FRINGE_SAMPLE_MAX);
	if (!s->pcap) {
		pr_err("cannot write %s: out of memory", path);
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		s->dumper = pcap_dump_fopen(s->pcap, stdout);
	} else {
		/* Written in place as it grows, but never through a planted symlink or hard link. */
		FILE *f = file_open_stream(path, 0644, &err);
		char why[64];

		if (!f) {
			pr_err("cannot write %s: %s", path, file_strerror(err, 0, why, sizeof(why)));
			return err;
		}
		s->dumper = pcap_dump_fopen(s->pcap, f);
		if (!s->dumper)
			fclose(f);
	}
	if (!s->dumper) {
		pr_err("cannot write %s: %s", path, pcap_geterr(s->pcap));
		return -EIO;
	}
	return 0;
}

static int pcap_out_write(struct sampler *s, const struct fringe_sample *fs, uint32_t cap)
{
	uint64_t wall = fs->timestamp_ns + s->wall_offset;
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = wall / 1000000000ULL, .tv_usec = wall % 1000000000ULL / 1000 },
		.caplen = cap,
		.len = fs->orig_len > cap ? fs->orig_len : cap,
	};

	pcap_dump((u_char *)s->dumper, &h, fs->data);
	return 0;
}

/* ---- sFlow -------------------------------------------------------------------------- */

/* HOST:PORT, or [ADDR]:PORT for IPv6; port 1-65535. */
static int split_target(const char *target, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = target;
	size_t n;
	char *end;
	long p;

	if (*target == '[') {
		const char *close = strchr(target, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = target + 1;
		n = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(target, ':');
		if (!colon || memchr(target, ':', colon - target))
			return -EINVAL;
		n = colon - target;
	}
	if (!n || n >= hlen || strlen(colon + 1) >= plen)
		return -EINVAL;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, plen, "%ld", p);
	return 0;
}

/* The agent address: --agent, else the first attached interface's IPv4
 * address, else any non-loopback IPv4, else 0.0.0.0 (unknown). */
static int agent_pick(struct sampler *s)
{
	struct fringe_iface_info info;
	struct ifaddrs *ifa = NULL, *i;
	char first[FRINGE_IFNAME_LEN + 1] = "";

	s->agent.family = AF_INET;
	s->agent.sub_agent_id = s->o.sub_agent_id;
	memset(s->agent.addr, 0, sizeof(s->agent.addr));
	if (s->o.agent) {
		if (inet_pton(AF_INET, s->o.agent, s->agent.addr) == 1)
			return 0;
		if (inet_pton(AF_INET6, s->o.agent, s->agent.addr) == 1) {
			s->agent.family = AF_INET6;
			return 0;
		}
		pr_err("bad agent address '%s' (an IPv4 or IPv6 address)", s->o.agent);
		return -EINVAL;
	}
	for (__u32 slot = 1; slot < FRINGE_MAX_IFACES && !*first; slot++)
		if (!bpf_map_lookup_elem(s->m->fd[M_IFACES], &slot, &info) && info.in_use)
			snprintf(first, sizeof(first), "%.*s", FRINGE_IFNAME_LEN, info.name);
	if (getifaddrs(&ifa))
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
				continue;
			if (pass == 0 ? strcmp(i->ifa_name, first) : (i->ifa_flags & IFF_LOOPBACK) != 0)
				continue;
			memcpy(s->agent.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			freeifaddrs(ifa);
			return 0;
		}
	freeifaddrs(ifa);
	return 0;
}

static int sflow_out_open(struct sampler *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL, *ai;
	char host[256], port[8];
	int err, gai;

	snprintf(s->target, sizeof(s->target), "%s", s->o.sflow_target);
	if (split_target(s->target, host, sizeof(host), port, sizeof(port))) {
		pr_err("cannot send to %s: not HOST:PORT (port 1-65535; [ADDR]:PORT for IPv6)",
		       s->target);
		return -EINVAL;
	}
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai == EAI_NONAME || gai == EAI_ADDRFAMILY || gai == EAI_NODATA) {
		/* AI_ADDRCONFIG hides loopback-only namespaces' addresses: ask again without it. */
		hints.ai_flags = 0;
		gai = getaddrinfo(host, port, &hints, &res);
	}
	if (gai) {
		pr_err("cannot send to %s: %s", s->target,
		       gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	err = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		s->sock = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->sock < 0) {
			err = -errno;
			continue;
		}
		/* Connected: the kernel picks the source, and a collector that is
		 * not listening comes back as ECONNREFUSED. */
		if (!connect(s->sock, ai->ai_addr, ai->ai_addrlen))
			break;
		err = -errno;
		close(s->sock);
		s->sock = -1;
	}
	freeaddrinfo(res);
	if (s->sock < 0) {
		pr_err("cannot send to %s: %s", s->target, strerror(-err));
		return err;
	}
	err = agent_pick(s);
	if (err)
		return err;
	s->flow_seq = calloc(FRINGE_IFINDEX_LIMIT, sizeof(*s->flow_seq));
	if (!s->flow_seq)
		return -ENOMEM;
	sflow_begin(&s->dg, &s->agent);
	return 0;
}

static int send_error(struct sampler *s, int err)
{
	s->t.send_errors++;
	if (!s->o.keep_going) {
		pr_err("cannot send to %s: %s", s->target, strerror(-err));
		return err;
	}
	if (err != s->last_send_errno)
		pr_warn("cannot send to %s: %s (still trying)", s->target, strerror(-err));
	s->last_send_errno = err;
	return 0;
}

static int sflow_send(struct sampler *s)
{
	size_t len = sflow_finish(&s->dg, s->dg_seq + 1,
				  (uint32_t)((clock_ns(CLOCK_MONOTONIC) - s->start_mono) / 1000000));
	int err = 0;

	if (!len)
		return 0;
	s->dg_seq++;
	if (send(s->sock, s->dg.buf, len, 0) == (ssize_t)len) {
		s->t.datagrams++;
		s->last_send_errno = 0;
	} else {
		err = send_error(s, errno ? -errno : -EIO);
	}
	sflow_begin(&s->dg, &s->agent);
	return err;
}

/* An ICMP error that came back for an earlier datagram (port unreachable...). */
static int sflow_check_socket(struct sampler *s)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &soerr, &len) || !soerr)
		return 0;
	return send_error(s, -soerr);
}

static void rule_numbers(struct sampler *s, uint32_t id, uint64_t taken_ns, uint32_t *pool,
			 uint32_t *drops)
{
	struct rule_cache *c = &s->cache[id % FRINGE_MAX_COUNTERS];
	uint32_t at;

	if (c->batch != s->batch) {
		struct fringe_counter cnt;
		uint64_t taken, lost;

		maps_read_rule_counter(s->m, id, &cnt);
		sampler_stats_read(s->m, id, &taken, &lost);
		c->prev_pool = c->known ? c->pool : (uint32_t)cnt.packets;
		c->prev_ns = c->known ? c->read_ns : clock_ns(CLOCK_MONOTONIC);
		c->pool = (uint32_t)cnt.packets;	/* sFlow counters wrap at 2^32 */
		c->read_ns = clock_ns(CLOCK_MONOTONIC);
		c->drops = (uint32_t)lost;
		c->batch = s->batch;
		if (!c->known)
			c->given = c->pool;
		c->known = true;
	}
	/* Unsigned differences: right across the 2^32 wrap too. */
	at = c->pool;
	if (taken_ns > c->prev_ns && taken_ns < c->read_ns)
		at = c->prev_pool + (uint32_t)((double)(uint32_t)(c->pool - c->prev_pool) *
					       (double)(taken_ns - c->prev_ns) /
					       (double)(c->read_ns - c->prev_ns));
	else if (taken_ns <= c->prev_ns)
		at = c->prev_pool;
	if ((int32_t)(at - c->given) > 0)	/* never back */
		c->given = at;
	*pool = c->given;
	*drops = c->drops;
}

static int sflow_out_sample(struct sampler *s, const struct fringe_sample *fs, uint32_t cap)
{
	struct sflow_flow f = {
		.source_ifindex = fs->ifindex,
		.sampling_rate = fs->sample_rate ? fs->sample_rate : 1,
		.input = fs->ifindex,
		.output = 0,
		.frame_length = fs->orig_len + SFLOW_FCS_LEN,
		.stripped = SFLOW_FCS_LEN,
		.header = fs->data,
		.header_len = cap,
	};
	int err;

	rule_numbers(s, fs->counter_id, fs->timestamp_ns, &f.sample_pool, &f.drops);
	f.sequence = ++s->flow_seq[fs->ifindex % FRINGE_IFINDEX_LIMIT];
	if (!s->dg.n_samples)
		s->dg_first_mono = clock_ns(CLOCK_MONOTONIC);
	if (sflow_add_flow(&s->dg, &f))
		return 0;
	err = sflow_send(s);
	s->dg_first_mono = clock_ns(CLOCK_MONOTONIC);
	if (!sflow_add_flow(&s->dg, &f))
		return -EMSGSIZE;	/* cannot happen: a sample is far below a datagram */
	return err;
}

/* /sys/class/net/NAME/FILE as a number, only when NAME still has that ifindex. */
static bool sys_net_u64(const char *name, uint32_t ifindex, const char *file, uint64_t *v,
			int base)
{
	char path[128], buf[64];
	uint64_t idx;
	FILE *f;
	bool ok;

	if (file) {
		if (!sys_net_u64(name, ifindex, NULL, &idx, 10) || idx != ifindex)
			return false;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file ? file : "ifindex");
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (ok) {
		char *end;

		errno = 0;
		*v = strtoull(buf, &end, base);
		ok = !errno && end != buf && buf[0] != '-';
	}
	return ok;
}

static uint32_t u32_or_unknown(bool ok, uint64_t v)
{
	return ok ? (uint32_t)v : SFLOW_UNKNOWN32;
}

/* Generic interface counters: the input side from what fringe judged at XDP,
 * the output side and the state from the kernel; unknown ones all-ones. */
static void if_counters(struct sampler *s, __u32 slot, const struct fringe_iface_info *info,
			struct sflow_if_counters *c)
{
	struct fringe_iface_stats st;
	char name[FRINGE_IFNAME_LEN + 1];
	uint64_t v, pkts = 0, bytes = 0;
	bool ok;

	snprintf(name, sizeof(name), "%.*s", FRINGE_IFNAME_LEN, info->name);
	memset(c, 0, sizeof(*c));
	c->ifindex = info->ifindex;
	c->type = SFLOW_IFTYPE_ETHERNET;
	c->sequence = ++s->counter_seq[slot];
	/* speed in Mbit/s; -1 or absent: unknown (0) */
	if (sys_net_u64(name, info->ifindex, "speed", &v, 10))
		c->speed = v * 1000000ULL;
	{
		char path[128], buf[16] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/net/%s/duplex", name);
		f = fopen(path, "r");
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				c->direction = !strncmp(buf, "full", 4) ? 1 : !strncmp(buf, "half", 4) ? 2 : 0;
			fclose(f);
		}
	}
	if (sys_net_u64(name, info->ifindex, "flags", &v, 16)) {
		c->status = (v & IFF_UP) ? 1 : 0;
		c->promiscuous = (v & IFF_PROMISC) ? 1 : 2;
	} else {
		c->promiscuous = SFLOW_UNKNOWN32;
	}
	if (sys_net_u64(name, info->ifindex, "carrier", &v, 10) && v && (c->status & 1))
		c->status |= 2;

	if (maps_read_iface_stats(s->m, slot, &st) == 0) {
		for (int i = 0; i < FRINGE_V_MAX; i++) {
			pkts += st.verdict[i].packets;
			bytes += st.verdict[i].bytes;
		}
		c->in_octets = bytes;
		/* Like hsflowd: every received packet, as XDP cannot tell them apart cheaply. */
		c->in_ucast = (uint32_t)pkts;
		c->in_discards = (uint32_t)(st.verdict[FRINGE_V_DROP].packets -
					    st.drops[FRINGE_DROP_MALFORMED]);
		c->in_errors = (uint32_t)st.drops[FRINGE_DROP_MALFORMED];
	} else {
		c->in_octets = SFLOW_UNKNOWN64;
		c->in_ucast = c->in_discards = c->in_errors = SFLOW_UNKNOWN32;
	}
	c->in_mcast = c->in_bcast = c->in_unknown_protos = SFLOW_UNKNOWN32;
	ok = sys_net_u64(name, info->ifindex, "statistics/tx_bytes", &v, 10);
	c->out_octets = ok ? v : SFLOW_UNKNOWN64;
	ok = sys_net_u64(name, info->ifindex, "statistics/tx_packets", &v, 10);
	c->out_ucast = u32_or_unknown(ok, v);
	ok = sys_net_u64(name, info->ifindex, "statistics/tx_dropped", &v, 10);
	c->out_discards = u32_or_unknown(ok, v);
	ok = sys_net_u64(name, info->ifindex, "statistics/tx_errors", &v, 10);
	c->out_errors = u32_or_unknown(ok, v);
	c->out_mcast = c->out_bcast = SFLOW_UNKNOWN32;
}

static int sflow_out_counters(struct sampler *s)
{
	struct fringe_iface_info info;
	struct sflow_if_counters c;
	int err = 0;

	for (__u32 slot = 1; slot < FRINGE_MAX_IFACES && !err; slot++) {
		if (bpf_map_lookup_elem(s->m->fd[M_IFACES], &slot, &info) || !info.in_use)
			continue;
		if_counters(s, slot, &info, &c);
		if (!s->dg.n_samples)
			s->dg_first_mono = clock_ns(CLOCK_MONOTONIC);
		if (sflow_add_counters(&s->dg, &c))
			continue;
		err = sflow_send(s);
		s->dg_first_mono = clock_ns(CLOCK_MONOTONIC);
		sflow_add_counters(&s->dg, &c);
	}
	return err;
}

/* ---- the ring buffer ------------------------------------------------------------------ */

static int on_sample(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	const struct fringe_sample *fs = data;
	uint32_t cap;
	int err = 0;

	if (s->done || s->err)
		return -ECANCELED;	/* leave the rest in the ring */
	if (size < offsetof(struct fringe_sample, data))
		return 0;
	cap = fs->cap_len;
	if (cap > FRINGE_SAMPLE_MAX)
		cap = FRINGE_SAMPLE_MAX;
	if (cap > size - offsetof(struct fringe_sample, data))
		cap = size - offsetof(struct fringe_sample, data);
	if (!s->o.keep_backlog && fs->timestamp_ns < s->start_mono) {
		s->t.stale++;
		return 0;
	}
	if (s->dumper)
		err = pcap_out_write(s, fs, cap);
	if (!err && s->sock >= 0)
		err = sflow_out_sample(s, fs, cap);
	if (err) {
		s->err = err;
		return err;
	}
	s->t.written++;
	if (s->o.max_samples && s->t.written >= s->o.max_samples) {
		s->done = true;
		return -ECANCELED;
	}
	return 0;
}

int sampler_open(struct sampler **out, struct maps *m, const struct sampler_opts *o)
{
	struct sampler *s = calloc(1, sizeof(*s));
	bool had_lock;
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->o = *o;
	s->lock.fd = -1;
	s->ring_fd = -1;
	s->sock = -1;
	if (!s->o.counter_interval)
		s->o.counter_interval = SAMPLER_COUNTER_INTERVAL;
	s->cache = calloc(FRINGE_MAX_COUNTERS, sizeof(*s->cache));
	if (!s->cache) {
		err = -ENOMEM;
		goto fail;
	}
	s->batch = 1;
	/* The collector first: a bad one fails before anything is taken or truncated. */
	if (o->sflow_target) {
		err = sflow_out_open(s);
		if (err)
			goto fail;
	}
	/* The ring exists from the first `sample` rule or consumer on. */
	had_lock = m->lock_fd >= 0;
	err = maps_lock(m);
	if (!err)
		err = maps_hold(m, M_SAMPLES);
	if (!had_lock)
		maps_unlock(m);
	s->ring_fd = err ? err : maps_held_fd(m, M_SAMPLES);
	if (s->ring_fd < 0) {
		err = s->ring_fd;
		pr_err("cannot open the sample ring buffer: %s", strerror(-err));
		goto fail;
	}
	err = sampler_lock(s);
	if (err)
		goto fail;
	if (o->pcap_path) {
		err = pcap_out_open(s);
		if (err)
			goto fail;
	}
	s->rb = ring_buffer__new(s->ring_fd, on_sample, s, NULL);
	if (!s->rb) {
		err = -errno;
		pr_err("cannot open the sample ring buffer: %s", strerror(errno));
		goto fail;
	}
	sampler_stats_sum(m, &s->taken0, &s->lost0);
	s->start_mono = clock_ns(CLOCK_MONOTONIC);
	s->next_counters = s->start_mono;	/* counter samples at once, then periodically */
	wall_offset_update(s);
	*out = s;
	return 0;
fail:
	sampler_close(s);
	return err;
}

int sampler_epoll_fd(const struct sampler *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int sampler_flush(struct sampler *s)
{
	int err = 0;

	if (s->sock >= 0)
		err = sflow_send(s);
	if (s->dumper && pcap_dump_flush(s->dumper)) {
		int e = errno ? errno : EIO;

		pr_err("cannot write %s: %s", s->o.pcap_path, strerror(e));
		if (!err)
			err = -e;
	}
	if (err)
		s->err = err;	/* reported once: sampler_close does not flush again */
	return err;
}

int sampler_poll(struct sampler *s, int timeout_ms)
{
	uint64_t now;
	int n, err;
	bool due;

	if (s->done)
		return 1;
	s->batch++;
	wall_offset_update(s);
	/* Woken only when the ring is a quarter full: consume after the wait whatever happened. */
	n = ring_buffer__poll(s->rb, timeout_ms);
	if (n >= 0 || n == -EINTR || n == -ECANCELED)
		n = ring_buffer__consume(s->rb);
	if (s->err)
		return s->err;
	if (n < 0 && n != -EINTR && n != -ECANCELED) {
		pr_err("cannot read the sample ring buffer: %s", strerror(-n));
		return n;
	}
	now = clock_ns(CLOCK_MONOTONIC);
	if (s->sock >= 0) {
		if (now >= s->next_counters) {
			err = sflow_out_counters(s);
			if (err)
				return err;
			s->next_counters = now + s->o.counter_interval * 1000000000ULL;
		}
		due = now - s->dg_first_mono >= SAMPLER_FLUSH_MS * 1000000ULL;
		if (s->dg.n_samples && (s->done || due)) {
			err = sflow_send(s);
			if (err)
				return err;
		}
		err = sflow_check_socket(s);
		if (err)
			return err;
	}
	if (s->dumper && pcap_dump_flush(s->dumper)) {
		err = errno ? -errno : -EIO;
		pr_err("cannot write %s: %s", s->o.pcap_path, strerror(-err));
		return err;
	}
	return s->done ? 1 : 0;
}

void sampler_get_totals(struct sampler *s, struct sampler_totals *t)
{
	uint64_t taken, lost;

	*t = s->t;
	if (!sampler_stats_sum(s->m, &taken, &lost)) {
		t->taken = taken - s->taken0;
		t->lost = lost - s->lost0;
	}
}

void sampler_close(struct sampler *s)
{
	if (!s)
		return;
	if (s->rb && !s->err)
		sampler_flush(s);
	ring_buffer__free(s->rb);
	if (s->dumper)
		pcap_dump_close(s->dumper);
	if (s->pcap)
		pcap_close(s->pcap);
	if (s->sock >= 0)
		close(s->sock);
	sampler_unlock(s);
	if (s->ring_fd >= 0)
		close(s->ring_fd);
	free(s->flow_seq);
	free(s->cache);
	free(s);
}
