// SPDX-License-Identifier: GPL-2.0
/* `fringe daemon`: attach, load, reload on change or SIGHUP, serve /metrics; the data plane outlives it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "attach.h"
#include "cli.h"
#include "compile.h"
#include "config.h"
#include "confirm.h"
#include "log.h"
#include "maps.h"
#include "nodes.h"
#include "overlay.h"
#include "metrics.h"
#include "policy.h"
#include "sampler.h"

/*
 * One thread runs everything: a poll() over a signalfd, an inotify fd and
 * libmicrohttpd's epoll fd.  A scrape and a reload therefore never overlap,
 * and the maps need no locking beyond the pin dir's flock against other
 * `fringe` commands, which is held only while a policy is being swapped in.
 */

/* The metrics server's bounds (README "Run as a service"). */
#define HTTP_MAX_CONNECTIONS	128	/* beyond this, new connections are closed at once */
#define HTTP_MAX_PER_IP		32	/* one client cannot take every slot */
#define HTTP_IDLE_TIMEOUT_S	10	/* an idle connection is closed */
#define HTTP_HEADER_DEADLINE_S	10	/* a request's headers must all arrive within this */
#define HTTP_MEMORY_LIMIT	(16 * 1024)	/* per connection; bounds request line and headers */
#define HTTP_BACKLOG		128

#define RELOAD_QUIET_MS		250	/* reload once the directory has been quiet this long */
#define RELOAD_MAX_DELAY_MS	2000	/* ... but never later than this after the first event */
#define TICK_MS			1000
#define POLICY_MAX_FILE		(256u << 20)

enum { W_CONFIG, W_POLICY, W_NODES, W__COUNT };

enum iface_state {
	IF_TODO,	/* not tried yet */
	IF_MISSING,	/* no such interface yet: checked every tick */
	IF_FAILED,	/* attach failed: retried on the next reload */
	IF_OK,		/* attached or adopted */
};

/* A file the daemon follows, and what it last saw there. */
struct watched_file {
	const char *what;
	char *path;
	bool seen;		/* checked at least once */
	bool exists;
	uint64_t hash;		/* FNV-1a of the content last acted upon */
};

/* A connection of the metrics server, for the header deadline. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	bool busy;		/* a request is being answered */
	bool cut;		/* shut down for missing the deadline */
	struct timespec since;	/* accepted, or the last request completed */
};

struct daemon {
	struct cli *g;
	const char *config_path;
	struct config cfg;
	struct maps m;
	bool maps_opened;
	enum iface_state *iface;	/* per cfg.ifaces */
	struct watched_file files[W__COUNT];

	int sig_fd, ino_fd, listen_fd, stats_fd;
	struct MHD_Daemon *mhd;
	struct http_conn conns;	/* list head */
	unsigned int n_conns;

	struct sampler *sampler;	/* sFlow export, when configured */
	char *sampler_target;		/* the collector it sends to */
	char *sflow_failed;		/* the collector last failed, and why */
	int sflow_err;

	bool reload_pending;
	struct timespec reload_first, reload_last;
	bool policy_deferred;		/* a reload waits for a pending `policy confirm` */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static uint64_t ts_ms(const struct timespec *ts)
{
	return ts->tv_sec * 1000ULL + ts->tv_nsec / 1000000;
}

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static char *xstrdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The whole file (following symlinks), up to max bytes; 0 or -errno. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd, err = 0;

	*out = NULL;
	*len = 0;
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *nb;

			if (cap > max) {
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			break;
		}
		if (!got)
			break;
		n += got;
	}
	close(fd);
	if (!err && n > max)
		err = -EFBIG;
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Print diagnostics as FILE:LINE:COL log lines, one per error. */
static void log_diags(const struct diags *d)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	diags_print(d, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pr_err("%s", line);
	free(text);
}

/* ---- interfaces ------------------------------------------------------------ */

/* The slot recording ifindex in fringe_ifaces, with its program id; false when none. */
static bool iface_recorded(struct maps *m, int ifindex, __u32 *prog_id)
{
	struct fringe_iface_info info;

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++)
		if (!bpf_map_lookup_elem(m->fd[M_IFACES], &s, &info) && info.in_use &&
		    info.ifindex == (__u32)ifindex) {
			*prog_id = info.prog_id;
			return true;
		}
	return false;
}

