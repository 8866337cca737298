/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the daemon's HTTP server (user/cmd/daemon_http.c) when memory runs out while it answers. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon_http.h"

/*
 * A fault injector: this binary's malloc, calloc and realloc are the ones
 * every allocation of the process goes through (glibc lets a program replace
 * them: libc's own, libmicrohttpd's and fringe's calls all land here). Armed
 * with N, the Nth allocation from then on fails with ENOMEM; `live` counts
 * the blocks not yet freed, for leaks.
 */
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static char boot[8192] __attribute__((aligned(16)));	/* dlsym's own allocations, before the real ones are known */
static size_t boot_used;
static long fail_at, n_allocs;	/* fail the fail_at'th allocation after arming; 0: never */
static bool fired, fired_answering;
static bool answering;		/* the route handler has been entered */
static long live;
static void *fired_from;	/* the failed allocation's caller */

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot))
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p;
}

static bool is_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

static void find_real(void)
{
	static bool busy;

	if (busy)
		return;
	busy = true;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	busy = false;
}

/* fringe's own code: this binary's text (libmicrohttpd and libc are shared objects). */
extern char __executable_start[], etext[];
static bool fail_ours;	/* every allocation fringe's code asks for fails */

static bool inject(void *caller)
{
	if (fail_ours && (char *)caller >= __executable_start && (char *)caller < etext) {
		fired = true;
		fired_from = caller;
		errno = ENOMEM;
		return true;
	}
	if (!fail_at || fired || ++n_allocs < fail_at)
		return false;
	fired = true;
	fired_answering = answering;
	fired_from = caller;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	void *p;

	if (!real_malloc)
		find_real();
	if (!real_malloc)
		return boot_alloc(n);
	if (inject(__builtin_return_address(0)))
		return NULL;
	p = real_malloc(n);
	live += !!p;
	return p;
}

void *calloc(size_t a, size_t b)
{
	void *p;

	if (!real_calloc)
		find_real();
	if (!real_calloc)
		return b && a > SIZE_MAX / b ? NULL : boot_alloc(a * b);	/* static: zeroed */
	if (inject(__builtin_return_address(0)))
		return NULL;
	p = real_calloc(a, b);
	live += !!p;
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	if (is_boot(old)) {	/* never happens in practice; keep it correct anyway */
		p = malloc(n);
		if (p)
			memcpy(p, old, n < sizeof(boot) - (size_t)((char *)old - boot)
					   ? n : sizeof(boot) - (size_t)((char *)old - boot));
		return p;
	}
	if (!real_realloc)
		find_real();
	if (n && inject(__builtin_return_address(0)))
		return NULL;	/* the old block stays */
	p = real_realloc(old, n);
	if (!old && p)
		live++;
	else if (old && !n)
		live--;
	return p;
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (!real_free)
		find_real();
	live--;
	real_free(p);
}

static void arm(long n)
{
	n_allocs = 0;
	fired = fired_answering = answering = false;
	fail_at = n;
}

static void disarm(void)
{
	fail_at = 0;
}

/* ---- a server on loopback, driven from this one thread ------------------------------ */

#define BIG_LINES 2000	/* the answer grows its buffer many times over */
static const char failed_body[] = "500 cannot answer this request; see the daemon's log\n";

static int serve_big(void *ctx, const char *url, FILE *body)
{
	answering = true;
	for (int i = 0; i < BIG_LINES; i++)
		fprintf(body, "line %d of a large answer\n", i);
	return 0;
}

/* A bad request, told the way the API tells it: something written, -EINVAL. */
static int serve_bad(void *ctx, const char *url, FILE *body)
{
	long at = ftell(body);

	fprintf(body, "bad query: top must be 1 or more\n");
	return ftell(body) > at ? -EINVAL : -ENOMEM;
}

static const struct http_route routes[] = {
	{ "/big", "text/plain; charset=utf-8", serve_big },
	{ "/bad", "application/json", serve_bad },
};

static char *big_body(void)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	serve_big(NULL, "/big", f);
	assert_int_equal(fclose(f), 0);
	return s;
}

