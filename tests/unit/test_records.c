/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the cluster store's node records and their union with the nodes file. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "records.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char good[] = "{\"name\":\"n2\",\"underlay\":\"10.99.0.2\",\"mac\":\"02:99:00:00:00:02\","
			   "\"prefixes\":[\"10.200.2.0/24\",\"fd00:2::/64\"],\"vni\":7,\"since\":1796000000,"
			   "\"future\":{\"x\":1}}";

static void test_parse(void **state)
{
	struct node_def def;
	uint64_t since;
	char why[RECORD_WHY_LEN] = "", *again;

	assert_int_equal(record_parse("n2", good, strlen(good), &def, &since, why, sizeof(why)), 0);
	assert_string_equal(def.name, "n2");
	assert_int_equal(def.family, 4);
	assert_memory_equal(def.underlay, "\x0a\x63\x00\x02", 4);
	assert_true(def.has_mac);
	assert_memory_equal(def.mac, "\x02\x99\x00\x00\x00\x02", 6);
	assert_int_equal(def.n_prefixes, 2);
	assert_int_equal(def.prefixes[1].family, 6);
	assert_int_equal(def.vni, 7);
	assert_int_equal(since, 1796000000);

	/* What we publish reads back the same. */
	again = record_format(&def, since);
	assert_string_equal(again, "{\"name\":\"n2\",\"underlay\":\"10.99.0.2\",\"mac\":\"02:99:00:00:00:02\","
			    "\"prefixes\":[\"10.200.2.0/24\",\"fd00:2::/64\"],\"vni\":7,\"since\":1796000000}");
	record_def_free(&def);
	assert_int_equal(record_parse("n2", again, strlen(again), &def, &since, why, sizeof(why)), 0);
	assert_int_equal(def.vni, 7);
	record_def_free(&def);
	free(again);
}

struct bad {
	const char *name, *value, *why;
};

static const struct bad bad_records[] = {
	{ "n1", "{\"name\":\"n1\",", "not JSON" },
	{ "n1", "not json at all", "not JSON" },
	{ "n1", "[1,2]", "not a JSON object" },
	{ "n1", "{} {}", "not JSON: text after the object" },
	{ "n1", "{\"underlay\":\"10.0.0.1\"}", "no \"name\"" },
	{ "n1", "{\"name\":\"n2\",\"underlay\":\"10.0.0.1\"}", "name 'n2' is not the key's 'n1'" },
	{ "a/b", "{}", "key name 'a/b' is not a node name" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"host.example\"}", "\"underlay\" 'host.example' is not an IP address" },
	{ "n1", "{\"name\":\"n1\"}", "\"underlay\" missing is not an IP address" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"239.1.1.1\"}", "underlay 239.1.1.1 is not a unicast address" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"ff02::1\"}", "not a unicast address" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"0.0.0.0\"}", "not a unicast address" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"01:00:5e:00:00:01\"}", "not a unicast MAC" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\"}", "\"prefixes\" must be a non-empty array" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[]}", "non-empty" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[\"10.1.0.1/16\"]}", "host bits set" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[7]}", "prefix 1 is not a string" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[\"10.1.0.0/16\",\"10.1.2.0/24\"]}", "overlaps another of the record" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[\"10.1.0.0/16\"],\"vni\":0}", "\"vni\" must be a number" },
	{ "n1", "{\"name\":\"n1\",\"underlay\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\",\"prefixes\":[\"10.1.0.0/16\"],\"vni\":\"7\"}", "\"vni\" must be a number" },
};

static void test_bad(void **state)
{
	struct node_def def;
	uint64_t since;
	char why[RECORD_WHY_LEN], *big;

	for (size_t i = 0; i < ARRAY_SIZE(bad_records); i++) {
		const struct bad *b = &bad_records[i];
		int rc;

		why[0] = '\0';
		rc = record_parse(b->name, b->value, strlen(b->value), &def, &since, why, sizeof(why));
		if (rc != -EINVAL || !strstr(why, b->why)) {
			fprintf(stderr, "record %s: want ...%s..., got rc %d: %s\n", b->value, b->why, rc, why);
			fail();
		}
		assert_null(def.prefixes);
	}
	/* A megabyte is refused before it is parsed. */
	big = malloc(1 << 20);
	memset(big, ' ', 1 << 20);
	memcpy(big, good, strlen(good));
	assert_int_equal(record_parse("n2", big, 1 << 20, &def, &since, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "record of 1048576 bytes (at most 4096)"));
	free(big);
}

/* ---- the union --------------------------------------------------------------------- */

static struct node_record *rec(const char *name, int64_t rev, const char *underlay, const char *prefixes)
{
	struct node_record *r = calloc(1, sizeof(*r));
	char *json;

	assert_int_equal(asprintf(&json, "{\"name\":\"%s\",\"underlay\":\"%s\",\"mac\":\"02:00:00:00:00:%02x\","
				  "\"prefixes\":[%s]}", name, underlay, (unsigned int)rev & 0xff, prefixes) > 0, 1);
	r->key = strdup(name);
	r->create_rev = rev;
	r->ok = !record_parse(name, json, strlen(json), &r->def, &r->since, r->why, sizeof(r->why));
	free(json);
	return r;
}

static void rec_free(struct node_record *r)
{
	record_def_free(&r->def);
	free((char *)r->key);
	free(r);
}

static bool local_10_99_0_1(void *ctx, int family, const uint8_t *a)
{
	return family == 4 && !memcmp(a, "\x0a\x63\x00\x01", 4);
}

