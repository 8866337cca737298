// SPDX-License-Identifier: GPL-2.0
/* The pinned data-plane state: open or create it, swap policies in, read counters. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fringe_xdp.skel.h"
#include "file.h"
#include "log.h"
#include "maps.h"
#include "slot.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const char *const maps_names[M__COUNT] = {
	[M_META] = "fringe_meta",
	[M_SLOT_BITMAPS] = "fringe_slot_bitmaps",
	[M_SLOT_DIMTAB] = "fringe_slot_dimtab",
	[M_SLOT_V4] = "fringe_slot_v4",
	[M_SLOT_LPM6] = "fringe_slot_lpm6",
	[M_SLOT_HASH] = "fringe_slot_hash",
	[M_SLOT_RULES] = "fringe_slot_rules",
	[M_RULE_STATS] = "fringe_rule_stats",
	[M_RULE_NAMES] = "fringe_rule_names",
	[M_BUCKETS] = "fringe_buckets",
	[M_SRC_BUCKETS] = "fringe_src_buckets",
	[M_IFSLOTS] = "fringe_ifslots",
	[M_IFACES] = "fringe_ifaces",
	[M_IFACE_STATS] = "fringe_iface_stats",
	[M_DEVMAP] = "fringe_devmap",
	[M_CPUMAP] = "fringe_cpumap",
	[M_FLOWS] = "fringe_flows",
	[M_SAMPLES] = "fringe_samples",
	[M_SAMPLE_STATS] = "fringe_sample_stats",
	[M_APP_STATS] = "fringe_app_stats",
	[M_DEVICE_STATS] = "fringe_device_stats",
	[M_DEVICE_NAMES] = "fringe_device_names",
	[M_DEVICE_SPOOFS] = "fringe_device_spoofs",
	[M_OVERLAY] = "fringe_overlay",
	[M_OV_SLOT_NODES] = "fringe_ov_slot_nodes",
	[M_OV_SLOT_PREFIXES] = "fringe_ov_slot_prefixes",
	[M_OV_SLOT_UNDERLAY] = "fringe_ov_slot_underlay",
	[M_NODE_NAMES] = "fringe_node_names",
	[M_NODE_STATS] = "fringe_node_stats",
	[M_APP_FLOWS] = "fringe_app_flows",
	[M_DNS_LEARNED] = "fringe_dns_learned",
	[M_DNS_NAMES] = "fringe_dns_names",
	[M_DNS_STATS] = "fringe_dns_stats",
	[M_DNS_QUERIES] = "fringe_dns_queries",
	[M_STAGED_STATS] = "fringe_staged_stats",
	[M_STAGED_CHANGES] = "fringe_staged_changes",
	[M_STAGED_PROG] = "fringe_staged_prog",
};

/* The holders of maps made on demand, and the size each one's map takes. */
static int held_size_id(enum map_id holder)
{
	switch (holder) {
	case M_FLOWS: return FRINGE_SZ_FLOWS;
	case M_SRC_BUCKETS: return FRINGE_SZ_SRC_BUCKETS;
	case M_APP_FLOWS: return FRINGE_SZ_APP_FLOWS;
	case M_SAMPLES: return FRINGE_SZ_SAMPLE_RING;
	case M_DNS_LEARNED: return FRINGE_SZ_DNS_ADDRESSES;
	case M_DNS_QUERIES:
	case M_DNS_NAMES: return FRINGE_SZ_COUNT;	/* no setting: the template's size */
	default: return -1;
	}
}



static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pin dir must be on bpffs; mount one there when it is an empty plain directory. */
int maps_prepare_pin_dir(const char *dir)
{
	struct statfs sfs;
	struct stat st;
	int err;

	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		pr_err("pin dir '%s' is not a directory", dir);
		return -ENOTDIR;
	}
	err = mkdir_p(dir);
	if (err) {
		pr_err("cannot create pin dir '%s': %s", dir, strerror(-err));
		return err;
	}
	if (statfs(dir, &sfs)) {
		err = -errno;
		pr_err("cannot stat pin dir '%s': %s", dir, strerror(errno));
		return err;
	}
	if (sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (!dir_is_empty(dir)) {
		pr_err("pin dir '%s' is not on bpffs and not empty; mount bpffs there or choose another --pin-dir",
		       dir);
		return -EINVAL;
	}
	if (mount("bpf", dir, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_err("pin dir '%s' is not on bpffs, and mounting one failed: %s", dir,
		       strerror(errno));
		return err;
	}
	pr_info("mounted bpffs at %s", dir);
	return 0;
}

static uint32_t map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.max_entries : 0;
}

