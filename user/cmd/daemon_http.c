// SPDX-License-Identifier: GPL-2.0
/* The daemon's HTTP server: libmicrohttpd driven from the daemon's poll loop, bounded against abuse. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon_http.h"
#include "log.h"
#include "web.h"

/* TLS 1.2 and 1.3 only, GnuTLS's sound defaults otherwise. */
#define HTTP_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* The server's bounds (docs/deploy.md). */
/* Beyond HTTP_MAX_CONNECTIONS the server stops accepting: new connections
 * wait in the listen queue (HTTP_BACKLOG), and past that the kernel drops
 * their handshakes, which clients retry on TCP's backoff. */
#define HTTP_MAX_CONNECTIONS	128
#define HTTP_MAX_PER_IP		32	/* one client cannot take every slot */
#define HTTP_IDLE_TIMEOUT_S	10	/* an idle connection is closed */
#define HTTP_HEADER_DEADLINE_S	10	/* a request's headers must all arrive within this */
#define HTTP_MEMORY_LIMIT	(16 * 1024)	/* per connection; bounds request line and headers */
#define HTTP_BACKLOG		128

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* A connection, for the header deadline. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	bool busy;		/* a request is being answered */
	bool cut;		/* shut down for missing the deadline */
	struct timespec since;	/* accepted, or the last request completed */
};

struct http_server {
	char *name;		/* the address as configured */
	int family;
	int listen_fd;		/* until the server owns it */
	struct MHD_Daemon *mhd;
	const struct http_route *routes;
	size_t n_routes;
	void *ctx;
	char *not_found;	/* the 404 body: which paths there are */
	struct MHD_Response *failed;	/* the 500, made with the server: sent without memory */
	struct http_opts opts;
	struct http_conn conns;	/* list head */
	unsigned int n_conns;
	/* Every connection's record, allocated with the server: a connection
	 * never goes untracked (and past the header deadline) for want of memory. */
	struct http_conn pool[HTTP_MAX_CONNECTIONS];
	struct http_conn *free_conns;	/* chained through next */
};

/* The connection whose request a handler is answering (one thread). */
static struct MHD_Connection *current;

const char *http_query(const char *key)
{
	return current ? MHD_lookup_connection_value(current, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

static uint64_t ts_ms(const struct timespec *ts)
{
	return ts->tv_sec * 1000ULL + ts->tv_nsec / 1000000;
}

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *hs = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		hc = hs->free_conns;
		if (!hc) {	/* more than the server's limit: cannot be, but never untracked */
			if (ci)
				shutdown(ci->connect_fd, SHUT_RDWR);
			return;
		}
		hs->free_conns = hc->next;
		memset(hc, 0, sizeof(*hc));
		hc->fd = ci ? ci->connect_fd : -1;
		clock_gettime(CLOCK_MONOTONIC, &hc->since);
		hc->next = hs->conns.next;
		hc->prev = &hs->conns;
		hs->conns.next->prev = hc;
		hs->conns.next = hc;
		hs->n_conns++;
		*socket_context = hc;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && hc) {
		hc->prev->next = hc->next;
		hc->next->prev = hc->prev;
		hs->n_conns--;
		hc->next = hs->free_conns;
		hs->free_conns = hc;
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

void http_sweep(struct http_server *hs)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts_ms(&ts);
	for (struct http_conn *hc = hs->conns.next; hc != &hs->conns; hc = hc->next)
		if (!hc->busy && !hc->cut && hc->fd >= 0 &&
		    now - ts_ms(&hc->since) > HTTP_HEADER_DEADLINE_S * 1000ULL) {
			/* libmicrohttpd sees the socket end and closes the connection itself. */
			shutdown(hc->fd, SHUT_RDWR);
			hc->cut = true;
		}
}

static const char *realm = "fringe";

/* The headers every answer carries; false when one could not be added. */
static bool http_headers(struct MHD_Response *r, unsigned int status, const char *type)
{
	bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
		  /* The page and the API are read-only and same-origin (web.h). */
		  MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP) == MHD_YES &&
		  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
		  MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
		  MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
		  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;

	if (ok && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES;
	if (ok && status == MHD_HTTP_TOO_MANY_REQUESTS)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1") == MHD_YES;
	return ok;
}

static const char failed_text[] = "500 cannot answer this request; see the daemon's log\n";

/* The 500 made with the server: an answer that fails for want of memory is
 * still answered, never cut nor sent without its headers. */
static enum MHD_Result http_failed(struct http_server *hs, struct MHD_Connection *c)
{
	return MHD_queue_response(c, MHD_HTTP_INTERNAL_SERVER_ERROR, hs->failed);
}

static enum MHD_Result http_reply(struct http_server *hs, struct MHD_Connection *c,
				  unsigned int status, const char *type, char *body, size_t len,
				  bool must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, must_free ? MHD_RESPMEM_MUST_FREE
								 : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(body);
		return http_failed(hs, c);
	}
	if (!http_headers(r, status, type)) {
		MHD_destroy_response(r);
		return http_failed(hs, c);
	}
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(c, realm, r);
	else
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * A handler's answer, written through stdio into a growing buffer. Not
 * open_memstream: when its buffer cannot grow, glibc drops the bytes without
 * setting the stream's error, and a cut answer would go out as a 200.
 */
struct body {
	char *s;
	size_t len, cap;
	int err;		/* a write failed: -errno */
};

static ssize_t body_write(void *cookie, const char *buf, size_t n)
{
	struct body *b = cookie;

	if (b->err)
		return 0;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		char *s;

		if (n > SIZE_MAX / 4 - b->len) {
			b->err = -ENOMEM;
			return 0;
		}
		while (cap - b->len < n)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->err = -ENOMEM;
			return 0;	/* stdio marks the stream in error */
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, buf, n);
	b->len += n;
	return n;
}

