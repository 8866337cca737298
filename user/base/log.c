// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/* Logging to stderr: "fringe: message" for commands, timestamped levels for the daemon. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum log_level log_threshold = LOG_WARN;
int log_daemon_style;
enum log_level log_lib_level = LOG_INFO;
void (*log_error_hook)(const char *msg);

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_vmsg(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
	char *buf;
	size_t n;

	if (lvl > log_threshold)
		return;
	if (vasprintf(&buf, fmt, ap) < 0)
		return;
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (lvl == LOG_ERROR && !*prefix && log_error_hook)
		log_error_hook(buf);
	if (log_daemon_style) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ level=%s %s%s\n", when, ts.tv_nsec / 1000000,
			level_names[lvl], prefix, buf);
	} else if (lvl == LOG_ERROR) {
		fprintf(stderr, "fringe: %s%s\n", prefix, buf);
	} else {
		fprintf(stderr, "fringe: %s: %s%s\n", level_names[lvl], prefix, buf);
	}
	free(buf);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, "", fmt, ap);
	va_end(ap);
}

void log_init(enum log_level threshold)
{
	log_threshold = threshold;
}
