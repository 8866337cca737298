// SPDX-License-Identifier: GPL-2.0
/* BPF test fixture: a private, unattached data plane in a private netns, driven by test runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "fixture.h"
#include "staged.h"
#include "fringe_xdp.skel.h"
#include "overlay.h"
#include "policy.h"

#define FX_DEV0 "fx0"
#define FX_DEV1 "fx1"

/* The private namespace and its veth pair outlive fixtures: one per process. */
static int fx_netns(void)
{
	static int state;	/* 0 not yet, 1 done, <0 the error */
	int err;

	if (state)
		return state < 0 ? state : 0;
	if (geteuid() != 0)
		return state = -EPERM;
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		fprintf(stderr, "fixture: cannot enter a new network namespace: %s\n", strerror(errno));
		return state = err == -EINVAL || err == -EPERM ? -EPERM : err;
	}
	if (system("ip link set lo up") ||
	    system("ip link add " FX_DEV0 " type veth peer name " FX_DEV1) ||
	    system("ip link set " FX_DEV0 " up") || system("ip link set " FX_DEV1 " up")) {
		fprintf(stderr, "fixture: cannot set up veth " FX_DEV0 "/" FX_DEV1 " with ip(8)\n");
		return state = -ENODEV;
	}
	state = 1;
	return 0;
}

static int fx_register(struct fx *f, uint32_t slot, uint32_t ifindex, const char *name)
{
	struct fringe_iface_info info = { .ifindex = ifindex, .in_use = 1 };

	snprintf(info.name, sizeof(info.name), "%s", name);
	if (bpf_map_update_elem(f->m.fd[M_IFACES], &slot, &info, BPF_ANY) ||
	    bpf_map_update_elem(f->m.fd[M_IFSLOTS], &ifindex, &slot, BPF_ANY))
		return -errno;
	return 0;
}

int fx_open(struct fx *f)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->prog_fd = -1;
	err = fx_netns();
	if (err)
		return err;
	/* Pinned to one CPU: a test run runs on the caller's, and the per-CPU
	 * scratch read after it (maps_read_judged_by) must be that one's. */
	{
		cpu_set_t set;

		f->cpu = sched_getcpu();
		CPU_ZERO(&set);
		CPU_SET(f->cpu, &set);
		if (f->cpu < 0 || sched_setaffinity(0, sizeof(set), &set))
			return -errno;
	}
	f->ifindex = if_nametoindex(FX_DEV0);
	f->ifindex2 = if_nametoindex(FX_DEV1);
	if (!f->ifindex || !f->ifindex2)
		return -ENODEV;
	err = maps_open(&f->m, NULL, MAPS_PRIVATE);
	/* As root, a refused load is the verifier rejecting the program: a
	 * failure, never a skip. */
	if (err)
		return geteuid() != 0 && (err == -EPERM || err == -EACCES) ? -EPERM : err;
	f->prog_fd = bpf_program__fd(f->m.skel->progs.fringe_xdp_ingress);
	if (f->prog_fd < 0) {
		err = -EBADF;
		goto fail;
	}
	err = fx_register(f, FX_SLOT0, f->ifindex, FX_DEV0);
	if (!err)
		err = fx_register(f, FX_SLOT1, f->ifindex2, FX_DEV1);
	if (err)
		goto fail;
	return 0;
fail:
	maps_close(&f->m);
	f->prog_fd = -1;
	return err;
}

void fx_close(struct fx *f)
{
	bpf_object__close(f->attached);
	f->attached = NULL;
	if (f->m.skel || f->m.meta)
		maps_close(&f->m);
	f->prog_fd = -1;
}

static unsigned int fx_resolve(const char *name)
{
	return if_nametoindex(name);
}

/* Parse and compile policy text with the private netns's interfaces. */
static int fx_compile(struct fx *f, const char *policy_text, struct policy *p, struct compiled *c)
{
	struct compile_env env = {
		.resolve_ifname = fx_resolve,
		.ncpus = libbpf_num_possible_cpus(),
		.resolve_node = overlay_resolve_node,
		.node_ctx = &f->m,
	};
	struct diags d = { .file = "<test policy>" };
	int err;

	err = policy_parse(policy_text, strlen(policy_text), &d, p);
	if (!err) {
		err = compile_policy(p, &env, &d, c);
		if (err)
			policy_free(p);
	}
	diags_print(&d, stderr);
	diags_free(&d);
	return err;
}

int fx_load(struct fx *f, const char *policy_text)
{
	struct compiled c;
	struct policy p;
	int err = fx_compile(f, policy_text, &p, &c);

	if (err)
		return err;
	err = maps_load_policy(&f->m, &c, NULL);
	compiled_free(&c);
	policy_free(&p);
	return err;
}

