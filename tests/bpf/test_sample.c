// SPDX-License-Identifier: GPL-2.0
/* Sampling and flows: 1-in-N within a binomial interval, lost samples accounted, pcap and sFlow output, the flow table. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cmocka.h>

#define PCAP_DONT_INCLUDE_PCAP_BPF_H
struct bpf_program;
#include <pcap/dlt.h>
#include <pcap/pcap.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "flows.h"
#include "pkt.h"
#include "sampler.h"
#include "sflow.h"

#define FRAME_CAP 2048
#define M_PACKETS 20000		/* test runs per experiment */

static uint32_t rule_id(struct fx *f, const char *name)
{
	uint32_t id = UINT32_MAX;

	assert_int_equal(fx_rule_id(f, name, &id), 0);
	return id;
}

/* A UDP frame to dport with `payload` bytes of payload. */
static size_t udp_frame(uint8_t *buf, uint16_t dport, size_t payload)
{
	static uint8_t data[1500];
	struct pkt_opts o = {
		.src = "10.1.0.1", .dst = "10.2.0.1", .proto = IPPROTO_UDP,
		.sport = 40000, .dport = dport, .payload = data, .payload_len = payload,
	};
	size_t len;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	len = pkt_build(buf, FRAME_CAP, &o);
	assert_true(len > 0);
	return len;
}

static void run(struct fx *f, const uint8_t *fr, size_t len, uint32_t repeat)
{
	uint32_t action = 0;

	assert_int_equal(fx_run_repeat(f, fr, len, 0, repeat, &action), 0);
	assert_int_equal(action, XDP_PASS);
}

/* 5-sigma interval of Binomial(m, 1/n). */
static void binomial_interval(uint64_t m, uint32_t n, uint64_t *lo, uint64_t *hi)
{
	double p = 1.0 / n, mean = m * p, sd = sqrt(m * p * (1 - p));

	*lo = mean - 5 * sd > 0 ? (uint64_t)floor(mean - 5 * sd) : 0;
	*hi = (uint64_t)ceil(mean + 5 * sd);
}

/* ---- draining the ring buffer directly ---------------------------------------------- */

struct drained {
	uint64_t n;
	uint64_t by_id[4];	/* counts for the ids in ids[] */
	uint32_t ids[4];
	uint64_t other;		/* records of any other id */
	const uint8_t *frame;	/* expected first bytes */
	size_t frame_len;
	uint32_t want_cap, want_rate, want_ifindex;
	uint64_t bad;		/* records whose fields disagree */
	char why[160];
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct drained *d = ctx;
	const struct fringe_sample *s = data;
	bool known = false;

	d->n++;
	for (int i = 0; i < 4; i++)
		if (d->ids[i] && s->counter_id == d->ids[i]) {
			d->by_id[i]++;
			known = true;
		}
	if (!known)
		d->other++;
	if (size < sizeof(*s) || s->orig_len != d->frame_len || s->cap_len != d->want_cap ||
	    s->sample_rate != d->want_rate || s->ifindex != d->want_ifindex ||
	    memcmp(s->data, d->frame, d->want_cap) || !s->timestamp_ns) {
		if (!d->bad++)
			snprintf(d->why, sizeof(d->why),
				 "id %u orig_len %u cap_len %u rate %u ifindex %u (want len %zu cap %u rate %u ifindex %u)",
				 s->counter_id, s->orig_len, s->cap_len, s->sample_rate, s->ifindex,
				 d->frame_len, d->want_cap, d->want_rate, d->want_ifindex);
	}
	return 0;
}

static void drain(struct fx *f, struct drained *d)
{
	int fd = maps_held_fd(&f->m, M_SAMPLES);	/* held since the policy's load */
	struct ring_buffer *rb;
	int n;

	assert_true(fd >= 0);
	rb = ring_buffer__new(fd, on_record, d, NULL);
	close(fd);
	assert_non_null(rb);
	n = ring_buffer__consume(rb);
	assert_true(n >= 0);
	ring_buffer__free(rb);
}