static struct http_server *start_server(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct http_server *hs;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A free port: bound once here, then given to the server (SO_REUSEADDR). */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	*port = ntohs(sa.sin_port);
	assert_int_equal(http_listen(&hs, (struct sockaddr *)&sa, sizeof(sa), "127.0.0.1"), 0);
	assert_int_equal(http_start(hs, routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL), 0);
	return hs;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Let the server work for a few rounds (a closed connection's notices). */
static void settle(struct http_server *hs)
{
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = http_poll_fd(hs), .events = POLLIN };

		poll(&p, 1, 5);
		http_run(hs);
	}
}

struct answer {
	int status;		/* 0: the connection closed without one */
	char raw[256 * 1024];	/* no allocation on the client's side: every one counted is the server's */
	size_t len;
	const char *body;
};

/* GET path over a new connection, the injector armed with fail (0: not)
 * while the server takes it; the server runs until it closes it. */
static void get(struct http_server *hs, int port, const char *path, long fail, struct answer *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[256];
	uint64_t deadline = now_ms() + 5000;
	size_t sent = 0, rlen;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	a->len = 0;
	rlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path);
	assert_true(!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || errno == EINPROGRESS);
	arm(fail);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN | (sent < rlen ? POLLOUT : 0) },
				       { .fd = http_poll_fd(hs), .events = POLLIN } };
		ssize_t n;

		if (now_ms() > deadline)
			break;	/* an answer or a close, never a hang: checked below */
		poll(p, 2, 10);
		http_run(hs);
		if (sent < rlen) {
			n = send(fd, req + sent, rlen - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
		}
		n = recv(fd, a->raw + a->len, sizeof(a->raw) - 1 - a->len, 0);
		if (n > 0) {
			a->len += n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
			break;
	}
	close(fd);
	settle(hs);
	disarm();
	assert_true(now_ms() <= deadline);
	a->raw[a->len] = '\0';
	if (sscanf(a->raw, "HTTP/1.%*d %d ", &a->status) != 1)
		a->status = 0;
	if ((a->body = strstr(a->raw, "\r\n\r\n")))
		a->body += 4;
}

/* Where the failed allocation was asked for: "function (object)". */
static const char *fired_where(void)
{
	static char where[256];
	Dl_info di;

	if (!fired)
		return "none failed";
	if (!dladdr(fired_from, &di))
		return "?";
	if (!fail_at && !n_allocs)	/* fail_ours */
		snprintf(where, sizeof(where), "fringe's allocations failing, one in %s",
			 di.dli_sname ? di.dli_sname : "a static function");
	else
		snprintf(where, sizeof(where), "allocation %ld, in %s (%s)", fail_at ? fail_at : n_allocs,
			 di.dli_sname ? di.dli_sname : "?", di.dli_fname ? di.dli_fname : "?");
	return where;
}

static void assert_answer(const struct answer *a, int status, const char *body)
{
	/* every answer with its headers (the 500 too) */
	if (a->status != status || !a->body || strcmp(a->body, body) ||
	    !strstr(a->raw, "\r\nContent-Security-Policy: ") || !strstr(a->raw, "\r\nX-Content-Type-Options: nosniff\r\n")) {
		fprintf(stderr, "want %d with %zu bytes, got %d (%s): %.200s\n", status, strlen(body),
			a->status, fired_where(), a->raw);
		fail();
	}
}

/*
 * Every allocation of a request's life fails in turn (the Nth of run N):
 * accepting it, reading it, the route's answer growing its buffer, the
 * response and its headers. When one fails while the route answers, the
 * client gets the whole answer (what failed had a fallback) or the 500 that
 * says so, never a cut 200, one without its headers, nor a silent close;
 * before, the server may refuse the connection (closed, no answer). Either
 * way the next request is answered in full and nothing leaks.
 */
