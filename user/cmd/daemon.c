// SPDX-License-Identifier: GPL-2.0
/* `fringe daemon`: attach, load, reload on change or SIGHUP, serve /metrics; the data plane outlives it. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "cli.h"
#include "cluster.h"
#include "compile.h"
#include "config.h"
#include "confirm.h"
#include "daemon_http.h"
#include "daemon_serve.h"
#include "daemon_watch.h"
#include "dns.h"
#include "file.h"
#include "log.h"
#include "maps.h"
#include "nodes.h"
#include "overlay.h"
#include "metrics.h"
#include "policy.h"
#include "sampler.h"

/*
 * One thread runs everything: a poll() over a signalfd, the watcher's inotify
 * fd (daemon_watch.c), the HTTP server's epoll fd (daemon_http.c) and the
 * sampler's ring buffer.  A scrape and a reload therefore never overlap, and
 * the maps need no locking beyond the pin dir's flock against other `fringe`
 * commands, which is held only while a policy is being swapped in.
 */

#define TICK_MS			1000

enum { W_CONFIG, W_POLICY, W_NODES, W_USERS, W_CERT, W_KEY, W__COUNT };

enum iface_state {
	IF_TODO,	/* not tried yet */
	IF_MISSING,	/* no such interface yet: checked every tick */
	IF_FAILED,	/* attach failed: retried on the next reload */
	IF_OK,		/* attached or adopted */
};

struct daemon {
	struct cli *g;
	const char *config_path;
	struct config cfg;
	struct maps m;
	bool maps_opened;
	struct file_lock claim;		/* one daemon per pin dir */
	enum iface_state *iface;	/* per cfg.ifaces */
	struct watched_file files[W__COUNT];
	struct watcher watch;
	struct http_server *http;
	struct serve serve;		/* what the listener serves, and to whom */

	int sig_fd, stats_fd;

	struct cluster *cluster;	/* node membership on etcd, when configured */

	struct sampler *sampler;	/* sFlow export, when configured */
	char *sampler_target;		/* the collector it sends to */
	char *sflow_failed;		/* the collector last failed, and why */
	int sflow_err;

	bool policy_deferred;		/* a reload waits for a pending `policy confirm` */
};

static char *xstrdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
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

/* ---- policy and nodes file: watched file -> compile -> load ------------------- */

/* How one kind of watched file becomes state in the kernel. */
struct reload_kind {
	size_t file;		/* W_POLICY, W_NODES */
	size_t built_size;
	/* Parse and compile; on error, nothing to free. */
	int (*build)(struct daemon *dd, const char *buf, size_t len, struct diags *d, void *built);
	/* Swap it in (taking the pin dir's lock); counts its own failures. */
	int (*load)(struct daemon *dd, void *built, uint64_t *gen);
	void (*loaded)(struct daemon *dd, const char *path, const void *built, uint64_t gen);
	void (*free)(void *built);
	void (*note_failure)(struct maps *m);
};

/*
 * Load a watched file when its content changed, or always when forced.  A
 * broken or missing file is logged with its errors, counted in the kind's
 * load_failures, and what is in force stays.
 */
static void file_reload(struct daemon *dd, const struct reload_kind *k, bool force)
{
	struct watched_file *w = &dd->files[k->file];
	struct diags d = { .file = w->path };
	void *built;
	uint64_t gen = 0;
	char *buf;
	size_t len;
	int err;

	if (!w->path)
		return;
	err = watch_read(w, force, &buf, &len);
	if (err < 0)
		k->note_failure(&dd->m);
	if (err <= 0)
		return;
	built = calloc(1, k->built_size);
	if (!built) {
		free(buf);
		pr_err("cannot load %s %s: out of memory; the %s in force stays", w->what, w->path,
		       w->stays);
		k->note_failure(&dd->m);
		return;
	}
	err = k->build(dd, buf, len, &d, built);
	free(buf);
	if (err) {
		log_diags(&d);
		pr_err("%s %s has %zu error%s; the %s in force stays", w->what, w->path, d.n,
		       d.n == 1 ? "" : "s", w->stays);
		diags_free(&d);
		k->note_failure(&dd->m);
		free(built);
		return;
	}
	diags_free(&d);
	err = k->load(dd, built, &gen);
	maps_unlock(&dd->m);
	if (err)
		pr_err("cannot load %s %s: %s; the %s in force stays", w->what, w->path,
		       strerror(-err), w->stays);
	else
		k->loaded(dd, w->path, built, gen);
	k->free(built);
	free(built);
}