int fx_stage(struct fx *f, const char *policy_text)
{
	struct compiled c;
	struct policy p;
	int err = fx_compile(f, policy_text, &p, &c);

	if (err)
		return err;
	err = staged_put(&f->m, &c, "<test policy>", policy_text, strlen(policy_text), NULL);
	compiled_free(&c);
	policy_free(&p);
	return err;
}

int fx_load_nodes(struct fx *f, const char *nodes_text, const struct ov_env *env)
{
	struct diags d = { .file = "<test nodes>" };
	struct ov_built b;
	struct nodes n;
	int err;

	err = nodes_parse(nodes_text, strlen(nodes_text), &d, &n);
	if (!err) {
		err = overlay_build(&n, env ? env : &overlay_live_env, &d, &b);
		if (!err) {
			err = overlay_load(&f->m, &n, &b, NULL);
			overlay_built_free(&b);
		}
		nodes_free(&n);
	}
	diags_print(&d, stderr);
	diags_free(&d);
	return err;
}

static int fx_test_run(struct fx *f, const void *frame, size_t len, uint32_t ifindex,
		       uint32_t repeat, uint32_t *action, void *out, size_t *out_len)
{
	struct xdp_md ctx = {
		.data_end = len,
		.ingress_ifindex = ifindex ? ifindex : f->ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = repeat,
	);
	int err;

	if (out) {
		opts.data_out = out;
		opts.data_size_out = *out_len;
	}
	err = bpf_prog_test_run_opts(f->prog_fd, &opts);
	if (err)
		return -errno;
	if (action)
		*action = opts.retval;
	if (out)
		*out_len = opts.data_size_out;
	return 0;
}

int fx_run(struct fx *f, const void *frame, size_t len, uint32_t ifindex, uint32_t *action)
{
	return fx_test_run(f, frame, len, ifindex, 1, action, NULL, NULL);
}

int fx_run_repeat(struct fx *f, const void *frame, size_t len, uint32_t ifindex,
		  uint32_t repeat, uint32_t *action)
{
	return fx_test_run(f, frame, len, ifindex, repeat, action, NULL, NULL);
}

int fx_run_out(struct fx *f, const void *frame, size_t len, uint32_t ifindex,
	       uint32_t *action, void *out, size_t *out_len)
{
	return fx_test_run(f, frame, len, ifindex, 1, action, out, out_len);
}

/* Counter id of a rule of the active policy; "default" is id 0 unless a rule has that name. */
static int fx_counter_id(struct fx *f, const char *name, uint32_t *id)
{
	const struct fringe_slot_hdr *hdr = maps_active_hdr(&f->m);
	uint32_t n = hdr->n_rules;
	struct fringe_rule_action *a;
	int err = -ENOENT;

	if (n) {
		a = calloc(n, sizeof(*a));
		if (!a)
			return -ENOMEM;
		err = maps_read_actions(&f->m, f->m.meta->active & 1, a, n);
		if (!err) {
			err = -ENOENT;
			for (uint32_t i = 0; i < n; i++) {
				if (a[i].counter_id < FRINGE_MAX_COUNTERS &&
				    !strncmp(f->m.names[a[i].counter_id].name, name, FRINGE_NAME_LEN)) {
					*id = a[i].counter_id;
					err = 0;
					break;
				}
			}
		}
		free(a);
	}
	if (err == -ENOENT && !strcmp(name, "default")) {
		*id = 0;
		err = 0;
	}
	return err;
}

static int fx_counter(struct fx *f, const char *name, struct fringe_counter *c)
{
	uint32_t id;
	int err = fx_counter_id(f, name, &id);

	return err ? err : maps_read_rule_counter(&f->m, id, c);
}

uint64_t fx_rule_packets(struct fx *f, const char *name)
{
	struct fringe_counter c;

	return fx_counter(f, name, &c) ? UINT64_MAX : c.packets;
}

uint64_t fx_rule_bytes(struct fx *f, const char *name)
{
	struct fringe_counter c;

	return fx_counter(f, name, &c) ? UINT64_MAX : c.bytes;
}

int fx_rule_id(struct fx *f, const char *name, uint32_t *id)
{
	return fx_counter_id(f, name, id);
}

uint64_t fx_default_packets(struct fx *f)
{
	struct fringe_counter c;

	return maps_read_rule_counter(&f->m, 0, &c) ? UINT64_MAX : c.packets;
}

int fx_iface_stats(struct fx *f, uint32_t ifindex, struct fringe_iface_stats *st)
{
	uint32_t slot = 0;

	if (ifindex < FRINGE_IFINDEX_LIMIT &&
	    bpf_map_lookup_elem(f->m.fd[M_IFSLOTS], &ifindex, &slot))
		return -errno;
	return maps_read_iface_stats(&f->m, slot, st);
}

uint64_t fx_generation(struct fx *f)
{
	return maps_active_hdr(&f->m)->generation;
}
