/* SPDX-License-Identifier: GPL-2.0 */
/* Node records of the cluster store: JSON in and out, validated; their union with the nodes file. */
#ifndef FRINGE_RECORDS_H
#define FRINGE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nodes.h"

#define RECORD_MAX_VALUE	4096	/* bytes; a record is a few hundred */
#define RECORD_MAX_PREFIXES	64
#define RECORD_WHY_LEN		200

/*
 * A record, at KEYPREFIX/nodes/NAME:
 *
 *   {"name": "n1", "underlay": "10.99.0.1", "mac": "02:99:00:00:00:01",
 *    "prefixes": ["10.200.1.0/24", "fd00:1::/64"], "vni": 1, "since": 1796000000}
 *
 * name must be the key's NAME; underlay a unicast address; mac a unicast
 * MAC (the node's on the underlay, also the inner destination); prefixes 1 to
 * RECORD_MAX_PREFIXES CIDRs, none overlapping another; vni 1-16777215
 * (default 1); since (optional) the Unix time the node first announced
 * itself.  Other keys are ignored, so newer publishers stay readable.
 */
enum node_source { NODE_SRC_FILE, NODE_SRC_SELF, NODE_SRC_STORE };
extern const char *const node_source_names[];

struct node_record {
	const char *key;		/* the store's key (not owned) */
	int64_t create_rev;		/* the store's revisions: older records win */
	bool ok;			/* valid on its own (record_parse) */
	char why[RECORD_WHY_LEN];	/* when not ok, or rejected by the union */
	struct node_def def;		/* when ok */
	uint64_t since;
};

/* Parse and check one record whose key ends in name.  0, or -EINVAL with a
 * message in why (def then holds nothing to free), or -ENOMEM. */
int record_parse(const char *name, const char *value, size_t len, struct node_def *def,
		 uint64_t *since, char *why, size_t whylen);
/* The record of a node as JSON (malloc'd), for publishing. */
char *record_format(const struct node_def *def, uint64_t since);
void record_def_free(struct node_def *def);

/* What goes into the overlay: the nodes file's nodes, this node, and the
 * records, in that order of precedence; among records the older (lower
 * create_rev) first. */
struct records_union_in {
	const struct nodes *file;		/* NULL: none */
	const struct node_def *self;		/* NULL: the file's self */
	int64_t self_rev;			/* this node's record's create_rev (INT64_MAX: none) */
	const struct node_record *const *recs;	/* this node's own record left out */
	size_t n_recs;
	/* Whether this host holds addr (a record must not claim it). */
	bool (*is_local)(void *ctx, int family, const uint8_t *addr);
	void *ctx;
};

struct records_union {
	struct nodes nodes;		/* self set; owned copies */
	enum node_source *source;	/* per node */
	uint64_t *since;		/* per node: a record's since, else 0 */
	bool *accepted;			/* per input record */
	char (*why)[RECORD_WHY_LEN];	/* per input record: why rejected */
	char self_note[RECORD_WHY_LEN];	/* this node's prefixes that an older node holds */
};

/* 0, -EINVAL (why in *out: no self), or -ENOMEM. */
int records_union(const struct records_union_in *in, struct records_union *out);
void records_union_free(struct records_union *u);

#endif /* FRINGE_RECORDS_H */