/* Only to tell where the end is (ftell): an answer is never rewritten. */
static int body_seek(void *cookie, off64_t *off, int whence)
{
	struct body *b = cookie;

	if (whence == SEEK_CUR || whence == SEEK_END ? *off != 0 : *off != (off64_t)b->len) {
		errno = EINVAL;
		return -1;
	}
	*off = b->len;
	return 0;
}

static const cookie_io_functions_t body_io = { .write = body_write, .seek = body_seek };

/* The route serving url: an exact path, or a subtree for a path ending in '/'. */
static const struct http_route *route_of(const struct http_server *hs, const char *url)
{
	for (size_t i = 0; i < hs->n_routes; i++) {
		const char *p = hs->routes[i].path;
		size_t n = strlen(p);

		if (!strcmp(url, p) || (n > 1 && p[n - 1] == '/' && !strncmp(url, p, n)))
			return &hs->routes[i];
	}
	return NULL;
}

static enum MHD_Result http_request(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static char not_allowed[] = "405 method not allowed; use GET or HEAD\n";
	static char unauthorized[] = "401 credentials needed\n";
	static char busy[] = "429 too many password checks at once; retry in a second\n";
	static int seen, answered;	/* markers in *req_cls */
	struct http_server *hs = cls;
	struct http_conn *hc = conn_of(c);
	const struct http_route *rt;
	const char *cl, *te;
	struct body b = {};
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
		/* Credentials first, on every path and method: nothing is told
		 * to a client without them, not even which paths exist. */
		if (hs->opts.auth) {
			char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
			enum http_auth a = hs->opts.auth(hs->ctx, user, user ? (pass ? pass : "") : NULL);

			if (pass)
				explicit_bzero(pass, strlen(pass));
			MHD_free(user);
			MHD_free(pass);
			if (a != HTTP_AUTH_OK) {
				*req_cls = &answered;
				return a == HTTP_AUTH_BUSY
					       ? http_reply(hs, c, MHD_HTTP_TOO_MANY_REQUESTS, TEXT_PLAIN, busy,
							    sizeof(busy) - 1, false)
					       : http_reply(hs, c, MHD_HTTP_UNAUTHORIZED, TEXT_PLAIN,
							    unauthorized, sizeof(unauthorized) - 1, false);
			}
		}
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
			return http_reply(hs, c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_PLAIN, not_allowed,
					  sizeof(not_allowed) - 1, false);
	}
	*req_cls = &answered;
	rt = route_of(hs, url);
	if (!rt)
		goto not_found;
	f = fopencookie(&b, "w", body_io);
	if (!f) {
		pr_err("cannot answer %s: %s", url, strerror(errno));
		return http_failed(hs, c);
	}
	current = c;
	err = rt->handler(hs->ctx, url, f);
	current = NULL;
	if (fclose(f) && !err)
		err = b.err ? b.err : -EIO;
	if (b.err && !err)	/* a write failed: the body is cut short */
		err = b.err;
	if (err == -ENOENT) {
		free(b.s);
		goto not_found;
	}
	if (err == -EINVAL)	/* a bad request: the body says why */
		return http_reply(hs, c, MHD_HTTP_BAD_REQUEST, TEXT_PLAIN, b.s, b.len, !!b.s);
	if (err) {
		pr_err("cannot answer %s: %s", url, strerror(-err));
		free(b.s);
		return http_failed(hs, c);
	}
	return http_reply(hs, c, MHD_HTTP_OK, rt->content_type, b.s, b.len, !!b.s);
