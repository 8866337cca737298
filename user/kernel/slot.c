// SPDX-License-Identifier: GPL-2.0
/* Slotted pinned state: build a feature's maps aside, fill them, swap them in; names -> stable ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fringe_xdp.skel.h"
#include "log.h"
#include "slot.h"

static size_t page_round(size_t n)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

void *slot_mmap(int fd, size_t size)
{
	void *p = mmap(NULL, page_round(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void slot_munmap(void *p, size_t size)
{
	if (p)
		munmap(p, page_round(size));
}

int slot_inner_create(struct fringe_xdp *tmpl, enum map_id outer, __u32 max_entries)
{
	struct bpf_map *o = bpf_object__find_map_by_name(tmpl->obj, maps_names[outer]);
	const struct bpf_map *in = o ? bpf_map__inner_map(o) : NULL;
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd;

	if (!in)
		return -ENOENT;
	opts.map_flags = bpf_map__map_flags(in);
	fd = bpf_map_create(bpf_map__type(in), NULL, bpf_map__key_size(in), bpf_map__value_size(in),
			    max_entries ? max_entries : bpf_map__max_entries(in), &opts);
	return fd < 0 ? -errno : fd;
}

int slot_begin(struct slot_build *b, struct maps *m, const enum map_id *outers, size_t n,
	       const __u32 *active, __u64 *load_failures)
{
	return slot_begin_sized(b, m, outers, n, NULL, active, load_failures);
}

int slot_begin_sized(struct slot_build *b, struct maps *m, const enum map_id *outers, size_t n,
		     const __u32 *entries, const __u32 *active, __u64 *load_failures)
{
	int err;

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < SLOT_MAX_OUTERS; i++)
		b->fd[i] = -1;
	b->m = m;
	b->outers = outers;
	b->entries = entries;
	b->n = n;
	b->load_failures = load_failures;
	if (n > SLOT_MAX_OUTERS)
		return -E2BIG;
	err = maps_lock(m);
	if (err)
		return err;
	b->target = !(__atomic_load_n(active, __ATOMIC_ACQUIRE) & 1);
	b->tmpl = fringe_xdp__open();
	if (!b->tmpl) {
		err = errno ? -errno : -ENOMEM;
		pr_err("cannot open the BPF object for its map templates: %s", strerror(-err));
		return err;
	}
	/* Build the whole new state in fresh maps; nothing live changes yet. */
	for (size_t i = 0; i < n; i++) {
		b->fd[i] = slot_inner_create(b->tmpl, outers[i], entries ? entries[i] : 0);
		if (b->fd[i] < 0) {
			err = b->fd[i];
			pr_err("cannot create map for %s: %s", maps_names[outers[i]], strerror(-err));
			return err;
		}
	}
	return 0;
}

int slot_fd(const struct slot_build *b, enum map_id outer)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->outers[i] == outer)
			return b->fd[i];
	return -ENOENT;
}

/* The kernel lays an mmapable array's elements out every round_up(value_size, 8) bytes. */
int slot_fill_array(struct slot_build *b, enum map_id outer, const void *src, size_t elem_size,
		    size_t n)
{
	size_t stride = (elem_size + 7) & ~(size_t)7, size;
	int fd = slot_fd(b, outer);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char *p;

	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != elem_size || n > info.max_entries)
		return -EINVAL;
	if (!n)
		return 0;
	size = stride * info.max_entries;
	p = slot_mmap(fd, size);
	if (!p)
		return -errno;
	if (stride == elem_size)
		memcpy(p, src, elem_size * n);
	else
		for (size_t i = 0; i < n; i++)
			memcpy(p + i * stride, (const char *)src + i * elem_size, elem_size);
	slot_munmap(p, size);
	return 0;
}