static void sample_stats(struct fx *f, uint32_t id, uint64_t *taken, uint64_t *lost)
{
	assert_int_equal(sampler_stats_read(&f->m, id, taken, lost), 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

/* sample 1/10 over 20000 packets: a binomial count, in the ring and in the
 * counters alike, and nothing from the rules that do not sample. */
static void test_rate_is_binomial(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP], fr2[FRAME_CAP];
	size_t len = udp_frame(fr, 5000, 300), len2 = udp_frame(fr2, 6000, 300);
	struct drained d = { .frame = fr, .frame_len = len, .want_cap = FRINGE_SAMPLE_BYTES,
			     .want_rate = 10, .want_ifindex = f->ifindex };
	uint64_t lo, hi, taken, lost, t_other, l_other, t_def, l_def;

	load_ok(f, "rule sampled proto udp dport 5000 allow sample 1/10\n"
		   "rule plain proto udp dport 6000 allow\n");
	d.ids[0] = rule_id(f, "sampled");
	run(f, fr, len, M_PACKETS);
	run(f, fr2, len2, M_PACKETS);
	drain(f, &d);

	binomial_interval(M_PACKETS, 10, &lo, &hi);
	sample_stats(f, d.ids[0], &taken, &lost);
	sample_stats(f, rule_id(f, "plain"), &t_other, &l_other);
	sample_stats(f, 0, &t_def, &l_def);
	print_message("sample 1/10 of %d packets: %llu samples (5-sigma interval %llu..%llu)\n",
		      M_PACKETS, (unsigned long long)d.n, (unsigned long long)lo,
		      (unsigned long long)hi);
	if (d.bad)
		fail_msg("%llu records disagree with the packet, first: %s",
			 (unsigned long long)d.bad, d.why);
	assert_int_equal(d.other, 0);
	assert_true(d.n >= lo && d.n <= hi);
	assert_int_equal(taken, d.n);
	assert_int_equal(lost, 0);
	assert_int_equal(t_other + l_other + t_def + l_def, 0);
	/* The sample pool: every packet of the rule. */
	assert_int_equal(fx_rule_packets(f, "sampled"), M_PACKETS);
	assert_int_equal(sampler_stats_sum(&f->m, &taken, &lost), 0);
	assert_int_equal(taken, d.n);
	assert_int_equal(lost, 0);
}

/* Two sampling rules keep their own rates and ids; 1/1 takes every packet. */
static void test_two_rules_own_rates(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP], fr2[FRAME_CAP];
	size_t len = udp_frame(fr, 5000, 100), len2 = udp_frame(fr2, 6000, 100);
	struct drained d = { .frame = fr, .frame_len = len, .want_cap = FRINGE_SAMPLE_BYTES,
			     .want_rate = 1, .want_ifindex = f->ifindex };
	struct drained d2 = { .frame = fr2, .frame_len = len2, .want_cap = FRINGE_SAMPLE_BYTES,
			      .want_rate = 1000, .want_ifindex = f->ifindex };
	uint64_t lo, hi;

	load_ok(f, "rule all proto udp dport 5000 allow sample 1/1\n"
		   "rule rare proto udp dport 6000 allow sample 1/1000\n");
	d.ids[0] = rule_id(f, "all");
	d2.ids[0] = rule_id(f, "rare");
	run(f, fr, len, 1000);
	drain(f, &d);
	assert_int_equal(d.bad, 0);
	assert_int_equal(d.n, 1000);
	assert_int_equal(d.other, 0);
	run(f, fr2, len2, M_PACKETS);
	drain(f, &d2);
	binomial_interval(M_PACKETS, 1000, &lo, &hi);
	if (d2.bad)
		fail_msg("record disagrees: %s", d2.why);
	assert_int_equal(d2.other, 0);
	assert_true(d2.n >= lo && d2.n <= hi);
}

