// SPDX-License-Identifier: GPL-2.0
/* The daemon's file watcher: follow files through editors' renames and ConfigMap swaps, act once they settle. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "daemon_watch.h"
#include "file.h"
#include "log.h"

#define RELOAD_QUIET_MS		250	/* reload once the directory has been quiet this long */
#define RELOAD_MAX_DELAY_MS	2000	/* ... but never later than this after the first event */

uint64_t watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

int watch_init(struct watcher *w, struct watched_file *files, size_t n_files)
{
	w->files = files;
	w->n_files = n_files;
	w->pending = false;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

void watch_close(struct watcher *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	for (size_t i = 0; i < w->n_files; i++) {
		free(w->files[i].path);
		w->files[i].path = NULL;
	}
}

int watch_set_path(struct watcher *w, size_t i, const char *path)
{
	struct watched_file *f = &w->files[i];
	char *p = NULL;

	if (path && !(p = strdup(path)))
		return -ENOMEM;
	if (!(p && f->path && !strcmp(p, f->path)) && (p || f->path))
		f->seen = false;	/* a new path: read it on the next check */
	free(f->path);
	f->path = p;
	return 0;
}

static void watch_dir_of(struct watcher *w, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* The same directory twice yields the same watch: adding again is harmless. */
	if (inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				   IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
				   IN_MOVE_SELF | IN_ONLYDIR) < 0)
		pr_debug("cannot watch %s: %s", dir, strerror(errno));
}

/*
 * Watch the directory holding each file, not the file: editors write a new
 * file and rename it over the old one, and a Kubernetes ConfigMap volume swaps
 * a `..data` symlink, so the inode one would watch goes away.  When the path
 * is a symlink, the directory of its target is watched too.  Called again on
 * every check, so a directory that was removed and recreated is found again.
 */
void watch_refresh(struct watcher *w)
{
	char real[PATH_MAX];

	for (size_t i = 0; i < w->n_files; i++) {
		const char *p = w->files[i].path;

		if (!p)
			continue;
		watch_dir_of(w, p);
		if (realpath(p, real) && strcmp(real, p))
			watch_dir_of(w, real);
	}
}

void watch_drain(struct watcher *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			pr_debug("inotify: mask 0x%x %s", ev->mask, ev->len ? ev->name : "");
			any = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!any)
		return;
	w->last_ms = watch_now_ms();
	if (!w->pending)
		w->first_ms = w->last_ms;
	w->pending = true;
}

static uint64_t due_ms(const struct watcher *w)
{
	uint64_t due = w->last_ms + RELOAD_QUIET_MS, cap = w->first_ms + RELOAD_MAX_DELAY_MS;

	return cap < due ? cap : due;
}

uint64_t watch_wait_ms(const struct watcher *w, uint64_t now)
{
	if (!w->pending)
		return UINT64_MAX;
	return due_ms(w) > now ? due_ms(w) - now : 0;
}

bool watch_due(struct watcher *w, uint64_t now)
{
	if (!w->pending || now < due_ms(w))
		return false;
	w->pending = false;
	return true;
}

void watch_adopt(struct watched_file *f, const char *buf, size_t len)
{
	f->seen = f->exists = true;
	f->hash = fnv1a(buf, len);
}

int watch_read(struct watched_file *f, bool force, char **buf, size_t *len)
{
	char why[64];
	uint64_t h;
	int err = file_read(f->path, f->max, buf, len);

	if (err) {
		if (!force && f->seen && !f->exists)
			return 0;	/* still missing: said so already */
		f->seen = true;
		f->exists = false;
		pr_err("cannot read %s %s: %s; the %s in force stays", f->what, f->path,
		       file_strerror(err, f->max, why, sizeof(why)), f->stays);
		return -1;
	}
	h = fnv1a(*buf, *len);
	if (!force && f->seen && f->exists && f->hash == h) {
		free(*buf);
		return 0;
	}
	f->seen = f->exists = true;
	f->hash = h;
	return 1;
}
