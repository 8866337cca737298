// SPDX-License-Identifier: GPL-2.0
/* What the daemon's listener serves, and to whom: /metrics, the dashboard, the JSON API; TLS and users. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "daemon_serve.h"
#include "daemon_watch.h"
#include "cluster.h"
#include "docs.h"
#include "file.h"
#include "log.h"
#include "metrics.h"
#include "web.h"

/* ---- the JSON API ------------------------------------------------------------------- */

struct api_doc {
	const char *name;
	const char *command;	/* the command that prints the same document */
	bool cluster;		/* only with a cluster member */
	json_object *(*build)(struct maps *m, const char *(*query)(const char *), FILE *why);
};

static json_object *api_stats(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	return stats_doc(m);
}

static json_object *api_policy(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	return policy_show_doc(m);
}

static json_object *api_staged(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	int err = 0;

	return staged_show_doc(m, &err);
}

static json_object *api_diff(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	int err = 0;

	return staged_diff_doc(m, &err);
}

static json_object *api_nodes(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	return overlay_show_doc(m);
}

static json_object *api_flows(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	const char *v = q ? q("top") : NULL;
	unsigned long top = API_FLOWS_TOP_DEFAULT;
	int err = 0;

	if (v) {
		char *end;

		errno = 0;
		top = strtoul(v, &end, 10);
		if (!*v || *end || errno || !top || top > API_FLOWS_TOP_MAX || *v == '-') {
			fprintf(why, "400 bad top=%.32s: a number of flows, 1-%d\n", v, API_FLOWS_TOP_MAX);
			return NULL;
		}
	}
	return flows_doc(m, top, &err);
}

static json_object *api_cluster(struct maps *m, const char *(*q)(const char *), FILE *why)
{
	struct fringe_cluster_state *st = cluster_state_map(m->pin_dir, false);
	json_object *doc;

	if (!st)	/* the member has not written its state yet */
		return json_object_new_object();
	doc = cluster_doc(m, st);
	cluster_state_unmap(st);
	return doc;
}

static const struct api_doc docs[] = {
	{ "stats", "fringe stats --json", false, api_stats },
	{ "policy", "fringe policy show --json", false, api_policy },
	{ "staged", "fringe policy show --staged --json", false, api_staged },
	{ "diff", "fringe policy diff --json", false, api_diff },
	{ "nodes", "fringe nodes show --json", false, api_nodes },
	{ "flows", "fringe flows --top N --json", false, api_flows },
	{ "cluster", "fringe cluster status --json", true, api_cluster },
};

static json_object *api_index(const struct serve *s)
{
	json_object *doc = json_object_new_object(), *eps = json_object_new_object();
	json_object *cmds = json_object_new_object();
	char path[64];

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (docs[i].cluster && !s->cluster_on)
			continue;
		snprintf(path, sizeof(path), API_PREFIX "%s", docs[i].name);
		json_object_object_add(eps, docs[i].name, json_object_new_string(path));
		json_object_object_add(cmds, docs[i].name, json_object_new_string(docs[i].command));
	}
	json_object_object_add(doc, "version", json_object_new_string(FRINGE_VERSION));
	json_object_object_add(doc, "endpoints", eps);
	json_object_object_add(doc, "commands", cmds);
	return doc;
}

int api_serve(const struct serve *s, const char *url, const char *(*query)(const char *key),
	      FILE *body)
{
	struct maps *m = s->m;
	const char *name = url + strlen(API_PREFIX);
	json_object *doc = NULL;

	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)))
		return -ENOENT;
	if (!*name) {
		doc = api_index(s);
	} else {
		for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
			if (!strcmp(name, docs[i].name) && (!docs[i].cluster || s->cluster_on)) {
				long at = ftell(body);

				doc = docs[i].build(m, query, body);
				if (!doc)
					return ftell(body) != at ? -EINVAL : -ENOMEM;
				break;
			}
		if (!doc)
			return -ENOENT;
	}
	fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	      body);
	fputc('\n', body);
	json_object_put(doc);
	return ferror(body) ? -EIO : 0;
}

