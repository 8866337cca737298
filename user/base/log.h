/* SPDX-License-Identifier: GPL-2.0 */
/* Logging: levels, one line per message (libbpf's and libxdp's too: kernel/log_libs.c). */
#ifndef FRINGE_LOG_H
#define FRINGE_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;
/* When set, lines carry a timestamp and a level ("daemon" style). */
extern int log_daemon_style;
/* Level of libbpf's and libxdp's warnings (many are expected probes); LOG_INFO unless changed. */
extern enum log_level log_lib_level;

/* Called with every error line of ours (not libbpf's), for the CLI's JSON error document. */
extern void (*log_error_hook)(const char *msg);

void log_init(enum log_level threshold);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line, after prefix (a library's name: "libbpf: "). */
void log_vmsg(enum log_level lvl, const char *prefix, const char *fmt, va_list ap);

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