/* Attach one listed interface, or adopt fringe already there. */
static enum iface_state iface_ensure(struct daemon *dd, const struct config_iface *ci,
				     enum iface_state was)
{
	int ifindex = if_nametoindex(ci->name);
	unsigned int id;
	__u32 rec_id = 0;
	int err;

	if (!ifindex) {
		if (was != IF_MISSING)
			pr_err("interface '%s' does not exist; attaching when it appears", ci->name);
		return IF_MISSING;
	}
	id = attach_find_ours(ifindex);
	if (id) {
		if (!iface_recorded(&dd->m, ifindex, &rec_id))
			pr_warn("fringe's program (id %u) on '%s' is not recorded in %s (another pin dir?); left as it is",
				id, ci->name, dd->m.pin_dir);
		else
			pr_info("adopted '%s': fringe already attached (program id %u), counters continue",
				ci->name, id);
		return IF_OK;
	}
	err = attach_xdp(&dd->m, ci->name, ci->mode, false);
	maps_unlock(&dd->m);
	if (err) {
		pr_err("interface '%s' stays without fringe; retrying on the next reload or SIGHUP",
		       ci->name);
		return IF_FAILED;
	}
	pr_info("attached to '%s' (%s mode, program id %u)", ci->name, config_mode_names[ci->mode],
		attach_find_ours(ifindex));
	return IF_OK;
}

/* On a reload every interface not running fringe is tried again; on a tick,
 * only those that did not exist (so a failing attach is not logged every second). */
static void ifaces_ensure(struct daemon *dd, bool tick)
{
	for (size_t i = 0; i < dd->cfg.n_ifaces; i++) {
		enum iface_state *st = &dd->iface[i];

		if (*st == IF_OK || (tick && *st != IF_MISSING))
			continue;
		if (tick && !if_nametoindex(dd->cfg.ifaces[i].name))
			continue;
		*st = iface_ensure(dd, &dd->cfg.ifaces[i], *st);
	}
}

/* ---- policy ------------------------------------------------------------------ */

/* Read a watched file when its content changed (or always when forced):
 * 1 with the new content in *buf, 0 when there is nothing to do, -1 when it
 * cannot be read (logged once while it stays missing). */
static int watched_read(struct watched_file *w, size_t max, bool force, const char *what,
			const char *stays, char **buf, size_t *len)
{
	uint64_t h;
	int err = read_file(w->path, max, buf, len);

	if (err) {
		if (!force && w->seen && !w->exists)
			return 0;	/* still missing: said so already */
		w->seen = true;
		w->exists = false;
		pr_err("cannot read %s %s: %s; the %s in force stays", what, w->path,
		       err == -EFBIG ? "file too large" : strerror(-err), stays);
		return -1;
	}
	h = fnv1a(*buf, *len);
	if (!force && w->seen && w->exists && w->hash == h) {
		free(*buf);
		return 0;
	}
	w->seen = w->exists = true;
	w->hash = h;
	return 1;
}

/* Load the policy file when its content changed, or always when forced.
 * A broken or missing file is logged with its errors, counted in
 * fringe_policy_load_failures_total, and the policy in force stays. */
