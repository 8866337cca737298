/* SPDX-License-Identifier: GPL-2.0 */
/* What the daemon's listener serves, and to whom: /metrics, the dashboard, the JSON API; TLS and users. */
#ifndef FRINGE_DAEMON_SERVE_H
#define FRINGE_DAEMON_SERVE_H

#include <stdbool.h>
#include <stdio.h>

#include "authfile.h"
#include "config.h"
#include "daemon_http.h"
#include "maps.h"

#define API_PREFIX		"/api/v1/"
#define API_FLOWS_TOP_DEFAULT	10
#define API_FLOWS_TOP_MAX	1000
#define SERVE_MAX_PEM		(1u << 20)
#define SERVE_MAX_ROUTES	24
#define SERVE_MAX_CHAIN		8	/* certificates in a chain */

struct serve {
	struct maps *m;
	bool auth_on;			/* `auth FILE` configured */
	bool cluster_on;		/* `cluster etcd ...` configured: /api/v1/cluster */
	struct auth_file users;		/* its users (none while it cannot be read: all refused) */
	char *cert_path, *key_path;	/* `tls CERT KEY`; NULL: plain HTTP */
	struct http_route routes[SERVE_MAX_ROUTES];
	size_t n_routes;
};

/*
 * Read the certificate and key that the `metrics` line names (checked to
 * belong together) and build the routes; errors are logged.  0 or -errno.
 * With `auth FILE`, every request is refused until serve_users_reload().
 * One struct serve per process: the handshakes read its pair.
 */
int serve_init(struct serve *s, const struct config *cfg, struct maps *m);
/* Read the certificate and key again (a renewal): the next handshakes
 * present them; on any error (logged) the pair in force stays.  0 or -errno. */
int serve_tls_reload(struct serve *s);
/* For http_start(); ctx is s. */
void serve_opts(struct serve *s, struct http_opts *o);
/* A new users file's content: replaces the users when it parses (errors to d). */
int serve_users_reload(struct serve *s, const char *text, size_t len, struct diags *d);
void serve_free(struct serve *s);
/* Log what the listener does, and warn when it is open beyond loopback without auth. */
void serve_log_start(const struct serve *s, const struct config *cfg);

/*
 * GET API_PREFIX NAME: the document of the matching `--json` command (stats,
 * policy, nodes, flows; cluster when the daemon runs a cluster member), built
 * by the same code; API_PREFIX alone lists them.  `query(key)` gives the
 * flows' ?top=N.  0 with the JSON in body, -ENOENT for an unknown name,
 * -EINVAL for a bad argument (the reason in body).
 */
int api_serve(const struct serve *s, const char *url, const char *(*query)(const char *key),
	      FILE *body);

#endif
