// SPDX-License-Identifier: GPL-2.0
/* libbpf's and libxdp's messages through fringe's log (base/log.h), at their own level. */
#include <stdarg.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "log_libs.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? log_lib_level : LOG_DEBUG;

	/* libbpf's warnings are often expected probes; the caller reports real failures. */
	log_vmsg(lvl, "libbpf: ", fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBXDP_WARN ? log_lib_level : LOG_DEBUG;

	log_vmsg(lvl, "libxdp: ", fmt, ap);
	return 0;
}

void log_libs_init(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