static void policy_reload(struct daemon *dd, bool force)
{
	struct watched_file *w = &dd->files[W_POLICY];
	struct compile_env env = cli_live_env();
	struct diags d = { .file = w->path };
	struct compiled c;
	struct policy pol;
	uint64_t gen = 0;
	char *buf;
	size_t len;
	int err;

	if (!w->path)
		return;
	env.resolve_node = overlay_resolve_node;	/* `steer node NAME` */
	env.node_ctx = &dd->m;
	/* A load now would overwrite the policy a pending revert restores. */
	if (confirm_pending(&dd->m, &gen, NULL) && maps_active_hdr(&dd->m)->generation == gen) {
		if (!dd->policy_deferred)
			pr_warn("policy %s not loaded yet: generation %llu awaits 'fringe policy confirm' (or its revert)",
				w->path, (unsigned long long)gen);
		dd->policy_deferred = true;
		return;
	}
	dd->policy_deferred = false;
	err = watched_read(w, POLICY_MAX_FILE, force, "policy", "policy", &buf, &len);
	if (err < 0)
		maps_note_load_failure(&dd->m);
	if (err <= 0)
		return;

	err = policy_parse(buf, len, &d, &pol);
	free(buf);
	if (!err) {
		err = compile_policy(&pol, &env, &d, &c);
		if (err)
			policy_free(&pol);
	}
	if (err) {
		log_diags(&d);
		pr_err("policy %s has %zu error%s; the policy in force stays", w->path, d.n,
		       d.n == 1 ? "" : "s");
		diags_free(&d);
		maps_note_load_failure(&dd->m);
		return;
	}
	diags_free(&d);
	err = maps_load_policy(&dd->m, &c, &gen);
	maps_unlock(&dd->m);
	if (err) {
		pr_err("cannot load policy %s: %s; the policy in force stays", w->path, strerror(-err));
		maps_note_load_failure(&dd->m);
	} else {
		pr_info("loaded policy %s: generation %llu, %zu rules", w->path,
			(unsigned long long)gen, pol.n_rules);
	}
	compiled_free(&c);
	policy_free(&pol);
}

/* ---- the nodes file (overlay) ------------------------------------------------------ */

/* Load the nodes file when its content changed, or always when forced; a
 * broken one is logged with its errors and the overlay in force stays. */
static void nodes_reload(struct daemon *dd, bool force)
{
	struct watched_file *w = &dd->files[W_NODES];
	struct diags d = { .file = w->path };
	struct ov_built b;
	struct nodes n;
	uint64_t gen = 0;
	char *buf;
	size_t len;
	int err;

	if (!w->path)
		return;
	err = watched_read(w, NODES_MAX_FILE, force, "nodes file", "overlay", &buf, &len);
	if (err < 0)
		overlay_note_load_failure(&dd->m);
	if (err <= 0)
		return;
	err = nodes_parse(buf, len, &d, &n);
	free(buf);
	if (!err) {
		err = overlay_resolve_self(&n, &overlay_live_env, &d);
		if (!err)
			err = overlay_build(&n, &overlay_live_env, &d, &b);
		if (err)
			nodes_free(&n);
	}
	if (err) {
		log_diags(&d);
		pr_err("nodes file %s has %zu error%s; the overlay in force stays", w->path, d.n,
		       d.n == 1 ? "" : "s");
		diags_free(&d);
		overlay_note_load_failure(&dd->m);
		return;
	}
	diags_free(&d);
	err = overlay_load(&dd->m, &n, &b, &gen);
	maps_unlock(&dd->m);
	if (err)
		pr_err("cannot load nodes file %s: %s; the overlay in force stays", w->path,
		       strerror(-err));
	else
		pr_info("loaded nodes file %s: generation %llu, %zu nodes, self %s on %s", w->path,
			(unsigned long long)gen, n.n, n.self, b.local.ifname);
	overlay_built_free(&b);
	nodes_free(&n);
}

/* ---- sFlow export ------------------------------------------------------------------- */

static void sflow_stop(struct daemon *dd)
{
	struct sampler_totals t;

	if (!dd->sampler)
		return;
	sampler_get_totals(dd->sampler, &t);
	sampler_close(dd->sampler);
	pr_info("sFlow export to %s stopped: %llu samples in %llu datagrams, %llu send errors",
		dd->sampler_target, (unsigned long long)t.written, (unsigned long long)t.datagrams,
		(unsigned long long)t.send_errors);
	dd->sampler = NULL;
	free(dd->sampler_target);
	dd->sampler_target = NULL;
}