/* meta->sample_bytes sets the bytes per sample; short frames give all they have. */
static void test_sample_bytes(void **state)
{
	static const struct { size_t payload; uint32_t bytes, want; } rows[] = {
		{ 300, 0, FRINGE_SAMPLE_BYTES },
		{ 300, 64, 64 },
		{ 300, 256, 256 },
		{ 300, 1000, FRINGE_SAMPLE_MAX },	/* capped */
		{ 10, 0, 14 + 20 + 8 + 10 },		/* the whole frame */
	};
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP];

	load_ok(f, "rule s proto udp allow sample 1/1\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = udp_frame(fr, 7000, rows[i].payload);
		struct drained d = { .frame = fr, .frame_len = len, .want_cap = rows[i].want,
				     .want_rate = 1, .want_ifindex = f->ifindex };

		d.ids[0] = rule_id(f, "s");
		f->m.meta->sample_bytes = rows[i].bytes;
		run(f, fr, len, 3);
		drain(f, &d);
		if (d.bad || d.n != 3)
			fail_msg("sample_bytes %u: %llu records, %llu bad: %s", rows[i].bytes,
				 (unsigned long long)d.n, (unsigned long long)d.bad, d.why);
	}
	f->m.meta->sample_bytes = 0;
}

/* Nobody consumes: the ring fills, the rest are counted lost, and
 * taken + lost = selected.  With 1/1 every packet is selected; with 1/4
 * the selected count is binomial. */
static void test_full_ring_counts_lost(void **state)
{
	/* Records are the sample plus the ring's 8-byte header, 8-aligned. */
	const uint64_t rec = (sizeof(struct fringe_sample) + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
	const uint64_t capacity = FRINGE_SAMPLE_RING / rec;
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP], fr4[FRAME_CAP];
	size_t len = udp_frame(fr, 5000, 60), len4 = udp_frame(fr4, 5004, 60);
	struct drained d = { .frame = fr, .frame_len = len, .want_cap = len < 128 ? len : 128,
			     .want_rate = 1, .want_ifindex = f->ifindex };
	struct drained d4 = { .frame = fr4, .frame_len = len4, .want_cap = len4 < 128 ? len4 : 128,
			      .want_rate = 4, .want_ifindex = f->ifindex };
	uint64_t taken, lost, lo, hi, t4, l4;

	load_ok(f, "rule every proto udp dport 5000 allow sample 1/1\n"
		   "rule quarter proto udp dport 5004 allow sample 1/4\n");
	d.ids[0] = rule_id(f, "every");
	d4.ids[0] = rule_id(f, "quarter");

	run(f, fr, len, M_PACKETS);
	sample_stats(f, d.ids[0], &taken, &lost);
	print_message("ring of %d bytes holds %llu samples: 1/1 of %d: taken %llu, lost %llu\n",
		      FRINGE_SAMPLE_RING, (unsigned long long)capacity, M_PACKETS,
		      (unsigned long long)taken, (unsigned long long)lost);
	assert_true(lost > 0);
	assert_int_equal(taken + lost, M_PACKETS);
	assert_true(taken <= capacity && taken >= capacity * 9 / 10);
	drain(f, &d);
	assert_int_equal(d.bad, 0);
	assert_int_equal(d.n, taken);

	/* Drained, the ring takes samples again; the ring is full again after this. */
	run(f, fr4, len4, 2 * M_PACKETS);
	sample_stats(f, d4.ids[0], &t4, &l4);
	binomial_interval(2 * M_PACKETS, 4, &lo, &hi);
	print_message("1/4 of %d: taken %llu, lost %llu (selected interval %llu..%llu)\n",
		      2 * M_PACKETS, (unsigned long long)t4, (unsigned long long)l4,
		      (unsigned long long)lo, (unsigned long long)hi);
	assert_true(l4 > 0);
	assert_true(t4 + l4 >= lo && t4 + l4 <= hi);
	drain(f, &d4);
	assert_int_equal(d4.bad, 0);
	assert_int_equal(d4.n, t4);
	assert_int_equal(d4.other, 0);
	/* The first rule's numbers did not move. */
	sample_stats(f, d.ids[0], &t4, &l4);
	assert_int_equal(t4, taken);
	assert_int_equal(l4, lost);
}

