/*
 * Keras 3's Progbar (keras/src/utils/progbar.py) as fit() and evaluate() draw it:
 * "32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9132 - loss: 0.2764".
 * On a terminal the bar is redrawn in place with Keras's ANSI styling; elsewhere
 * only the finished line of each epoch is printed, without escapes. verbose=2
 * prints Keras's one-line "32/32 - 1s - 2ms/step - ..." form.
 */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ck_print(const ck_fit_opts *o, const char *text)
{
    if (o->print)
        o->print(text, o->print_user);
    else {
        fputs(text, stdout);
        fflush(stdout);
    }
}

void ck_progbar_start(ck_progbar *p, int64_t target, const ck_fit_opts *o)
{
    *p = (ck_progbar){.target = target, .verbose = o->verbose, .terminal = o->terminal,
                      .start = now_s(), .print = o->print, .user = o->print_user};
}

/* Keras's _format_time: " 2ms/step". */
static void format_time(ck_buf *b, double per_step)
{
    if (per_step >= 1 || per_step == 0)
        ck_buf_printf(b, " %.0fs/step", per_step);
    else if (per_step >= 1e-3)
        ck_buf_printf(b, " %.0fms/step", per_step * 1e3);
    else
        ck_buf_printf(b, " %.0fus/step", per_step * 1e6);
}

static void format_values(ck_buf *b, const char *const *names, const double *v, int n)
{
    for (int i = 0; i < n; i++)
        ck_buf_printf(b, fabs(v[i]) > 1e-3 ? " - %s: %.4f" : " - %s: %.4e", names[i], v[i]);
}

static void emit(ck_progbar *p, ck_buf *b)
{
    char *text = ck_buf_take(b);
    if (!text)
        return;
    ck_fit_opts o = {.print = p->print, .print_user = p->user};
    ck_print(&o, text);
    ck_free(text);
}

void ck_progbar_update(ck_progbar *p, int64_t current, const char *const *names,
                       const double *values, int n, bool finalize)
{
    double t = now_s(), elapsed = t - p->start;
    double per_step = current > 0 ? elapsed / (double)current : 0;
    int digits = (int)log10((double)p->target) + 1;
    ck_buf b = {0};
    if (p->verbose == 2) {
        if (!finalize)
            return;
        ck_buf_printf(&b, "%*lld/%lld - %.0fs -", digits, (long long)current, (long long)p->target, elapsed);
        format_time(&b, per_step);
        format_values(&b, names, values, n);
        ck_buf_put(&b, "\n");
        emit(p, &b);
        return;
    }
    if (p->verbose != 1 || (!finalize && (!p->terminal || t - p->last_update < 0.05)))
        return;
    p->last_update = t;
    int filled = (int)(20.0 * (double)current / (double)p->target);
    ck_buf bar = {0}, info = {0};
    if (p->terminal)
        ck_buf_printf(&bar, "\r\x1b[1m%*lld/%lld\x1b[0m \33[32m", digits, (long long)current, (long long)p->target);
    else
        ck_buf_printf(&bar, "%*lld/%lld ", digits, (long long)current, (long long)p->target);
    for (int i = 0; i < 20; i++) {
        if (i == filled && p->terminal)
            ck_buf_put(&bar, "\x1b[0m\33[37m");
        ck_buf_put(&bar, "\xe2\x94\x81"); /* U+2501 '━' */
    }
    if (p->terminal)
        ck_buf_put(&bar, "\x1b[0m");
    double shown = finalize ? elapsed : per_step * (double)(p->target - current); /* ETA */
    ck_buf_printf(&info, p->terminal ? " \x1b[1m%.0fs\x1b[0m" : " %.0fs", floor(shown));
    format_time(&info, per_step);
    format_values(&info, names, values, n);
    int width = (int)(digits * 2 + 1 + 1 + 20 + info.len);
    ck_buf_putn(&b, bar.data, bar.len);
    ck_buf_putn(&b, info.data, info.len);
    for (int i = width; p->terminal && i < p->prev_width; i++)
        ck_buf_put(&b, " ");
    p->prev_width = width;
    if (finalize)
        ck_buf_put(&b, "\n");
    emit(p, &b);
    ck_buf_free(&bar);
    ck_buf_free(&info);
}