/* Drain samples to the configured collector; follow config changes. */
static void sflow_sync(struct daemon *dd)
{
	struct sampler_opts o = { .sflow_target = dd->cfg.sflow, .keep_going = true };
	int err;

	if (dd->sampler && same_str(dd->sampler_target, dd->cfg.sflow))
		return;
	sflow_stop(dd);
	if (!dd->cfg.sflow)
		return;
	err = sampler_open(&dd->sampler, &dd->m, &o);
	if (err) {
		/* Said once per collector and cause; retried quietly on every reload. */
		enum log_level lvl = err == dd->sflow_err && same_str(dd->sflow_failed, dd->cfg.sflow)
					     ? LOG_DEBUG : LOG_ERROR;

		dd->sampler = NULL;
		log_msg(lvl, "sFlow export to %s is not running: %s%s", dd->cfg.sflow, strerror(-err),
			err == -EBUSY ? " (another consumer drains the samples); retrying on reload"
				      : "; retrying on reload");
		dd->sflow_err = err;
		free(dd->sflow_failed);
		dd->sflow_failed = strdup(dd->cfg.sflow);
		return;
	}
	dd->sflow_err = 0;
	dd->sampler_target = strdup(dd->cfg.sflow);
	pr_info("exporting samples as sFlow to %s", dd->cfg.sflow);
}

static void extras_note(struct daemon *dd)
{
	sflow_sync(dd);
}

/* ---- inotify: follow files through editors' renames and ConfigMap swaps ------ */

