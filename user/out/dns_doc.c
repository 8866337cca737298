// SPDX-License-Identifier: GPL-2.0
/* The `dns show` document: learned addresses with their names, sets and expiry, and the answer counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_doc.h"
#include "json.h"

json_object *dns_doc(struct maps *m)
{
	static const char *const results[FRINGE_DNS__COUNT] = {
		[FRINGE_DNS_LEARNED] = "learned", [FRINGE_DNS_NO_MATCH] = "no_match",
		[FRINGE_DNS_UNSOLICITED] = "unsolicited", [FRINGE_DNS_MALFORMED] = "malformed",
	};
	json_object *doc, *arr, *answers;
	struct dns_counts c;
	struct dns_row *rows;
	size_t n;
	int err;

	err = dns_read(m, true, &rows, &n);
	if (!err)
		err = dns_counts(m, &c);
	if (err) {
		errno = -err;
		return NULL;
	}
	doc = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct dns_row *r = &rows[i];
		json_object *o = json_object_new_object(), *names = json_object_new_array();
		json_object *sets = json_object_new_array();
		char addr[INET6_ADDRSTRLEN];

		if (r->expires_in_ms <= 0)
			continue;	/* expired: matches nothing, gone at the next sweep */
		inet_ntop(r->addr.family == 4 ? AF_INET : AF_INET6, r->addr.addr, addr, sizeof(addr));
		json_object_object_add(o, "address", jstr(addr));
		for (int k = 0; k < r->n_names; k++) {
			char tmp[sizeof(r->names[k].sets)], *save = NULL, *t;

			json_object_array_add(names, jstr(r->names[k].name));
			snprintf(tmp, sizeof(tmp), "%s", r->names[k].sets);
			for (t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				bool seen = false;

				for (size_t q = 0; q < json_object_array_length(sets); q++)
					seen |= !strcmp(json_object_get_string(json_object_array_get_idx(sets, q)), t);
				if (!seen)
					json_object_array_add(sets, jstr(t));
			}
		}
		json_object_object_add(o, "names", names);
		json_object_object_add(o, "sets", sets);
		json_object_object_add(o, "ttl", ju64(r->l.ttl));
		json_object_object_add(o, "expires_in", json_object_new_double(r->expires_in_ms / 1000.0));
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "learned", arr);
	answers = json_object_new_object();
	for (int k = 0; k < FRINGE_DNS__COUNT; k++)
		if (results[k])
			json_object_object_add(answers, results[k], ju64(c.result[k]));
	json_object_object_add(doc, "answers", answers);
	json_object_object_add(doc, "queries", ju64(c.result[FRINGE_DNS_QUERIES]));
	json_object_object_add(doc, "learned_addresses", ju64(c.learned_now));
	json_object_object_add(doc, "evictions", ju64(c.result[FRINGE_DNS_EVICTED]));
	json_object_object_add(doc, "full", ju64(c.result[FRINGE_DNS_FULL]));
	free(rows);
	return doc;
}
