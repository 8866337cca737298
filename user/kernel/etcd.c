// SPDX-License-Identifier: GPL-2.0
/* The cluster store's wire: etcd v3 through its JSON gateway, libcurl's multi interface driven by the caller's loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "etcd.h"
#include "log.h"

struct etcd_call {
	struct etcd *e;
	struct etcd_call *next;		/* in e->calls, or e->dead */
	CURL *h;
	char *body;
	char *buf;			/* what arrived and was not handed on yet */
	size_t len, cap;
	bool stream, too_big, done;
	size_t ep;			/* the member it went to */
	etcd_reply_fn fn;
	void *ctx;
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd {
	CURLM *multi;
	int epfd;
	long timer_ms;			/* libcurl's timer; -1 none */
	uint64_t timer_set;		/* when it was set (monotonic ms) */
	struct curl_slist *hdrs;
	struct etcd_endpoint ep[ETCD_MAX_ENDPOINTS];
	char *urls[ETCD_MAX_ENDPOINTS];
	size_t n_ep, cur;
	char *ca, *cert, *key;
	struct etcd_call *calls, *dead;
};

/* ---- base64 and numbers ------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const void *p, size_t n)
{
	const unsigned char *s = p;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *etcd_unb64(const char *s, size_t *n)
{
	size_t len = strlen(s), k = 0;
	char *out = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		const char *c = s[i] == '=' ? NULL : strchr(b64, s[i]);

		if (s[i] == '=')
			break;
		if (!c || !s[i]) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = acc >> bits & 0xff;
		}
	}
	out[k] = '\0';
	*n = k;
	return out;
}

int64_t etcd_int(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

/* ---- libcurl's sockets and timer, through one epoll fd ----------------------------- */

static int sock_cb(CURL *h, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct etcd *e = userp;
	struct epoll_event ev = { .data.fd = s };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT)
		epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct etcd *e = userp;

	e->timer_ms = timeout_ms;
	e->timer_set = mono_ms();
	return 0;
}

long etcd_timeout_ms(struct etcd *e)
{
	uint64_t now = mono_ms();

	if (e->dead)
		return 0;
	if (e->timer_ms < 0)
		return -1;
	return e->timer_set + e->timer_ms > now ? (long)(e->timer_set + e->timer_ms - now) : 0;
}

int etcd_fd(struct etcd *e)
{
	return e->epfd;
}

/* ---- calls ------------------------------------------------------------------------------ */

static size_t write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct etcd_call *c = userp;
	size_t add = size * n;

	if (c->len + add > ETCD_MAX_MESSAGE) {
		c->too_big = true;
		return 0;	/* libcurl ends the transfer */
	}
	if (c->len + add + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *nb;

		while (cap < c->len + add + 1)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return 0;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, add);
	c->len += add;
	c->buf[c->len] = '\0';
	return add;
}

static void ep_ok(struct etcd *e, size_t i)
{
	e->ep[i].healthy = e->ep[i].tried = true;
	e->ep[i].last_ok_ns = real_ns();
}

static void ep_fail(struct etcd *e, size_t i, const char *why)
{
	bool was = e->ep[i].healthy || !e->ep[i].tried;

	e->ep[i].healthy = false;
	e->ep[i].tried = true;
	e->ep[i].last_err_ns = real_ns();
	snprintf(e->ep[i].error, sizeof(e->ep[i].error), "%s", why);
	if (was)
		pr_warn("cluster: etcd member %s: %s", e->ep[i].url, why);
	if (i == e->cur && e->n_ep > 1)
		e->cur = (e->cur + 1) % e->n_ep;
}

void etcd_rotate(struct etcd *e, const char *why)
{
	ep_fail(e, e->cur, why);
}

