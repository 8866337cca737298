// SPDX-License-Identifier: GPL-2.0
/* Addresses learned from DNS answers (the data plane's fringe_dns_* maps): read, count, expire, evict. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "dns.h"

static int row_cmp(const void *a, const void *b)
{
	const struct dns_row *x = a, *y = b;

	return (x->l.expires_ns > y->l.expires_ns) - (x->l.expires_ns < y->l.expires_ns);
}

#define DNS_BATCH 4096

static int dns_push(struct dns_row **v, size_t *n, size_t *cap, const struct dns_row *r)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 1024;
		struct dns_row *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

/* The rows of the learned table fd (names from the display names' table when asked). */
static int dns_read_fd(struct maps *m, int fd, bool names, struct dns_row **rows, size_t *n)
{
	int nfd = -1, err = 0;
	struct fringe_dns_addr_key *keys;
	struct fringe_dns_learned *vals;
	struct dns_row *v = NULL;
	size_t cap = 0, k = 0;
	uint64_t now = mono_ns();
	__u32 token = 0;
	bool first = true;

	*rows = NULL;
	*n = 0;
	if (names)
		nfd = maps_held_fd(m, M_DNS_NAMES);
	keys = calloc(DNS_BATCH, sizeof(*keys));
	vals = calloc(DNS_BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* In batches: a table of 65,536 is read in a few system calls. */
	for (;;) {
		__u32 count = DNS_BATCH;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count, NULL);
		int e = rc ? errno : 0;

		if (rc && e != ENOENT) {
			err = -e;
			goto out;
		}
		for (__u32 i = 0; i < count; i++) {
			struct dns_row r = { .addr = keys[i], .l = vals[i] };

			r.expires_in_ms = ((int64_t)r.l.expires_ns - (int64_t)now) / 1000000;
			for (int j = 0; j < FRINGE_DNS_KEYS && r.l.keys[j]; j++)
				if (names && nfd >= 0 &&
				    !bpf_map_lookup_elem(nfd, &r.l.keys[j], &r.names[r.n_names]))
					r.n_names++;
			err = dns_push(&v, &k, &cap, &r);
			if (err)
				goto out;
		}
		if (rc)
			break;		/* ENOENT: that was the last batch */
		first = false;
	}
	qsort(v, k, sizeof(*v), row_cmp);
	*rows = v;
	*n = k;
	v = NULL;
out:
	free(v);
	free(keys);
	free(vals);
	if (nfd >= 0)
		close(nfd);
	return err;
}

int dns_read(struct maps *m, bool names, struct dns_row **rows, size_t *n)
{
	int fd = maps_held_fd(m, M_DNS_LEARNED), err;

	*rows = NULL;
	*n = 0;
	if (fd < 0)
		return 0;	/* no table: no policy lists names, nothing is learned */
	err = dns_read_fd(m, fd, names, rows, n);
	close(fd);
	return err;
}

int dns_counts(struct maps *m, struct dns_counts *c)
{
	int fd = m->fd[M_DNS_STATS], ncpu = libbpf_num_possible_cpus();
	struct dns_row *rows;
	size_t n;
	int err;

	memset(c, 0, sizeof(*c));
	if (fd < 0 || ncpu <= 0)
		return -ENOENT;
	for (uint32_t k = 0; k < FRINGE_DNS__COUNT; k++) {
		uint64_t v[ncpu];

		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			c->result[k] += v[i];
	}
	err = dns_read(m, false, &rows, &n);
	if (err)
		return err;
	c->entries = n;
	for (size_t i = 0; i < n; i++)
		c->learned_now += rows[i].expires_in_ms > 0;
	free(rows);
	return 0;
}

/* Add to a counter of fringe_dns_stats (CPU 0's share): user space's removals. */
static void dns_count_add(struct maps *m, uint32_t what, uint64_t add)
{
	int fd = m->fd[M_DNS_STATS], ncpu = libbpf_num_possible_cpus();

	if (fd < 0 || ncpu <= 0 || !add)
		return;
	uint64_t v[ncpu];

	if (bpf_map_lookup_elem(fd, &what, v))
		return;
	v[0] += add;
	bpf_map_update_elem(fd, &what, v, BPF_ANY);
}

/* Delete keys [from, to) of rows in batches; the number deleted. */
static uint64_t dns_delete(int fd, const struct dns_row *rows, size_t from, size_t to)
{
	struct fringe_dns_addr_key keys[256];
	uint64_t done = 0;

	while (from < to) {
		__u32 count = 0;

		while (from < to && count < 256)
			keys[count++] = rows[from++].addr;
		if (bpf_map_delete_batch(fd, keys, &count, NULL) && errno != ENOENT) {
			/* one by one: some key went meanwhile */
			for (__u32 i = 0; i < count; i++)
				done += !bpf_map_delete_elem(fd, &keys[i]);
			continue;
		}
		done += count;
	}
	return done;
}

int dns_sweep(struct maps *m, unsigned int high_pct, unsigned int low_pct)
{
	int fd = maps_held_fd(m, M_DNS_LEARNED);
	uint64_t expired, evicted = 0;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct dns_row *rows;
	size_t n, i = 0, e, high, low;
	int err;

	if (fd < 0)
		return 0;	/* no table now */
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Of the table's own size: `size dns-addresses` may have changed since. */
	high = (size_t)info.max_entries * high_pct / 100;
	low = (size_t)info.max_entries * low_pct / 100;
	err = dns_read_fd(m, fd, false, &rows, &n);
	if (err) {
		close(fd);
		return err;
	}
	/* Soonest to expire first: the expired ones lead. */
	while (i < n && rows[i].expires_in_ms <= 0)
		i++;
	expired = dns_delete(fd, rows, 0, i);
	if (n - i > high) {
		e = i + (n - i - low);
		evicted = dns_delete(fd, rows, i, e);
	}
	free(rows);
	close(fd);
	dns_count_add(m, FRINGE_DNS_EXPIRED, expired);
	dns_count_add(m, FRINGE_DNS_EVICTED, evicted);
	return (int)(expired + evicted);
}
