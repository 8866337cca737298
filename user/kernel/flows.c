// SPDX-License-Identifier: GPL-2.0
/* The flow table (fringe_flows): switch it on or off, count and read its flows summed over CPUs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "flows.h"
#include "log.h"

#define FLOWS_BATCH 1024

bool flows_enabled(const struct maps *m)
{
	return __atomic_load_n(&m->meta->flags, __ATOMIC_RELAXED) & FRINGE_META_FLOWS;
}

static void merge(struct flow_row *r, const struct fringe_flow_key *k, const struct fringe_flow *v,
		  int ncpus)
{
	memset(r, 0, sizeof(*r));
	r->key = *k;
	r->rule = FRINGE_FLOW_NO_RULE;
	for (int c = 0; c < ncpus; c++) {
		if (!v[c].packets)	/* this CPU never saw the flow */
			continue;
		r->packets += v[c].packets;
		r->bytes += v[c].bytes;
		r->app |= v[c].app;
		if (v[c].first_ns && (!r->first_ns || v[c].first_ns < r->first_ns))
			r->first_ns = v[c].first_ns;
		if (v[c].last_ns >= r->last_ns) {
			r->last_ns = v[c].last_ns;
			r->action = v[c].action;
			r->rule = v[c].rule;
			r->generation = v[c].generation;
		}
	}
}

struct rows {
	struct flow_row *v;
	size_t n, cap;
	bool count_only;
};

static int rows_add(struct rows *rs, const struct fringe_flow_key *k, const struct fringe_flow *v,
		    int ncpus)
{
	if (rs->count_only) {
		rs->n++;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 256;
		void *p = realloc(rs->v, cap * sizeof(*rs->v));

		if (!p)
			return -ENOMEM;
		rs->v = p;
		rs->cap = cap;
	}
	merge(&rs->v[rs->n++], k, v, ncpus);
	return 0;
}

/* Key by key, for kernels without batch operations on this map type.  The
 * walk is bounded: under churn get_next_key may restart from the beginning. */
static int walk_keys(struct maps *m, int fd, struct rows *rs, struct fringe_flow *vals)
{
	size_t limit = m->size[FRINGE_SZ_FLOWS];
	struct fringe_flow_key key, next;
	void *prev = NULL;
	int err = 0;

	for (size_t i = 0; i < 2 * limit && !bpf_map_get_next_key(fd, prev, &next); i++) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* evicted meanwhile */
		err = rows_add(rs, &key, vals, m->ncpus);
		if (err)
			break;
		if (rs->n >= limit)
			break;
	}
	return err;
}

static int walk(struct maps *m, struct rows *rs)
{
	struct fringe_flow_key *keys = calloc(FLOWS_BATCH, sizeof(*keys));
	struct fringe_flow *vals = calloc((size_t)FLOWS_BATCH * m->ncpus, sizeof(*vals));
	/* Opaque batch position (a bucket index for hashes): room for a key to be safe. */
	struct fringe_flow_key in, out;
	int fd = maps_held_fd(m, M_FLOWS), err = 0;
	bool first = true;

	if (fd < 0) {		/* no flow table: off */
		err = 0;
		goto out;
	}
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = FLOWS_BATCH;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, NULL);
		int e = rc ? errno : 0;

		if (rc && e != ENOENT) {
			if (first && (e == EINVAL || e == EOPNOTSUPP || e == 524 /* ENOTSUPP */)) {
				err = walk_keys(m, fd, rs, vals);
				goto out;
			}
			err = -e;
			goto out;
		}
		for (__u32 i = 0; i < count && !err; i++)
			err = rows_add(rs, &keys[i], &vals[(size_t)i * m->ncpus], m->ncpus);
		if (err || rc)
			break;
		in = out;
		first = false;
	}
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
	return err;
}

int flows_count(struct maps *m, uint64_t *n)
{
	struct rows rs = { .count_only = true };
	int err = walk(m, &rs);

	*n = rs.n;
	return err;
}

int flows_read(struct maps *m, struct flow_row **rows, size_t *n)
{
	struct rows rs = {};
	int err = walk(m, &rs);

	if (err) {
		free(rs.v);
		rs.v = NULL;
		rs.n = 0;
	}
	*rows = rs.v;
	*n = rs.n;
	return err;
}

int flows_set_enabled(struct maps *m, bool on, uint64_t *cleared)
{
	int err;

	*cleared = 0;
	err = maps_lock(m);
	if (err)
		return err;
	if (on) {
		/* The table exists only while on: made now, at the size set. */
		err = maps_hold(m, M_FLOWS);
		if (!err)
			__atomic_fetch_or(&m->meta->flags, FRINGE_META_FLOWS, __ATOMIC_RELEASE);
		return err;
	}
	__atomic_fetch_and(&m->meta->flags, ~(__u32)FRINGE_META_FLOWS, __ATOMIC_RELEASE);
	err = flows_count(m, cleared);
	if (err)
		pr_warn("cannot count the flows: %s", strerror(-err));
	/* The table goes with its last user: packets in flight finish with it. */
	err = maps_release(m, M_FLOWS);
	if (err)
		pr_err("cannot remove the flow table: %s", strerror(-err));
	return err;
}
