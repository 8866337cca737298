/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's config file (docs/deploy.md): what to attach, which files to load, where to serve. */
#ifndef FRINGE_CONFIG_H
#define FRINGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/socket.h>

#include "fringe/abi.h"
#include "diag.h"	/* struct pol_loc, struct diags */
#include "policy.h"	/* struct pol_prefix */

enum fringe_attach_mode { ATTACH_AUTO, ATTACH_NATIVE, ATTACH_GENERIC };

extern const char *const config_mode_names[];
int config_parse_mode(const char *s, enum fringe_attach_mode *mode);

#define CONFIG_METRICS_DEFAULT	"127.0.0.1:9650"
#define CONFIG_MAX_FILE		(1u << 20)

/* A size the site sets (enum fringe_size): its name in `size NAME N` and
 * `attach --size NAME=N`, default, bounds, and what one unit costs. */
struct config_size {
	const char *name;
	uint32_t def, min, max;
	const char *cost;	/* kernel memory of one unit, for help and docs */
};
extern const struct config_size config_sizes[FRINGE_SZ_COUNT];
/* NAME (exact) -> enum fringe_size, or -1. */
int config_size_id(const char *name);
/* N for size id: 0 or -ERANGE/-EINVAL with why set. */
int config_parse_size_value(int id, const char *s, uint32_t *out, const char **why);
/* "NAME=N" (attach --size): 0, or -EINVAL with a message in why (static). */
int config_parse_size_opt(const char *s, uint32_t sizes[FRINGE_SZ_COUNT], const char **why);

struct config_iface {
	char name[IF_NAMESIZE];
	enum fringe_attach_mode mode;
	struct pol_loc loc;
};

#define CONFIG_ETCD_MAX_URLS	8
#define CONFIG_ETCD_PORT	2379
#define CONFIG_CLUSTER_PREFIX	"/fringe"
#define CONFIG_CLUSTER_TTL	10
#define CONFIG_CLUSTER_TTL_MIN	2
#define CONFIG_CLUSTER_TTL_MAX	3600
#define CONFIG_PREFIX_MAX	128

/* `cluster etcd URL[,URL]... [prefix P] [ttl S] [ca F cert F key F] [insecure]`. */
struct config_cluster {
	struct pol_loc loc;		/* line 0: no `cluster` */
	char *urls[CONFIG_ETCD_MAX_URLS];	/* normalised: SCHEME://HOST:PORT */
	size_t n_urls;
	char prefix[CONFIG_PREFIX_MAX + 1];	/* key prefix, no trailing '/' */
	unsigned int ttl;		/* lease, seconds */
	char *ca, *cert, *key;		/* absolute paths, or NULL */
	bool insecure;			/* plain http to other than loopback is allowed */
};

/* `announce [name N] [underlay ADDR|auto] [mac MAC|auto] prefix CIDR[,CIDR]... [vni N]`. */
struct config_announce {
	struct pol_loc loc;		/* line 0: no `announce` */
	char name[FRINGE_NAME_LEN];	/* "": the host name */
	uint8_t family;			/* 0: underlay auto */
	uint8_t underlay[16];
	bool has_mac;			/* false: mac auto (the underlay interface's) */
	uint8_t mac[6];
	struct pol_prefix *prefixes;
	size_t n_prefixes;
	bool prefix_auto;		/* `prefix auto`: the networks of the addresses on the
					 * `interface` lines other than the underlay's */
	uint32_t vni;
};

/*
 * Statements, one per line, with the policy language's lexical rules:
 *
 *   interface NAME [mode native|generic|auto]
 *   policy PATH
 *   nodes PATH
 *   metrics ADDR:PORT [tls CERT KEY] [auth FILE]
 *                              IPv4 a.b.c.d:P or [IPv6]:P; default 127.0.0.1:9650;
 *                              TLS with a PEM certificate (chain) and key; basic
 *                              authentication against a users file (authfile.h)
 *   sflow HOST:PORT
 *   pin-dir DIR
 *   cluster etcd URL[,URL]... [prefix P] [ttl S] [ca F cert F key F] [insecure]
 *   announce [name N] [underlay ADDR|auto] [mac MAC|auto] prefix CIDR[,CIDR]...|auto [vni N]
 *   size NAME N                a size of the data plane's tables (config_sizes)
 *
 * Relative paths are taken from the config file's directory (so a config, its
 * policy and its nodes file can travel together, e.g. in one ConfigMap).
 */
struct config {
	struct config_iface *ifaces;
	size_t n_ifaces;
	char *policy;			/* absolute or relative to the config's directory; NULL: none */
	char *nodes;
	char *sflow;			/* "HOST:PORT" as written, port checked */
	char *pin_dir;
	char metrics[64];		/* as written, or the default */
	uint32_t sizes[FRINGE_SZ_COUNT];	/* `size NAME N`; 0: not given (the default) */
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
	struct config_cluster cluster;
	struct config_announce announce;
	char *tls_cert, *tls_key;	/* PEM files; NULL: plain HTTP */
	char *auth;			/* users file; NULL: no authentication */
};

/* Parse and validate; every error goes to d as LINE:COL (d may be NULL).
 * base_dir (may be NULL) is prepended to relative paths.  Returns 0, -EINVAL
 * when there were errors, or -ENOMEM; on failure *out is freed and zeroed. */
int config_parse(const char *text, size_t len, const char *base_dir, struct diags *d,
		 struct config *out);
/* As config_parse on a file; sets d->file to path when NULL.  An unreadable
 * file adds "cannot read PATH: REASON" at 0:0 and returns -errno. */
int config_parse_file(const char *path, struct diags *d, struct config *out);
/* The config at path whose content was read as text (relative paths resolve next to path). */
int config_parse_text(const char *path, const char *text, size_t len, struct diags *d,
		      struct config *out);
void config_free(struct config *c);

/* "ADDR:PORT" with a numeric IPv4 or bracketed IPv6 address; 0 or -EINVAL with why set. */
int config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why);

/* Whether two announce lines publish the same record. */
bool config_announce_equal(const struct config_announce *a, const struct config_announce *b);

#endif /* FRINGE_CONFIG_H */