static void watch_dir_of(struct daemon *dd, const char *path)
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
	if (inotify_add_watch(dd->ino_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
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
static void watches_refresh(struct daemon *dd)
{
	char real[PATH_MAX];

	for (int i = 0; i < W__COUNT; i++) {
		const char *p = dd->files[i].path;

		if (!p)
			continue;
		watch_dir_of(dd, p);
		if (realpath(p, real) && strcmp(real, p))
			watch_dir_of(dd, real);
	}
}

static void inotify_drain(struct daemon *dd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t n;

	while ((n = read(dd->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			pr_debug("inotify: mask 0x%x %s", ev->mask, ev->len ? ev->name : "");
			any = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!any)
		return;
	clock_gettime(CLOCK_MONOTONIC, &dd->reload_last);
	if (!dd->reload_pending)
		dd->reload_first = dd->reload_last;
	dd->reload_pending = true;
}

/* ---- config ------------------------------------------------------------------- */

/* Apply a re-read config: new interfaces attach, a new policy path loads;
 * what needs a restart (pin dir, metrics address) is said so and kept. */
static void config_apply(struct daemon *dd, struct config *nc)
{
	enum iface_state *ok = calloc(nc->n_ifaces + 1, sizeof(*ok));
	bool policy_changed = !same_str(dd->cfg.policy, nc->policy);

	if (!ok) {
		pr_err("cannot apply the config: out of memory");
		config_free(nc);
		return;
	}
	for (size_t i = 0; i < nc->n_ifaces; i++)
		for (size_t j = 0; j < dd->cfg.n_ifaces; j++)
			if (!strcmp(nc->ifaces[i].name, dd->cfg.ifaces[j].name)) {
				ok[i] = dd->iface[j];
				if (nc->ifaces[i].mode != dd->cfg.ifaces[j].mode && ok[i] == IF_OK)
					pr_warn("interface '%s': the new mode applies after 'fringe detach %s' (left as attached)",
						nc->ifaces[i].name, nc->ifaces[i].name);
			}
	for (size_t j = 0; j < dd->cfg.n_ifaces; j++) {
		bool kept = false;

		for (size_t i = 0; i < nc->n_ifaces; i++)
			kept |= !strcmp(nc->ifaces[i].name, dd->cfg.ifaces[j].name);
		if (!kept && dd->iface[j] == IF_OK)
			pr_warn("interface '%s' is no longer listed; fringe stays attached there ('fringe detach %s' removes it)",
				dd->cfg.ifaces[j].name, dd->cfg.ifaces[j].name);
	}
	if (strcmp(nc->metrics, dd->cfg.metrics))
		pr_warn("metrics address %s -> %s: takes effect on restart", dd->cfg.metrics, nc->metrics);
	if (!same_str(nc->pin_dir, dd->cfg.pin_dir))
		pr_warn("pin-dir changed: takes effect on restart; still using %s", dd->m.pin_dir);
	if (!same_str(nc->nodes, dd->cfg.nodes))
		dd->files[W_NODES].seen = false;	/* a new path: load it */

	/* Keep what needs a restart as it is running. */
	snprintf(nc->metrics, sizeof(nc->metrics), "%s", dd->cfg.metrics);
	free(nc->pin_dir);
	nc->pin_dir = xstrdup_or_null(dd->cfg.pin_dir);

	config_free(&dd->cfg);
	free(dd->iface);
	dd->cfg = *nc;
	dd->iface = ok;
	memset(nc, 0, sizeof(*nc));

	free(dd->files[W_POLICY].path);
	free(dd->files[W_NODES].path);
	dd->files[W_POLICY].path = xstrdup_or_null(dd->cfg.policy);
	dd->files[W_NODES].path = xstrdup_or_null(dd->cfg.nodes);
	if (policy_changed)
		dd->files[W_POLICY].seen = false;
	watches_refresh(dd);
}

/* Remember a file's content as acted upon (the config as read at start). */
static void watch_note(struct watched_file *w)
{
	char *buf;
	size_t len;

	w->seen = true;
	w->exists = !read_file(w->path, CONFIG_MAX_FILE, &buf, &len);
	if (w->exists) {
		w->hash = fnv1a(buf, len);
		free(buf);
	}
}

/* Re-read the config when its content changed (or when forced). */
static void config_reload(struct daemon *dd, bool force)
{
	struct watched_file *w = &dd->files[W_CONFIG];
	struct diags d = { .file = w->path };
	struct config nc;
	char *buf;
	size_t len;
	uint64_t h;
	int err;

	err = read_file(w->path, CONFIG_MAX_FILE, &buf, &len);
	if (err) {
		if (force || !w->seen || w->exists)
			pr_err("cannot read config %s: %s; the running config stays", w->path,
			       err == -EFBIG ? "larger than 1 MiB" : strerror(-err));
		w->seen = true;
		w->exists = false;
		return;
	}
	h = fnv1a(buf, len);
	free(buf);
	if (!force && w->seen && w->exists && w->hash == h)
		return;
	w->seen = w->exists = true;
	w->hash = h;
	err = config_parse_file(w->path, &d, &nc);
	if (err) {
		log_diags(&d);
		pr_err("config %s has %zu error%s; the running config stays", w->path, d.n,
		       d.n == 1 ? "" : "s");
		diags_free(&d);
		return;
	}
	diags_free(&d);
	pr_info("re-read config %s", w->path);
	config_apply(dd, &nc);
}

/* A file event (after the quiet period) or SIGHUP (forced). */
static void reload_all(struct daemon *dd, bool force)
{
	watches_refresh(dd);
	config_reload(dd, force);
	ifaces_ensure(dd, false);
	nodes_reload(dd, force);	/* first: the policy's `steer node` names need them */
	policy_reload(dd, force);
	extras_note(dd);
}

/* ---- the metrics server --------------------------------------------------------- */

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct daemon *dd = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		hc = calloc(1, sizeof(*hc));
		if (!hc)
			return;
		hc->fd = ci ? ci->connect_fd : -1;
		clock_gettime(CLOCK_MONOTONIC, &hc->since);
		hc->next = dd->conns.next;
		hc->prev = &dd->conns;
		dd->conns.next->prev = hc;
		dd->conns.next = hc;
		dd->n_conns++;
		*socket_context = hc;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && hc) {
		hc->prev->next = hc->next;
		hc->next->prev = hc->prev;
		dd->n_conns--;
		free(hc);
		*socket_context = NULL;
	}
}

static void http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_conn *hc = conn_of(c);

	if (hc) {
		hc->busy = false;
		clock_gettime(CLOCK_MONOTONIC, &hc->since);
	}
}

/* Close connections whose request headers did not arrive in time (slow clients). */
static void http_sweep(struct daemon *dd)
{
	uint64_t now = now_ms();

	for (struct http_conn *hc = dd->conns.next; hc != &dd->conns; hc = hc->next)
		if (!hc->busy && !hc->cut && hc->fd >= 0 &&
		    now - ts_ms(&hc->since) > HTTP_HEADER_DEADLINE_S * 1000ULL) {
			/* libmicrohttpd sees the socket end and closes the connection itself. */
			shutdown(hc->fd, SHUT_RDWR);
			hc->cut = true;
		}
}

static enum MHD_Result http_reply(struct MHD_Connection *c, unsigned int status,
				  const char *type, char *body, size_t len, bool must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, must_free ? MHD_RESPMEM_MUST_FREE
								 : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_request(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static char not_found[] = "404 page not found; metrics are at /metrics\n";
	static char not_allowed[] = "405 method not allowed; use GET or HEAD\n";
	static char failed[] = "500 cannot read fringe's counters\n";
	static int seen, answered;	/* markers in *req_cls */
	struct daemon *dd = cls;
	struct http_conn *hc = conn_of(c);
	const char *cl, *te;
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (*req_cls == &answered) {	/* a body after the answer was queued: discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!*req_cls) {
		bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

		if (hc)
			hc->busy = true;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (get && !te && (!cl || !strcmp(cl, "0"))) {
			/* Answered on the next call, once the request is complete: the
			 * connection can then be kept alive for the next scrape. */
			*req_cls = &seen;
			return MHD_YES;
		}
		/* Anything with a body is answered at once; the body is never read
		 * and the connection closes. */
		*req_cls = &answered;
		if (!get)
			return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
					  not_allowed, sizeof(not_allowed) - 1, false);
	}
	*req_cls = &answered;
	if (strcmp(url, "/metrics"))
		return http_reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found,
				  sizeof(not_found) - 1, false);
	f = open_memstream(&body, &len);
	if (!f)
		return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
				  failed, sizeof(failed) - 1, false);
	err = metrics_render(&dd->m, f);
	if (fclose(f) && !err)
		err = -EIO;
	if (err) {
		pr_err("cannot render metrics: %s", strerror(-err));
		free(body);
		return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
				  failed, sizeof(failed) - 1, false);
	}
	return http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
			  true);
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
	char *msg;

	/* Refused and broken connections are the client's business, not the log's. */
	if (log_threshold < LOG_DEBUG || vasprintf(&msg, fmt, ap) < 0)
		return;
	pr_debug("libmicrohttpd: %s", msg);
	free(msg);
}

