// SPDX-License-Identifier: GPL-2.0
/* `fringe cluster status`: the etcd members and their health, the revision, this node's lease, the nodes seen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cluster.h"
#include "docs.h"
#include "overlay.h"
#include "overlay_doc.h"

static json_object *jtime_ago(uint64_t ns, uint64_t now_ns)
{
	return ns ? ju64(now_ns > ns ? (now_ns - ns) / 1000000000ULL : 0) : NULL;
}

json_object *cluster_doc(struct maps *m, const struct fringe_cluster_state *st)
{
	static const char *const types[FRINGE_CEV_MAX] = { "put", "delete", "rejected" };
	json_object *doc = json_object_new_object(), *eps = json_object_new_array();
	json_object *ev = json_object_new_object(), *ov, *nodes = json_object_new_array(), *v;
	struct timespec ts;
	uint64_t now;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	json_object_object_add(doc, "daemon_running", json_object_new_boolean(cluster_state_live(st)));
	json_object_object_add(doc, "up", json_object_new_boolean(st->up && cluster_state_live(st)));
	json_object_object_add(doc, "name", jstr(st->name));
	json_object_object_add(doc, "prefix", jstr(st->prefix));
	json_object_object_add(doc, "revision", ju64(st->revision));
	json_object_object_add(doc, "last_sync", st->last_sync_ns ? ju64(st->last_sync_ns / 1000000000ULL) : NULL);
	json_object_object_add(doc, "last_sync_age_seconds", jtime_ago(st->last_sync_ns, now));
	if (st->lease_id) {
		json_object *l = json_object_new_object();

		snprintf(buf, sizeof(buf), "%llx", (unsigned long long)st->lease_id);
		json_object_object_add(l, "id", jstr(buf));
		json_object_object_add(l, "ttl", ju64(st->lease_ttl));
		json_object_object_add(l, "renewed_age_seconds", jtime_ago(st->lease_renewed_ns, now));
		json_object_object_add(doc, "lease", l);
	} else {
		json_object_object_add(doc, "lease", NULL);
	}
	json_object_object_add(doc, "announced", json_object_new_boolean(st->announced));
	for (__u32 i = 0; i < st->n_endpoints && i < FRINGE_CLUSTER_MAX_ENDPOINTS; i++) {
		const struct fringe_cluster_endpoint *e = &st->ep[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "url", jstr(e->url));
		json_object_object_add(o, "healthy", json_object_new_boolean(e->healthy));
		json_object_object_add(o, "current", json_object_new_boolean(e->current));
		json_object_object_add(o, "last_ok_age_seconds", jtime_ago(e->last_ok_ns, now));
		json_object_object_add(o, "last_error_age_seconds", jtime_ago(e->last_err_ns, now));
		json_object_object_add(o, "error", e->error[0] ? jstr(e->error) : NULL);
		json_object_array_add(eps, o);
	}
	json_object_object_add(doc, "endpoints", eps);
	for (int i = 0; i < FRINGE_CEV_MAX; i++)
		json_object_object_add(ev, types[i], ju64(st->events[i]));
	json_object_object_add(doc, "events", ev);
	json_object_object_add(doc, "records", ju64(st->n_records));
	json_object_object_add(doc, "records_rejected", ju64(st->n_rejected));
	ov = overlay_show_doc(m);
	json_object_object_add(doc, "generation", ju64(jget_u64(ov, "generation")));
	v = json_object_object_get(ov, "nodes");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *n = json_object_array_get_idx(v, i), *o = json_object_new_object();
		static const char *const keep[] = { "name", "source", "age_seconds", "underlay", "prefixes",
						    "self", NULL };

		for (int k = 0; keep[k]; k++)
			json_object_object_add(o, keep[k], json_object_get(json_object_object_get(n, keep[k])));
		json_object_array_add(nodes, o);
	}
	json_object_object_add(doc, "nodes", nodes);
	json_object_put(ov);
	return doc;
}

static const char *ago(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v = json_object_object_get(o, key);

	if (!v)
		return "never";
	cli_duration(json_object_get_uint64(v), buf, len);
	strncat(buf, " ago", len - strlen(buf) - 1);
	return buf;
}

static void cluster_text(json_object *doc)
{
	json_object *eps = json_object_object_get(doc, "endpoints");
	json_object *nodes = json_object_object_get(doc, "nodes");
	json_object *lease = json_object_object_get(doc, "lease");
	json_object *ev = json_object_object_get(doc, "events");
	char a[32], b[32];

	if (!json_object_get_boolean(json_object_object_get(doc, "daemon_running")))
		printf("cluster: DOWN: no daemon keeps it now; the table in force stays (last sync %s)\n",
		       ago(doc, "last_sync_age_seconds", a, sizeof(a)));
	else if (json_object_get_boolean(json_object_object_get(doc, "up")))
		printf("cluster: up, etcd revision %llu, in sync %s\n", jget_u64(doc, "revision"),
		       ago(doc, "last_sync_age_seconds", a, sizeof(a)));
	else
		printf("cluster: DOWN: etcd out of reach or without quorum; the table in force stays (last sync %s)\n",
		       ago(doc, "last_sync_age_seconds", a, sizeof(a)));
	if (lease)
		printf("this node: %s, %s under lease %s (ttl %llus, renewed %s); records under %s/nodes/\n",
		       jget_str(doc, "name"),
		       json_object_get_boolean(json_object_object_get(doc, "announced")) ? "announced"
											 : "not announced",
		       jget_str(lease, "id"), jget_u64(lease, "ttl"),
		       ago(lease, "renewed_age_seconds", b, sizeof(b)), jget_str(doc, "prefix"));
	else
		printf("this node: %s, not announced (no lease); records under %s/nodes/\n",
		       *jget_str(doc, "name") ? jget_str(doc, "name") : "(from the nodes file)",
		       jget_str(doc, "prefix"));
	printf("endpoints:\n");
	for (size_t i = 0; i < json_object_array_length(eps); i++) {
		json_object *e = json_object_array_get_idx(eps, i);
		json_object *err = json_object_object_get(e, "error");

		printf("  %-32s %-9s %-7s last ok %s", jget_str(e, "url"),
		       json_object_get_boolean(json_object_object_get(e, "healthy")) ? "healthy" :
		       json_object_object_get(e, "last_error_age_seconds") ? "unhealthy" : "-",
		       json_object_get_boolean(json_object_object_get(e, "current")) ? "current" : "",
		       ago(e, "last_ok_age_seconds", a, sizeof(a)));
		if (err)
			printf(", last error %s: %s", ago(e, "last_error_age_seconds", b, sizeof(b)),
			       json_object_get_string(err));
		printf("\n");
	}
	printf("events: %llu put, %llu delete, %llu rejected; %llu records now, %llu of them rejected\n",
	       jget_u64(ev, "put"), jget_u64(ev, "delete"), jget_u64(ev, "rejected"),
	       jget_u64(doc, "records"), jget_u64(doc, "records_rejected"));
	printf("nodes (%zu, overlay generation %llu):\n", json_object_array_length(nodes),
	       jget_u64(doc, "generation"));
	printf("  %-16s %-6s %8s %-15s %s\n", "NODE", "SOURCE", "AGE", "UNDERLAY", "PREFIXES");
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);
		json_object *p = json_object_object_get(n, "prefixes");

		cli_duration(jget_u64(n, "age_seconds"), a, sizeof(a));
		printf("  %-16s %-6s %8s %-15s", jget_str(n, "name"), jget_str(n, "source"), a,
		       jget_str(n, "underlay"));
		for (size_t k = 0; k < json_object_array_length(p); k++)
			printf("%s%s", k ? "," : " ", json_object_get_string(json_object_array_get_idx(p, k)));
		printf("%s\n", json_object_get_boolean(json_object_object_get(n, "self")) ? "  (this node)" : "");
	}
}

int cmd_cluster_status(struct cli *g, int argc, char **argv)
{
	struct fringe_cluster_state *st;
	json_object *doc;
	struct maps m;

	if (cli_open(g, &m, 0))
		return 1;
	st = cluster_state_map(g->pin_dir, false);
	if (!st) {
		if (errno == ENOENT)
			cli_err("no cluster member has run on this pin dir (a 'cluster etcd ...' line in the daemon's config starts one)");
		else
			cli_err("cannot read the cluster state in %s: %s", g->pin_dir, strerror(errno));
		maps_close(&m);
		return 1;
	}
	doc = cluster_doc(&m, st);
	cli_print(g, doc, cluster_text);
	json_object_put(doc);
	cluster_state_unmap(st);
	maps_close(&m);
	return 0;
}