not_found:
	return http_reply(hs, c, MHD_HTTP_NOT_FOUND, TEXT_PLAIN, hs->not_found, strlen(hs->not_found),
			  false);
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

int http_listen(struct http_server **out, const struct sockaddr *sa, socklen_t salen,
		const char *name)
{
	struct http_server *hs = calloc(1, sizeof(*hs));
	int one = 1, fd = -1, err;

	*out = NULL;
	if (!hs || !(hs->name = strdup(name))) {
		free(hs);
		pr_err("cannot listen on %s: out of memory", name);
		return -ENOMEM;
	}
	hs->conns.next = hs->conns.prev = &hs->conns;
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
		hs->pool[i].next = hs->free_conns;
		hs->free_conns = &hs->pool[i];
	}
	hs->listen_fd = -1;
	hs->family = sa->sa_family;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, salen) || listen(fd, HTTP_BACKLOG))
		goto fail;
	hs->listen_fd = fd;
	*out = hs;
	return 0;
fail:
	err = -errno;
	pr_err("cannot listen on %s for metrics: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(hs->name);
	free(hs);
	return err;
}

int http_start(struct http_server *hs, const struct http_route *routes, size_t n_routes, void *ctx,
	       const struct http_opts *opts)
{
	bool tls = opts && opts->tls_cert_callback;
	struct MHD_OptionItem tls_opts[4] = { { MHD_OPTION_END, 0, NULL } };	/* the rest: END too */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "404 page not found; served here:");
	for (size_t i = 0; i < n_routes; i++)
		fprintf(f, " %s", routes[i].path);
	fprintf(f, "\n");
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	hs->not_found = text;
	hs->failed = MHD_create_response_from_buffer(sizeof(failed_text) - 1, (void *)failed_text,
						     MHD_RESPMEM_PERSISTENT);
	if (!hs->failed || !http_headers(hs->failed, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_PLAIN))
		return -ENOMEM;
	hs->routes = routes;
	hs->n_routes = n_routes;
	hs->ctx = ctx;
	if (opts)
		hs->opts = *opts;
	if (hs->opts.realm)
		realm = hs->opts.realm;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		pr_err("cannot serve TLS on %s: this libmicrohttpd was built without it", hs->name);
		return -EOPNOTSUPP;
	}
	if (tls) {
		tls_opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
						       opts->tls_cert_callback };
		tls_opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						       (void *)HTTP_TLS_PRIORITIES };
	}
	hs->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				   (hs->family == AF_INET6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0),
				   0, NULL, NULL, http_request, hs,
				   MHD_OPTION_LISTEN_SOCKET, hs->listen_fd,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
				   MHD_OPTION_STRICT_FOR_CLIENT, 1,
				   MHD_OPTION_NOTIFY_CONNECTION, http_notify, hs,
				   MHD_OPTION_NOTIFY_COMPLETED, http_completed, hs,
				   MHD_OPTION_EXTERNAL_LOGGER, http_log, hs,
				   MHD_OPTION_ARRAY, tls_opts,
				   MHD_OPTION_END);
	if (!hs->mhd) {
		pr_err("cannot start the HTTP server on %s", hs->name);
		return -EINVAL;
	}
	hs->listen_fd = -1;	/* the server owns it now */
	return 0;
}

int http_poll_fd(const struct http_server *hs)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(hs->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return di ? di->epoll_fd : -1;
}

bool http_timeout_ms(struct http_server *hs, uint64_t *ms)
{
	MHD_UNSIGNED_LONG_LONG mt;

	if (MHD_get_timeout(hs->mhd, &mt) != MHD_YES)
		return false;
	*ms = mt;
	return true;
}

void http_run(struct http_server *hs)
{
	MHD_run(hs->mhd);
}

void http_free(struct http_server *hs)
{
	if (!hs)
		return;
	if (hs->mhd)
		MHD_stop_daemon(hs->mhd);
	if (hs->failed)
		MHD_destroy_response(hs->failed);
	if (hs->listen_fd >= 0)
		close(hs->listen_fd);
	free(hs->not_found);
	free(hs->name);
	free(hs);
}