struct etcd_call *etcd_post(struct etcd *e, const char *path, json_object *body, bool stream,
			    etcd_reply_fn fn, void *ctx)
{
	struct etcd_call *c = calloc(1, sizeof(*c));
	char url[300];

	if (!c || !(c->h = curl_easy_init())) {
		free(c);
		json_object_put(body);
		return NULL;
	}
	c->e = e;
	c->stream = stream;
	c->fn = fn;
	c->ctx = ctx;
	c->ep = e->cur;
	c->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(body);
	if (!c->body) {
		curl_easy_cleanup(c->h);
		free(c);
		return NULL;
	}
	snprintf(url, sizeof(url), "%s%s", e->urls[c->ep], path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, e->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_CONNECT_TIMEOUT_MS);
	/* A silent member (its host gone) is found by TCP keepalives on streams. */
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPINTVL, 1L);
	if (!stream)
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)ETCD_CALL_TIMEOUT_MS);
	if (e->ca)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, e->ca);
	if (e->cert) {
		curl_easy_setopt(c->h, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(c->h, CURLOPT_SSLKEY, e->key);
	}
	if (curl_multi_add_handle(e->multi, c->h) != CURLM_OK) {
		curl_easy_cleanup(c->h);
		free(c->body);
		free(c);
		return NULL;
	}
	c->next = e->calls;
	e->calls = c;
	return c;
}

static void call_unlink(struct etcd *e, struct etcd_call *c)
{
	for (struct etcd_call **p = &e->calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	curl_multi_remove_handle(e->multi, c->h);
	c->fn = NULL;
	c->next = e->dead;
	e->dead = c;
}

void etcd_cancel(struct etcd *e, struct etcd_call *c)
{
	if (c && c->fn)
		call_unlink(e, c);
}

static void call_free(struct etcd_call *c)
{
	curl_easy_cleanup(c->h);
	free(c->body);
	free(c->buf);
	free(c);
}

/* The gateway's error document: {"error": "...", "code": N, "message": "..."}
 * (streams wrap it: {"error": {...}}). */
static const char *reply_error(json_object *msg)
{
	json_object *v;

	if (json_object_object_get_ex(msg, "error", &v)) {
		json_object *m;

		if (json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(v, "message", &m))
			return json_object_get_string(m);
		return json_object_get_string(v);
	}
	return NULL;
}

/* Errors that say this member cannot serve now (another may). */
static bool member_trouble(const char *why)
{
	return strstr(why, "no leader") || strstr(why, "timed out") || strstr(why, "unavailable") ||
	       strstr(why, "not capable") || strstr(why, "stopped") || strstr(why, "too many requests");
}

/* Hand on the complete messages of a stream (one JSON document a line). */
static void stream_deliver(struct etcd *e, struct etcd_call *c)
{
	size_t off = 0;

	while (c->fn) {
		char *nl = memchr(c->buf + off, '\n', c->len - off);
		json_object *msg;
		const char *err;

		if (!nl)
			break;
		*nl = '\0';
		msg = json_tokener_parse(c->buf + off);
		off = nl + 1 - c->buf;
		if (!msg)
			continue;	/* blank lines between messages */
		err = reply_error(msg);
		if (err) {
			char why[160];

			snprintf(why, sizeof(why), "%s", err);
			json_object_put(msg);
			if (member_trouble(why))
				ep_fail(e, c->ep, why);
			c->fn(c->ctx, c, NULL, why);
			etcd_cancel(e, c);
			break;
		}
		ep_ok(e, c->ep);
		c->fn(c->ctx, c, msg, NULL);
		json_object_put(msg);
	}
	if (off && c->buf) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
		c->buf[c->len] = '\0';
	}
}

