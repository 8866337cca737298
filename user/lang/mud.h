/* SPDX-License-Identifier: GPL-2.0 */
/* MUD profiles (RFC 8520): a manufacturer's description of a device's traffic, as a policy fragment. */
#ifndef FRINGE_MUD_H
#define FRINGE_MUD_H

#include <stddef.h>

#define MUD_MAX_IPS	16
#define MUD_MAX_MAPS	8

struct mud_map {
	const char *abstraction;	/* controller, my-controller, local-networks, ... */
	const char *set;		/* a set name, without the '@' */
};

struct mud_opts {
	const char *file;		/* for messages and the header comment */
	const char *device;		/* NULL: rules say `mac MAC` (or fail without --mac) */
	const char *mac;		/* with device: the `device` line */
	const char *ips[MUD_MAX_IPS];	/* the device's addresses: `ip` on the device line,
					 * `dst` of the to-device rules */
	size_t n_ips;
	struct mud_map map[MUD_MAX_MAPS];
	size_t n_map;
};

/*
 * Translate a MUD file (JSON text) into policy text.  Faithfully or not at
 * all: anything that cannot be translated exactly is an error naming its
 * JSON path, written to err as "PATH: MESSAGE" (the caller prefixes FILE).
 * Returns 0 with *out malloc'd and NUL-terminated, -EINVAL (err set) or
 * -ENOMEM.
 */
int mud_import(const char *json, size_t len, const struct mud_opts *o, char **out, char *err,
	       size_t errlen);

#endif
