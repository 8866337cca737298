// SPDX-License-Identifier: GPL-2.0
/* Node records of the cluster store: JSON in and out, validated; their union with the nodes file. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lex.h"
#include "records.h"

const char *const node_source_names[] = {
	[NODE_SRC_FILE] = "file", [NODE_SRC_SELF] = "self", [NODE_SRC_STORE] = "etcd",
};

void record_def_free(struct node_def *def)
{
	free(def->prefixes);
	free(def->prefix_loc);
	def->prefixes = NULL;
	def->prefix_loc = NULL;
	def->n_prefixes = 0;
}

static const char *jstring(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int record_parse(const char *name, const char *value, size_t len, struct node_def *def,
		 uint64_t *since, char *why, size_t whylen)
{
	json_tokener *tok;
	json_object *o = NULL, *v;
	const char *s;
	char pwhy[200];
	int err = -EINVAL;

	memset(def, 0, sizeof(*def));
	*since = 0;
	if (len > RECORD_MAX_VALUE) {
		snprintf(why, whylen, "record of %zu bytes (at most %d)", len, RECORD_MAX_VALUE);
		return -EINVAL;
	}
	if (!lex_name_ok(name, strlen(name))) {
		snprintf(why, whylen, "key name '%.80s' is not a node name (1 to 63 of A-Z a-z 0-9 _ . -)",
			 name);
		return -EINVAL;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, value, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		size_t end = json_tokener_get_parse_end(tok);

		while (o && end < len && strchr(" \t\r\n", value[end]))
			end++;
		if (!o || end < len) {
			snprintf(why, whylen, "not JSON: %s", o ? "text after the object" :
				 json_tokener_error_desc(json_tokener_get_error(tok)));
			goto out;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	s = jstring(o, "name");
	if (!s || strcmp(s, name)) {
		snprintf(why, whylen, s ? "name '%.80s' is not the key's '%s'" : "no \"name\"%.0s (%s)",
			 s ? s : "", name);
		goto out;
	}
	snprintf(def->name, sizeof(def->name), "%s", name);
	s = jstring(o, "underlay");
	def->family = s ? nodes_addr_parse(s, def->underlay) : 0;
	if (!def->family) {
		snprintf(why, whylen, "\"underlay\" %s%.80s%s is not an IP address", s ? "'" : "",
			 s ? s : "missing", s ? "'" : "");
		goto out;
	}
	if (!nodes_addr_unicast(def->family, def->underlay)) {
		snprintf(why, whylen, "underlay %.80s is not a unicast address", s);
		goto out;
	}
	s = jstring(o, "mac");
	if (!s || !lex_mac_parse(s, strlen(s), def->mac) || (def->mac[0] & 1) ||
	    !memcmp(def->mac, "\0\0\0\0\0\0", 6)) {
		snprintf(why, whylen, "\"mac\" %s%.40s%s is not a unicast MAC address", s ? "'" : "",
			 s ? s : "missing", s ? "'" : "");
		goto out;
	}
	def->has_mac = true;
	if (!json_object_object_get_ex(o, "prefixes", &v) || !json_object_is_type(v, json_type_array) ||
	    !json_object_array_length(v)) {
		snprintf(why, whylen, "\"prefixes\" must be a non-empty array of CIDRs");
		goto out;
	}
	if (json_object_array_length(v) > RECORD_MAX_PREFIXES) {
		snprintf(why, whylen, "%zu prefixes (at most %d)", json_object_array_length(v),
			 RECORD_MAX_PREFIXES);
		goto out;
	}
	def->n_prefixes = json_object_array_length(v);
	def->prefixes = calloc(def->n_prefixes, sizeof(*def->prefixes));
	def->prefix_loc = calloc(def->n_prefixes, sizeof(*def->prefix_loc));
	if (!def->prefixes || !def->prefix_loc) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < def->n_prefixes; i++) {
		json_object *p = json_object_array_get_idx(v, i);

		if (!json_object_is_type(p, json_type_string)) {
			snprintf(why, whylen, "prefix %zu is not a string", i + 1);
			goto out;
		}
		if (nodes_prefix_parse(json_object_get_string(p), &def->prefixes[i], pwhy, sizeof(pwhy))) {
			snprintf(why, whylen, "%s", pwhy);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (nodes_prefixes_overlap(&def->prefixes[j], &def->prefixes[i])) {
				snprintf(why, whylen, "prefix %.60s overlaps another of the record",
					 json_object_get_string(p));
				goto out;
			}
	}
	def->vni = FRINGE_VNI_DEFAULT;
	if (json_object_object_get_ex(o, "vni", &v)) {
		int64_t x = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || x < 1 || x > FRINGE_VNI_MAX) {
			snprintf(why, whylen, "\"vni\" must be a number, 1-%u", FRINGE_VNI_MAX);
			goto out;
		}
		def->vni = x;
	}
	if (json_object_object_get_ex(o, "since", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0)
		*since = json_object_get_int64(v);
	err = 0;
out:
	if (err)
		record_def_free(def);
	json_object_put(o);
	json_tokener_free(tok);
	return err;
}

char *record_format(const struct node_def *def, uint64_t since)
{
	json_object *o = json_object_new_object(), *p = json_object_new_array();
	char buf[64], *out;

	json_object_object_add(o, "name", json_object_new_string(def->name));
	inet_ntop(def->family == 6 ? AF_INET6 : AF_INET, def->underlay, buf, sizeof(buf));
	json_object_object_add(o, "underlay", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", def->mac[0], def->mac[1],
		 def->mac[2], def->mac[3], def->mac[4], def->mac[5]);
	json_object_object_add(o, "mac", json_object_new_string(buf));
	for (size_t i = 0; i < def->n_prefixes; i++) {
		nodes_prefix_str(&def->prefixes[i], buf, sizeof(buf));
		json_object_array_add(p, json_object_new_string(buf));
	}
	json_object_object_add(o, "prefixes", p);
	json_object_object_add(o, "vni", json_object_new_int64(def->vni));
	if (since)
		json_object_object_add(o, "since", json_object_new_int64(since));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* ---- the union ------------------------------------------------------------------- */