struct policy_built {
	struct policy pol;
	struct compiled c;
};

static int policy_build_buf(struct daemon *dd, const char *buf, size_t len, struct diags *d,
			    void *out)
{
	struct policy_built *pb = out;
	struct compile_env env = cli_live_env();
	int err;

	env.resolve_node = overlay_resolve_node;	/* `steer node NAME` */
	env.node_ctx = &dd->m;
	err = policy_parse(buf, len, d, &pb->pol);
	if (!err) {
		err = compile_policy(&pb->pol, &env, d, &pb->c);
		if (err)
			policy_free(&pb->pol);
	}
	return err;
}

static int policy_load_built(struct daemon *dd, void *built, uint64_t *gen)
{
	struct policy_built *pb = built;

	return maps_load_policy(&dd->m, &pb->c, gen);	/* counts its failures */
}

static void policy_loaded(struct daemon *dd, const char *path, const void *built, uint64_t gen)
{
	const struct policy_built *pb = built;

	pr_info("loaded policy %s: generation %llu, %zu rules", path, (unsigned long long)gen,
		pb->pol.n_rules);
}

static void policy_built_free(void *built)
{
	struct policy_built *pb = built;

	compiled_free(&pb->c);
	policy_free(&pb->pol);
}

static const struct reload_kind policy_kind = {
	.file = W_POLICY,
	.built_size = sizeof(struct policy_built),
	.build = policy_build_buf,
	.load = policy_load_built,
	.loaded = policy_loaded,
	.free = policy_built_free,
	.note_failure = maps_note_load_failure,
};

/* Load the policy file when it changed, unless a `policy confirm` is pending:
 * a load now would overwrite the policy its revert restores. */
static void policy_reload(struct daemon *dd, bool force)
{
	uint64_t gen = 0;

	if (!dd->files[W_POLICY].path)
		return;
	if (confirm_pending(&dd->m, &gen, NULL) && maps_active_hdr(&dd->m)->generation == gen) {
		if (!dd->policy_deferred)
			pr_warn("policy %s not loaded yet: generation %llu awaits 'fringe policy confirm' (or its revert)",
				dd->files[W_POLICY].path, (unsigned long long)gen);
		dd->policy_deferred = true;
		return;
	}
	dd->policy_deferred = false;
	file_reload(dd, &policy_kind, force);
}

struct nodes_built {
	struct nodes n;
	struct ov_built b;
};

static int nodes_build_buf(struct daemon *dd, const char *buf, size_t len, struct diags *d,
			   void *out)
{
	struct nodes_built *nb = out;
	int err = nodes_parse(buf, len, d, &nb->n);

	if (!err && dd->cluster) {
		/* Loaded with the cluster's records; with announce, `self` is announce's. */
		if (!dd->cfg.announce.loc.line)
			err = overlay_resolve_self(&nb->n, &overlay_live_env, d);
		if (err)
			nodes_free(&nb->n);
	} else if (!err) {
		err = overlay_resolve_self(&nb->n, &overlay_live_env, d);
		if (!err)
			err = overlay_build(&nb->n, &overlay_live_env, d, &nb->b);
		if (err)
			nodes_free(&nb->n);
	}
	return err;
}

