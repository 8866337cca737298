/* SPDX-License-Identifier: GPL-2.0 */
/* Files: the one whole-file reader, the one crash-safe writer, pid lock files (see file.h). */
#define _GNU_SOURCE	/* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

int file_read(const char *path, size_t max, char **out, size_t *len)
{
	size_t n = 0, cap;
	struct stat st;
	char *buf = NULL;
	int fd, err = 0;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -FILE_ENOTREG;
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		err = -EFBIG;
		goto out;
	}
	/* One byte past what stat promised shows whether the file grew; files
	 * whose size stat does not know (procfs) grow the buffer, never past max + 1. */
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (cap > max + 1)
		cap = max + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t got;

		if (n == cap) {
			size_t nc = cap > (max + 1) / 2 ? max + 1 : 2 * cap;
			char *nb;

			if (cap == max + 1) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, nc + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto out;
		}
		if (!got)
			break;
		n += got;
	}
	if (n > max) {
		err = -EFBIG;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

const char *file_strerror(int err, size_t max, char *out, size_t n)
{
	if (err == -EFBIG && max >= (1u << 20) && !(max % (1u << 20)))
		snprintf(out, n, "larger than %zu MiB", max >> 20);
	else if (err == -EFBIG)
		snprintf(out, n, "larger than %zu bytes", max);
	else if (err == -FILE_ENOTREG)
		snprintf(out, n, "not a regular file");
	else if (err == -EMLINK)
		snprintf(out, n, "has other hard links; refused");
	else if (err == -ELOOP)
		snprintf(out, n, "a symbolic link (refused here) or a loop of them");
	else
		snprintf(out, n, "%s", strerror(-err));
	return out;
}

int file_out_open(struct file_out *o, const char *path, mode_t mode)
{
	char copy[sizeof(o->path)];
	const char *base;
	int fd, err;

	memset(o, 0, sizeof(*o));
	if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path))
		return -ENAMETOOLONG;
	memcpy(copy, o->path, sizeof(copy));
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!*base)
		return -EISDIR;
	/* dirname() may rewrite its argument: the copy. */
	if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dirname(copy), base) >=
	    (int)sizeof(o->tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(o->tmp, O_CLOEXEC);	/* O_CREAT | O_EXCL: never an existing name */
	if (fd < 0) {
		err = -errno;
		o->tmp[0] = '\0';
		return err;
	}
	if (fchmod(fd, mode))	/* mkstemp made it 0600; the mode asked for, as given */
		goto fail;
	o->f = fdopen(fd, "w");
	if (!o->f)
		goto fail;
	return 0;
fail:
	err = -errno;
	close(fd);
	unlink(o->tmp);
	o->tmp[0] = '\0';
	return err;
}

/* The directory's entry for the rename survives a crash too. */
static void fsync_dir(const char *path)
{
	char copy[4096];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int file_out_commit(struct file_out *o)
{
	int err = 0;

	if (!o->f)
		return -EBADF;
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
		err = errno ? -errno : -EIO;
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err)
		unlink(o->tmp);
	else
		fsync_dir(o->path);
	o->tmp[0] = '\0';
	return err;
}

void file_out_abort(struct file_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

int file_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct file_out o;
	int err = file_out_open(&o, path, mode);

	if (err)
		return err;
	if (len && fwrite(buf, 1, len, o.f) != len) {
		err = errno ? -errno : -EIO;
		file_out_abort(&o);
		return err;
	}
	return file_out_commit(&o);
}

FILE *file_open_stream(const char *path, mode_t mode, int *err)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		*err = -errno;	/* ENXIO: a FIFO nobody reads yet */
		return NULL;
	}
	if (fstat(fd, &st)) {
		*err = -errno;
		goto fail;
	}
	/* A device or a FIFO (/dev/null, a pipe into wireshark) is written as it is. */
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		*err = -EMLINK;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = -EISDIR;
		goto fail;
	}
	if ((S_ISREG(st.st_mode) && ftruncate(fd, 0)) || fcntl(fd, F_SETFL, 0)) {
		*err = -errno;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		*err = -errno;
		goto fail;
	}
	*err = 0;
	return f;
fail:
	close(fd);
	return NULL;
}

int file_lock_take(struct file_lock *l, const char *path, long *holder)
{
	struct stat a, b;
	char pid[32];
	ssize_t n;
	int fd, err;

	*holder = 0;
	l->fd = -1;
	if (snprintf(l->path, sizeof(l->path), "%s", path) >= (int)sizeof(l->path))
		return -ENAMETOOLONG;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB))
			break;
		/* A holder removes the file while it still holds it: when the
		 * name now points elsewhere, this lock is on a dead file. */
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			goto locked;
		close(fd);
	}
	err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	n = pread(fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	*holder = strtol(pid, NULL, 10);
	close(fd);
	return err;
locked:
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	l->fd = fd;
	return 0;
}

void file_lock_release(struct file_lock *l)
{
	if (l->fd < 0)
		return;
	unlink(l->path);	/* while still holding it: see file_lock_take */
	close(l->fd);
	l->fd = -1;
}

long file_lock_holder(const char *path)
{
	char pid[32];
	long holder = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0;
	/* A shared lock is refused only while the holder has its exclusive one. */
	if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		holder = strtol(pid, NULL, 10);
		if (holder <= 0)
			holder = -1;	/* held, by whom unknown */
	}
	close(fd);
	return holder;
}
