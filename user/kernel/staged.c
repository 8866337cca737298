// SPDX-License-Identifier: GPL-2.0
/* The staged policy (SPEC §11): slot FRINGE_SLOT_STAGED, its counters, its changes, its source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "fringe_xdp.skel.h"
#include "log.h"
#include "policy.h"
#include "slot.h"
#include "staged.h"

#define SRC_CHUNK 4096
#define SRC_NAME "fringe_staged_source"

/* Entry 0 of the source map; the text follows from entry 1. */
struct src_head {
	uint64_t len;
	uint64_t generation;
	char path[SRC_CHUNK - 16];
};
_Static_assert(sizeof(struct src_head) == SRC_CHUNK, "one chunk");

const char *staged_class_name(unsigned int vc)
{
	static const char *const names[FRINGE_VC_MAX] = { "allow", "drop", "steer" };

	return vc < FRINGE_VC_MAX ? names[vc] : "?";
}

const struct fringe_slot_hdr *staged_hdr(const struct maps *m)
{
	const struct fringe_slot_hdr *h = &m->meta->slot[FRINGE_SLOT_STAGED];

	return (__atomic_load_n(&m->meta->flags, __ATOMIC_ACQUIRE) & FRINGE_META_STAGED) &&
	       h->generation ? h : NULL;
}

static void staged_off(struct maps *m)
{
	__atomic_and_fetch(&m->meta->flags, ~(__u32)FRINGE_META_STAGED, __ATOMIC_RELEASE);
}

static void src_path(const struct maps *m, char *buf, size_t n)
{
	snprintf(buf, n, "%s/" SRC_NAME, m->pin_dir);
}

/* The source, pinned beside the maps (none for a private instance). */
static int src_save(struct maps *m, const char *path, const char *text, size_t len, uint64_t gen)
{
	uint32_t n = 1 + (len + SRC_CHUNK - 1) / SRC_CHUNK;
	char pin[300], *chunk = NULL;
	struct src_head *h = NULL;
	int fd, err = 0;

	if (!m->pin_dir[0])
		return 0;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fringe_staged_src", 4, SRC_CHUNK, n, NULL);
	if (fd < 0)
		return -errno;
	h = calloc(1, sizeof(*h));
	chunk = calloc(1, SRC_CHUNK);
	if (!h || !chunk) {
		err = -ENOMEM;
		goto out;
	}
	h->len = len;
	h->generation = gen;
	snprintf(h->path, sizeof(h->path), "%s", path);
	for (uint32_t i = 0; i < n && !err; i++) {
		const void *v = h;

		if (i) {
			size_t off = (size_t)(i - 1) * SRC_CHUNK, k = len - off < SRC_CHUNK ? len - off : SRC_CHUNK;

			memset(chunk, 0, SRC_CHUNK);
			memcpy(chunk, text + off, k);
			v = chunk;
		}
		if (bpf_map_update_elem(fd, &i, v, BPF_ANY))
			err = -errno;
	}
	src_path(m, pin, sizeof(pin));
	if (!err && unlink(pin) && errno != ENOENT)
		err = -errno;
	if (!err && bpf_obj_pin(fd, pin))
		err = -errno;
out:
	free(h);
	free(chunk);
	close(fd);
	return err;
}

int staged_read_source(struct maps *m, struct staged_source *out)
{
	struct src_head *h = calloc(1, sizeof(*h));
	char pin[300];
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (!h)
		return -ENOMEM;
	src_path(m, pin, sizeof(pin));
	fd = bpf_obj_get(pin);
	if (fd < 0) {
		free(h);
		return errno == ENOENT ? -ENOENT : -errno;
	}
	if (bpf_map_lookup_elem(fd, &(uint32_t){ 0 }, h) || h->len > (size_t)UINT32_MAX * SRC_CHUNK) {
		err = -EIO;
		goto out;
	}
	out->len = h->len;
	out->generation = h->generation;
	snprintf(out->path, sizeof(out->path), "%.*s", (int)sizeof(h->path), h->path);
	out->text = malloc(out->len + SRC_CHUNK + 1);
	if (!out->text) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 1; (size_t)(i - 1) * SRC_CHUNK < out->len; i++)
		if (bpf_map_lookup_elem(fd, &i, out->text + (size_t)(i - 1) * SRC_CHUNK)) {
			err = -errno;
			goto out;
		}
	out->text[out->len] = 0;