/* Bind first, before anything in the kernel changes: a busy port fails the start cleanly. */
static int http_listen(struct daemon *dd)
{
	const struct sockaddr *sa = (const struct sockaddr *)&dd->cfg.metrics_addr;
	int one = 1, fd, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, dd->cfg.metrics_addrlen) || listen(fd, HTTP_BACKLOG))
		goto fail;
	dd->listen_fd = fd;
	return 0;
fail:
	err = -errno;
	pr_err("cannot listen on %s for metrics: %s", dd->cfg.metrics, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

static int http_start(struct daemon *dd)
{
	dd->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				   (dd->cfg.metrics_addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				   0, NULL, NULL, http_request, dd,
				   MHD_OPTION_LISTEN_SOCKET, dd->listen_fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
				   MHD_OPTION_STRICT_FOR_CLIENT, 1,
				   MHD_OPTION_NOTIFY_CONNECTION, http_notify, dd,
				   MHD_OPTION_NOTIFY_COMPLETED, http_completed, dd,
				   MHD_OPTION_EXTERNAL_LOGGER, http_log, dd,
				   MHD_OPTION_END);
	if (!dd->mhd) {
		pr_err("cannot start the metrics server on %s", dd->cfg.metrics);
		return -EINVAL;
	}
	dd->listen_fd = -1;	/* the server owns it now */
	pr_info("serving metrics on http://%s/metrics", dd->cfg.metrics);
	return 0;
}

/* ---- the loop ------------------------------------------------------------------------ */

static int daemon_loop(struct daemon *dd)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(dd->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	uint64_t next_tick = now_ms() + TICK_MS;

	if (!di) {
		pr_err("the metrics server has no epoll fd");
		return -EINVAL;
	}
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = dd->sig_fd, .events = POLLIN },
			{ .fd = dd->ino_fd, .events = POLLIN },
			{ .fd = di->epoll_fd, .events = POLLIN },
			{ .fd = dd->sampler ? sampler_epoll_fd(dd->sampler) : -1, .events = POLLIN },
		};
		MHD_UNSIGNED_LONG_LONG mt;
		uint64_t now = now_ms(), wait = next_tick > now ? next_tick - now : 0;

		if (MHD_get_timeout(dd->mhd, &mt) == MHD_YES && mt < wait)
			wait = mt;
		/* The data plane does not wake the consumer for every sample. */
		if (dd->sampler && wait > SAMPLER_POLL_MS)
			wait = SAMPLER_POLL_MS;
		if (dd->reload_pending) {
			uint64_t due = ts_ms(&dd->reload_last) + RELOAD_QUIET_MS;
			uint64_t cap = ts_ms(&dd->reload_first) + RELOAD_MAX_DELAY_MS;

			if (cap < due)
				due = cap;
			due = due > now ? due - now : 0;
			if (due < wait)
				wait = due;
		}
		if (poll(p, 4, (int)wait) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return -errno;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(dd->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					pr_info("SIGHUP: reloading config and policy");
					dd->reload_pending = false;
					reload_all(dd, true);
				} else {
					pr_info("%s: stopping; the data plane stays attached and keeps its state",
						strsignal(si.ssi_signo));
					return 0;
				}
			}
		}
		if (p[1].revents & POLLIN)
			inotify_drain(dd);
		MHD_run(dd->mhd);
		if (dd->sampler) {
			int r = sampler_poll(dd->sampler, 0);

			if (r < 0) {
				pr_err("sFlow export: cannot drain samples: %s; stopped until the next reload",
				       strerror(-r));
				sflow_stop(dd);
			}
		}

		now = now_ms();
		if (dd->reload_pending &&
		    (now >= ts_ms(&dd->reload_last) + RELOAD_QUIET_MS ||
		     now >= ts_ms(&dd->reload_first) + RELOAD_MAX_DELAY_MS)) {
			dd->reload_pending = false;
			reload_all(dd, false);
		}
		if (now >= next_tick) {
			uint64_t from, to;
			int r = confirm_revert_due(&dd->m, &from, &to);

			maps_unlock(&dd->m);
			if (r > 0)
				pr_warn("policy generation %llu was not confirmed in time: restored generation %llu",
					(unsigned long long)from, (unsigned long long)to);
			else if (r < 0)
				pr_err("cannot revert the unconfirmed policy: %s", strerror(-r));
			if (dd->policy_deferred && !confirm_pending(&dd->m, NULL, NULL))
				policy_reload(dd, true);
			next_tick = now + TICK_MS;
			http_sweep(dd);
			ifaces_ensure(dd, true);	/* interfaces that appear later */
		}
	}
}

