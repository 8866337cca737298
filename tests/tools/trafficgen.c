// SPDX-License-Identifier: GPL-2.0
/* trafficgen: send one bench packet out of a veth at full speed (live-frame test runs, or AF_PACKET). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/pkt.h"

#define CHUNK_FIRST 1024	/* packets in the first test run (slow receivers: ~20k pps) */
#define CHUNK_TARGET_S 0.05	/* later runs are sized to last about this long */
#define BATCH_DEFAULT 64	/* frames per kernel batch (the kernel allows 1-256) */
#define SLICE_DEFAULT_S 0.05	/* with several interfaces: each one's turn */
#define MAX_IFACES 4

/* Two ways to send, fastest first: BPF_PROG_TEST_RUN in live-frame mode
 * (XDP_TX out of the veth, no socket or qdisc on the way), and where the
 * kernel refuses that (EPERM on some hardened kernels), an AF_PACKET socket
 * that bypasses the qdisc, fed BATCH frames per sendmmsg(2). */
enum method { M_AUTO, M_LIVE, M_PACKET };
static const char *const method_names[] = { "auto", "live-frames", "af-packet" };

static const uint8_t mqtt_connect[] = { 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
					0x02, 0x00, 0x3c, 0x00, 0x00 };

/* The packets of bench_cost, so veth figures line up with per-packet costs. */
static const struct {
	const char *name;
	struct pkt_opts o;
} packets[] = {
	{ "last-rule", { .src = "192.168.77.9", .dst = "10.200.0.1", .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8883 } },
	{ "default", { .src = "192.168.99.9", .dst = "10.200.0.1", .proto = IPPROTO_TCP,
		       .sport = 40000, .dport = 9999 } },
	{ "mqtt-first", { .src = "172.16.1.2", .dst = "10.200.0.1", .proto = IPPROTO_TCP,
			  .sport = 40000, .dport = 1883, .payload = mqtt_connect,
			  .payload_len = sizeof(mqtt_connect) } },
};

static const char usage[] =
	"Usage: trafficgen --ifname IFACE[,IFACE...] [--count N] [--duration SECONDS]\n"
	"                  [--packet last-rule|default|mqtt-first] [--src-mac MAC] [--dst-mac MAC]\n"
	"                  [--batch N] [--obj FILE] [--method auto|live-frames|af-packet]\n"
	"                  [--slice SECONDS]\n"
	"Sends the packet out of IFACE (a veth end; its peer receives it) until N packets\n"
	"are sent or SECONDS have passed, then prints {\"sent\", \"seconds\", \"pps\", ...} as JSON.\n"
	"auto (the default) uses live-frame test runs where the kernel allows them, else AF_PACKET.\n"
	"With several interfaces (and --duration), it sends to each in turn for --slice seconds\n"
	"(0.05) and adds \"interfaces\": each one's sent, seconds and pps, so that systems on\n"
	"their peers are measured through the same moments of the machine.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A counter of IFACE from sysfs (in the current network namespace); 0 if unreadable. */
static unsigned long long if_stat(const char *ifname, const char *name)
{
	unsigned long long v = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* build/bench/trafficgen.bpf.o, found from this binary at build/tests/tools/trafficgen. */
static void default_obj(char *buf, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		snprintf(buf, cap, "build/bench/trafficgen.bpf.o");
		return;
	}
	exe[n] = '\0';
	snprintf(buf, cap, "%s/../../bench/trafficgen.bpf.o", dirname(exe));
}

static int parse_u64(const char *opt, const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || !*s || *v > max) {
		fprintf(stderr, "trafficgen: bad %s '%s'\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

/* Sent enough, or long enough? */
static int done(unsigned long long count, unsigned long long sent, double duration, double t0,
		double t1)
{
	return stop || (count && sent >= count) || (duration && t1 - t0 >= duration);
}

/* The live-frame program, loaded: its fd, or -errno (said on stderr). */
static int live_prog(const char *obj_path, struct bpf_object **objp)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char objbuf[PATH_MAX];
	int err;

	if (!obj_path) {
		default_obj(objbuf, sizeof(objbuf));
		obj_path = objbuf;
	}
	*objp = obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "trafficgen: cannot open '%s': %s\n", obj_path, strerror(-err));
		return err;
	}
	err = bpf_object__load(obj);
	prog = bpf_object__find_program_by_name(obj, "trafficgen_xdp");
	if (err || !prog) {
		err = err ? err : -ENOENT;
		fprintf(stderr, "trafficgen: cannot load '%s': %s\n", obj_path, strerror(-err));
		return err;
	}
	return bpf_program__fd(prog);
}