static void call_done(struct etcd *e, struct etcd_call *c, CURLcode rc)
{
	long status = 0;
	json_object *msg = NULL;
	const char *err = NULL;
	char why[CURL_ERROR_SIZE + 64] = "";

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (c->stream && rc == CURLE_OK)
		stream_deliver(e, c);
	if (!c->fn)
		return;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", c->too_big ? "reply too large" :
			 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		if (!c->too_big)
			ep_fail(e, c->ep, why);
	} else if (c->stream) {
		snprintf(why, sizeof(why), "closed");
	} else {
		msg = c->buf ? json_tokener_parse(c->buf) : NULL;
		err = msg ? reply_error(msg) : NULL;
		if (err || status != 200 || !msg) {
			snprintf(why, sizeof(why), "%s%s(HTTP %ld)", err ? err : msg ? "" : "not JSON",
				 err || !msg ? " " : "", status);
			if (status >= 500 || member_trouble(why))
				ep_fail(e, c->ep, why);
			json_object_put(msg);
			msg = NULL;
		} else {
			ep_ok(e, c->ep);
		}
	}
	{
		etcd_reply_fn fn = c->fn;

		call_unlink(e, c);
		fn(c->ctx, c, msg, msg ? NULL : why);
	}
	json_object_put(msg);
}

void etcd_dispatch(struct etcd *e)
{
	struct epoll_event ev[32];
	int running, n, left;
	CURLMsg *m;

	n = epoll_wait(e->epfd, ev, 32, 0);
	for (int i = 0; i < n; i++)
		curl_multi_socket_action(e->multi, ev[i].data.fd,
					 (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
					 (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
					 (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0),
					 &running);
	if (etcd_timeout_ms(e) == 0 && e->timer_ms >= 0) {
		e->timer_ms = -1;
		curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	for (struct etcd_call *c = e->calls, *next; c; c = next) {
		next = c->next;
		if (c->stream && c->len)
			stream_deliver(e, c);
		/* next may have been cancelled by the callback: start over then. */
		if (next && !next->fn)
			next = e->calls;
	}
	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct etcd_call *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (c && c->fn)
			call_done(e, c, m->data.result);
	}
	while (e->dead) {
		struct etcd_call *c = e->dead;

		e->dead = c->next;
		call_free(c);
	}
}

/* ---- the client ------------------------------------------------------------------------ */

int etcd_open(struct etcd **out, const struct etcd_opts *o)
{
	static bool global_done;
	struct etcd *e = calloc(1, sizeof(*e));
	int err = -ENOMEM;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			free(e);
			return -EIO;
		}
		global_done = true;
	}
	e->timer_ms = -1;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		err = -errno;
		goto fail;
	}
	e->multi = curl_multi_init();
	if (!e->multi)
		goto fail;
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	/* A member without a leader answers at once instead of waiting for one. */
	e->hdrs = curl_slist_append(e->hdrs, "Grpc-Metadata-hasleader: true");
	e->hdrs = curl_slist_append(e->hdrs, "Expect:");
	if (!e->hdrs)
		goto fail;
	for (size_t i = 0; i < o->n_urls && i < ETCD_MAX_ENDPOINTS; i++) {
		e->urls[i] = strdup(o->urls[i]);
		if (!e->urls[i])
			goto fail;
		e->ep[i].url = e->urls[i];
		e->n_ep++;
	}
	if ((o->ca && !(e->ca = strdup(o->ca))) || (o->cert && !(e->cert = strdup(o->cert))) ||
	    (o->key && !(e->key = strdup(o->key))))
		goto fail;
	if (!e->n_ep) {
		err = -EINVAL;
		goto fail;
	}
	*out = e;
	return 0;
fail:
	etcd_close(e);
	return err;
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	while (e->calls)
		call_unlink(e, e->calls);
	while (e->dead) {
		struct etcd_call *c = e->dead;

		e->dead = c->next;
		call_free(c);
	}
	if (e->multi)
		curl_multi_cleanup(e->multi);
	if (e->epfd >= 0)
		close(e->epfd);
	curl_slist_free_all(e->hdrs);
	for (size_t i = 0; i < e->n_ep; i++)
		free(e->urls[i]);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e);
}

const struct etcd_endpoint *etcd_endpoints(struct etcd *e, size_t *n)
{
	*n = e->n_ep;
	return e->ep;
}

size_t etcd_current(struct etcd *e)
{
	return e->cur;
}