/* ---- routes ------------------------------------------------------------------------- */

static int serve_metrics(void *ctx, const char *url, FILE *body)
{
	struct serve *s = ctx;

	return metrics_render(s->m, body);
}

static int serve_api(void *ctx, const char *url, FILE *body)
{
	struct serve *s = ctx;

	return api_serve(s, url, http_query, body);
}

static int serve_file(void *ctx, const char *url, FILE *body)
{
	const char *type;
	const struct web_file *f = web_file_find(url, &type);

	if (!f)
		return -ENOENT;
	return fwrite(f->data, 1, f->len, body) == f->len ? 0 : -EIO;
}

static void routes_build(struct serve *s)
{
	s->routes[s->n_routes++] = (struct http_route){ "/metrics", "text/plain; version=0.0.4; charset=utf-8",
							serve_metrics };
	s->routes[s->n_routes++] = (struct http_route){ API_PREFIX, "application/json", serve_api };
	for (const struct web_file *f = web_files; f->path && s->n_routes < SERVE_MAX_ROUTES; f++) {
		const char *type;

		web_file_find(f->path, &type);
		s->routes[s->n_routes++] = (struct http_route){ f->path, type, serve_file };
	}
}

/* ---- TLS and users ------------------------------------------------------------------ */

static void file_error(const char *path, const char *what, int err)
{
	char why[64];

	pr_err("cannot read %s %s: %s", what, path, file_strerror(err, SERVE_MAX_PEM, why, sizeof(why)));
}

/* A certificate chain and its key, parsed for the handshakes. */
struct serve_tls {
	gnutls_pcert_st pcert[SERVE_MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
};

/* What the handshakes present now, and the pair before it: a handshake that
 * began before a reload may still point at it (the daemon has one thread, so
 * two reloads cannot both fall inside one handshake's few calls). */
static struct serve_tls *tls_live, *tls_prev;

static void tls_free(struct serve_tls *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < t->n; i++)
		gnutls_pcert_deinit(&t->pcert[i]);
	if (t->key)
		gnutls_privkey_deinit(t->key);
	free(t);
}

/* gnutls_certificate_retrieve_function2: every handshake gets the live pair. */
static int tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
			const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	if (!tls_live)
		return -1;
	*pcert = tls_live->pcert;
	*pcert_length = tls_live->n;
	*pkey = tls_live->key;
	return 0;
}

/*
 * Read and parse the pair.  GnuTLS first checks it as a server credential
 * would (so a key that does not match its certificate is a clear error), then
 * it is imported for tls_retrieve().  Errors are logged; 0 or -errno.
 */