static bool ring_made(struct maps *m)
{
	int fd = maps_held_fd(m, M_SAMPLES);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The sizes in force: recorded in the meta map when the state was created;
 * the site's wishes (want, may be NULL) apply to what is made on demand. */
static void maps_settle_sizes(struct maps *m, const uint32_t *want, bool created)
{
	for (int i = 0; i < FRINGE_SZ_COUNT; i++) {
		uint32_t w = want && want[i] ? want[i] : config_sizes[i].def;
		bool on_demand = i == FRINGE_SZ_FLOWS || i == FRINGE_SZ_SRC_BUCKETS ||
				 i == FRINGE_SZ_APP_FLOWS || i == FRINGE_SZ_SAMPLE_RING ||
				 i == FRINGE_SZ_DNS_ADDRESSES;

		if (created || !m->meta->sizes[i])
			m->meta->sizes[i] = w;
		else if (want && want[i] && want[i] != m->meta->sizes[i]) {
			if (on_demand && !(i == FRINGE_SZ_SAMPLE_RING && ring_made(m)))
				m->meta->sizes[i] = w;
			else
				pr_warn("size %s %u: the state in '%s' was created with %u, which stays until it is created anew (detach every interface, then remove the pin dir's maps)",
					config_sizes[i].name, w, m->pin_dir, m->meta->sizes[i]);
		}
		m->size[i] = m->meta->sizes[i];
	}
	m->n_device_ids = map_max_entries(m->fd[M_DEVICE_STATS]);
}

/* A state pinned before FRINGE_META_OVERLAY whose nodes file is in force:
 * the flag, or its data plane would stop looking at the overlay. */
static int overlay_flag_sync(struct maps *m)
{
	struct fringe_overlay *ov;
	int slot;

	if ((m->meta->flags & FRINGE_META_OVERLAY) || m->fd[M_OVERLAY] < 0)
		return 0;
	ov = slot_mmap(m->fd[M_OVERLAY], sizeof(*ov));
	if (!ov) {
		int err = -errno;

		pr_err("cannot map the overlay state: %s", strerror(errno));
		return err;
	}
	slot = __atomic_load_n(&ov->active, __ATOMIC_ACQUIRE) & 1;
	if (ov->slot[slot].family)
		__atomic_or_fetch(&m->meta->flags, FRINGE_META_OVERLAY, __ATOMIC_RELEASE);
	slot_munmap(ov, sizeof(*ov));
	return 0;
}

/* A pinned state this fringe must not use: says why and what to do; -EPROTO. */
__attribute__((format(printf, 2, 3))) static int state_refused(struct maps *m, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("the state in '%s' is from another fringe version (%s); detach every interface and remove the pin dir's maps",
	       m->pin_dir, why);
	return -EPROTO;
}

static int maps_finish_open(struct maps *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(m->fd[M_META], &info, &len) ||
	    info.value_size != sizeof(struct fringe_meta)) {
		return state_refused(m, "its meta map holds %u bytes, this one needs %zu",
				     info.value_size, sizeof(struct fringe_meta));
	}
	/* A table made on demand sits in a holder; pinned by a version that
	 * had it as a map of its own, it would take the holder's writes. */
	for (int i = 0; i < M__COUNT; i++) {
		struct bpf_map_info hi = {};
		__u32 hl = sizeof(hi);

		if (held_size_id(i) < 0 || m->fd[i] < 0)
			continue;
		if (bpf_obj_get_info_by_fd(m->fd[i], &hi, &hl) || hi.type != BPF_MAP_TYPE_ARRAY_OF_MAPS)
			return state_refused(m, "%s is not a holder of a map made on demand",
					     maps_names[i]);
	}
	m->meta = slot_mmap(m->fd[M_META], sizeof(struct fringe_meta));
	m->names = slot_mmap(m->fd[M_RULE_NAMES], sizeof(struct fringe_rule_name) * FRINGE_MAX_COUNTERS);
	if (!m->meta || !m->names) {
		int err = -errno;

		pr_err("cannot map fringe state: %s", strerror(errno));
		return err;
	}
	if (m->meta->magic != FRINGE_META_MAGIC) {
		memset(m->meta, 0, sizeof(*m->meta));
		m->meta->format = FRINGE_STATE_FORMAT;
		m->meta->magic = FRINGE_META_MAGIC;
		/* The default rule's counter is id 0 forever. */
		snprintf(m->names[0].name, FRINGE_NAME_LEN, "default");
	} else if (m->meta->format != FRINGE_STATE_FORMAT) {
		return state_refused(m, "format %u, this one writes %u", m->meta->format,
				     FRINGE_STATE_FORMAT);
	}
	return overlay_flag_sync(m);
}

/* The kernel adds BPF_F_RDONLY_PROG to devmaps and cpumaps, so libbpf 1.1
 * refuses their pins as "parameter mismatch": reuse those two by hand. */
static const char *const kernel_flagged_maps[] = { "fringe_devmap", "fringe_cpumap" };

int maps_prepare_object(struct bpf_object *obj, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_map *pm;

	/* A state created with other sizes is reused as it is: libbpf reuses a
	 * pin only when the definitions agree. */
	bpf_object__for_each_map(pm, obj) {
		const char *pp = bpf_map__pin_path(pm);
		int fd = pp ? bpf_obj_get(pp) : -1;
		uint32_t n = map_max_entries(fd);

		if (fd >= 0)
			close(fd);
		if (n && n != bpf_map__max_entries(pm) && bpf_map__set_max_entries(pm, n))
			return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(kernel_flagged_maps) / sizeof(*kernel_flagged_maps); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, kernel_flagged_maps[i]);
		int fd, err;

		if (!map)
			return -ENOENT;
		bpf_map__set_pin_path(map, NULL);
		if (!pin_dir)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, kernel_flagged_maps[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* created by this load, pinned by maps_pin_created */
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static int maps_pin_created(struct bpf_object *obj, const char *pin_dir)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(kernel_flagged_maps) / sizeof(*kernel_flagged_maps); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, kernel_flagged_maps[i]);

		snprintf(path, sizeof(path), "%s/%s", pin_dir, kernel_flagged_maps[i]);
		if (access(path, F_OK) && bpf_obj_pin(bpf_map__fd(map), path))
			return -errno;
	}
	return 0;
}

/* An inner-map template of another size for an outer map of a skeleton not
 * yet loaded (libbpf 1.1 cannot resize its own templates); the fd is the
 * caller's to close after the load. */
static int size_inner(struct bpf_map *outer, uint32_t n, int *fd)
{
	const struct bpf_map *in = bpf_map__inner_map(outer);
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	if (!in)
		return -ENOENT;
	opts.map_flags = bpf_map__map_flags(in);
	*fd = bpf_map_create(bpf_map__type(in), NULL, bpf_map__key_size(in),
			     bpf_map__value_size(in), n, &opts);
	if (*fd < 0)
		return -errno;
	return bpf_map__set_inner_map_fd(outer, *fd);
}

/* The sizes of what a new state creates: slot arrays and device tables. */
static int size_skel(struct fringe_xdp *skel, const uint32_t *want, int tmpl_fd[2])
{
	uint32_t sz[FRINGE_SZ_COUNT];
	int err = 0;

	for (int i = 0; i < FRINGE_SZ_COUNT; i++)
		sz[i] = want && want[i] ? want[i] : config_sizes[i].def;
	err = err ?: size_inner(skel->maps.fringe_slot_bitmaps, sz[FRINGE_SZ_BITMAPS], &tmpl_fd[0]);
	err = err ?: size_inner(skel->maps.fringe_slot_v4, sz[FRINGE_SZ_V4_BLOCKS], &tmpl_fd[1]);
	err = err ?: bpf_map__set_max_entries(skel->maps.fringe_device_stats,
					     2 * sz[FRINGE_SZ_DEVICES]);
	err = err ?: bpf_map__set_max_entries(skel->maps.fringe_device_names,
					     2 * sz[FRINGE_SZ_DEVICES]);
	return err;
}