/* The sampler writes what the ring holds into a pcap that libpcap reads back,
 * with original lengths; samples from before it started are discarded. */
static void test_sampler_pcap(void **state)
{
	struct fx *f = get_fx(state);
	char dir[] = "/tmp/fringe-sample-XXXXXX", path[64], errbuf[PCAP_ERRBUF_SIZE];
	uint8_t fr[FRAME_CAP];
	size_t len = udp_frame(fr, 5000, 400);
	struct sampler_opts o = { .pcap_path = path };
	struct sampler_totals t;
	struct sampler *s = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct timeval now;
	uint64_t n = 0;
	pcap_t *p;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.pcap", dir);
	load_ok(f, "rule s proto udp dport 5000 allow sample 1/1\n");
	run(f, fr, len, 7);			/* before the sampler: stale */
	assert_int_equal(sampler_open(&s, &f->m, &o), 0);
	run(f, fr, len, 50);
	assert_int_equal(sampler_poll(s, 0), 0);
	assert_int_equal(sampler_flush(s), 0);
	sampler_get_totals(s, &t);
	sampler_close(s);
	assert_int_equal(t.written, 50);
	assert_int_equal(t.stale, 7);
	assert_int_equal(t.taken, 50);
	assert_int_equal(t.lost, 0);

	p = pcap_open_offline(path, errbuf);
	if (!p)
		fail_msg("pcap_open_offline: %s", errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	gettimeofday(&now, NULL);
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_int_equal(h->len, len);
		assert_int_equal(h->caplen, FRINGE_SAMPLE_BYTES);
		assert_memory_equal(data, fr, FRINGE_SAMPLE_BYTES);
		/* Wall-clock time, converted from the data plane's monotonic clock. */
		assert_true(labs(h->ts.tv_sec - now.tv_sec) <= 5);
		n++;
	}
	pcap_close(p);
	assert_int_equal(n, 50);
	unlink(path);
	rmdir(dir);
}

/* One consumer per ring: a second sampler is refused while the first runs. */
static void test_sampler_is_exclusive(void **state)
{
	struct fx *f = get_fx(state);
	struct sampler_opts o = { .pcap_path = "/dev/null" };
	struct sampler *a = NULL, *b = NULL;

	assert_int_equal(sampler_open(&a, &f->m, &o), 0);
	assert_int_equal(sampler_open(&b, &f->m, &o), -EBUSY);
	assert_null(b);
	sampler_close(a);
	assert_int_equal(sampler_open(&b, &f->m, &o), 0);
	sampler_close(b);
}

/* A file that cannot be written and a collector that cannot be reached fail
 * at open, with nothing taken. */
static void test_sampler_bad_outputs(void **state)
{
	struct fx *f = get_fx(state);
	struct sampler_opts o = { .pcap_path = "/nonexistent-dir/x.pcap" };
	struct sampler *s = NULL;

	assert_int_equal(sampler_open(&s, &f->m, &o), -ENOENT);
	o = (struct sampler_opts){ .sflow_target = "127.0.0.1" };
	assert_int_equal(sampler_open(&s, &f->m, &o), -EINVAL);
	o.sflow_target = "127.0.0.1:0";
	assert_int_equal(sampler_open(&s, &f->m, &o), -EINVAL);
	o.sflow_target = "198.51.100.1:6343";	/* no route in the fixture's namespace */
	assert_int_equal(sampler_open(&s, &f->m, &o), -ENETUNREACH);
	assert_null(s);
}

/* ---- sFlow, decoded here field by field ------------------------------------------ */

static uint32_t get32(const uint8_t **p)
{
	uint32_t v = (uint32_t)(*p)[0] << 24 | (*p)[1] << 16 | (*p)[2] << 8 | (*p)[3];

	*p += 4;
	return v;
}

static uint64_t get64(const uint8_t **p)
{
	uint64_t hi = get32(p);

	return hi << 32 | get32(p);
}

struct sflow_seen {
	uint64_t datagrams, flows, counters;
	uint32_t last_dgram_seq, last_flow_seq;
	uint64_t bad;
	char why[200];
};

