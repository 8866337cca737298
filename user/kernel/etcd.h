/* SPDX-License-Identifier: GPL-2.0 */
/* The cluster store's wire: etcd v3 through its JSON gateway, libcurl's multi interface driven by the caller's loop. */
#ifndef FRINGE_ETCD_H
#define FRINGE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * Requests are POSTs of JSON to one member at a time (keys and values in
 * base64, 64-bit numbers as strings, as etcd's gateway has them).  Nothing
 * blocks: the caller polls etcd_fd() for POLLIN, waits at most
 * etcd_timeout_ms(), and calls etcd_dispatch(); replies arrive through the
 * callbacks from there.  A request that fails at the transport (refused,
 * timed out, no leader) marks its member unhealthy and moves later requests
 * to the next member; the caller retries.
 */

#define ETCD_MAX_ENDPOINTS	8
#define ETCD_MAX_MESSAGE	(8u << 20)	/* one reply or stream message */
#define ETCD_CALL_TIMEOUT_MS	2500
#define ETCD_CONNECT_TIMEOUT_MS	1500

struct etcd;
struct etcd_call;

struct etcd_opts {
	char *const *urls;		/* SCHEME://HOST:PORT */
	size_t n_urls;
	const char *ca, *cert, *key;	/* NULL: the system's CAs, no client certificate */
};

struct etcd_endpoint {
	const char *url;
	bool healthy;			/* the last request there went through */
	bool tried;
	uint64_t last_ok_ns, last_err_ns;	/* CLOCK_REALTIME */
	char error[120];
};

/* A reply (or, for a stream, one message): msg is the JSON document, or
 * NULL with err saying why the call ended (a stream always ends that way,
 * "closed" when the member closed it).  Calls may be made and cancelled
 * from the callback. */
typedef void (*etcd_reply_fn)(void *ctx, struct etcd_call *c, json_object *msg, const char *err);

int etcd_open(struct etcd **out, const struct etcd_opts *o);
void etcd_close(struct etcd *e);
int etcd_fd(struct etcd *e);
/* How long the caller may sleep before etcd_dispatch is due; -1: no timer. */
long etcd_timeout_ms(struct etcd *e);
void etcd_dispatch(struct etcd *e);

/* POST body (taken) to path; a stream keeps delivering messages until it
 * ends or is cancelled.  NULL when out of memory (fn is not called). */
struct etcd_call *etcd_post(struct etcd *e, const char *path, json_object *body, bool stream,
			    etcd_reply_fn fn, void *ctx);
/* fn is not called for it again; NULL is fine. */
void etcd_cancel(struct etcd *e, struct etcd_call *c);
/* Start over at the next member (after a failure the transport did not see). */
void etcd_rotate(struct etcd *e, const char *why);

const struct etcd_endpoint *etcd_endpoints(struct etcd *e, size_t *n);
size_t etcd_current(struct etcd *e);

/* Base64 for keys and values: a malloc'd string, NULL when out of memory. */
char *etcd_b64(const void *p, size_t n);
/* Decode into a malloc'd, NUL-terminated buffer; NULL on bad input. */
char *etcd_unb64(const char *s, size_t *n);
/* A 64-bit number the gateway sends as a string (or a number); 0 when absent. */
int64_t etcd_int(json_object *o, const char *key);

#endif /* FRINGE_ETCD_H */