static int maps_open_skel(struct maps *m, unsigned int flags, const uint32_t *want)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = m->pin_dir);
	int err, tmpl_fd[2] = { -1, -1 };
	struct bpf_map *map;

	m->skel = fringe_xdp__open_opts(flags & MAPS_PRIVATE ? NULL : &opts);
	if (!m->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	if (flags & MAPS_PRIVATE)
		bpf_object__for_each_map(map, m->skel->obj)
			bpf_map__set_pin_path(map, NULL);
	else	/* pinned state: `policy stage` loads it when it is needed */
		bpf_program__set_autoload(m->skel->progs.fringe_xdp_staged, false);
	err = size_skel(m->skel, want, tmpl_fd);
	if (!err)
		err = maps_prepare_object(m->skel->obj, flags & MAPS_PRIVATE ? NULL : m->pin_dir);
	if (!err)
		err = fringe_xdp__load(m->skel);
	for (int i = 0; i < 2; i++)
		if (tmpl_fd[i] >= 0)
			close(tmpl_fd[i]);
	if (!err && !(flags & MAPS_PRIVATE))
		err = maps_pin_created(m->skel->obj, m->pin_dir);
	if (err) {
		pr_err("cannot load the BPF object: %s%s", strerror(-err),
		       err == -EINVAL ? " (pinned maps from another fringe version? see -v)" : "");
		return err;
	}
	for (int i = 0; i < M__COUNT; i++) {
		map = bpf_object__find_map_by_name(m->skel->obj, maps_names[i]);
		m->fd[i] = map ? dup(bpf_map__fd(map)) : -1;
		if (m->fd[i] < 0) {
			pr_err("BPF object lacks map %s", maps_names[i]);
			return -ENOENT;
		}
	}
	return 0;
}

int maps_open(struct maps *m, const char *pin_dir, unsigned int flags)
{
	return maps_open_sized(m, pin_dir, flags, NULL);
}

int maps_open_sized(struct maps *m, const char *pin_dir, unsigned int flags, const uint32_t *want)
{
	char path[PATH_MAX];
	int err, missing = 0;
	bool created = false;
	uint32_t most[FRINGE_SZ_COUNT];

	/* A private instance (policy test, BPF tests) takes any policy that compiles. */
	if ((flags & MAPS_PRIVATE) && !want) {
		for (int i = 0; i < FRINGE_SZ_COUNT; i++)
			most[i] = config_sizes[i].def;
		most[FRINGE_SZ_BITMAPS] = config_sizes[FRINGE_SZ_BITMAPS].max;
		most[FRINGE_SZ_V4_BLOCKS] = config_sizes[FRINGE_SZ_V4_BLOCKS].max;
		most[FRINGE_SZ_DEVICES] = config_sizes[FRINGE_SZ_DEVICES].max;
		want = most;
	}

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < M__COUNT; i++)
		m->fd[i] = -1;
	m->lock_fd = -1;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0)
		return -EINVAL;
	snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir ? pin_dir : "");

	if (flags & MAPS_PRIVATE) {
		err = maps_open_skel(m, flags, want);
		created = true;
		goto out;
	}
	if (flags & MAPS_CREATE) {
		err = maps_prepare_pin_dir(pin_dir);
		if (err)
			goto out;
	}
	for (int i = 0; i < M__COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, maps_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			if (errno != ENOENT) {
				err = -errno;
				pr_err("cannot open %s: %s", path, strerror(errno));
				goto out;
			}
			missing++;
		}
	}
	if (missing) {
		if (!(flags & MAPS_CREATE)) {
			pr_err("no fringe state in '%s' (nothing attached or loaded yet; or use --pin-dir)",
			       pin_dir);
			err = -ENOENT;
			goto out;
		}
		/* The meta map among the missing: a new state, made to these sizes. */
		created = m->fd[M_META] < 0;
		for (int i = 0; i < M__COUNT; i++) {
			if (m->fd[i] >= 0)
				close(m->fd[i]);
			m->fd[i] = -1;
		}
		err = maps_open_skel(m, flags, want);
		if (err)
			goto out;
	}
	err = 0;
out:
	if (!err)
		err = maps_finish_open(m);
	if (!err)
		maps_settle_sizes(m, want, created);
	if (err)
		maps_close(m);
	return err;
}

