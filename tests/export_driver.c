/* Runs a model exported with `ckeras export MODEL --c DIR --name m` on the rows
 * of a float32 .npy and compares its outputs with a reference .npy (what
 * `ckeras predict` wrote): prints the largest error relative to max(1, |ref|)
 * and exits 1 above the tolerance. Plain C99 with no ckeras, so it builds with
 * any cross compiler (tests/export_cross.sh runs it under qemu-user). */
#include "m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A little-endian float32 C-order .npy: the data after the header, and its count. */
static float *read_npy(const char *path, long *count)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    float *data = NULL;
    long size, hlen;
    if (!f) return NULL;
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6)) goto done;
    hlen = head[8] | head[9] << 8;
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 10 + hlen || fseek(f, 10 + hlen, SEEK_SET)) goto done;
    *count = (size - 10 - hlen) / 4;
    data = malloc((size_t)(*count + 1) * sizeof *data);
    if (data && fread(data, 4, (size_t)*count, f) != (size_t)*count) free(data), data = NULL;
done:
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    long nx = 0, ny = 0, rows, i;
    float *x, *y, *ref;
    void *arena;
    double worst = 0.0, tol;
    if (argc != 4) {
        fprintf(stderr, "usage: %s X.npy EXPECTED.npy TOLERANCE\n", argv[0]);
        return 2;
    }
    x = read_npy(argv[1], &nx), ref = read_npy(argv[2], &ny), tol = atof(argv[3]);
    if (!x || !ref || nx % M_INPUT_FLOATS || ny != nx / M_INPUT_FLOATS * M_OUTPUT_FLOATS) {
        fprintf(stderr, "%s, %s: unreadable, or sizes do not fit the model\n", argv[1], argv[2]);
        return 1;
    }
    rows = nx / M_INPUT_FLOATS;
    y = malloc((size_t)ny * sizeof *y);
    arena = malloc(M_ARENA_BYTES + 16);
    if (!y || !arena || m_predict_batch(x, y, rows, arena)) return 1;
    for (i = 0; i < ny; i++) {
        double d = fabs((double)y[i] - ref[i]) / (fabs(ref[i]) > 1.0 ? fabs(ref[i]) : 1.0);
        worst = d > worst || d != d ? d : worst;
    }
    printf("%ld rows, max error %.3g\n", rows, worst);
    return worst <= tol ? 0 : 1;
}
