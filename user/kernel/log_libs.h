/* SPDX-License-Identifier: GPL-2.0 */
/* libbpf's and libxdp's messages through fringe's log (base/log.h), at their own level. */
#ifndef FRINGE_LOG_LIBS_H
#define FRINGE_LOG_LIBS_H

/* Route both libraries' messages through log_vmsg: their warnings at
 * log_lib_level (many are expected probes), the rest at LOG_DEBUG. */
void log_libs_init(void);

#endif
