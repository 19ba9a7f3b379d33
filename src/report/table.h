/* Text renderer for Keras model.summary() tables (internal header).
 *
 * Pure string work: the caller has already turned every layer into the cell
 * strings Keras would show (name, shape, parameter count, connections,
 * trainable flag); this module lays them out exactly as Keras 3 does through
 * rich (keras/src/utils/summary_utils.py print_summary) or as tf.keras 2.13+
 * does with its own row printer (tf_keras/src/utils/layer_utils.py
 * print_summary), byte for byte. It knows nothing about models. */
#ifndef CK_REPORT_TABLE_H
#define CK_REPORT_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* One row of a summary table, already formatted by the caller. */
typedef struct ck_table_row {
    const char *layer;      /* "dense (Dense)", with any "   └ " nesting prefix already applied */
    const char *shape;      /* "(None, 3)" */
    const char *params;     /* "9" or "1,024" or "0 (unbuilt)" — caller formats */
    const char *connected;  /* "d1[0][0], dense[0][0]" or "-"; ignored when !functional */
    const char *trainable;  /* "Y", "N" or "-" ; ignored unless show_trainable */
    int nested_level;       /* for the Keras 2 renderer's expand_nested bars */
} ck_table_row;

typedef struct ck_table_opts {
    int functional;            /* 1: 4 columns with "Connected to" */
    int show_trainable;
    int line_length;           /* 0 = default */
    const double *positions;   /* NULL = default; fractions of line_length */
    int n_positions;
    int console_width;         /* terminal columns; 0 = not a terminal (80) */
} ck_table_opts;

/* Parameter counts and weight sizes (bytes, as Keras computes them: sum of
 * elements * bits / 8) for the footer lines. Totals are derived here, by each
 * Keras generation's own rule, so callers cannot get them wrong. */
typedef struct ck_table_counts {
    int64_t trainable;
    int64_t non_trainable;
    int64_t optimizer;          /* Keras 3 only: optimizer variables */
    double trainable_bytes;
    double non_trainable_bytes;
    double optimizer_bytes;
    int include_optimizer;      /* Keras 3: model compiled and optimizer built */
} ck_table_counts;

/* Keras 3 (rich) table lines, including the leading 'Model: "name"' line, but NOT the footer.
   Returns a malloc'ed NUL-terminated UTF-8 string, or NULL with *err set to a static message
   (e.g. "Insufficient console width to print summary."). */
char *ck_table_render_keras3(const char *model_name, const ck_table_row *rows, int n_rows,
                             const ck_table_opts *opts, const char **err);
/* tf.keras 2.13+ ("Generation C") style table: Model line, '_' line, header, '=' line, rows,
   '=' line. Footer is added by the caller. Same return convention.
   Positions whose last value is <= 1 are fractions of line_length; otherwise
   they are absolute column ends and must be whole numbers. */
char *ck_table_render_keras2(const char *model_name, const ck_table_row *rows, int n_rows,
                             const ck_table_opts *opts, const char **err);
/* "1234567" -> "1,234,567" into buf */
void ck_format_thousands(int64_t v, char *buf, size_t cap);
/* Keras readable_memory_size: 68 -> "68.00 B", 1024 -> "1.00 KB"; unit_b is "B" (Keras 3) or "Byte" (tf.keras) */
void ck_format_bytes(double bytes, const char *unit_b, char *buf, size_t cap);
/* Keras 3 footer lines " Total params: 17 (68.00 B)\n" " Trainable params: ...\n"
   " Non-trainable params: ...\n" and, with include_optimizer, " Optimizer params: ...\n"
   (Total then includes the optimizer). Lines longer than the console are wrapped
   the way rich wraps them. console_width as in ck_table_opts. Same return convention. */
char *ck_table_footer_keras3(const ck_table_counts *counts, int console_width,
                             const char **err);
/* tf.keras 2.13+ footer: "Total params: 17 (68.00 Byte)\n" (no commas, no leading
   space, optimizer never counted), Trainable, Non-trainable, then the closing
   '_' * line_length line (pass ck_table_keras2_line_length(opts)). */
char *ck_table_footer_keras2(const ck_table_counts *counts, int line_length,
                             const char **err);
/* The total width tf.keras uses for opts: line_length or 65 / 98, plus 11 with
   show_trainable. */
int ck_table_keras2_line_length(const ck_table_opts *opts);

#endif /* CK_REPORT_TABLE_H */