out:
	close(fd);
	free(h);
	if (err)
		staged_source_free(out);
	return err;
}

void staged_source_free(struct staged_source *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* A fresh, empty map in holder (a new stage counts from zero). */
static int staged_hold(struct maps *m, struct fringe_xdp *tmpl, enum map_id holder)
{
	int fd = slot_inner_create(tmpl, holder, 0), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(m->fd[holder], &(__u32){ 0 }, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* The staged program into fringe_staged_prog: a private instance has it
 * loaded; pinned state gets it from a fresh load sharing the pinned maps. */
static int staged_prog_install(struct maps *m)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = m->pin_dir);
	struct fringe_xdp *skel = NULL;
	struct bpf_program *p;
	int err = 0, fd;

	if (m->skel) {
		fd = bpf_program__fd(m->skel->progs.fringe_xdp_staged);
	} else {
		skel = fringe_xdp__open_opts(&opts);
		if (!skel)
			return errno ? -errno : -ENOMEM;
		bpf_object__for_each_program(p, skel->obj)
			bpf_program__set_autoload(p, p == skel->progs.fringe_xdp_staged);
		err = maps_prepare_object(skel->obj, m->pin_dir);
		if (!err)
			err = fringe_xdp__load(skel);
		fd = err ? -1 : bpf_program__fd(skel->progs.fringe_xdp_staged);
	}
	if (!err && fd < 0)
		err = -ENOENT;
	if (!err && bpf_map_update_elem(m->fd[M_STAGED_PROG], &(__u32){ 0 }, &fd, BPF_ANY))
		err = -errno;
	if (err)
		pr_err("cannot load the staged policy's program: %s", strerror(-err));
	fringe_xdp__destroy(skel);
	return err;
}

/* Slot FRINGE_SLOT_STAGED emptied, its program and counters gone (the flag already off). */
static void staged_clear(struct maps *m)
{
	__u32 k = FRINGE_SLOT_STAGED;
	char pin[300];

	memset(&m->meta->slot[FRINGE_SLOT_STAGED], 0, sizeof(m->meta->slot[0]));
	for (size_t i = 0; i < FRINGE_SM_COUNT; i++)
		bpf_map_delete_elem(m->fd[maps_policy_outers[i]], &k);
	bpf_map_delete_elem(m->fd[M_STAGED_PROG], &(__u32){ 0 });
	maps_release(m, M_STAGED_STATS);
	maps_release(m, M_STAGED_CHANGES);
	if (m->pin_dir[0]) {
		src_path(m, pin, sizeof(pin));
		unlink(pin);
	}
}

int staged_put(struct maps *m, const struct compiled *c, const char *path, const char *text,
	       size_t len, uint64_t *generation)
{
	__u32 entries[FRINGE_SM_COUNT] = {}, features, *dev_ids = NULL;
	struct fringe_rule_action *actions = NULL;
	struct slot_build b;
	bool sample;
	uint64_t gen;
	int err;

	err = maps_check_sizes(m, c);
	if (err)
		return err;
	features = maps_policy_features(c, &sample);
	entries[FRINGE_SM_BITMAPS] = m->size[FRINGE_SZ_BITMAPS];
	entries[FRINGE_SM_V4] = m->size[FRINGE_SZ_V4_BLOCKS];
	entries[FRINGE_SM_HASH] = c->n_hash ? c->n_hash : 1;
	err = slot_begin_sized(&b, m, maps_policy_outers, FRINGE_SM_COUNT, entries, &m->meta->active, NULL);
	if (err)
		goto out;
	b.target = FRINGE_SLOT_STAGED;
	actions = calloc(c->n_rules + 1, sizeof(*actions));
	dev_ids = calloc(c->n_devices + 1, sizeof(*dev_ids));	/* a staged policy counts no device */
	if (!actions || !dev_ids) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t r = 0; r < c->n_rules; r++) {
		actions[r] = c->actions[r];
		actions[r].counter_id = r + 1;
	}
	err = maps_fill_policy(&b, c, actions, dev_ids);
	if (err)
		goto out;
	gen = maps_next_generation(m);
	/* From here the old staged policy, if any, is gone. */
	staged_off(m);
	err = staged_hold(m, b.tmpl, M_STAGED_STATS);
	if (!err)
		err = staged_hold(m, b.tmpl, M_STAGED_CHANGES);
	/* What the staged judge reads: learned DNS addresses, app flows. */
	if (!err)
		err = maps_hold_features(m, features & (FRINGE_SF_APP | FRINGE_SF_DNS));
	if (!err)
		err = staged_prog_install(m);
	if (!err)
		err = src_save(m, path, text, len, gen);
	if (!err)
		err = slot_commit(&b);
	if (err) {
		staged_clear(m);
		goto out;
	}
	maps_slot_hdr_fill(&m->meta->slot[FRINGE_SLOT_STAGED], c, gen, features);
	__atomic_or_fetch(&m->meta->flags, FRINGE_META_STAGED, __ATOMIC_RELEASE);
	maps_release_unused(m);		/* what the staged policy before needed */
	if (generation)
		*generation = gen;
out:
	slot_end(&b, err);
	free(actions);
	free(dev_ids);
	return err;
}

