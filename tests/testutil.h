/* A tiny test harness shared by every test program: CHECK macros that count
 * failures, file and .npy readers for goldens, and float comparison. Tests are
 * run from the repository root (CKERAS_ROOT). */
#ifndef CK_TESTUTIL_H
#define CK_TESTUTIL_H

#include "ckeras.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        test_checks++;                                                             \
        if (!(cond)) {                                                             \
            test_failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
        }                                                                          \
    } while (0)

#define CHECK_OK(expr)                                                             \
    do {                                                                           \
        ck_status st_ = (expr);                                                    \
        CHECK(st_ == CK_OK, "%s -> %s: %s", #expr, ck_status_name(st_), ck_errmsg()); \
    } while (0)

/* Prints the tally; the exit status of main. */
int test_report(const char *name);

/* Path under the repository root (CKERAS_ROOT or "."); static buffer per call site use. */
const char *test_path(char *buf, size_t cap, const char *fmt, ...);
/* A JSON file at a path under the repository root (printf-style); a missing or
 * malformed file is a failed check and NULL. Free with json_decref. */
struct json_t *test_load_json(const char *fmt, ...);
/* The summary() options of one summaries.json entry (line_length, the COLUMNS it
 * ran under, positions, show_trainable, expand_nested, layer_range); positions
 * land in `positions` [8], strings stay in the entry. */
ck_summary_opts test_summary_opts(struct json_t *entry, ck_summary_style style, double *positions);
/* Every entry of a summaries.json manifest: summary() with its options must give
 * the text file `dir`/<file> byte for byte. */
void test_check_summaries(const ck_model *m, struct json_t *manifest, const char *dir, ck_summary_style style);
/* A fresh folder $TMPDIR/ckeras_<stem>_<pid> (a failed check if it cannot be made). */
const char *test_scratch_dir(char *buf, size_t cap, const char *stem);
/* The absolute path of a file under the repository root (for commands run in
 * other folders). */
const char *test_abs_path(char *buf, size_t cap, const char *rel);
/* Whole file, NUL-terminated; NULL if missing. */
char *test_read_file(const char *path, size_t *len);
/* The case names of a generated golden set, one per line of the file at `rel`
 * (relative to the repository, as test_path takes it); empty if it is missing.
 * Free names. */
typedef struct test_case_list {
    char (*names)[128];
    int n;
} test_case_list;
test_case_list test_read_cases(const char *rel);

/* A float32/float64/int32/int64 .npy read as float32 (C order). */
typedef struct test_array {
    int rank;
    int64_t dim[8];
    int64_t size;
    float *data;
} test_array;
int test_load_npy(const char *path, test_array *out);
void test_free_array(test_array *a);

/* tests/golden/<root>/<dir>/<file> (.npy) as float32, *rows its first
 * dimension; NULL when missing. free() it. */
float *test_golden_array(const char *root, const char *dir, const char *file, int64_t *rows);
/* Every weight of m from tests/golden/<root>/<dir>/weights/<i>.npy (Keras's
 * get_weights() before training), each a check. */
void test_set_golden_weights(ck_model *m, const char *root, const char *dir);
/* A JSON list of strings joined by ", " (a case's compile(metrics=[...])). */
const char *test_join_strings(struct json_t *list, char *buf, size_t cap);
/* A training case's "class_weight" list into out (at most cap): fit's
 * class_weight and n_class_weight, or NULL and 0 when the case has none. */
const float *test_class_weight(struct json_t *c, float *out, int cap, int *n);

/* max |a-b| / max(1e-6?, |b|) style: returns worst relative-or-absolute error. */
double test_max_error(const float *a, const float *b, int64_t n, double atol);

/* First difference between ck_model_to_json(m) and Keras's to_json in the file
 * keras_config, as "path: ours vs keras" in diff; 0 when equal value for value
 * (a compile_config Keras wrote is not compared). */
/* The first difference of two JSON values, as test_to_json_diff says it (path a JSON path). */
int test_json_diff(struct json_t *ours, struct json_t *keras, const char *path, char *diff, size_t cap);
int test_to_json_diff(ck_model *m, const char *keras_config, char *diff, size_t cap);

#endif
