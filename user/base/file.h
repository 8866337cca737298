/* SPDX-License-Identifier: GPL-2.0 */
/* Files: the one whole-file reader, the one crash-safe writer, pid lock files. */
#ifndef FRINGE_FILE_H
#define FRINGE_FILE_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

/* Returned (negated) when a path names a FIFO, socket or device instead of a regular file. */
#define FILE_ENOTREG EMEDIUMTYPE

/*
 * Read the whole regular file at path (symlinks followed, as Kubernetes
 * ConfigMaps need) into *buf, NUL-terminated, its length in *len; 0 or
 * -errno. Opened without blocking and refused with -FILE_ENOTREG unless a
 * regular file (a FIFO never hangs the reader, /dev/zero is never read),
 * -EISDIR for a directory, -EFBIG when larger than max: checked before
 * reading, and the buffer never grows past max + 1 bytes.
 */
int file_read(const char *path, size_t max, char **buf, size_t *len);
/* A message for a file_read error: "larger than 4 MiB", "not a regular file", strerror. */
const char *file_strerror(int err, size_t max, char *out, size_t n);

/*
 * Crash-safe output: a temporary created exclusively (mkstemp: O_EXCL, no
 * symlink followed) in the target's directory, written through f, then on
 * commit flushed, fsync()ed and renamed over the target, so readers see the
 * old file or the whole new one, and a symlink planted at the target or at a
 * guessable temporary name never redirects the write.
 */
struct file_out {
	FILE *f;
	char tmp[4096];
	char path[4096];
};
int file_out_open(struct file_out *o, const char *path, mode_t mode);
int file_out_commit(struct file_out *o);	/* closes o either way */
void file_out_abort(struct file_out *o);	/* removes the temporary */
/* The whole of buf as the new content of path. */
int file_write(const char *path, const void *buf, size_t len, mode_t mode);

/*
 * A stream written in place (a capture that grows while it runs, readable
 * before it ends): opened without following a symlink at path (-ELOOP);
 * a regular file must have no other hard link (-EMLINK) and is truncated;
 * a device or a FIFO with a reader (/dev/null, a pipe) is written as is.
 */
FILE *file_open_stream(const char *path, mode_t mode, int *err);

/*
 * A lock file holding its owner's pid, for "one of these at a time": taken
 * with flock(LOCK_EX | LOCK_NB); -EBUSY with the holder's pid in *holder
 * (0 when unknown) when another process has it. Released (and removed) by
 * file_lock_release or by the holder's exit (the file then stays, unlocked).
 */
struct file_lock {
	int fd;
	char path[4096];
};
int file_lock_take(struct file_lock *l, const char *path, long *holder);
void file_lock_release(struct file_lock *l);
/* The pid holding the lock file at path, without taking it; 0 when free or absent. */
long file_lock_holder(const char *path);

/* Where fringe keeps its lock files. */
#define FILE_RUN_DIR "/run/fringe"

#endif
