/*
 * The one config codec: Python-style keyword arguments and Keras JSON configs are
 * both turned into jansson values and applied to a layer through its class's field
 * table; the same table writes the Keras 3 JSON back out.
 */
#ifndef CK_CONFIG_H
#define CK_CONFIG_H

#include "graph/graph.h"

#include <jansson.h>

/* "units=3, kernel_size=(3, 3), name='d'" -> {"units": 3, ...}; a keyword given
 * twice is an error, as in Python. */
ck_status ck_kwargs_parse(const char *kwargs, json_t **out);
/* The same with leading positional values named by `positional` (NULL-ended,
 * Keras's __init__ order): "0.01, beta_1=0.8" -> {"learning_rate": 0.01, ...}. */
ck_status ck_kwargs_parse_args(const char *kwargs, const char *const *positional, json_t **out);
ck_status ck_config_set_defaults(ck_layer *l);
/* Applies an object of keyword -> value. strict: unknown keywords are errors
 * (C kwargs); otherwise keys newer Keras versions add are ignored (files). */
ck_status ck_config_apply(ck_layer *l, json_t *obj, bool strict);
void ck_config_release(ck_layer *l);
/* Keras 3 {"module", "class_name", "config", "registered_name", "build_config"}. */
json_t *ck_layer_to_json(const ck_layer *l);
json_t *ck_init_to_json(const ck_init *init);
ck_status ck_init_from_json(json_t *v, ck_init *out);
json_t *ck_shape_to_json(const ck_shape *s, int from);
ck_status ck_shape_from_json(json_t *v, ck_shape *out, bool prepend_batch);
#endif
