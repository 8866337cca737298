// SPDX-License-Identifier: GPL-2.0
/* trafficgen: send one bench packet out of a veth at full speed with BPF_PROG_TEST_RUN live frames. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/pkt.h"

#define CHUNK_FIRST 1024	/* packets in the first test run (slow receivers: ~20k pps) */
#define CHUNK_TARGET_S 0.05	/* later runs are sized to last about this long */
#define BATCH_DEFAULT 64	/* frames per kernel batch (the kernel allows 1-256) */

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
	"Usage: trafficgen --ifname IFACE [--count N] [--duration SECONDS]\n"
	"                  [--packet last-rule|default|mqtt-first] [--src-mac MAC] [--dst-mac MAC]\n"
	"                  [--batch N] [--obj FILE]\n"
	"Sends the packet out of IFACE (a veth end; its peer receives it) until N packets\n"
	"are sent or SECONDS have passed, then prints {\"sent\", \"seconds\", \"pps\", ...} as JSON.\n";

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
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *ifname = NULL, *obj_path = NULL, *smac = NULL, *dmac = NULL;
	unsigned long long count = 0, batch = BATCH_DEFAULT, sent = 0, chunk = CHUNK_FIRST;
	unsigned long long drop0, drop1;
	double duration = 0, t0, t1;
	char objbuf[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct pkt_opts po;
	uint8_t frame[256];
	size_t len, pi = 0;
	uint32_t ifindex;
	int c, fd, err = 0;

	while ((c = getopt_long(argc, argv, "i:c:d:p:s:m:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'c':
			if (parse_u64("--count", optarg, ULLONG_MAX, &count))
				return 2;
			break;
		case 'd': {
			char *end;

			duration = strtod(optarg, &end);
			if (*end || !(duration > 0 && duration <= 3600)) {
				fprintf(stderr, "trafficgen: bad --duration '%s' (seconds, up to 3600)\n",
					optarg);
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
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!ifname || optind != argc || (!count && !duration)) {
		fputs(usage, stderr);
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "trafficgen: no interface '%s': %s\n", ifname, strerror(errno));
		return 1;
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

	if (!obj_path) {
		default_obj(objbuf, sizeof(objbuf));
		obj_path = objbuf;
	}
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		err = -errno;
		fprintf(stderr, "trafficgen: cannot open '%s': %s\n", obj_path, strerror(-err));
		return 1;
	}
	err = bpf_object__load(obj);
	prog = bpf_object__find_program_by_name(obj, "trafficgen_xdp");
	if (err || !prog) {
		fprintf(stderr, "trafficgen: cannot load '%s': %s\n", obj_path,
			strerror(err ? -err : ENOENT));
		err = 1;
		goto out;
	}
	fd = bpf_program__fd(prog);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	drop0 = if_stat(ifname, "tx_dropped");
	t0 = t1 = now_s();
	while (!stop) {
		struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
		double t;

		if (count && count - sent < chunk)
			chunk = count - sent;
		o.repeat = chunk;
		t = now_s();
		if (bpf_prog_test_run_opts(fd, &o)) {
			err = -errno;
			if (err == -EINTR)	/* a signal cut the run short: its count is unknown */
				break;
			fprintf(stderr, "trafficgen: test run on '%s' failed: %s\n", ifname,
				strerror(-err));
			err = 1;
			goto out;
		}
		sent += chunk;
		t1 = now_s();
		if ((count && sent >= count) || (duration && t1 - t0 >= duration))
			break;
		/* Size the next run to about CHUNK_TARGET_S, so --duration is kept closely. */
		if (t1 > t) {
			double next = chunk * CHUNK_TARGET_S / (t1 - t);

			chunk = next < 256 ? 256 : next > (1u << 30) ? (1u << 30) : next;
		}
		if (duration && t1 - t0 + CHUNK_TARGET_S > duration) {
			double left = (duration - (t1 - t0)) / CHUNK_TARGET_S;

			chunk = chunk * left < 256 ? 256 : chunk * left;
		}
	}
	err = 0;
	drop1 = if_stat(ifname, "tx_dropped");
	printf("{\"ifname\": \"%s\", \"packet\": \"%s\", \"frame_bytes\": %zu, \"batch\": %llu, "
	       "\"sent\": %llu, \"tx_dropped\": %llu, \"seconds\": %.6f, \"pps\": %.0f}\n",
	       ifname, packets[pi].name, len, batch, sent, drop1 - drop0, t1 - t0,
	       t1 > t0 ? sent / (t1 - t0) : 0.0);
out:
	bpf_object__close(obj);
	return err;
}
