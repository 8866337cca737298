// SPDX-License-Identifier: GPL-2.0
/* Commit-confirm: a policy loaded with --confirm S goes back by itself unless confirmed in time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "confirm.h"

/* The pending state lives in the mmapped fringe_meta, shared by every
 * controller: confirm_generation (0: nothing pending) and its deadline in
 * CLOCK_REALTIME ns.  Writers hold the pin dir's lock. */

#define WATCH_POLL_NS 100000000ULL	/* the watcher looks every 100 ms */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool confirm_pending(const struct maps *m, uint64_t *generation, uint64_t *deadline_ns)
{
	uint64_t gen = __atomic_load_n(&m->meta->confirm_generation, __ATOMIC_ACQUIRE);

	if (generation)
		*generation = gen;
	if (deadline_ns)
		*deadline_ns = __atomic_load_n(&m->meta->confirm_deadline_ns, __ATOMIC_RELAXED);
	return gen != 0;
}

static void clear_pending(struct maps *m)
{
	__atomic_store_n(&m->meta->confirm_generation, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&m->meta->confirm_deadline_ns, 0, __ATOMIC_RELAXED);
}

/* Under the lock: revert when due.  1 reverted, 0 not. */
static int revert_locked(struct maps *m, bool force, uint64_t *from, uint64_t *to)
{
	uint64_t gen, deadline;
	int err;

	if (!confirm_pending(m, &gen, &deadline))
		return 0;
	if (maps_active_hdr(m)->generation != gen) {
		/* The load that recorded it never flipped (or was reverted already). */
		clear_pending(m);
		return 0;
	}
	if (!force && realtime_ns() < deadline)
		return 0;
	err = maps_flip(m);
	if (err)
		return err;
	clear_pending(m);
	if (from)
		*from = gen;
	if (to)
		*to = maps_active_hdr(m)->generation;
	return 1;
}

int confirm_revert_due(struct maps *m, uint64_t *from, uint64_t *to)
{
	int err;

	if (!confirm_pending(m, NULL, NULL))
		return 0;
	err = maps_lock(m);
	return err ? err : revert_locked(m, false, from, to);
}

int confirm_commit(struct maps *m, uint64_t *generation)
{
	uint64_t gen, deadline, to;
	int err = maps_lock(m);

	if (err)
		return err;
	if (!confirm_pending(m, &gen, &deadline))
		return -ENOENT;
	*generation = gen;
	if (maps_active_hdr(m)->generation != gen) {
		clear_pending(m);
		return -ENOENT;
	}
	if (realtime_ns() >= deadline) {
		err = revert_locked(m, true, NULL, &to);
		return err < 0 ? err : -ETIMEDOUT;
	}
	clear_pending(m);
	return 0;
}

/* The watcher: a session of its own, so the loading shell's hangup or a kill
 * of its process group does not reach it.  It keeps only the mapping of
 * fringe_meta, and opens the pin dir again when the deadline comes. */
static void watcher(struct maps *m, uint64_t gen)
{
	struct timespec nap = { 0, WATCH_POLL_NS };
	char pin_dir[PATH_MAX];
	struct maps m2;
	uint64_t from = 0, to = 0;
	int fd, err;

	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* Not the parent's lock nor its maps: only the meta mapping stays. */
	for (int i = 0; i < M__COUNT; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	if (!realpath(m->pin_dir, pin_dir))
		memcpy(pin_dir, m->pin_dir, sizeof(pin_dir));
	if (chdir("/"))
		_exit(1);

	for (;;) {
		if (__atomic_load_n(&m->meta->confirm_generation, __ATOMIC_ACQUIRE) != gen)
			_exit(0);	/* confirmed, or the load failed */
		if (realtime_ns() >= __atomic_load_n(&m->meta->confirm_deadline_ns, __ATOMIC_RELAXED))
			break;
		nanosleep(&nap, NULL);
	}
	openlog("fringe", LOG_PID, LOG_DAEMON);
	err = maps_open(&m2, pin_dir, 0);
	if (err) {
		syslog(LOG_ERR, "cannot open %s to revert unconfirmed policy generation %llu: %s",
		       pin_dir, (unsigned long long)gen, strerror(-err));
		_exit(1);
	}
	err = maps_lock(&m2);
	if (!err)
		err = revert_locked(&m2, false, &from, &to);
	if (err > 0)
		syslog(LOG_WARNING, "policy generation %llu was not confirmed in time: restored generation %llu",
		       (unsigned long long)from, (unsigned long long)to);
	else if (err < 0)
		syslog(LOG_ERR, "cannot revert unconfirmed policy generation %llu: %s",
		       (unsigned long long)gen, strerror(-err));
	maps_close(&m2);
	_exit(err < 0);
}

int confirm_arm(struct maps *m, uint64_t generation, unsigned int seconds)
{
	pid_t pid;

	if (!seconds || seconds > CONFIRM_MAX_SECONDS || !m->pin_dir[0])
		return -EINVAL;
	__atomic_store_n(&m->meta->confirm_deadline_ns, realtime_ns() + seconds * 1000000000ULL,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->meta->confirm_generation, generation, __ATOMIC_RELEASE);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		clear_pending(m);
		return err;
	}
	if (pid == 0)
		watcher(m, generation);	/* does not return */
	return 0;
}

void confirm_disarm(struct maps *m, uint64_t generation)
{
	if (__atomic_load_n(&m->meta->confirm_generation, __ATOMIC_ACQUIRE) == generation)
		clear_pending(m);
}