#define EXPECT(cond, ...) do { if (!(cond)) { if (!seen->bad++) snprintf(seen->why, sizeof(seen->why), __VA_ARGS__); } } while (0)

static void sflow_check(const uint8_t *buf, size_t len, struct fx *f, const uint8_t *fr,
			size_t frlen, uint32_t rate, uint64_t pool, struct sflow_seen *seen)
{
	const uint8_t *p = buf, *end = buf + len;
	uint32_t n, seq;

	EXPECT(get32(&p) == 5, "version");
	EXPECT(get32(&p) == 1, "agent address type");
	EXPECT(!memcmp(p, "\xc0\x00\x02\x01", 4), "agent address");	/* 192.0.2.1 */
	p += 4;
	EXPECT(get32(&p) == 7, "sub-agent id");
	seq = get32(&p);
	EXPECT(seq == seen->last_dgram_seq + 1, "datagram sequence %u after %u", seq,
	       seen->last_dgram_seq);
	seen->last_dgram_seq = seq;
	get32(&p);	/* uptime */
	n = get32(&p);
	EXPECT(n > 0, "no samples");
	seen->datagrams++;
	for (uint32_t i = 0; i < n && p < end; i++) {
		uint32_t fmt = get32(&p), slen = get32(&p);
		const uint8_t *next = p + slen;

		EXPECT(next <= end, "sample past the datagram");
		if (fmt == 1) {
			uint32_t fseq = get32(&p), src = get32(&p), r = get32(&p), pl = get32(&p);
			uint32_t drops = get32(&p), in = get32(&p), out = get32(&p), nrec = get32(&p);
			uint32_t rfmt = get32(&p), rlen = get32(&p), proto = get32(&p);
			uint32_t flen = get32(&p), stripped = get32(&p), hlen = get32(&p);

			EXPECT(fseq == seen->last_flow_seq + 1, "flow sequence %u after %u", fseq,
			       seen->last_flow_seq);
			seen->last_flow_seq = fseq;
			EXPECT(src == f->ifindex && in == f->ifindex && out == 0, "interfaces");
			EXPECT(r == rate, "rate %u", r);
			EXPECT(pl == pool, "pool %u, want %llu", pl, (unsigned long long)pool);
			EXPECT(drops == 0 && nrec == 1 && rfmt == 1 && proto == 1, "record");
			EXPECT(rlen == 16 + ((hlen + 3) & ~3u), "record length");
			EXPECT(flen == frlen + 4 && stripped == 4, "frame length %u", flen);
			EXPECT(hlen == FRINGE_SAMPLE_BYTES && !memcmp(p, fr, hlen), "header bytes");
			EXPECT(slen == 8 * 4 + 8 + 16 + ((hlen + 3) & ~3u), "sample length %u", slen);
			seen->flows++;
		} else if (fmt == 2) {
			uint32_t cseq = get32(&p), src = get32(&p), nrec = get32(&p);
			uint32_t rfmt = get32(&p), rlen = get32(&p), ifindex = get32(&p);

			(void)cseq;
			EXPECT(nrec == 1 && rfmt == 1 && rlen == 88, "counter record");
			EXPECT(src == ifindex && (ifindex == f->ifindex || ifindex == f->ifindex2),
			       "counter ifindex %u", ifindex);
			if (ifindex == f->ifindex) {
				get32(&p);		/* type */
				get64(&p);		/* speed */
				get32(&p);		/* direction */
				get32(&p);		/* status */
				get64(&p);		/* in octets */
				EXPECT(get32(&p) == pool, "in packets");
			}
			seen->counters++;
		} else {
			EXPECT(0, "sample format %u", fmt);
		}
		p = next;
	}
	EXPECT(p == end, "trailing bytes");
}