int slot_fill_kv(struct slot_build *b, enum map_id outer, const void *entries, size_t n,
		 size_t stride, size_t key_size)
{
	size_t chunk = 4096;
	void *keys = NULL, *vals = NULL;
	int fd = slot_fd(b, outer), err = 0;
	bool batch = true;

	if (fd < 0)
		return fd;
	if (!n)
		return 0;
	keys = malloc(chunk * key_size);
	vals = malloc(chunk * sizeof(__u32));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i += chunk) {
		__u32 cnt = n - i < chunk ? n - i : chunk;

		for (__u32 j = 0; j < cnt; j++) {
			const char *e = (const char *)entries + (i + j) * stride;

			memcpy((char *)keys + j * key_size, e, key_size);
			memcpy((char *)vals + j * sizeof(__u32), e + stride - sizeof(__u32),
			       sizeof(__u32));
		}
		if (batch) {
			__u32 count = cnt;

			if (!bpf_map_update_batch(fd, keys, vals, &count, NULL))
				continue;
			if (errno != EINVAL && errno != EOPNOTSUPP) {
				err = -errno;
				break;
			}
			batch = false;
		}
		for (__u32 j = 0; j < cnt; j++)
			if (bpf_map_update_elem(fd, (char *)keys + j * key_size,
						(char *)vals + j * sizeof(__u32), BPF_ANY)) {
				err = -errno;
				break;
			}
	}
out:
	free(keys);
	free(vals);
	return err;
}

int slot_commit(struct slot_build *b)
{
	__u32 k = b->target;

	for (size_t i = 0; i < b->n; i++)
		if (bpf_map_update_elem(b->m->fd[b->outers[i]], &k, &b->fd[i], BPF_ANY)) {
			int err = -errno;

			pr_err("cannot install %s: %s", maps_names[b->outers[i]], strerror(errno));
			return err;
		}
	return 0;
}

uint64_t slot_next_generation(uint64_t gen0, uint64_t gen1)
{
	return (gen0 > gen1 ? gen0 : gen1) + 1;
}

void slot_flip(__u32 *active, int target)
{
	__atomic_store_n(active, target, __ATOMIC_RELEASE);
}

void slot_end(struct slot_build *b, int err)
{
	for (size_t i = 0; i < SLOT_MAX_OUTERS; i++)
		if (b->fd[i] >= 0)
			close(b->fd[i]);
	fringe_xdp__destroy(b->tmpl);
	if (err && b->load_failures)
		__atomic_add_fetch(b->load_failures, 1, __ATOMIC_RELAXED);
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < SLOT_MAX_OUTERS; i++)
		b->fd[i] = -1;
}

/* ---- names -> stable ids ------------------------------------------------------ */

int slot_ids_assign(const struct slot_ids *s, const void *want, size_t stride, size_t n_want,
		    uint32_t *ids, uint8_t *fresh)
{
	uint8_t *taken = calloc(s->n + 1, 1);
	uint32_t next = s->first;
	int err = 0;

	if (!taken)
		return -ENOMEM;
	memset(fresh, 0, s->n);
	for (size_t i = 0; i < n_want; i++) {
		const char *name = (const char *)want + i * stride;

		ids[i] = UINT32_MAX;
		for (uint32_t id = s->first; id < s->n; id++)
			if (s->live[id] && !taken[id] && !strncmp(s->names[id], name, FRINGE_NAME_LEN)) {
				ids[i] = id;
				taken[id] = 1;
				break;
			}
	}
	for (size_t i = 0; i < n_want; i++) {
		if (ids[i] != UINT32_MAX)
			continue;
		while (next < s->n && (taken[next] || s->live[next]))
			next++;
		if (next < s->n) {
			ids[i] = next;
		} else if (s->reuse_dropped) {
			for (uint32_t id = s->first; id < s->n && ids[i] == UINT32_MAX; id++)
				if (!taken[id])
					ids[i] = id;
		}
		if (ids[i] == UINT32_MAX) {
			err = -ENOSPC;
			break;
		}
		taken[ids[i]] = 1;
		fresh[ids[i]] = 1;
	}
	free(taken);
	return err;
}

int slot_zero_percpu(int fd, uint32_t id, size_t value_size, int ncpus)
{
	void *zero = calloc(ncpus, value_size);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}