static int nodes_load_built(struct daemon *dd, void *built, uint64_t *gen)
{
	struct nodes_built *nb = built;
	struct nodes *keep;

	if (!dd->cluster)
		return overlay_load(&dd->m, &nb->n, &nb->b, gen);	/* counts its failures */
	keep = malloc(sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	*keep = nb->n;		/* the cluster member takes it */
	memset(&nb->n, 0, sizeof(nb->n));
	cluster_set_nodes_file(dd->cluster, keep);
	*gen = 0;
	return 0;
}

static void nodes_loaded(struct daemon *dd, const char *path, const void *built, uint64_t gen)
{
	const struct nodes_built *nb = built;

	if (dd->cluster) {
		pr_info("read nodes file %s: loaded with the cluster's records", path);
		return;
	}
	pr_info("loaded nodes file %s: generation %llu, %zu nodes, self %s on %s", path,
		(unsigned long long)gen, nb->n.n, nb->n.self, nb->b.local.ifname);
}

static void nodes_built_free(void *built)
{
	struct nodes_built *nb = built;

	overlay_built_free(&nb->b);
	nodes_free(&nb->n);
}

static const struct reload_kind nodes_kind = {
	.file = W_NODES,
	.built_size = sizeof(struct nodes_built),
	.build = nodes_build_buf,
	.load = nodes_load_built,
	.loaded = nodes_loaded,
	.free = nodes_built_free,
	.note_failure = overlay_note_load_failure,
};

static void nodes_reload(struct daemon *dd, bool force)
{
	file_reload(dd, &nodes_kind, force);
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

/* ---- config ------------------------------------------------------------------- */

static bool cluster_line_changed(const struct config_cluster *a, const struct config_cluster *b)
{
	if (a->n_urls != b->n_urls || strcmp(a->prefix, b->prefix) || a->ttl != b->ttl ||
	    a->insecure != b->insecure || !same_str(a->ca, b->ca) || !same_str(a->cert, b->cert) ||
	    !same_str(a->key, b->key) || !a->loc.line != !b->loc.line)
		return true;
	for (size_t i = 0; i < a->n_urls; i++)
		if (strcmp(a->urls[i], b->urls[i]))
			return true;
	return false;
}

/* Apply a re-read config: new interfaces attach, a new policy path loads;
 * what needs a restart (pin dir, metrics address) is said so and kept. */
static void config_apply(struct daemon *dd, struct config *nc)
{
	enum iface_state *ok = calloc(nc->n_ifaces + 1, sizeof(*ok));

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
	if (!same_str(nc->tls_cert, dd->cfg.tls_cert) || !same_str(nc->tls_key, dd->cfg.tls_key) ||
	    !same_str(nc->auth, dd->cfg.auth))
		pr_warn("the listener's 'tls' or 'auth' changed: takes effect on restart (the files' contents are followed)");
	if (memcmp(nc->sizes, dd->cfg.sizes, sizeof(nc->sizes))) {
		if (maps_apply_sizes(&dd->m, nc->sizes))
			pr_warn("cannot apply the new sizes; the tables in use keep theirs");
		maps_unlock(&dd->m);
	}
	if (cluster_line_changed(&dd->cfg.cluster, &nc->cluster))
		pr_warn("the cluster line changed: takes effect on restart");
	if (dd->cluster)
		cluster_set_announce(dd->cluster, nc);	/* published again when it changed */
	/* Keep what needs a restart as it is running. */
	snprintf(nc->metrics, sizeof(nc->metrics), "%s", dd->cfg.metrics);
	free(nc->tls_cert);
	free(nc->tls_key);
	free(nc->auth);
	nc->tls_cert = xstrdup_or_null(dd->cfg.tls_cert);
	nc->tls_key = xstrdup_or_null(dd->cfg.tls_key);
	nc->auth = xstrdup_or_null(dd->cfg.auth);
	free(nc->pin_dir);
	nc->pin_dir = xstrdup_or_null(dd->cfg.pin_dir);

	config_free(&dd->cfg);
	free(dd->iface);
	dd->cfg = *nc;
	dd->iface = ok;
	memset(nc, 0, sizeof(*nc));

	/* A new path is read on the next check. */
	if (watch_set_path(&dd->watch, W_POLICY, dd->cfg.policy) ||
	    watch_set_path(&dd->watch, W_NODES, dd->cfg.nodes))
		pr_err("cannot follow the new policy or nodes path: out of memory");
	watch_refresh(&dd->watch);
}

/* Re-read the config when its content changed (or when forced). */
static void config_reload(struct daemon *dd, bool force)
{
	struct watched_file *w = &dd->files[W_CONFIG];
	struct diags d = { .file = w->path };
	struct config nc;
	char *buf;
	size_t len;
	int err;

	if (watch_read(w, force, &buf, &len) <= 0)
		return;
	err = config_parse_text(w->path, buf, len, &d, &nc);	/* what was hashed, not a second read */
	free(buf);
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

/* The listener's users file, when its content changed (or when forced): a
 * broken one is logged with its errors and the users in force stay.  At
 * start (first), a broken or unreadable one stops the daemon: -1. */
static int users_reload(struct daemon *dd, bool force, bool first)
{
	struct watched_file *w = &dd->files[W_USERS];
	struct diags d = { .file = w->path };
	char *buf;
	size_t len;
	int err;

	if (!w->path)
		return 0;
	err = watch_read(w, force, &buf, &len);
	if (err <= 0)
		return first && err < 0 ? -1 : 0;
	err = serve_users_reload(&dd->serve, buf, len, &d);
	explicit_bzero(buf, len);
	free(buf);
	if (err) {
		log_diags(&d);
		pr_err("users file %s has %zu error%s; %s", w->path, d.n, d.n == 1 ? "" : "s",
		       first ? "not starting" : "the users in force stay");
		diags_free(&d);
		return first ? -1 : 0;
	}
	diags_free(&d);
	if (!first)
		pr_info("loaded users file %s: %zu user%s", w->path, dd->serve.users.n,
			dd->serve.users.n == 1 ? "" : "s");
	return 0;
}

/* The listener's certificate or key changed (a renewal), or SIGHUP: the next
 * handshakes present the new pair; a broken or mismatched one is logged and
 * the pair in force stays (a renewal that writes the key after the
 * certificate is taken when the second file lands). */
static bool tls_files_changed(struct daemon *dd, bool force)
{
	bool changed = false;

	for (int i = W_CERT; i <= W_KEY; i++) {
		char *buf;
		size_t len;

		if (dd->files[i].path && watch_read(&dd->files[i], force, &buf, &len) > 0) {
			explicit_bzero(buf, len);
			free(buf);
			changed = true;
		}
	}
	return changed;
}

static void tls_reload(struct daemon *dd, bool force)
{
	if (!tls_files_changed(dd, force))
		return;
	if (serve_tls_reload(&dd->serve))
		pr_err("TLS certificate %s not reloaded; the certificate in force stays",
		       dd->files[W_CERT].path);
	else
		pr_info("loaded TLS certificate %s: new connections get it", dd->files[W_CERT].path);
}

/* A file event (after the quiet period) or SIGHUP (forced). */
static void reload_all(struct daemon *dd, bool force)
{
	watch_refresh(&dd->watch);
	config_reload(dd, force);
	users_reload(dd, force, false);
	tls_reload(dd, force);
	ifaces_ensure(dd, false);
	nodes_reload(dd, force);	/* first: the policy's `steer node` names need them */
	policy_reload(dd, force);
	extras_note(dd);
}

/* ---- the loop ------------------------------------------------------------------------ */

static int daemon_loop(struct daemon *dd)
{
	int http_fd = http_poll_fd(dd->http);
	uint64_t next_tick = watch_now_ms() + TICK_MS;

	if (http_fd < 0) {
		pr_err("the metrics server has no epoll fd");
		return -EINVAL;
	}
	for (;;) {
		struct pollfd p[5] = {
			{ .fd = dd->sig_fd, .events = POLLIN },
			{ .fd = dd->watch.fd, .events = POLLIN },
			{ .fd = http_fd, .events = POLLIN },
			{ .fd = dd->sampler ? sampler_epoll_fd(dd->sampler) : -1, .events = POLLIN },
			{ .fd = dd->cluster ? cluster_fd(dd->cluster) : -1, .events = POLLIN },
		};
		uint64_t now = watch_now_ms(), wait = next_tick > now ? next_tick - now : 0, mt;

		if (http_timeout_ms(dd->http, &mt) && mt < wait)
			wait = mt;
		/* The data plane does not wake the consumer for every sample. */
		if (dd->sampler && wait > SAMPLER_POLL_MS)
			wait = SAMPLER_POLL_MS;
		mt = watch_wait_ms(&dd->watch, now);
		if (mt < wait)
			wait = mt;
		if (dd->cluster) {
			long ct = cluster_timeout_ms(dd->cluster);

			if (ct >= 0 && (uint64_t)ct < wait)
				wait = ct;
		}
		if (poll(p, 5, (int)wait) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return -errno;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(dd->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					pr_info("SIGHUP: reloading config and policy");
					dd->watch.pending = false;
					reload_all(dd, true);
				} else {
					pr_info("%s: stopping; the data plane stays attached and keeps its state",
						strsignal(si.ssi_signo));
					return 0;
				}
			}
		}
		if (p[1].revents & POLLIN)
			watch_drain(&dd->watch);
		http_run(dd->http);
		if (dd->cluster)
			cluster_run(dd->cluster);
		if (dd->sampler) {
			int r = sampler_poll(dd->sampler, 0);

			if (r < 0) {
				pr_err("sFlow export: cannot drain samples: %s; stopped until the next reload",
				       strerror(-r));
				sflow_stop(dd);
			}
		}

		now = watch_now_ms();
		if (watch_due(&dd->watch, now))
			reload_all(dd, false);
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
			/* Expired DNS addresses go; above 80% full, the soonest to expire
			 * go down to 70%, so the data plane seldom meets a full table. */
			{
				uint64_t t0 = watch_now_ms();
				int r = dns_sweep(&dd->m, 80, 70);

				if (r > 0)
					pr_debug("dns: %d learned addresses removed in %llu ms", r,
						 (unsigned long long)(watch_now_ms() - t0));
			}
			http_sweep(dd->http);
			ifaces_ensure(dd, true);	/* interfaces that appear later */
		}
	}
}

/* ---- the command ------------------------------------------------------------------------ */

static void daemon_check_text(json_object *doc)
{
	json_object *cl = json_object_object_get(doc, "cluster");

	printf("%s: ok, %llu interface%s, policy %s, metrics on %s%s%s%s\n", jget_str(doc, "config"),
	       jget_u64(doc, "interfaces"), jget_u64(doc, "interfaces") == 1 ? "" : "s",
	       *jget_str(doc, "policy") ? jget_str(doc, "policy") : "(none)",
	       jget_str(doc, "metrics"),
	       json_object_get_boolean(json_object_object_get(doc, "tls")) ? " with TLS" : "",
	       *jget_str(doc, "auth") ? ", users from " : "", jget_str(doc, "auth"));
	if (cl)
		printf("cluster: etcd %s%s, records under %s/nodes/, lease ttl %llus; %s\n",
		       json_object_get_string(json_object_array_get_idx(json_object_object_get(cl, "etcd"), 0)),
		       json_object_array_length(json_object_object_get(cl, "etcd")) > 1 ? " and more" : "",
		       jget_str(cl, "prefix"), jget_u64(cl, "ttl"),
		       json_object_get_boolean(json_object_object_get(cl, "announce"))
			       ? "announcing this node" : "not announcing (watching only)");
}

/* `--check`: the config and the files it names, nothing touched. */
static int daemon_check(struct cli *g, struct config *cfg, const char *config_path)
{
	json_object *doc;
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
		cli_diags(&d);
		if (err)
			cli_err("policy '%s' has %zu error%s", cfg->policy, d.n, d.n == 1 ? "" : "s");
		diags_free(&d);
	}
	if (cfg->nodes && cfg->cluster.loc.line) {
		/* Its self is announce's or found at load: parsed here, resolved then. */
		struct diags nd = { .file = cfg->nodes };
		struct nodes n;
		int e = nodes_parse_file(cfg->nodes, &nd, &n);

		cli_diags(&nd);
		diags_free(&nd);
		if (!e)
			nodes_free(&n);
		err = err ? err : e;
	} else if (cfg->nodes) {
		struct ov_built b;
		struct nodes n;
		int e = overlay_build_file(cfg->nodes, NULL, &n, &b);

		if (!e) {
			overlay_built_free(&b);
			nodes_free(&n);
		}
		err = err ? err : e;
	}
	if (cfg->tls_cert) {	/* the certificate and key, as the start would use them */
		struct serve s;
		int e = serve_init(&s, cfg, NULL);

		serve_free(&s);
		err = err ? err : e;
	}
	if (cfg->auth) {
		struct diags ad = { .file = cfg->auth };
		struct auth_file a;
		int e = authfile_parse_file(cfg->auth, &ad, &a);

		cli_diags(&ad);
		if (e && ad.n)
			cli_err("users file '%s' has %zu error%s", cfg->auth, ad.n, ad.n == 1 ? "" : "s");
		if (!e)
			authfile_free(&a);
		diags_free(&ad);
		err = err ? err : e;
	}
	if (err)
		return 1;
	doc = json_object_new_object();
	json_object_object_add(doc, "config", jstr(config_path));
	json_object_object_add(doc, "ok", json_object_new_boolean(1));
	json_object_object_add(doc, "interfaces", ju64(cfg->n_ifaces));
	json_object_object_add(doc, "policy", jstr(cfg->policy));
	json_object_object_add(doc, "nodes", jstr(cfg->nodes));
	json_object_object_add(doc, "metrics", jstr(cfg->metrics));
	json_object_object_add(doc, "tls", json_object_new_boolean(cfg->tls_cert != NULL));
	json_object_object_add(doc, "auth", jstr(cfg->auth));
	if (cfg->cluster.loc.line) {
		json_object *cl = json_object_new_object(), *urls = json_object_new_array();

		for (size_t i = 0; i < cfg->cluster.n_urls; i++)
			json_object_array_add(urls, jstr(cfg->cluster.urls[i]));
		json_object_object_add(cl, "etcd", urls);
		json_object_object_add(cl, "prefix", jstr(cfg->cluster.prefix));
		json_object_object_add(cl, "ttl", ju64(cfg->cluster.ttl));
		json_object_object_add(cl, "announce", json_object_new_boolean(cfg->announce.loc.line));
		json_object_object_add(doc, "cluster", cl);
	}
	cli_print(g, doc, daemon_check_text);
	json_object_put(doc);
	return 0;
}

