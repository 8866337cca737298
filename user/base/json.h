/* SPDX-License-Identifier: GPL-2.0 */
/* Small json-c helpers every layer uses to build and read documents. */
#ifndef FRINGE_JSON_H
#define FRINGE_JSON_H

#include <json-c/json.h>

json_object *jstr(const char *s);
json_object *ju64(unsigned long long v);
const char *jget_str(json_object *o, const char *key);
unsigned long long jget_u64(json_object *o, const char *key);

#endif
