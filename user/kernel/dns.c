// SPDX-License-Identifier: GPL-2.0
/* Addresses learned from DNS answers (the data plane's fringe_dns_* maps): read, count, expire, evict. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dns.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns() */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int row_cmp(const void *a, const void *b)
{
	const struct dns_row *x = a, *y = b;

	return (x->l.expires_ns > y->l.expires_ns) - (x->l.expires_ns < y->l.expires_ns);
}

int dns_read(struct maps *m, struct dns_row **rows, size_t *n)
{
	int fd = m->fd[M_DNS_LEARNED], nfd = m->fd[M_DNS_NAMES];
	struct fringe_dns_addr_key key, next;
	struct dns_row *v = NULL;
	size_t cap = 0, k = 0;
	uint64_t now = mono_ns();
	bool more;

	*rows = NULL;
	*n = 0;
	if (fd < 0)
		return -ENOENT;
	for (more = !bpf_map_get_next_key(fd, NULL, &key); more; key = next) {
		struct dns_row r = { .addr = key };

		more = !bpf_map_get_next_key(fd, &key, &next);
		if (bpf_map_lookup_elem(fd, &key, &r.l))
			continue;	/* removed meanwhile */
		r.expires_in_ms = ((int64_t)r.l.expires_ns - (int64_t)now) / 1000000;
		for (int i = 0; i < FRINGE_DNS_KEYS && r.l.keys[i]; i++)
			if (nfd >= 0 && !bpf_map_lookup_elem(nfd, &r.l.keys[i], &r.names[r.n_names]))
				r.n_names++;
		if (k == cap) {
			struct dns_row *nv = realloc(v, (cap ? 2 * cap : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? 2 * cap : 256;
		}
		v[k++] = r;
	}
	qsort(v, k, sizeof(*v), row_cmp);
	*rows = v;
	*n = k;
	return 0;
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
	err = dns_read(m, &rows, &n);
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

int dns_sweep(struct maps *m, size_t high, size_t low)
{
	int fd = m->fd[M_DNS_LEARNED];
	uint64_t expired = 0, evicted = 0;
	struct dns_row *rows;
	size_t n, i = 0;
	int err;

	err = dns_read(m, &rows, &n);
	if (err)
		return err;
	/* Soonest to expire first: the expired ones lead. */
	for (; i < n && rows[i].expires_in_ms <= 0; i++)
		expired += !bpf_map_delete_elem(fd, &rows[i].addr);
	if (n - i > high)
		for (; i < n && n - i > low; i++)
			evicted += !bpf_map_delete_elem(fd, &rows[i].addr);
	free(rows);
	dns_count_add(m, FRINGE_DNS_EXPIRED, expired);
	dns_count_add(m, FRINGE_DNS_EVICTED, evicted);
	return (int)(expired + evicted);
}