int staged_remove(struct maps *m)
{
	int err = maps_lock(m);

	if (err)
		return err;
	if (!m->meta->slot[FRINGE_SLOT_STAGED].generation)
		return -ENOENT;
	staged_off(m);
	staged_clear(m);
	maps_release_unused(m);
	return 0;
}

int staged_read_counters(struct maps *m, struct fringe_counter **out)
{
	int fd = maps_held_fd(m, M_STAGED_STATS), err;

	*out = NULL;
	if (fd < 0)
		return fd;
	err = maps_read_counters(m, fd, FRINGE_STAGED_COUNTERS, FRINGE_STAGED_COUNTERS, out);
	close(fd);
	return err;
}

static int change_cmp(const void *a, const void *b)
{
	const struct staged_change *x = a, *y = b;

	if (x->v.packets != y->v.packets)
		return x->v.packets < y->v.packets ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

int staged_read_changes(struct maps *m, struct staged_change **out, size_t *n)
{
	int fd = maps_held_fd(m, M_STAGED_CHANGES);
	struct fringe_staged_key key, next;
	struct staged_change *all;
	size_t cnt = 0;
	void *prev = NULL;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return fd;
	all = calloc(FRINGE_STAGED_CHANGES, sizeof(*all));
	if (!all) {
		close(fd);
		return -ENOMEM;
	}
	while (cnt < FRINGE_STAGED_CHANGES && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &all[cnt].v)) {
			all[cnt].key = next;
			cnt++;
		}
		key = next;
		prev = &key;
	}
	close(fd);
	qsort(all, cnt, sizeof(*all), change_cmp);
	*out = all;
	*n = cnt;
	return 0;
}

/* ---- the staged rules' names ------------------------------------------------------ */

static struct {
	uint64_t generation;
	char (*names)[FRINGE_NAME_LEN];
	size_t n;
} names_cache;

int staged_rule_names(struct maps *m, const char (**names)[FRINGE_NAME_LEN], size_t *n)
{
	const struct fringe_slot_hdr *h = staged_hdr(m);
	struct staged_source src;
	struct policy pol;
	int err;

	*names = NULL;
	*n = 0;
	if (!h)
		return -ENOENT;
	if (names_cache.generation != h->generation) {
		err = staged_read_source(m, &src);
		if (err)
			return err;
		/* It compiled when staged: its rules parse again, diagnostics unneeded. */
		err = policy_parse(src.text, src.len, NULL, &pol);
		staged_source_free(&src);
		if (err)
			return err;
		free(names_cache.names);
		names_cache.names = calloc(pol.n_rules + 1, FRINGE_NAME_LEN);
		if (!names_cache.names) {
			policy_free(&pol);
			names_cache.generation = 0;
			return -ENOMEM;
		}
		for (size_t r = 0; r < pol.n_rules; r++)
			memcpy(names_cache.names[r], pol.rules[r].name, FRINGE_NAME_LEN);
		names_cache.n = pol.n_rules;
		names_cache.generation = h->generation;
		policy_free(&pol);
	}
	*names = (const char (*)[FRINGE_NAME_LEN])names_cache.names;
	*n = names_cache.n;
	return 0;
}