static int def_copy(struct node_def *dst, const struct node_def *src, const bool *keep)
{
	*dst = *src;
	dst->prefixes = calloc(src->n_prefixes + 1, sizeof(*dst->prefixes));
	dst->prefix_loc = calloc(src->n_prefixes + 1, sizeof(*dst->prefix_loc));
	if (!dst->prefixes || !dst->prefix_loc) {
		record_def_free(dst);
		return -ENOMEM;
	}
	dst->n_prefixes = 0;
	for (size_t i = 0; i < src->n_prefixes; i++) {
		if (keep && !keep[i])
			continue;
		dst->prefixes[dst->n_prefixes] = src->prefixes[i];
		if (src->prefix_loc)
			dst->prefix_loc[dst->n_prefixes] = src->prefix_loc[i];
		dst->n_prefixes++;
	}
	return 0;
}

/* The node already in the union that holds prefix p, or NULL. */
static const struct node_def *prefix_holder(const struct nodes *u, const struct pol_prefix *p,
					    size_t *k)
{
	for (size_t i = 0; i < u->n; i++)
		for (size_t j = 0; j < u->v[i].n_prefixes; j++)
			if (nodes_prefixes_overlap(&u->v[i].prefixes[j], p)) {
				*k = j;
				return &u->v[i];
			}
	return NULL;
}

static size_t union_prefixes(const struct nodes *u)
{
	size_t k = 0;

	for (size_t i = 0; i < u->n; i++)
		k += u->v[i].n_prefixes;
	return k;
}

/* Why def cannot join the union (in why), or 0. */
static int check_joiner(const struct records_union_in *in, const struct records_union *out,
			unsigned int families, const struct node_def *def, char *why, size_t whylen)
{
	const struct nodes *u = &out->nodes;
	char a[48], b[48];
	size_t k;

	inet_ntop(def->family == 6 ? AF_INET6 : AF_INET, def->underlay, a, sizeof(a));
	if (u->n >= FRINGE_MAX_NODES)
		return snprintf(why, whylen, "too many nodes (at most %d)", FRINGE_MAX_NODES), 1;
	if (union_prefixes(u) + def->n_prefixes > FRINGE_MAX_OV_PREFIXES)
		return snprintf(why, whylen, "too many prefixes (at most %d)", FRINGE_MAX_OV_PREFIXES), 1;
	if (in->is_local && in->is_local(in->ctx, def->family, def->underlay))
		return snprintf(why, whylen, "underlay %s is an address of this host", a), 1;
	for (size_t i = 0; i < u->n; i++) {
		if (!strcmp(u->v[i].name, def->name))
			return snprintf(why, whylen, "name '%s' is already held (%s)", def->name,
					out->source[i] == NODE_SRC_FILE ? "by the nodes file"
									: "by this node"), 1;
		const uint8_t *held = nodes_underlay(&u->v[i], def->family);

		if (held && !memcmp(held, def->underlay, 16))
			return snprintf(why, whylen, "underlay %s is already node '%s''s", a,
					u->v[i].name), 1;
	}
	/* This node must have an underlay address of the record's family to reach it. */
	if (families && !(families & FRINGE_OV_FAMILY(def->family)))
		return snprintf(why, whylen, "underlay %s is IPv%d; this node has no IPv%d underlay address",
				a, def->family, def->family), 1;
	for (size_t j = 0; j < def->n_prefixes; j++) {
		const struct node_def *h = prefix_holder(u, &def->prefixes[j], &k);

		if (h) {
			nodes_prefix_str(&def->prefixes[j], a, sizeof(a));
			nodes_prefix_str(&h->prefixes[k], b, sizeof(b));
			return snprintf(why, whylen, "prefix %s overlaps %s, already claimed by node '%.40s'",
					a, b, h->name), 1;
		}
	}
	return 0;
}

static int push(struct records_union *out, const struct node_def *def, const bool *keep,
		enum node_source src, uint64_t since)
{
	size_t n = out->nodes.n;
	struct node_def *v = realloc(out->nodes.v, (n + 1) * sizeof(*v));
	enum node_source *s = realloc(out->source, (n + 1) * sizeof(*s));
	uint64_t *t;