static const struct node_def *find(const struct records_union *u, const char *name, enum node_source *src)
{
	for (size_t i = 0; i < u->nodes.n; i++)
		if (!strcmp(u->nodes.v[i].name, name)) {
			*src = u->source[i];
			return &u->nodes.v[i];
		}
	return NULL;
}

static void test_union(void **state)
{
	struct nodes file;
	struct diags d = { 0 };
	static const char ftext[] = "self auto\n"
				    "node linux underlay 10.99.0.9 mac 02:00:00:00:00:09 prefix 10.200.9.0/24\n";
	struct node_record *r[9];
	struct node_def self;
	struct records_union u;
	enum node_source src;
	uint64_t since;
	char why[RECORD_WHY_LEN];
	static const char sj[] = "{\"name\":\"n1\",\"underlay\":\"10.99.0.1\",\"mac\":\"02:00:00:00:00:01\","
				 "\"prefixes\":[\"10.200.1.0/24\",\"10.250.0.0/24\"]}";

	assert_int_equal(nodes_parse(ftext, strlen(ftext), &d, &file), 0);
	assert_int_equal(record_parse("n1", sj, strlen(sj), &self, &since, why, sizeof(why)), 0);
	r[0] = rec("n3", 30, "10.99.0.3", "\"10.200.3.0/24\"");
	r[1] = rec("n2", 20, "10.99.0.2", "\"10.200.2.0/24\",\"10.250.0.0/24\"");	/* older than self: keeps 10.250/24 */
	r[2] = rec("n4", 40, "10.99.0.4", "\"10.200.3.128/25\"");	/* n3 (older) holds it */
	r[3] = rec("linux", 5, "10.99.0.19", "\"10.201.0.0/24\"");	/* the file holds the name */
	r[4] = rec("n5", 50, "10.99.0.1", "\"10.200.5.0/24\"");		/* this host's address */
	r[5] = rec("n6", 60, "10.99.0.3", "\"10.200.6.0/24\"");		/* n3's underlay */
	r[6] = rec("n7", 70, "fd00::7", "\"10.200.7.0/24\"");		/* other family */
	r[7] = rec("n8", 80, "224.0.0.8", "\"10.200.8.0/24\"");		/* multicast: invalid */
	r[8] = rec("n9", 90, "10.99.0.99", "\"10.200.9.0/25\"");	/* the file's linux holds 10.200.9/24 */
	assert_false(r[7]->ok);
	{
		const struct node_record *const recs[] = { r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] };
		struct records_union_in in = {
			.file = &file, .self = &self, .self_rev = 25, .recs = recs, .n_recs = 9,
			.is_local = local_10_99_0_1,
		};

		assert_int_equal(records_union(&in, &u), 0);
	}
	assert_int_equal(u.nodes.n, 4);		/* linux, n2, n1 (self), n3 */
	assert_string_equal(u.nodes.self, "n1");
	assert_string_equal(u.nodes.v[u.nodes.self_idx].name, "n1");
	assert_non_null(find(&u, "linux", &src));
	assert_int_equal(src, NODE_SRC_FILE);
	assert_non_null(find(&u, "n2", &src));
	assert_int_equal(src, NODE_SRC_STORE);
	assert_int_equal(find(&u, "n1", &src)->n_prefixes, 1);	/* 10.250/24 is n2's, older */
	assert_int_equal(src, NODE_SRC_SELF);
	assert_non_null(strstr(u.self_note, "10.250.0.0/24 (node 'n2')"));
	assert_true(u.accepted[0]);
	assert_true(u.accepted[1]);
	assert_false(u.accepted[2]);
	assert_non_null(strstr(u.why[2], "prefix 10.200.3.128/25 overlaps 10.200.3.0/24, already claimed by node 'n3'"));
	assert_non_null(strstr(u.why[3], "name 'linux' is already held (by the nodes file)"));
	assert_non_null(strstr(u.why[4], "underlay 10.99.0.1 is"));
	assert_non_null(strstr(u.why[5], "underlay 10.99.0.3 is already node 'n3''s"));
	assert_non_null(strstr(u.why[6], "is IPv6; this node has no IPv6 underlay address"));
	assert_non_null(strstr(u.why[7], "not a unicast address"));
	assert_non_null(strstr(u.why[8], "already claimed by node 'linux'"));
	records_union_free(&u);

	/* n3 leaves: n4's record, refused until now, is loaded. */
	{
		const struct node_record *const recs[] = { r[1], r[2] };
		struct records_union_in in = { .file = &file, .self = &self, .self_rev = INT64_MAX,
					       .recs = recs, .n_recs = 2 };

		assert_int_equal(records_union(&in, &u), 0);
		assert_true(u.accepted[1]);
		assert_non_null(find(&u, "n4", &src));
		assert_int_equal(u.nodes.n, 4);
		records_union_free(&u);
	}
	/* Without announce, the nodes file names this node. */
	{
		const struct node_record *const recs[] = { r[0] };
		struct records_union_in in = { .file = &file, .recs = recs, .n_recs = 1 };

		assert_int_equal(records_union(&in, &u), -EINVAL);	/* self auto, unresolved */
		assert_non_null(strstr(u.self_note, "no self"));
		records_union_free(&u);
		strcpy(file.self, "linux");
		file.self_idx = 0;
		assert_int_equal(records_union(&in, &u), 0);
		assert_string_equal(u.nodes.self, "linux");
		assert_int_equal(u.nodes.n, 2);
		records_union_free(&u);
	}
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		rec_free(r[i]);
	record_def_free(&self);
	nodes_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_union),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
