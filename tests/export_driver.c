/* Runs a model exported with `ckeras export MODEL --c DIR --name m`:
 *   driver IN OUT [EXPECTED TOLERANCE]
 * IN holds rows of the model's inputs (concatenated per row) as a float32 .npy
 * or raw floats (.bin); the outputs go to OUT as raw floats, and, given a
 * reference .npy (what `ckeras predict` wrote), the largest error relative to
 * max(1, |ref|) is printed and the exit status is 1 above the tolerance.
 * A model of unknown length (M_MAX_STEPS) runs every row at the length the
 * environment's STEPS gives (its maximum without it), through m_predict_len.
 * Plain C99 with no ckeras, so any cross compiler builds it (tests/test_export.c,
 * tests/test_export_int8.c, and tests/export_cross.sh under qemu-user). */
#include "m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Float32 data of a little-endian C-order .npy, or of a raw file; its count. */
static float *read_floats(const char *path, long *count)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    float *data = NULL;
    long size, start = 0;
    if (!f) return NULL;
    if (fread(head, 1, 10, f) == 10 && !memcmp(head, "\x93NUMPY", 6)) start = 10 + (head[8] | head[9] << 8);
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < start || fseek(f, start, SEEK_SET)) goto done;
    *count = (size - start) / 4;
    data = malloc((size_t)(*count + 1) * sizeof *data);
    if (data && fread(data, 4, (size_t)*count, f) != (size_t)*count) free(data), data = NULL;
done:
    fclose(f);
    return data;
}

/* Floats of one row of the input and of the output; the model's steps. */
static void row_floats(long *in, long *out, long *steps)
{
#ifdef M_MAX_STEPS
    const char *e = getenv("STEPS");
    *steps = e ? atol(e) : M_MAX_STEPS;
    *in = *steps * M_INPUT_STEP_FLOATS;
#ifdef M_OUTPUT_STEP_FLOATS
    *out = *steps * M_OUTPUT_STEP_FLOATS;
#else
    *out = M_OUTPUT_FLOATS;
#endif
#else
    *in = M_INPUT_FLOATS, *out = M_OUTPUT_FLOATS, *steps = 0;
#endif
}

/* Every row through the generated code (m_predict_len for an unknown length). */
static int predict_rows(const float *x, float *y, long rows, long in, long out, long steps, void *arena)
{
#ifdef M_MAX_STEPS
    long r;
    int rc = 0;
    for (r = 0; r < rows && !rc; r++) rc = m_predict_len(x + r * in, steps, y + r * out, arena);
    return rc; /* the exit status: m.h's codes (3: too few steps for a window) */
#else
    (void)in, (void)out, (void)steps;
    return m_predict_batch(x, y, rows, arena);
#endif
}

int main(int argc, char **argv)
{
    long nx = 0, nref = 0, rows, ny, i, in, out, steps;
    int rc;
    float *x, *y, *ref;
    void *arena;
    double worst = 0.0;
    FILE *f;
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s IN OUT [EXPECTED.npy TOLERANCE]\n", argv[0]);
        return 2;
    }
    row_floats(&in, &out, &steps);
    x = read_floats(argv[1], &nx);
    if (!x || nx % in) {
        fprintf(stderr, "%s: unreadable, or not rows of %ld floats\n", argv[1], in);
        return 1;
    }
    rows = nx / in, ny = rows * out;
    y = malloc((size_t)(ny + 1) * sizeof *y);
    arena = malloc(M_ARENA_BYTES + 16);
    if (!y || !arena) return 1;
#ifdef M_STATE_BYTES
    m_reset(arena); /* stateful layers: states start at zero, as in a fresh Keras model */
#endif
    rc = predict_rows(x, y, rows, in, out, steps, arena);
    if (rc) return rc;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(y, sizeof *y, (size_t)ny, f) != (size_t)ny || fclose(f)) return 1;
    if (argc == 3) return 0;
    ref = read_floats(argv[3], &nref);
    if (!ref || nref != ny) {
        fprintf(stderr, "%s: unreadable, or not %ld floats\n", argv[3], ny);
        return 1;
    }
    for (i = 0; i < ny; i++) {
        double d = fabs((double)y[i] - ref[i]) / (fabs(ref[i]) > 1.0 ? fabs(ref[i]) : 1.0);
        worst = d > worst || d != d ? d : worst;
    }
    printf("%ld rows, max error %.3g\n", rows, worst);
    return worst <= atof(argv[4]) ? 0 : 1;
}