/* The config, read once: parsed, and its hash kept for the watcher. */
static int config_read(struct daemon *dd, struct diags *d)
{
	char *buf;
	size_t len;
	int err;

	err = diags_read_file(d, dd->config_path, CONFIG_MAX_FILE, &buf, &len);
	if (err)
		return err;
	err = config_parse_text(dd->config_path, buf, len, d, &dd->cfg);
	if (!err)
		watch_adopt(&dd->files[W_CONFIG], buf, len);
	free(buf);
	return err;
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
	return watch_init(&dd->watch, dd->files, W__COUNT);
}

int cmd_daemon(struct cli *g, int argc, char **argv)
{
	struct daemon dd = {
		.g = g, .sig_fd = -1, .stats_fd = -1, .watch.fd = -1,
		.files = {
			[W_CONFIG] = { "config", "config", CONFIG_MAX_FILE },
			[W_POLICY] = { "policy", "policy", POLICY_MAX_FILE },
			[W_NODES] = { "nodes file", "overlay", NODES_MAX_FILE },
			[W_USERS] = { "users file", "users", AUTHFILE_MAX_FILE },
			[W_CERT] = { "TLS certificate", "certificate", SERVE_MAX_PEM },
			[W_KEY] = { "TLS key", "certificate", SERVE_MAX_PEM },
		},
	};
	struct diags d = { 0 };
	const char *pin;
	bool check;
	int err = 0, rc = 1;

	check = cli_flag(g, "--check");
	dd.config_path = cli_opt(g, "--config");
	dd.claim.fd = -1;

	/* The config's directory is watched before the config is read, and what
	 * is parsed is what is hashed: an edit from now on is never lost. */
	if (!check) {
		err = daemon_setup_fds(&dd);
		if (!err)
			err = watch_set_path(&dd.watch, W_CONFIG, dd.config_path);
		if (err) {
			cli_err("cannot set up signals and inotify: %s", strerror(-err));
			goto out;
		}
		watch_refresh(&dd.watch);
	}
	err = config_read(&dd, &d);
	cli_diags(&d);
	if (err) {
		cli_err("config '%s' has %zu error%s; not starting", dd.config_path, d.n,
			d.n == 1 ? "" : "s");
		diags_free(&d);
		goto out;
	}
	diags_free(&d);
	if (check) {
		rc = daemon_check(g, &dd.cfg, dd.config_path);
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

	dd.iface = calloc(dd.cfg.n_ifaces + 1, sizeof(*dd.iface));
	if (!dd.iface || watch_set_path(&dd.watch, W_POLICY, dd.cfg.policy) ||
	    watch_set_path(&dd.watch, W_NODES, dd.cfg.nodes) ||
	    watch_set_path(&dd.watch, W_USERS, dd.cfg.auth) ||
	    watch_set_path(&dd.watch, W_CERT, dd.cfg.tls_cert) ||
	    watch_set_path(&dd.watch, W_KEY, dd.cfg.tls_key)) {
		pr_err("out of memory");
		goto out;
	}
	watch_refresh(&dd.watch);	/* every followed file's directory, before it is read */
	err = maps_prepare_pin_dir(pin);
	if (!err) {
		long holder;

		err = maps_daemon_claim(pin, &dd.claim, &holder);
		if (err == -EBUSY) {
			pr_err("another fringe daemon (pid %ld) holds pin dir %s; not starting",
			       holder, pin);
			goto out;
		}
	}
	if (err) {
		pr_err("cannot claim pin dir %s: %s", pin, strerror(-err));
		goto out;
	}
	/* The listener's certificate, key and users: a broken one stops the start.
	 * The pair is hashed (watched) before serve_init reads it, so a change
	 * from here on is seen as a renewal. */
	tls_files_changed(&dd, true);
	if (serve_init(&dd.serve, &dd.cfg, &dd.m) || users_reload(&dd, true, true))
		goto out;
	if (http_listen(&dd.http, (const struct sockaddr *)&dd.cfg.metrics_addr,
			dd.cfg.metrics_addrlen, dd.cfg.metrics))
		goto out;
	if (maps_open_sized(&dd.m, pin, MAPS_CREATE, dd.cfg.sizes))
		goto out;
	dd.maps_opened = true;

	/* BPF_ENABLE_STATS: the kernel times fringe's programs while this fd is open. */
	dd.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (dd.stats_fd < 0)
		pr_info("kernel BPF run-time statistics are off: %s (needs CAP_SYS_ADMIN); fringe_bpf_run_* are not exported",
			strerror(errno));
	else
		metrics_bpf_stats = true;

	ifaces_ensure(&dd, false);
	if (dd.cfg.cluster.loc.line && cluster_open(&dd.cluster, &dd.m, &dd.cfg)) {
		pr_err("cannot start the cluster member");
		goto out;
	}
	nodes_reload(&dd, true);
	policy_reload(&dd, true);
	extras_note(&dd);
	{
		struct http_opts o;

		serve_opts(&dd.serve, &o);
		if (http_start(dd.http, dd.serve.routes, dd.serve.n_routes, &dd.serve, &o))
			goto out;
	}
	serve_log_start(&dd.serve, &dd.cfg);
	rc = daemon_loop(&dd) ? 1 : 0;
	if (!rc && g->json) {	/* the logs went to stderr; the result of the run */
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "config", jstr(dd.config_path));
		json_object_object_add(doc, "stopped", json_object_new_boolean(1));
		cli_print(g, doc, NULL);
		json_object_put(doc);
	}
out:
	cluster_close(dd.cluster);
	sflow_stop(&dd);
	free(dd.sflow_failed);
	http_free(dd.http);
	serve_free(&dd.serve);
	if (dd.stats_fd >= 0)
		close(dd.stats_fd);
	metrics_bpf_stats = false;
	if (dd.sig_fd >= 0)
		close(dd.sig_fd);
	watch_close(&dd.watch);
	if (dd.maps_opened)
		maps_close(&dd.m);
	file_lock_release(&dd.claim);
	free(dd.iface);
	config_free(&dd.cfg);
	return rc;
}
