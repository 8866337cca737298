/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's file watcher: inotify on the files' directories, a debounce, and a content hash per file. */
#ifndef FRINGE_DAEMON_WATCH_H
#define FRINGE_DAEMON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A file the daemon follows, and what it last saw there. */
struct watched_file {
	const char *what;	/* "config", "policy", "nodes file": for logs */
	const char *stays;	/* what stays in force when it cannot be read */
	size_t max;		/* the largest content accepted */
	char *path;		/* NULL: not followed */
	bool seen;		/* checked at least once */
	bool exists;
	uint64_t hash;		/* FNV-1a of the content last acted upon */
};

struct watcher {
	int fd;			/* inotify */
	struct watched_file *files;
	size_t n_files;
	bool pending;		/* events seen, the reload not yet due */
	uint64_t first_ms, last_ms;	/* CLOCK_MONOTONIC of the first and last event */
};

uint64_t watch_now_ms(void);

int watch_init(struct watcher *w, struct watched_file *files, size_t n_files);
void watch_close(struct watcher *w);
/* Follow path (NULL: none) for file i; a new path is read again on the next check. */
int watch_set_path(struct watcher *w, size_t i, const char *path);
/* (Re)add the watches on every file's directory and its symlink target's. */
void watch_refresh(struct watcher *w);
/* Read the pending events: a reload becomes due once they have settled. */
void watch_drain(struct watcher *w);
/* The ms until a pending reload is due (UINT64_MAX: none); true when due now. */
uint64_t watch_wait_ms(const struct watcher *w, uint64_t now);
bool watch_due(struct watcher *w, uint64_t now);
/* Remember content as acted upon (the config as read and parsed at start). */
void watch_adopt(struct watched_file *f, const char *buf, size_t len);
/*
 * Read a watched file when its content changed (or always when forced):
 * 1 with the new content in *buf (the caller frees it), 0 when there is
 * nothing to do, -1 when it cannot be read (logged once while it stays so).
 */
int watch_read(struct watched_file *f, bool force, char **buf, size_t *len);

#endif