/* Live frames: the kernel runs trafficgen_xdp (fd) over copies of the frame
 * and sends each out of ifindex, in runs of *chunkp packets, resized as it
 * goes (and kept for the next call: each run has a fixed cost of its own).
 * 0 or -errno (the first run's error as is, so the caller can tell a
 * refusal from a failure). */
static int send_live(int fd, uint32_t ifindex, const uint8_t *frame, size_t len,
		     unsigned long long batch, unsigned long long count, double duration, double t0,
		     unsigned long long *chunkp, unsigned long long *sent, double *busy, double *t1)
{
	unsigned long long chunk = *chunkp, start = *sent;
	int err;

	*t1 = t0;
	while (!stop) {
		struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
		double t;

		if (count && count - *sent < chunk)
			chunk = count - *sent;
		o.repeat = chunk;
		t = now_s();
		if (bpf_prog_test_run_opts(fd, &o)) {
			err = -errno;
			if (err == -EINTR)	/* a signal cut the run short: its count is unknown */
				return 0;
			if (*sent > start)
				fprintf(stderr, "trafficgen: test run failed: %s\n", strerror(-err));
			return err;
		}
		*sent += chunk;
		*busy += (double)o.duration * chunk / 1e9;
		*t1 = now_s();
		if (done(count, *sent, duration, t0, *t1))
			break;
		/* Size the next run to about CHUNK_TARGET_S, so --duration is kept closely. */
		if (*t1 > t) {
			double next = chunk * CHUNK_TARGET_S / (*t1 - t);

			chunk = *chunkp = next < 256 ? 256 : next > (1u << 30) ? (1u << 30) : next;
		}
		if (duration && *t1 - t0 + CHUNK_TARGET_S > duration) {
			double left = (duration - (*t1 - t0)) / CHUNK_TARGET_S;

			chunk = chunk * left < 256 ? 256 : chunk * left;
		}
	}
	return 0;
}

/* AF_PACKET: the frame BATCH times per sendmmsg, straight to the driver
 * (PACKET_QDISC_BYPASS), so the veth's own transmit is all that runs.
 * A full peer queue shows as the veth's tx_dropped, which the caller reports. */
static int send_packet(uint32_t ifindex, const uint8_t *frame, size_t len, unsigned long long batch,
		       unsigned long long count, double duration, double t0,
		       unsigned long long *sent, double *t1)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				   .sll_protocol = htons(ETH_P_ALL), .sll_halen = ETH_ALEN };
	struct mmsghdr msgs[256];
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
	unsigned int batches = 0;
	int one = 1, fd, n, err = 0;

	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: this socket receives nothing */
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "trafficgen: cannot open an AF_PACKET socket: %s\n", strerror(-err));
		return err;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		err = -errno;
		fprintf(stderr, "trafficgen: PACKET_QDISC_BYPASS: %s\n", strerror(-err));
		goto out;
	}
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	memset(msgs, 0, sizeof(msgs));
	for (unsigned long long i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	*t1 = t0;
	while (!done(count, *sent, duration, t0, *t1)) {
		unsigned long long want = batch;

		if (count && count - *sent < want)
			want = count - *sent;
		n = sendmmsg(fd, msgs, want, 0);
		if (n < 0) {
			err = -errno;
			if (err == -EINTR) {
				err = 0;
				break;
			}
			if (err == -ENOBUFS || err == -EAGAIN) {	/* the driver is busy: retry */
				err = 0;
				continue;
			}
			fprintf(stderr, "trafficgen: sendmmsg: %s\n", strerror(-err));
			goto out;
		}
		*sent += n;
		/* The clock every 16 batches: it costs more than a send. */
		if (!(++batches & 15) || count)
			*t1 = now_s();
	}
	*t1 = now_s();
out:
	close(fd);
	return err;
}