/* ---- the command ------------------------------------------------------------------------ */

/* `--check`: the config and the files it names, nothing touched. */
static int daemon_check(struct config *cfg, const char *config_path)
{
	struct compile_env env = { .ncpus = 0 };
	struct diags d = { .file = cfg->policy };
	struct compiled c;
	struct policy pol;
	int err = 0;

	if (cfg->policy) {
		err = policy_parse_file(cfg->policy, &d, &pol);
		if (!err) {
			err = compile_policy(&pol, &env, &d, &c);
			if (!err)
				compiled_free(&c);
			policy_free(&pol);
		}
		diags_print(&d, stderr);
		if (err)
			fprintf(stderr, "fringe: policy '%s' has %zu error%s\n", cfg->policy, d.n,
				d.n == 1 ? "" : "s");
		diags_free(&d);
	}
	if (cfg->nodes) {
		struct ov_built b;
		struct nodes n;
		int e = overlay_build_file(cfg->nodes, NULL, &n, &b);

		if (!e) {
			overlay_built_free(&b);
			nodes_free(&n);
		}
		err = err ? err : e;
	}
	if (err)
		return 1;
	printf("%s: ok, %zu interface%s, policy %s, metrics on %s\n", config_path, cfg->n_ifaces,
	       cfg->n_ifaces == 1 ? "" : "s", cfg->policy ? cfg->policy : "(none)", cfg->metrics);
	return 0;
}

static int daemon_setup_fds(struct daemon *dd)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	dd->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (dd->sig_fd < 0)
		return -errno;
	dd->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dd->ino_fd < 0)
		return -errno;
	return 0;
}

