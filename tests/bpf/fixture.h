/* SPDX-License-Identifier: GPL-2.0 */
/* BPF test fixture: a private, unattached data plane in a private netns, driven by test runs. */
#ifndef FRINGE_TEST_FIXTURE_H
#define FRINGE_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "fringe/abi.h"
#include "maps.h"

struct fx {
	struct maps m;		/* MAPS_PRIVATE instance */
	int prog_fd;		/* fringe_xdp_ingress */
	uint32_t ifindex;	/* default ingress for fx_run: fx0 (a veth in the private netns) */
	uint32_t ifindex2;	/* fx1, its peer, for `in` and `steer iface` tests */
	int cpu;		/* the CPU every test run runs on: the process is pinned to it */
	struct bpf_object *attached;	/* another load of the program on these maps (bench_cost), closed by fx_close */
};

/* The interface counter slots fx_open registers fx0 and fx1 in (as
 * `fringe attach` would give them). */
#define FX_SLOT0 1
#define FX_SLOT1 2

/* Enter a fresh network namespace (once per process), create veth fx0/fx1,
 * open a private instance and register fx0 and fx1 for interface stats.
 * Returns 0, -EPERM when not privileged (tests then skip), or -errno. */
int fx_open(struct fx *f);
void fx_close(struct fx *f);

/* Parse, compile (interface names resolved in the private netns) and load
 * policy text; diagnostics printed to stderr.  0 or -errno. */
int fx_load(struct fx *f, const char *policy_text);

/* The same, staged (SPEC §11) beside the policy in force.  0 or -errno. */
int fx_stage(struct fx *f, const char *policy_text);

struct ov_env;
/* Parse, resolve through env (overlay.h; NULL: the live host) and load a
 * nodes file; diagnostics printed to stderr.  0 or -errno. */
int fx_load_nodes(struct fx *f, const char *nodes_text, const struct ov_env *env);

/* One test run of frame on ifindex (0: f->ifindex).  *action = XDP action. */
int fx_run(struct fx *f, const void *frame, size_t len, uint32_t ifindex, uint32_t *action);
/* Same, repeated `repeat` times by the kernel (for token buckets and sampling). */
int fx_run_repeat(struct fx *f, const void *frame, size_t len, uint32_t ifindex,
		  uint32_t repeat, uint32_t *action);
/* Same, also returning the output frame (for encapsulation tests). */
int fx_run_out(struct fx *f, const void *frame, size_t len, uint32_t ifindex,
	       uint32_t *action, void *out, size_t *out_len);

/* Counters, summed over CPUs.  Unknown rule name: UINT64_MAX. */
uint64_t fx_rule_packets(struct fx *f, const char *name);
uint64_t fx_rule_bytes(struct fx *f, const char *name);
uint64_t fx_default_packets(struct fx *f);
/* Counter id of a rule of the active policy ("default": 0); 0 or -ENOENT. */
int fx_rule_id(struct fx *f, const char *name, uint32_t *id);
int fx_iface_stats(struct fx *f, uint32_t ifindex, struct fringe_iface_stats *st);
/* Generation of the active policy (0 before the first load). */
uint64_t fx_generation(struct fx *f);

#endif