void maps_close(struct maps *m)
{
	slot_munmap(m->meta, sizeof(struct fringe_meta));
	slot_munmap(m->names, sizeof(struct fringe_rule_name) * FRINGE_MAX_COUNTERS);
	for (int i = 0; i < M__COUNT; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	fringe_xdp__destroy(m->skel);
	fringe_xdp__destroy(m->tmpl);
	m->tmpl = NULL;
	free(m->scratch);
	m->scratch = NULL;
	m->skel = NULL;
	m->meta = NULL;
	m->names = NULL;
	for (int i = 0; i < M__COUNT; i++)
		m->fd[i] = -1;
	m->lock_fd = -1;
}

int maps_lock(struct maps *m)
{
	if (!m->pin_dir[0] || m->lock_fd >= 0)
		return 0;
	m->lock_fd = open(m->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->lock_fd < 0 || flock(m->lock_fd, LOCK_EX)) {
		int err = -errno;

		pr_err("cannot lock '%s': %s", m->pin_dir, strerror(errno));
		return err;
	}
	return 0;
}

void maps_unlock(struct maps *m)
{
	if (m->lock_fd >= 0)
		close(m->lock_fd);	/* drops the flock */
	m->lock_fd = -1;
}

static int maps_daemon_lock_path(const char *pin_dir, char *path, size_t n)
{
	struct stat st;

	if (!pin_dir || !pin_dir[0])
		return -ENOENT;
	if (stat(pin_dir, &st))
		return -errno;
	snprintf(path, n, FILE_RUN_DIR "/daemon-%llx-%llx.lock", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	return 0;
}

int maps_daemon_claim(const char *pin_dir, struct file_lock *l, long *holder)
{
	char path[128];
	int err = maps_daemon_lock_path(pin_dir, path, sizeof(path));

	*holder = 0;
	l->fd = -1;
	if (err)
		return err;
	if (mkdir(FILE_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	return file_lock_take(l, path, holder);
}

long maps_daemon_holder(const char *pin_dir)
{
	char path[128];

	return maps_daemon_lock_path(pin_dir, path, sizeof(path)) ? 0 : file_lock_holder(path);
}

const struct fringe_slot_hdr *maps_active_hdr(const struct maps *m)
{
	return &m->meta->slot[__atomic_load_n(&m->meta->active, __ATOMIC_ACQUIRE) & 1];
}

int maps_slot_inner_fd(struct maps *m, enum map_id outer, int slot)
{
	__u32 key = slot, id;

	if (bpf_map_lookup_elem(m->fd[outer], &key, &id))
		return -errno;
	return bpf_map_get_fd_by_id(id);
}

int maps_held_fd(struct maps *m, enum map_id holder)
{
	int fd = maps_slot_inner_fd(m, holder, 0);

	return fd < 0 ? -ENOENT : fd;
}

/* What the addresses learned so far from DNS are worth keeping through a
 * resize: the data plane admits them until their answer's TTL runs out,
 * and a client that looked a name up before does not ask again. */
static void copy_learned(int from, int to)
{
	struct fringe_dns_addr_key key, next;
	struct fringe_dns_learned v;
	void *prev = NULL;
	unsigned long lost = 0;

	while (!bpf_map_get_next_key(from, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(from, &key, &v) &&
		    bpf_map_update_elem(to, &key, &v, BPF_NOEXIST) && errno != EEXIST)
			lost++;
	}
	if (lost)
		pr_warn("fringe_dns_learned: %lu learned addresses did not fit the new size", lost);
}

int maps_hold(struct maps *m, enum map_id holder)
{
	int id = held_size_id(holder), fd = maps_held_fd(m, holder), old = -1, err = 0;
	__u32 zero = 0, size;

	if (id < 0)
		return -EINVAL;
	size = id < FRINGE_SZ_COUNT ? m->size[id] : 0;
	if (fd >= 0) {
		uint32_t n = map_max_entries(fd);

		/* The ring stays as it is: a consumer may be reading it. */
		if (!size || n == size || holder == M_SAMPLES) {
			close(fd);
			return 0;
		}
		old = fd;
	}
	/* A loaded object has dropped its inner-map templates: read them from a fresh open. */
	if (!m->tmpl && !(m->tmpl = fringe_xdp__open())) {
		err = -errno;
		goto out;
	}
	fd = slot_inner_create(m->tmpl, holder, size);
	if (fd < 0) {
		pr_err("cannot create %s of %u entries%s%s%s: %s", maps_names[holder], size,
		       size ? " (size " : "", size ? config_sizes[id].name : "", size ? ")" : "",
		       strerror(-fd));
		err = fd;
		goto out;
	}
	if (old >= 0 && holder == M_DNS_LEARNED)
		copy_learned(old, fd);
	if (bpf_map_update_elem(m->fd[holder], &zero, &fd, BPF_ANY)) {
		err = -errno;
		pr_err("cannot install %s: %s", maps_names[holder], strerror(errno));
	}
	close(fd);
out:
	if (old >= 0)
		close(old);
	return err;
}

int maps_release(struct maps *m, enum map_id holder)
{
	__u32 zero = 0;

	if (bpf_map_delete_elem(m->fd[holder], &zero) && errno != ENOENT)
		return -errno;
	return 0;
}

int maps_read_actions(struct maps *m, int slot, struct fringe_rule_action *out, uint32_t n)
{
	size_t size = sizeof(*out) * FRINGE_MAX_RULES;
	int fd = maps_slot_inner_fd(m, M_SLOT_RULES, slot);
	void *p;

	if (n == 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fd < 0)
		return fd;
	p = slot_mmap(fd, size);
	close(fd);
	if (!p)
		return -errno;
	memcpy(out, p, sizeof(*out) * n);
	slot_munmap(p, size);
	return 0;
}

/* ---- policy swap ------------------------------------------------------------ */

/* Per-source buckets of ids given out afresh may be left by a rule that held
 * the id before: drop them so the new rule starts with full buckets. */
static int forget_src_buckets(struct maps *m, const uint8_t *fresh)
{
	struct fringe_src_bucket_key key, next, *dead = NULL;
	size_t n = 0, cap = 0;
	int fd = maps_held_fd(m, M_SRC_BUCKETS), err = 0;
	void *prev = NULL;

	if (fd < 0)
		return 0;	/* no per-src rule in force: no buckets */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (next.counter_id < FRINGE_MAX_COUNTERS && fresh[next.counter_id]) {
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 64;
				void *p = realloc(dead, nc * sizeof(*dead));

				if (!p) {
					err = -ENOMEM;
					goto out;
				}
				dead = p;
				cap = nc;
			}
			dead[n++] = next;
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &dead[i]) && errno != ENOENT) {
			err = -errno;
			break;
		}
out:
	close(fd);
	free(dead);
	return err;
}

/* Counter ids follow rule names: a rule of the policy in force keeps its id;
 * a new name gets an id that policy does not use, its counters, buckets and
 * name reset.  The previous policy stays intact for a revert. */
static int assign_counters(struct maps *m, const struct compiled *c, __u32 *ids)
{
	const struct fringe_slot_hdr *act = maps_active_hdr(m);
	int active = m->meta->active & 1;
	uint8_t *live = calloc(FRINGE_MAX_COUNTERS, 1), *fresh = calloc(FRINGE_MAX_COUNTERS, 1);
	struct slot_ids s = { .first = 1, .n = FRINGE_MAX_COUNTERS, .live = live };
	struct fringe_rule_action *old = NULL;
	int err = 0;

	if (!live || !fresh) {
		err = -ENOMEM;
		goto out;
	}
	if (act->n_rules) {
		old = calloc(act->n_rules, sizeof(*old));
		if (!old || maps_read_actions(m, active, old, act->n_rules)) {
			err = old ? -EIO : -ENOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < act->n_rules; i++)
			if (old[i].counter_id < FRINGE_MAX_COUNTERS)
				live[old[i].counter_id] = 1;
	}
	s.names = (const char (*)[FRINGE_NAME_LEN])m->names;
	_Static_assert(sizeof(*m->names) == FRINGE_NAME_LEN, "rule names are bare names");
	err = slot_ids_assign(&s, c->names, FRINGE_NAME_LEN, c->n_rules, ids, fresh);
	for (uint32_t id = 1; id < FRINGE_MAX_COUNTERS && !err; id++) {
		if (!fresh[id])
			continue;
		err = slot_zero_percpu(m->fd[M_RULE_STATS], id, sizeof(struct fringe_counter), m->ncpus);
		/* A plain array: one value, not one per CPU (a 16-byte-per-CPU
		 * buffer was read past on a one-CPU host). */
		if (!err)
			err = slot_zero_percpu(m->fd[M_BUCKETS], id, sizeof(struct fringe_bucket), 1);
	}
	for (uint32_t r = 0; r < c->n_rules && !err; r++)
		if (fresh[ids[r]]) {
			memset(m->names[ids[r]].name, 0, FRINGE_NAME_LEN);
			memcpy(m->names[ids[r]].name, c->names[r], FRINGE_NAME_LEN);
		}
	if (!err)
		err = forget_src_buckets(m, fresh);
out:
	free(old);
	free(live);
	free(fresh);
	return err;
}

static size_t device_names_size(const struct maps *m)
{
	return sizeof(struct fringe_device_name) * m->n_device_ids;
}

/* Spoof counts follow device counter ids: a fresh id starts with none, and
 * an id that no slot holds any more gives its room in the table back. */
static int forget_device_spoofs(struct maps *m, const struct fringe_device_name *dn,
				const uint8_t *fresh)
{
	__u32 key, next, *prev = NULL, gone[FRINGE_SPOOF_DEVICES];
	size_t n = 0;

	while (n < FRINGE_SPOOF_DEVICES && !bpf_map_get_next_key(m->fd[M_DEVICE_SPOOFS], prev, &next)) {
		if (next >= m->n_device_ids || fresh[next] || !dn[next].slots)
			gone[n++] = next;
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(m->fd[M_DEVICE_SPOOFS], &gone[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

/* Device counter ids follow names like rule counters: a device of the
 * policy in force keeps its id; a new name gets an id the policy in force
 * does not use, zeroed.  The target slot's bit moves to the new devices.
 * ids[i] is device i's counter id. */
static int assign_devices(struct maps *m, const struct compiled *c, int target, __u32 *ids)
{
	__u32 active_bit = 1u << (m->meta->active & 1), target_bit = 1u << target;
	struct fringe_device_name *dn = slot_mmap(m->fd[M_DEVICE_NAMES], device_names_size(m));
	char (*names)[FRINGE_NAME_LEN] = calloc(m->n_device_ids, FRINGE_NAME_LEN);
	uint8_t *live = calloc(m->n_device_ids, 1), *fresh = calloc(m->n_device_ids, 1);
	struct slot_ids s = { .first = 0, .n = m->n_device_ids, .names = names, .live = live };
	int err = 0;

	if (!dn || !names || !live || !fresh) {
		err = dn ? -ENOMEM : -errno;
		goto out;
	}
	for (__u32 id = 0; id < m->n_device_ids; id++) {
		memcpy(names[id], dn[id].name, FRINGE_NAME_LEN);
		live[id] = !!(dn[id].slots & active_bit);
	}
	err = slot_ids_assign(&s, c->device_names, FRINGE_NAME_LEN, c->n_devices, ids, fresh);
	for (__u32 id = 0; id < m->n_device_ids && !err; id++)
		if (fresh[id])
			err = slot_zero_percpu(m->fd[M_DEVICE_STATS], id,
					       sizeof(struct fringe_counter), m->ncpus);
	if (err)
		goto out;
	/* Only the inactive slot's records change: readers see the slot in force. */
	for (__u32 id = 0; id < m->n_device_ids; id++)
		dn[id].slots &= ~target_bit;
	for (uint32_t i = 0; i < c->n_devices; i++) {
		if (!(dn[ids[i]].slots & active_bit)) {
			memset(dn[ids[i]].name, 0, FRINGE_NAME_LEN);
			memcpy(dn[ids[i]].name, c->device_names[i], FRINGE_NAME_LEN);
		}
		dn[ids[i]].slots |= target_bit;
	}
	err = forget_device_spoofs(m, dn, fresh);
out:
	free(names);
	free(live);
	free(fresh);
	slot_munmap(dn, device_names_size(m));
	return err;
}

/* The FRINGE_HK_DEV_* values carry the device's counter id (abi.h). */
static int set_device_ids(int hash_fd, const struct compiled *c, const __u32 *ids)
{
	for (size_t i = 0; i < c->n_hash; i++) {
		const struct hash_entry *e = &c->hash[i];
		__u32 v;

		if (e->key.kind != FRINGE_HK_DEV_MAC && e->key.kind != FRINGE_HK_DEV_IP4 &&
		    e->key.kind != FRINGE_HK_DEV_IP6)
			continue;
		if ((e->value & FRINGE_DEV_INDEX_MASK) >= c->n_devices)
			return -EINVAL;
		v = (e->value & FRINGE_DEV_INDEX_MASK) |
		    (ids[e->value & FRINGE_DEV_INDEX_MASK] + 1) << FRINGE_DEV_CID_SHIFT;
		if (bpf_map_update_elem(hash_fd, &e->key, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* The policy's inner maps, in fringe_slot_hdr.entries order. */
const enum map_id maps_policy_outers[FRINGE_SM_COUNT] = {
	M_SLOT_BITMAPS, M_SLOT_DIMTAB, M_SLOT_V4, M_SLOT_LPM6, M_SLOT_HASH, M_SLOT_RULES,
};

/* Fill the fresh maps, and the shared ones the policy redirects through. */
int maps_fill_policy(struct slot_build *b, const struct compiled *c,
		     const struct fringe_rule_action *actions, const __u32 *dev_ids)
{
	struct maps *m = b->m;
	int err;

	err = slot_fill_array(b, M_SLOT_BITMAPS, c->bitmaps, sizeof(*c->bitmaps), c->n_bitmaps);
	if (!err)
		err = slot_fill_array(b, M_SLOT_DIMTAB, c->dimtab, sizeof(__u32), FRINGE_TAB_SIZE);
	if (!err)
		err = slot_fill_array(b, M_SLOT_RULES, actions, sizeof(*actions), c->n_rules);
	if (!err)
		err = slot_fill_array(b, M_SLOT_V4, c->v4blocks, sizeof(*c->v4blocks), c->n_v4blocks);
	if (!err)
		err = slot_fill_kv(b, M_SLOT_LPM6, c->lpm6, c->n_lpm6, sizeof(*c->lpm6),
				   sizeof(struct fringe_lpm6_key));
	if (!err)
		err = slot_fill_kv(b, M_SLOT_HASH, c->hash, c->n_hash, sizeof(*c->hash),
				   sizeof(struct fringe_hkey));
	if (!err && c->n_devices)
		err = set_device_ids(slot_fd(b, M_SLOT_HASH), c, dev_ids);
	if (err) {
		pr_err("cannot fill policy maps: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < c->n_steer_ifindex; i++) {
		struct bpf_devmap_val v = { .ifindex = c->steer_ifindex[i] };

		if (bpf_map_update_elem(m->fd[M_DEVMAP], &c->steer_ifindex[i], &v, BPF_ANY)) {
			err = -errno;
			pr_err("cannot add interface %u to the steering map: %s",
			       c->steer_ifindex[i], strerror(errno));
			return err;
		}
	}
	for (int cpu = 0; c->uses_cpumap && cpu < m->ncpus; cpu++) {
		struct bpf_cpumap_val v = { .qsize = 2048 };
		__u32 k = cpu;

		if (bpf_map_update_elem(m->fd[M_CPUMAP], &k, &v, BPF_ANY)) {
			err = -errno;
			pr_err("cannot set up cpu %d for steering: %s", cpu, strerror(errno));
			return err;
		}
	}
	return 0;
}

/* A policy that needs more than the state was sized for is refused whole,
 * naming the setting: never truncated. */
int maps_check_sizes(struct maps *m, const struct compiled *c)
{
	static const struct { int id; const char *what; } chk[] = {
		{ FRINGE_SZ_BITMAPS, "rule bitmaps" },
		{ FRINGE_SZ_V4_BLOCKS, "IPv4 trie blocks" },
		{ FRINGE_SZ_DEVICES, "devices" },
	};
	size_t need[] = { c->n_bitmaps, c->n_v4blocks, c->n_devices };

	for (size_t i = 0; i < sizeof(chk) / sizeof(*chk); i++) {
		uint32_t have = m->size[chk[i].id];

		if (need[i] <= have)
			continue;
		pr_err("the policy needs %zu %s; this data plane holds %u (size %s): set `size %s %zu` or more in the daemon config (or `attach --size %s=%zu`) and create the state anew (detach every interface, remove the pin dir's maps)",
		       need[i], chk[i].what, have, config_sizes[chk[i].id].name,
		       config_sizes[chk[i].id].name, need[i], config_sizes[chk[i].id].name, need[i]);
		return -ENOSPC;
	}
	return 0;
}

/* Above every slot's, the staged one's included: a flow's cached rule and
 * a learned address's sets are kept by generation. */
uint64_t maps_next_generation(const struct maps *m)
{
	const struct fringe_slot_hdr *s = m->meta->slot;

	return slot_next_generation(slot_next_generation(s[0].generation, s[1].generation) - 1,
				    s[FRINGE_SLOT_STAGED].generation);
}

void maps_slot_hdr_fill(struct fringe_slot_hdr *h, const struct compiled *c, uint64_t generation,
			__u32 features)
{
	struct timespec now;

	memset(h, 0, sizeof(*h));
	clock_gettime(CLOCK_REALTIME, &now);
	h->generation = generation;
	h->load_time_ns = now.tv_sec * 1000000000ULL + now.tv_nsec;
	h->n_rules = c->n_rules;
	h->dims_used = c->dims_used;
	h->default_action = c->default_action;
	h->features = features;
	h->flags = c->slot_flags;
	memcpy(h->miss_bitmap, c->miss_bitmap, sizeof(h->miss_bitmap));
	h->entries[FRINGE_SM_BITMAPS] = c->n_bitmaps;
	h->entries[FRINGE_SM_DIMTAB] = FRINGE_TAB_SIZE;
	h->entries[FRINGE_SM_V4] = c->n_v4blocks;
	h->entries[FRINGE_SM_LPM6] = c->n_lpm6;
	h->entries[FRINGE_SM_HASH] = c->n_hash;
	h->entries[FRINGE_SM_RULES] = c->n_rules;
}

__u32 maps_policy_features(const struct compiled *c, bool *sample)
{
	bool per_src = false;

	*sample = false;
	for (uint32_t r = 0; r < c->n_rules; r++) {
		per_src |= !!(c->actions[r].flags & FRINGE_RF_PER_SRC);
		*sample |= !!(c->actions[r].flags & FRINGE_RF_SAMPLE);
	}
	return (per_src ? FRINGE_SF_PER_SRC : 0) |
	       (c->dims_used & FRINGE_DIMS_APP ? FRINGE_SF_APP : 0) |
	       (c->slot_flags & FRINGE_SLOT_DNS ? FRINGE_SF_DNS : 0);
}

/* The maps made on demand for a policy's features (fringe_slot_hdr.features). */
static const struct {
	__u32 feature;
	enum map_id holder;
} feature_maps[] = {
	{ FRINGE_SF_PER_SRC, M_SRC_BUCKETS },
	{ FRINGE_SF_APP, M_APP_FLOWS },
	{ FRINGE_SF_DNS, M_DNS_QUERIES },
	{ FRINGE_SF_DNS, M_DNS_LEARNED },
	{ FRINGE_SF_DNS, M_DNS_NAMES },
};

int maps_hold_features(struct maps *m, __u32 features)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(feature_maps) / sizeof(feature_maps[0]) && !err; i++)
		if (features & feature_maps[i].feature)
			err = maps_hold(m, feature_maps[i].holder);
	return err;
}

void maps_release_unused(struct maps *m)
{
	__u32 features = 0;

	for (int i = 0; i < FRINGE_POLICY_SLOTS; i++)
		if (m->meta->slot[i].generation)
			features |= m->meta->slot[i].features;
	for (size_t i = 0; i < sizeof(feature_maps) / sizeof(feature_maps[0]); i++)
		if (!(features & feature_maps[i].feature))
			maps_release(m, feature_maps[i].holder);
}

/* The names of the policy now in force, for `fringe dns show`: display
 * only, so a failure here fails nothing. */
static void maps_dns_names(struct maps *m, const struct compiled *c)
{
	int fd = maps_held_fd(m, M_DNS_NAMES);
	__u64 key, next;
	bool more;

	if (fd < 0)
		return;
	for (more = !bpf_map_get_next_key(fd, NULL, &key); more; key = next) {
		more = !bpf_map_get_next_key(fd, &key, &next);
		bpf_map_delete_elem(fd, &key);
	}
	for (size_t i = 0; i < c->n_dns_names; i++)
		bpf_map_update_elem(fd, &c->dns_names[i].key, &c->dns_names[i].v, BPF_ANY);
	close(fd);
}

int maps_load_policy(struct maps *m, const struct compiled *c, uint64_t *generation)
{
	struct fringe_rule_action *actions = NULL;
	__u32 *ids = NULL, *dev_ids = NULL;
	struct fringe_slot_hdr *h;
	struct slot_build b;
	__u32 features = 0, entries[FRINGE_SM_COUNT] = {};
	bool sample = false;
	int err;

	err = maps_check_sizes(m, c);
	if (err) {
		maps_note_load_failure(m);
		return err;
	}
	features = maps_policy_features(c, &sample);
	/* The slots' arrays have the sizes of the outer maps' templates; the
	 * hash, room for this policy's entries only: they are all written now
	 * and never added to. */
	entries[FRINGE_SM_BITMAPS] = m->size[FRINGE_SZ_BITMAPS];
	entries[FRINGE_SM_V4] = m->size[FRINGE_SZ_V4_BLOCKS];
	entries[FRINGE_SM_HASH] = c->n_hash ? c->n_hash : 1;
	err = slot_begin_sized(&b, m, maps_policy_outers, FRINGE_SM_COUNT,
			       entries, &m->meta->active, &m->meta->load_failures);
	if (err)
		goto out;
	ids = calloc(c->n_rules + 1, sizeof(*ids));
	actions = calloc(c->n_rules + 1, sizeof(*actions));
	dev_ids = calloc(c->n_devices + 1, sizeof(*dev_ids));
	if (!ids || !actions || !dev_ids) {
		err = -ENOMEM;
		goto out;
	}
	err = assign_counters(m, c, ids);
	if (err) {
		pr_err("cannot assign rule counters: %s", strerror(-err));
		goto out;
	}
	for (uint32_t r = 0; r < c->n_rules; r++) {
		actions[r] = c->actions[r];
		actions[r].counter_id = ids[r];
	}
	err = assign_devices(m, c, b.target, dev_ids);
	if (err) {
		pr_err("cannot assign device counters: %s", strerror(-err));
		goto out;
	}
	err = maps_fill_policy(&b, c, actions, dev_ids);
	/* The state this policy's features need, before it is in force. */
	if (!err)
		err = maps_hold_features(m, features);
	if (!err && sample)
		err = maps_hold(m, M_SAMPLES);
	if (!err)
		err = slot_commit(&b);
	if (err)
		goto out;

	h = &m->meta->slot[b.target];
	/* The generation is read before the target's header is cleared. */
	maps_slot_hdr_fill(h, c, maps_next_generation(m), features);
	slot_flip(&m->meta->active, b.target);
	if (generation)
		*generation = h->generation;
	maps_dns_names(m, c);
	maps_release_unused(m);
out:
	slot_end(&b, err);
	free(ids);
	free(dev_ids);
	free(actions);
	return err;
}

int maps_flip(struct maps *m)
{
	int err = maps_lock(m);

	if (err)
		return err;
	/* A slot never loaded is "no policy" (every packet passes, as before the
	 * first load): commit-confirm may go back to it. */
	slot_flip(&m->meta->active, !(m->meta->active & 1));
	return 0;
}

void maps_note_load_failure(struct maps *m)
{
	__atomic_add_fetch(&m->meta->load_failures, 1, __ATOMIC_RELAXED);
}

/* ---- counters ------------------------------------------------------------------ */

/* One entry of a per-CPU array of struct fringe_counter, summed over CPUs. */
static int read_counter(struct maps *m, int fd, uint32_t id, struct fringe_counter *out)
{
	struct fringe_counter *v = calloc(m->ncpus, sizeof(*v));

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, v)) {
		free(v);
		return -errno;
	}
	for (int i = 0; i < m->ncpus; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int maps_read_rule_counter(struct maps *m, uint32_t id, struct fringe_counter *out)
{
	return read_counter(m, m->fd[M_RULE_STATS], id, out);
}

uint32_t maps_rule_ids_upto(const struct fringe_rule_action *acts, uint32_t n)
{
	uint32_t upto = 1;

	for (uint32_t r = 0; r < n; r++)
		if (acts[r].counter_id % FRINGE_MAX_COUNTERS >= upto)
			upto = acts[r].counter_id % FRINGE_MAX_COUNTERS + 1;
	return upto;
}

int maps_read_counters(struct maps *m, int fd, uint32_t size, uint32_t upto,
		       struct fringe_counter **out)
{
	__u32 n = upto < size ? upto : size, batch = 0;
	struct fringe_counter *all = calloc(size, sizeof(*all));
	struct fringe_counter *v = calloc((size_t)n * m->ncpus, sizeof(*v));
	__u32 *keys = calloc(n, sizeof(*keys));
	int err = 0;

	*out = NULL;
	if (!all || !v || !keys) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_batch(fd, NULL, &batch, keys, v, &n, NULL) && errno != ENOENT) {
		/* No batch reads here: one lookup per id. */
		for (__u32 id = 0; id < upto && id < size && !err; id++)
			err = read_counter(m, fd, id, &all[id]);
		goto out;
	}
	for (__u32 i = 0; i < n; i++)
		for (int c = 0; c < m->ncpus && keys[i] < size; c++) {
			all[keys[i]].packets += v[(size_t)i * m->ncpus + c].packets;
			all[keys[i]].bytes += v[(size_t)i * m->ncpus + c].bytes;
		}
out:
	free(v);
	free(keys);
	if (err)
		free(all);
	else
		*out = all;
	return err;
}

int maps_read_rule_counters(struct maps *m, uint32_t upto, struct fringe_counter **out)
{
	return maps_read_counters(m, m->fd[M_RULE_STATS], FRINGE_MAX_COUNTERS, upto, out);
}

int maps_read_judged_by(struct maps *m, int cpu, uint32_t *judged_by)
{
	const struct bpf_map *map = m->skel ? m->skel->maps.fringe_scratch : NULL;
	size_t stride;
	__u32 zero = 0;
	char *v;
	int err = 0;

	*judged_by = 0;
	if (!map || cpu < 0 || cpu >= m->ncpus)
		return -ENOENT;
	if (!m->scratch) {	/* kept: read once per replayed packet */
		stride = (bpf_map__value_size(map) + 7) & ~7ul;	/* per-CPU values are 8-aligned */
		m->scratch = calloc(m->ncpus, stride);
		if (!m->scratch)
			return -ENOMEM;
	}
	stride = (bpf_map__value_size(map) + 7) & ~7ul;
	v = m->scratch;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, v))
		err = -errno;
	else
		*judged_by = ((const struct fringe_scratch_head *)(v + cpu * stride))->judged_by;
	return err;
}

int maps_read_iface_stats(struct maps *m, uint32_t slot, struct fringe_iface_stats *out)
{
	struct fringe_iface_stats *v = calloc(m->ncpus, sizeof(*v));
	const __u64 *src;
	__u64 *dst = (__u64 *)out;

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->fd[M_IFACE_STATS], &slot, v)) {
		free(v);
		return -errno;
	}
	/* Every field is a __u64 counter: sum them word by word. */
	for (int i = 0; i < m->ncpus; i++) {
		src = (const __u64 *)&v[i];
		for (size_t k = 0; k < sizeof(*out) / sizeof(__u64); k++)
			dst[k] += src[k];
	}
	free(v);
	return 0;
}

int maps_read_app_stats(struct maps *m, struct fringe_counter *out)
{
	struct fringe_counter *v = calloc(m->ncpus, sizeof(*v));
	int err = 0;

	memset(out, 0, sizeof(*out) * FRINGE_APP_COUNT);
	if (!v)
		return -ENOMEM;
	for (__u32 a = 0; a < FRINGE_APP_COUNT && !err; a++) {
		if (bpf_map_lookup_elem(m->fd[M_APP_STATS], &a, v)) {
			err = -errno;
			break;
		}
		for (int i = 0; i < m->ncpus; i++) {
			out[a].packets += v[i].packets;
			out[a].bytes += v[i].bytes;
		}
	}
	free(v);
	return err;
}

int maps_read_devices(struct maps *m, struct maps_device **out, size_t *n)
{
	struct fringe_device_name *dn = slot_mmap(m->fd[M_DEVICE_NAMES], device_names_size(m));
	__u32 bit = 1u << (__atomic_load_n(&m->meta->active, __ATOMIC_ACQUIRE) & 1);
	struct fringe_counter *v = calloc(m->ncpus, sizeof(*v));
	struct maps_device *d = calloc(FRINGE_MAX_DEVICES, sizeof(*d));
	__u64 *spoofs = calloc(m->ncpus, sizeof(*spoofs));
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!dn || !v || !d || !spoofs) {
		err = dn ? -ENOMEM : -errno;
		goto out;
	}
	for (__u32 id = 0; id < m->n_device_ids && *n < FRINGE_MAX_DEVICES; id++) {
		struct maps_device *e = &d[*n];

		if (!(dn[id].slots & bit))
			continue;
		memcpy(e->name, dn[id].name, FRINGE_NAME_LEN);
		e->name[FRINGE_NAME_LEN - 1] = '\0';
		e->id = id;
		if (bpf_map_lookup_elem(m->fd[M_DEVICE_STATS], &id, v)) {
			err = -errno;
			goto out;
		}
		for (int i = 0; i < m->ncpus; i++) {
			e->cnt.packets += v[i].packets;
			e->cnt.bytes += v[i].bytes;
		}
		/* No entry: never spoofed since the id was given to this name. */
		if (!bpf_map_lookup_elem(m->fd[M_DEVICE_SPOOFS], &id, spoofs))
			for (int i = 0; i < m->ncpus; i++)
				e->spoofed += spoofs[i];
		else if (errno != ENOENT) {
			err = -errno;
			goto out;
		}
		(*n)++;
	}
	*out = d;
	d = NULL;
out:
	slot_munmap(dn, device_names_size(m));
	free(v);
	free(spoofs);
	free(d);
	if (err)
		*n = 0;
	return err;
}

/* ---- kernel memory ---------------------------------------------------------- */

/* The kernel's own figure for a map (map_mem_usage), from its fdinfo. */
static uint64_t fdinfo_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* What one more possible CPU adds to a map, after the kernel's map_mem_usage:
 * a per-CPU copy of every value, a hash's per-CPU lock counters
 * (HASHTAB_MAP_LOCK_COUNT ints), a preallocated plain hash's spare element.
 * scripts/mem_maps.py has the same model. */
static uint64_t per_cpu_bytes(const struct bpf_map_info *i)
{
	uint64_t vs = (i->value_size + 7) & ~7u, ks = (i->key_size + 7) & ~7u, b = 4 * 8;
	bool prealloc = !(i->map_flags & BPF_F_NO_PREALLOC);

	switch (i->type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return vs * i->max_entries;
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return b + (prealloc ? vs * i->max_entries : 0);
	case BPF_MAP_TYPE_HASH:
		return b + (prealloc ? 48 + ks + vs + 8 : 0);
	case BPF_MAP_TYPE_LRU_HASH:
		return b;
	default:
		return 0;
	}
}

static void mem_add(struct maps_mem *e, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	e->bytes += fdinfo_memlock(fd);
	e->per_cpu += per_cpu_bytes(&info);
	e->count++;
	if (info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS)
		return;
	for (__u32 k = 0; k < info.max_entries; k++) {
		__u32 id;
		int in;

		if (bpf_map_lookup_elem(fd, &k, &id))
			continue;
		in = bpf_map_get_fd_by_id(id);
		if (in >= 0) {
			mem_add(e, in);
			close(in);
		}
	}
}

uint64_t maps_memory(struct maps *m, struct maps_mem *out)
{
	uint64_t total = 0;

	for (int i = 0; i < M__COUNT; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = maps_names[i];
		mem_add(&out[i], m->fd[i]);
		total += out[i].bytes;
	}
	return total;
}

int maps_apply_sizes(struct maps *m, const uint32_t *want)
{
	static const enum map_id holders[] = { M_FLOWS, M_SRC_BUCKETS, M_APP_FLOWS, M_DNS_LEARNED };	/* not the ring */
	int err = maps_lock(m);

	if (err)
		return err;
	maps_settle_sizes(m, want, false);
	/* A map in use of another size is made anew at the new one. */
	for (size_t i = 0; i < sizeof(holders) / sizeof(*holders) && !err; i++) {
		int fd = maps_held_fd(m, holders[i]);

		if (fd < 0)
			continue;
		close(fd);
		err = maps_hold(m, holders[i]);
	}
	return err;
}