static void test_sampler_sflow(void **state)
{
	struct fx *f = get_fx(state);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	struct timeval tmo = { .tv_sec = 2 };
	uint8_t fr[FRAME_CAP], buf[2048];
	size_t len = udp_frame(fr, 5000, 500);
	char target[32];
	struct sampler_opts o = { .sflow_target = target, .agent = "192.0.2.1", .sub_agent_id = 7 };
	struct sflow_seen seen_ = {}, *seen = &seen_;
	struct sampler_totals t;
	struct sampler *s = NULL;
	int sock = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n;

	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(sock, (struct sockaddr *)&sin, &slen), 0);
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(sin.sin_port));

	load_ok(f, "rule s proto udp dport 5000 allow sample 1/1\n");
	assert_int_equal(sampler_open(&s, &f->m, &o), 0);
	run(f, fr, len, 40);
	assert_int_equal(sampler_poll(s, 0), 0);
	assert_int_equal(sampler_flush(s), 0);
	sampler_get_totals(s, &t);
	sampler_close(s);
	assert_int_equal(t.written, 40);
	while (seen->flows < 40 && (n = recv(sock, buf, sizeof(buf), 0)) > 0) {
		assert_true(n <= SFLOW_DATAGRAM_MAX);
		sflow_check(buf, n, f, fr, len, 1, 40, seen);
	}
	close(sock);
	if (seen->bad)
		fail_msg("%llu mismatches, first: %s", (unsigned long long)seen->bad, seen->why);
	print_message("40 samples in %llu datagrams, %llu counter samples\n",
		      (unsigned long long)seen->datagrams, (unsigned long long)seen->counters);
	assert_int_equal(seen->flows, 40);
	assert_int_equal(seen->counters, 2);	/* fx0 and fx1, once at start */
	assert_int_equal(seen->datagrams, t.datagrams);
	assert_true(seen->datagrams < 40);	/* several samples per datagram */
}

/* ---- flows ------------------------------------------------------------------------- */

static void test_flow_table(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP], fr2[FRAME_CAP];
	size_t len = udp_frame(fr, 5000, 100), len2 = udp_frame(fr2, 6000, 300);
	struct flow_row *rows = NULL;
	uint64_t n64, cleared;
	size_t n;

	load_ok(f, "rule a proto udp dport 5000 allow\nrule b proto udp dport 6000 drop\n");
	assert_false(flows_enabled(&f->m));
	run(f, fr, len, 10);
	assert_int_equal(flows_count(&f->m, &n64), 0);
	assert_int_equal(n64, 0);			/* off: nothing kept */

	assert_int_equal(flows_set_enabled(&f->m, true, &cleared), 0);
	assert_true(flows_enabled(&f->m));
	run(f, fr, len, 100);
	assert_int_equal(fx_run_repeat(f, fr2, len2, 0, 30, NULL), 0);
	assert_int_equal(flows_read(&f->m, &rows, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		bool a = rows[i].key.dport == 5000;

		assert_int_equal(rows[i].key.family, 4);
		assert_int_equal(rows[i].key.proto, IPPROTO_UDP);
		assert_int_equal(rows[i].key.ifindex, f->ifindex);
		assert_int_equal(rows[i].packets, a ? 100 : 30);
		assert_int_equal(rows[i].bytes, a ? 100 * len : 30 * len2);
		assert_int_equal(rows[i].action, a ? XDP_PASS : XDP_DROP);
		assert_true(rows[i].first_ns && rows[i].first_ns <= rows[i].last_ns);
		assert_int_equal(rows[i].generation, fx_generation(f));
		assert_int_equal(rows[i].rule, a ? 0 : 1);
	}
	free(rows);
	assert_int_equal(flows_count(&f->m, &n64), 0);
	assert_int_equal(n64, 2);

	assert_int_equal(flows_set_enabled(&f->m, false, &cleared), 0);
	assert_int_equal(cleared, 2);
	assert_false(flows_enabled(&f->m));
	assert_int_equal(flows_count(&f->m, &n64), 0);
	assert_int_equal(n64, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_rate_is_binomial),
		T(test_two_rules_own_rates),
		T(test_sample_bytes),
		T(test_full_ring_counts_lost),
		T(test_sampler_pcap),
		T(test_sampler_is_exclusive),
		T(test_sampler_bad_outputs),
		T(test_sampler_sflow),
		T(test_flow_table),
	};

	return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
