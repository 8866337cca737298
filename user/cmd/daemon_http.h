/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's HTTP server: libmicrohttpd on one listening socket, bounded, serving a table of routes. */
#ifndef FRINGE_DAEMON_HTTP_H
#define FRINGE_DAEMON_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct http_server;

/*
 * One path the server answers (GET and HEAD only; anything with a body gets
 * 405 and the connection closes).  The handler writes the body to `body` and
 * returns 0 (200 with `content_type`), -ENOENT (404), -EINVAL (400, with the
 * body as the reason) or another -errno (500, logged).  A route whose path
 * ends in '/' serves every path below it (a JSON API under /api/v1/, say),
 * except "/" itself, which is only the root; `url` is the full request path.
 * Every answer carries a Content-Security-Policy that allows nothing from
 * another origin (web.h), and Cache-Control: no-store.
 */
struct http_route {
	const char *path;
	const char *content_type;
	int (*handler)(void *ctx, const char *url, FILE *body);
};

/* What the server answers to a request's basic credentials. */
enum http_auth { HTTP_AUTH_OK, HTTP_AUTH_DENIED, HTTP_AUTH_BUSY };

/* How the server is set up beyond its routes (all optional). */
struct http_opts {
	/* TLS: GnuTLS's gnutls_certificate_retrieve_function2, called for every
	 * handshake (so a renewed certificate needs no restart); NULL: plain HTTP. */
	void *tls_cert_callback;
	/* Basic authentication on every path: called with the credentials of
	 * each request (NULL user: none given); DENIED answers 401, BUSY 429. */
	enum http_auth (*auth)(void *ctx, const char *user, const char *password);
	const char *realm;
};

/* Bind and listen first, before anything in the kernel changes, so a busy
 * port fails the start cleanly.  `name` is the address as written, for logs. */
int http_listen(struct http_server **out, const struct sockaddr *sa, socklen_t salen,
		const char *name);
/* Start answering: `routes` (and ctx) must outlive the server; opts may be NULL. */
int http_start(struct http_server *hs, const struct http_route *routes, size_t n_routes,
	       void *ctx, const struct http_opts *opts);
/* In a handler: the value of the request's query argument key, or NULL. */
const char *http_query(const char *key);
/* For the caller's poll(): an fd readable when the server has work... */
int http_poll_fd(const struct http_server *hs);
/* ...and the longest the caller may sleep before http_run(), in ms. */
bool http_timeout_ms(struct http_server *hs, uint64_t *ms);
/* Serve whatever is ready, without blocking. */
void http_run(struct http_server *hs);
/* Once a second: hang up on clients whose request headers are late. */
void http_sweep(struct http_server *hs);
void http_free(struct http_server *hs);

#endif
