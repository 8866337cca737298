// SPDX-License-Identifier: GPL-2.0
/* Small json-c helpers every layer uses to build and read documents. */
#include "json.h"

json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

json_object *ju64(unsigned long long v)
{
	return json_object_new_uint64(v);
}

const char *jget_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

unsigned long long jget_u64(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}