static void test_answer_alloc_failures(void **state)
{
	static struct answer a;
	struct http_server *hs;
	char *want = big_body();
	long base, n, cases_500 = 0, cases_closed = 0, cases_200 = 0;
	int port;

	hs = start_server(&port);
	for (int i = 0; i < 3; i++) {	/* whatever is made once, lazily, is made now */
		get(hs, port, "/big", 0, &a);
		assert_answer(&a, 200, want);
	}
	base = live;
	for (n = 1;; n++) {
		assert_true(n < 100000);
		get(hs, port, "/big", n, &a);
		if (!fired) {	/* the request needs fewer than n allocations: all were tried */
			assert_answer(&a, 200, want);
			break;
		}
		if (fired_answering && a.status != 200) {	/* stdio may do without its buffer */
			assert_answer(&a, 500, failed_body);
			cases_500++;
		} else if (a.status == 0) {
			if (fired_answering) {
				fprintf(stderr, "closed without an answer (%s)\n", fired_where());
				fail();
			}
			assert_int_equal(a.len, 0);	/* closed: nothing half-sent */
			cases_closed++;
		} else if (a.status == 500) {
			assert_answer(&a, 500, failed_body);
			cases_500++;
		} else {
			assert_answer(&a, 200, want);
			cases_200++;
		}
		get(hs, port, "/big", 0, &a);	/* the server is still whole */
		assert_answer(&a, 200, want);
		if (live > base) {
			fprintf(stderr, "allocation %ld failing leaked %ld blocks\n", n, live - base);
			fail();
		}
	}
	printf("%ld allocations in a request; each failing gave: 500 %ld, closed %ld, 200 %ld\n", n - 1,
	       cases_500, cases_closed, cases_200);
	assert_true(cases_500 > 0);
	http_free(hs);
	free(want);
}

/*
 * A client that trickles its request headers is hung up on at the header
 * deadline (10 s) even when every allocation fringe's code asks for fails
 * while it connects: a connection record that could not be allocated left
 * the connection out of the deadline's list, and the trickle kept
 * libmicrohttpd's idle timeout from ever firing.
 */
static void test_slow_client_cut_without_memory(void **state)
{
	static struct answer a;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const char req[] = "GET /big HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct http_server *hs;
	uint64_t t0, next_byte = 0, next_sweep = 0;
	size_t sent = 0;
	bool cut = false;
	int port, fd;

	hs = start_server(&port);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	fired = false;
	fail_ours = true;
	assert_true(!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || errno == EINPROGRESS);
	t0 = now_ms();
	while (!cut && now_ms() - t0 < 14000) {	/* the deadline is 10 s */
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = http_poll_fd(hs), .events = POLLIN } };
		char buf[256];
		ssize_t n;

		poll(p, 2, 20);
		http_run(hs);
		if (now_ms() >= next_sweep) {	/* as the daemon's loop does, once a second */
			http_sweep(hs);
			next_sweep = now_ms() + 1000;
		}
		if (now_ms() >= next_byte && sent < sizeof(req) - 1) {	/* a byte every 100 ms: never idle */
			if (send(fd, req + sent, 1, MSG_NOSIGNAL) == 1)
				sent++;
			next_byte = now_ms() + 100;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		cut = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
		assert_true(n <= 0);	/* never an answer to headers that never ended */
	}
	fail_ours = false;
	close(fd);
	settle(hs);
	if (!cut) {
		fprintf(stderr, "a slow client was still connected after %llu ms (%s)\n",
			(unsigned long long)(now_ms() - t0), fired_where());
		fail();
	}
	assert_true(now_ms() - t0 >= 9000);	/* cut by the deadline, not refused at once */
	get(hs, port, "/big", 0, &a);	/* and the server answers the next one */
	assert_int_equal(a.status, 200);
	http_free(hs);
}

/* The answers besides 200, through the same stream: 400 with the handler's
 * reason (it may ftell the stream), 404 naming the paths. */
static void test_answer_kinds(void **state)
{
	static struct answer a;
	struct http_server *hs;
	int port;

	hs = start_server(&port);
	get(hs, port, "/bad", 0, &a);
	assert_answer(&a, 400, "bad query: top must be 1 or more\n");
	get(hs, port, "/nothing", 0, &a);
	assert_answer(&a, 404, "404 page not found; served here: /big /bad\n");
	http_free(hs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_kinds),
		cmocka_unit_test(test_slow_client_cut_without_memory),
		cmocka_unit_test(test_answer_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