static int tls_load(const char *cert_path, const char *key_path, struct serve_tls **out)
{
	gnutls_certificate_credentials_t cred = NULL;
	struct serve_tls *t = calloc(1, sizeof(*t));
	char *cert = NULL, *key = NULL;
	gnutls_datum_t c, k;
	size_t n;
	int err, r = GNUTLS_E_MEMORY_ERROR;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	err = file_read(cert_path, SERVE_MAX_PEM, &cert, &n);
	if (err) {
		file_error(cert_path, "TLS certificate", err);
		goto out;
	}
	c = (gnutls_datum_t){ (unsigned char *)cert, n };
	err = file_read(key_path, SERVE_MAX_PEM, &key, &n);
	if (err) {
		file_error(key_path, "TLS key", err);
		goto out;
	}
	k = (gnutls_datum_t){ (unsigned char *)key, n };
	err = -EINVAL;
	if (gnutls_certificate_allocate_credentials(&cred)) {
		err = -ENOMEM;
		goto out;
	}
	r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		pr_err("cannot use TLS certificate %s with key %s: %s", cert_path, key_path,
		       gnutls_strerror(r));
		goto out;
	}
	t->n = SERVE_MAX_CHAIN;
	r = gnutls_pcert_list_import_x509_raw(t->pcert, &t->n, &c, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0) {
		t->n = 0;
		pr_err("cannot use TLS certificate %s: %s (at most %d certificates in the chain)",
		       cert_path, gnutls_strerror(r), SERVE_MAX_CHAIN);
		goto out;
	}
	if (gnutls_privkey_init(&t->key) ||
	    (r = gnutls_privkey_import_x509_raw(t->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		pr_err("cannot use TLS key %s: %s", key_path, gnutls_strerror(r));
		goto out;
	}
	*out = t;
	t = NULL;
	err = 0;
out:
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	tls_free(t);
	return err;
}

int serve_tls_reload(struct serve *s)
{
	struct serve_tls *t;
	int err;

	if (!s->cert_path)
		return 0;
	err = tls_load(s->cert_path, s->key_path, &t);
	if (err)
		return err;
	tls_free(tls_prev);
	tls_prev = tls_live;
	tls_live = t;
	return 0;
}

int serve_init(struct serve *s, const struct config *cfg, struct maps *m)
{
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->m = m;
	routes_build(s);
	if (cfg->tls_cert) {
		s->cert_path = strdup(cfg->tls_cert);
		s->key_path = strdup(cfg->tls_key);
		err = s->cert_path && s->key_path ? serve_tls_reload(s) : -ENOMEM;
	}
	s->auth_on = cfg->auth != NULL;	/* its users come through serve_users_reload() */
	s->cluster_on = cfg->cluster.n_urls > 0;
	if (err)
		serve_free(s);
	return err;
}

int serve_users_reload(struct serve *s, const char *text, size_t len, struct diags *d)
{
	struct auth_file nu;
	int err = authfile_parse(text, len, d, &nu);

	if (err)
		return err;
	authfile_free(&s->users);
	s->users = nu;
	return 0;
}

static enum http_auth serve_auth(void *ctx, const char *user, const char *password)
{
	struct serve *s = ctx;

	if (!user)
		return HTTP_AUTH_DENIED;
	switch (authfile_check(&s->users, user, password, watch_now_ms())) {
	case AUTH_OK:
		return HTTP_AUTH_OK;
	case AUTH_BUSY:
		return HTTP_AUTH_BUSY;
	default:
		return HTTP_AUTH_DENIED;
	}
}

void serve_opts(struct serve *s, struct http_opts *o)
{
	*o = (struct http_opts){
		.tls_cert_callback = s->cert_path ? (void *)tls_retrieve : NULL,
		.auth = s->auth_on ? serve_auth : NULL,
		.realm = "fringe",
	};
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

void serve_log_start(const struct serve *s, const struct config *cfg)
{
	const char *scheme = s->cert_path ? "https" : "http";

	pr_info("serving on %s://%s/: the dashboard, /metrics and the JSON API under %s%s%s", scheme,
		cfg->metrics, API_PREFIX, s->auth_on ? "; basic authentication against " : "",
		s->auth_on ? cfg->auth : "");
	if (s->auth_on && !s->users.n)
		pr_warn("the users file %s lists no user: every request is refused (401)", cfg->auth);
	if (!is_loopback(&cfg->metrics_addr) && !s->auth_on)
		pr_warn("the listener on %s is reachable beyond this host and has no 'auth FILE': anyone who reaches it reads the site's traffic%s",
			cfg->metrics, s->cert_path ? "" : " (and in clear text: add 'tls CERT KEY')");
}

void serve_free(struct serve *s)
{
	authfile_free(&s->users);
	free(s->cert_path);
	free(s->key_path);
	s->cert_path = s->key_path = NULL;
	tls_free(tls_live);
	tls_free(tls_prev);
	tls_live = tls_prev = NULL;
}