int cmd_daemon(struct cli *g, int argc, char **argv)
{
	static const struct cmd self = { "daemon", NULL, "fringe daemon --config FILE [--check]" };
	struct daemon dd = { .g = g, .sig_fd = -1, .ino_fd = -1, .listen_fd = -1, .stats_fd = -1 };
	struct diags d = { 0 };
	const char *pin;
	bool check;
	int err = 0, rc = 1;

	check = cli_take_flag(&argc, argv, "--check");
	dd.config_path = cli_take_opt(&argc, argv, "--config", &err);
	if (err || argc != 1 || !dd.config_path)
		return cli_usage(&self);
	dd.conns.next = dd.conns.prev = &dd.conns;

	d.file = dd.config_path;
	err = config_parse_file(dd.config_path, &d, &dd.cfg);
	diags_print(&d, stderr);
	if (err) {
		fprintf(stderr, "fringe: config '%s' has %zu error%s; not starting\n", dd.config_path,
			d.n, d.n == 1 ? "" : "s");
		diags_free(&d);
		return 1;
	}
	diags_free(&d);
	if (check) {
		rc = daemon_check(&dd.cfg, dd.config_path);
		config_free(&dd.cfg);
		return rc;
	}

	/* Daemon logs: timestamped levels, info by default; libbpf's expected probe
	 * warnings only with -v (the failures they explain are logged anyway). */
	log_daemon_style = 1;
	if (log_threshold < LOG_INFO)
		log_threshold = LOG_INFO;
	if (!g->verbose)
		log_lib_level = LOG_DEBUG;
	pin = dd.cfg.pin_dir ? dd.cfg.pin_dir : g->pin_dir;
	pr_info("fringe %s starting: config %s, pin dir %s", FRINGE_VERSION, dd.config_path, pin);

	dd.files[W_CONFIG] = (struct watched_file){ .what = "config", .path = strdup(dd.config_path) };
	dd.files[W_POLICY] = (struct watched_file){ .what = "policy",
						    .path = xstrdup_or_null(dd.cfg.policy) };
	dd.files[W_NODES] = (struct watched_file){ .what = "nodes",
						   .path = xstrdup_or_null(dd.cfg.nodes) };
	dd.iface = calloc(dd.cfg.n_ifaces + 1, sizeof(*dd.iface));
	if (!dd.files[W_CONFIG].path || !dd.iface) {
		pr_err("out of memory");
		goto out;
	}
	err = daemon_setup_fds(&dd);
	if (err) {
		pr_err("cannot set up signals and inotify: %s", strerror(-err));
		goto out;
	}
	if (http_listen(&dd))
		goto out;
	if (maps_open(&dd.m, pin, MAPS_CREATE))
		goto out;
	dd.maps_opened = true;
	watch_note(&dd.files[W_CONFIG]);
	watches_refresh(&dd);

	/* BPF_ENABLE_STATS: the kernel times fringe's programs while this fd is open. */
	dd.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (dd.stats_fd < 0)
		pr_info("kernel BPF run-time statistics are off: %s (needs CAP_SYS_ADMIN); fringe_bpf_run_* are not exported",
			strerror(errno));
	else
		metrics_bpf_stats = true;

	ifaces_ensure(&dd, false);
	nodes_reload(&dd, true);
	policy_reload(&dd, true);
	extras_note(&dd);
	if (http_start(&dd))
		goto out;
	rc = daemon_loop(&dd) ? 1 : 0;
out:
	sflow_stop(&dd);
	free(dd.sflow_failed);
	if (dd.mhd)
		MHD_stop_daemon(dd.mhd);
	while (dd.conns.next != &dd.conns) {	/* normally freed by the server's close notices */
		struct http_conn *hc = dd.conns.next;

		dd.conns.next = hc->next;
		free(hc);
	}
	if (dd.listen_fd >= 0)
		close(dd.listen_fd);
	if (dd.stats_fd >= 0)
		close(dd.stats_fd);
	metrics_bpf_stats = false;
	if (dd.sig_fd >= 0)
		close(dd.sig_fd);
	if (dd.ino_fd >= 0)
		close(dd.ino_fd);
	if (dd.maps_opened)
		maps_close(&dd.m);
	for (int i = 0; i < W__COUNT; i++)
		free(dd.files[i].path);
	free(dd.iface);
	config_free(&dd.cfg);
	return rc;
}