	if (v)
		out->nodes.v = v;
	if (s)
		out->source = s;
	t = realloc(out->since, (n + 1) * sizeof(*t));
	if (t)
		out->since = t;
	if (!v || !s || !t || def_copy(&out->nodes.v[n], def, keep))
		return -ENOMEM;
	out->source[n] = src;
	out->since[n] = since;
	out->nodes.n++;
	return 0;
}

/* This node joins with the prefixes nobody older holds (it is never refused:
 * it is the host the table is for). */
static int push_self(const struct records_union_in *in, struct records_union *out)
{
	const struct node_def *self = in->self;
	bool *keep = calloc(self->n_prefixes + 1, sizeof(*keep));
	char a[64];
	size_t k, used = 0;
	int err;

	if (!keep)
		return -ENOMEM;
	for (size_t j = 0; j < self->n_prefixes; j++) {
		const struct node_def *h = prefix_holder(&out->nodes, &self->prefixes[j], &k);

		keep[j] = !h;
		if (h) {
			nodes_prefix_str(&self->prefixes[j], a, sizeof(a));
			used += snprintf(out->self_note + used, used < RECORD_WHY_LEN ? RECORD_WHY_LEN - used : 0,
					 "%s%s (node '%.40s')", used ? ", " : "", a, h->name);
			if (used >= RECORD_WHY_LEN)
				used = RECORD_WHY_LEN;
		}
	}
	out->nodes.self_idx = out->nodes.n;
	snprintf(out->nodes.self, sizeof(out->nodes.self), "%s", self->name);
	err = push(out, self, keep, NODE_SRC_SELF, 0);
	free(keep);
	return err;
}

static int rec_cmp(const void *a, const void *b, void *ctx)
{
	const struct node_record *const *recs = ctx;
	const struct node_record *x = recs[*(const size_t *)a], *y = recs[*(const size_t *)b];

	if (x->create_rev != y->create_rev)
		return x->create_rev < y->create_rev ? -1 : 1;
	return strcmp(x->key, y->key);
}

int records_union(const struct records_union_in *in, struct records_union *out)
{
	size_t *order = calloc(in->n_recs + 1, sizeof(*order));
	char note[RECORD_WHY_LEN];
	bool self_done = !in->self;
	const struct node_def *self = NULL;
	unsigned int families = 0;
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->accepted = calloc(in->n_recs + 1, sizeof(*out->accepted));
	out->why = calloc(in->n_recs + 1, sizeof(*out->why));
	if (!order || !out->accepted || !out->why)
		goto out;
	if (in->self)
		self = in->self;
	else if (in->file && in->file->self[0] && in->file->n)
		self = &in->file->v[in->file->self_idx];
	for (int f = 4; self && f <= 6; f += 2)
		if (nodes_underlay(self, f))
			families |= FRINGE_OV_FAMILY(f);
	for (size_t i = 0; in->file && i < in->file->n; i++) {
		const struct node_def *f = &in->file->v[i];

		/* This node, when the file lists it too, is what announce says. */
		if (in->self && !strcmp(f->name, in->self->name))
			continue;
		if (push(out, f, NULL, NODE_SRC_FILE, 0))
			goto out;
		if (!in->self && in->file->self[0] && i == in->file->self_idx) {
			out->nodes.self_idx = out->nodes.n - 1;
			snprintf(out->nodes.self, sizeof(out->nodes.self), "%s", f->name);
		}
	}
	if (!in->self && (!in->file || !out->nodes.self[0])) {
		err = -EINVAL;
		snprintf(out->self_note, sizeof(out->self_note),
			 "no self: neither an announce line nor a nodes file naming this node");
		goto out;
	}
	for (size_t i = 0; i < in->n_recs; i++)
		order[i] = i;
	qsort_r(order, in->n_recs, sizeof(*order), rec_cmp, (void *)in->recs);
	for (size_t i = 0; i <= in->n_recs; i++) {
		size_t idx = i < in->n_recs ? order[i] : 0;
		const struct node_record *r = i < in->n_recs ? in->recs[idx] : NULL;

		if (!self_done && (!r || r->create_rev >= in->self_rev)) {
			if (push_self(in, out))
				goto out;
			self_done = true;
		}
		if (!r)
			break;
		if (!r->ok) {
			snprintf(out->why[idx], RECORD_WHY_LEN, "%s", r->why);
			continue;
		}
		if (check_joiner(in, out, families, &r->def, out->why[idx], RECORD_WHY_LEN))
			continue;
		if (push(out, &r->def, NULL, NODE_SRC_STORE, r->since))
			goto out;
		out->accepted[idx] = true;
	}
	free(order);
	return 0;
out:
	free(order);
	memcpy(note, out->self_note, sizeof(note));
	records_union_free(out);
	memcpy(out->self_note, note, sizeof(note));
	return err;
}

void records_union_free(struct records_union *u)
{
	nodes_free(&u->nodes);
	free(u->source);
	free(u->since);
	free(u->accepted);
	free(u->why);
	memset(u, 0, sizeof(*u));
}