/* One interface to send out of, and what went out of it. */
struct iface {
	char name[IF_NAMESIZE];
	uint32_t ifindex;
	unsigned long long sent, drop0, drop1;
	unsigned long long chunk;	/* send_live's run size */
	double seconds;
	double busy;	/* live frames: the runs' own time, as the kernel timed it */
};

/* Send out of each interface in turn, `slice` seconds at a time, until
 * `duration` (or `count`, with one interface) is reached: 0 or -errno as
 * send_live and send_packet return it.  *method becomes M_LIVE or M_PACKET;
 * *refused the error of a live-frame run the kernel refused (then AF_PACKET). */
static int send_all(struct iface *ifs, int n, const char *obj_path, const uint8_t *frame, size_t len,
		    unsigned long long batch, unsigned long long count, double duration, double slice,
		    enum method *method, int *refused)
{
	struct bpf_object *obj = NULL;
	double start = now_s();
	int fd = -1, err = 0;

	if (*method != M_PACKET) {
		fd = live_prog(obj_path, &obj);
		if (fd < 0) {
			bpf_object__close(obj);
			return fd;
		}
	}
	for (int turn = 0; !stop; turn++) {
		struct iface *f = &ifs[turn % n];
		double left = duration ? duration - (now_s() - start) : 0, t0, t1;
		double d = n > 1 && slice < left ? slice : left;

		if (duration && left <= 0)
			break;
		t0 = t1 = now_s();
		if (*method != M_PACKET) {
			err = send_live(fd, f->ifindex, frame, len, batch, count, d, t0, &f->chunk, &f->sent,
					&f->busy, &t1);
			/* Refused (not failed midway): this kernel does not allow live frames. */
			if (*method == M_AUTO && !f->sent &&
			    (err == -EPERM || err == -EOPNOTSUPP || err == -EINVAL)) {
				fprintf(stderr, "trafficgen: live-frame test runs refused (%s); using AF_PACKET\n",
					strerror(-err));
				*refused = err;
				*method = M_PACKET;
				start = now_s();
				turn--;
				continue;
			}
			if (*method == M_AUTO && !err)
				*method = M_LIVE;
		} else {
			err = send_packet(f->ifindex, frame, len, batch, count, d, t0, &f->sent, &t1);
			f->busy += t1 - t0;	/* a send loop: busy throughout */
		}
		f->seconds += t1 - t0;
		if (err || (count && f->sent >= count))
			break;
	}
	bpf_object__close(obj);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "packet", required_argument, NULL, 'p' },
		{ "src-mac", required_argument, NULL, 's' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "batch", required_argument, NULL, 'b' },
		{ "obj", required_argument, NULL, 'o' },
		{ "method", required_argument, NULL, 'M' },
		{ "slice", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *ifnames = NULL, *obj_path = NULL, *smac = NULL, *dmac = NULL;
	unsigned long long count = 0, batch = BATCH_DEFAULT, sent = 0, dropped = 0;
	double duration = 0, slice = SLICE_DEFAULT_S, seconds = 0, busy = 0;
	enum method method = M_AUTO;
	struct iface ifs[MAX_IFACES] = {};
	struct pkt_opts po;
	uint8_t frame[256];
	size_t len, pi = 0;
	int c, n = 0, refused = 0;

	while ((c = getopt_long(argc, argv, "i:c:d:p:s:m:b:o:M:S:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifnames = optarg;
			break;
		case 'c':
			if (parse_u64("--count", optarg, ULLONG_MAX, &count))
				return 2;
			break;
		case 'd':
		case 'S': {
			double *v = c == 'd' ? &duration : &slice;
			char *end;

			*v = strtod(optarg, &end);
			if (*end || !(*v > 0 && *v <= 3600)) {
				fprintf(stderr, "trafficgen: bad --%s '%s' (seconds, up to 3600)\n",
					c == 'd' ? "duration" : "slice", optarg);
				return 2;
			}
			break;
		}
		case 'p':
			for (pi = 0; pi < sizeof(packets) / sizeof(*packets); pi++)
				if (!strcmp(optarg, packets[pi].name))
					break;
			if (pi == sizeof(packets) / sizeof(*packets)) {
				fprintf(stderr, "trafficgen: unknown --packet '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			smac = optarg;
			break;
		case 'm':
			dmac = optarg;
			break;
		case 'b':
			if (parse_u64("--batch", optarg, 256, &batch) || !batch)
				return 2;
			break;
		case 'o':
			obj_path = optarg;
			break;
		case 'M':
			for (method = M_AUTO; method <= M_PACKET; method++)
				if (!strcmp(optarg, method_names[method]))
					break;
			if (method > M_PACKET) {
				fprintf(stderr, "trafficgen: unknown --method '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!ifnames || optind != argc || (!count && !duration)) {
		fputs(usage, stderr);
		return 2;
	}
	for (const char *q = ifnames; *q; n++) {
		size_t l = strcspn(q, ",");

		if (n == MAX_IFACES || !l || l >= IF_NAMESIZE) {
			fprintf(stderr, "trafficgen: bad --ifname '%s' (up to %d names, comma-separated)\n",
				ifnames, MAX_IFACES);
			return 2;
		}
		memcpy(ifs[n].name, q, l);
		ifs[n].ifindex = if_nametoindex(ifs[n].name);
		if (!ifs[n].ifindex) {
			fprintf(stderr, "trafficgen: no interface '%s': %s\n", ifs[n].name, strerror(errno));
			return 1;
		}
		q += l + (q[l] == ',');
	}
	if (n > 1 && (count || !duration)) {
		fprintf(stderr, "trafficgen: several interfaces take --duration, not --count\n");
		return 2;
	}
	po = packets[pi].o;
	po.smac = smac;
	po.dmac = dmac;
	len = pkt_build(frame, sizeof(frame), &po);
	if (!len) {
		fprintf(stderr, "trafficgen: cannot build the '%s' packet (bad MAC?)\n",
			packets[pi].name);
		return 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (int i = 0; i < n; i++) {
		ifs[i].drop0 = if_stat(ifs[i].name, "tx_dropped");
		ifs[i].chunk = CHUNK_FIRST;
	}
	if (send_all(ifs, n, obj_path, frame, len, batch, count, duration, slice, &method, &refused))
		return 1;
	for (int i = 0; i < n; i++) {
		ifs[i].drop1 = if_stat(ifs[i].name, "tx_dropped");
		sent += ifs[i].sent;
		seconds += ifs[i].seconds;
		busy += ifs[i].busy;
		dropped += ifs[i].drop1 - ifs[i].drop0;
	}
	printf("{\"ifname\": \"%s\", \"packet\": \"%s\", \"method\": \"%s\", \"live_frames_refused\": %s, "
	       "\"frame_bytes\": %zu, \"batch\": %llu, \"sent\": %llu, \"tx_dropped\": %llu, "
	       "\"seconds\": %.6f, \"pps\": %.0f, \"busy_seconds\": %.6f, \"busy_pps\": %.0f",
	       ifnames, packets[pi].name, method_names[method], refused ? "true" : "false", len, batch, sent,
	       dropped, seconds, seconds > 0 ? sent / seconds : 0.0, busy, busy > 0 ? sent / busy : 0.0);
	if (n > 1) {
		printf(", \"slice\": %.3f, \"interfaces\": [", slice);
		for (int i = 0; i < n; i++)
			printf("%s{\"ifname\": \"%s\", \"sent\": %llu, \"tx_dropped\": %llu, \"seconds\": %.6f, "
			       "\"pps\": %.0f, \"busy_seconds\": %.6f, \"busy_pps\": %.0f}", i ? ", " : "",
			       ifs[i].name, ifs[i].sent, ifs[i].drop1 - ifs[i].drop0, ifs[i].seconds,
			       ifs[i].seconds > 0 ? ifs[i].sent / ifs[i].seconds : 0.0, ifs[i].busy,
			       ifs[i].busy > 0 ? ifs[i].sent / ifs[i].busy : 0.0);
		printf("]");
	}
	printf("}\n");
	return 0;
}
