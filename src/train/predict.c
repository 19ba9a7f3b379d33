/* model.predict on the execution engine: batches of batch_size rows through one
 * planned ck_exec, and the ck_predictor handle that keeps a planned engine alive
 * between calls so single-sample inference costs only arithmetic. Models with
 * None non-batch input dims (variable-length sequences) run through
 * ck_model_predict_shaped, on a plan specialised to the data's shapes. */
#include "engine/exec.h"
#include "dist/dist.h"
#include "kernels/gemm_packed.h"

#include <cblas.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>

struct ck_predictor {
    ck_exec *ex;
};

ck_status ck_predictor_new(ck_model *m, int64_t max_rows, ck_predictor **out)
{
    return ck_predictor_new_shaped(m, max_rows, NULL, out);
}

ck_status ck_predictor_new_shaped(ck_model *m, int64_t max_rows, const ck_shape *in_shapes, ck_predictor **out)
{
    if (!out) return ck_fail(CK_ERR_ARG, "ck_predictor_new: out is NULL");
    *out = NULL;
    if (!m) return ck_fail(CK_ERR_ARG, "ck_predictor_new: model is NULL");
    ck_status st = ck_model_build(m);
    if (st) return st;
    ck_predictor *p = ck_calloc(1, sizeof *p);
    if (!p) return ck_fail(CK_ERR_NOMEM, "out of memory");
    if ((st = ck_exec_create_shaped(m, max_rows, in_shapes, &p->ex))) {
        ck_free(p);
        return st;
    }
    ck_exec_set_inference_only(p->ex);
    *out = p;
    return CK_OK;
}

/* Copies the rows of each output; `first` is the row offset in the caller's buffers. */
static void copy_outputs(const ck_exec *ex, int64_t rows, float **outputs, int64_t first)
{
    for (int i = 0; i < ck_exec_model(ex)->n_outputs; i++) {
        int64_t size = ck_exec_output_size(ex, i);
        memcpy(outputs[i] + first * size, ck_exec_output(ex, i), (size_t)(rows * size) * sizeof(float));
    }
}

static ck_status check_buffers(const ck_model *m, const float *const *inputs, float **outputs)
{
    if (!inputs || !outputs) return ck_fail(CK_ERR_ARG, "model '%s': predict needs input and output buffers", m->base.name);
    for (int i = 0; i < m->n_inputs; i++)
        if (!inputs[i]) return ck_fail(CK_ERR_ARG, "model '%s': input %d is NULL", m->base.name, i);
    for (int i = 0; i < m->n_outputs; i++)
        if (!outputs[i]) return ck_fail(CK_ERR_ARG, "model '%s': output buffer %d is NULL", m->base.name, i);
    return CK_OK;
}

ck_status ck_predictor_run(ck_predictor *p, const float *const *inputs, int64_t rows, float **outputs)
{
    if (!p) return ck_fail(CK_ERR_ARG, "ck_predictor_run: predictor is NULL");
    ck_status st = check_buffers(ck_exec_model(p->ex), inputs, outputs);
    if (!st) st = ck_exec_forward(p->ex, inputs, rows, false);
    if (!st) copy_outputs(p->ex, rows, outputs, 0);
    return st;
}

void ck_predictor_free(ck_predictor *p)
{
    if (!p) return;
    ck_exec_free(p->ex);
    ck_free(p);
}

#define PREDICT_DEFAULT_BATCH 32

/* Data-parallel predict: each rank made its slice of the rows (status st);
 * all ranks now receive every output row. One process: st unchanged. */
static ck_status gather_outputs(ck_model *m, int64_t rows, float **outputs, ck_status st)
{
    for (int i = 0; m->data_parallel && i < m->n_outputs; i++) {
        int64_t size;
        ck_status sz = ck_shape_size_from(&m->outputs[i]->shape, 1, &size);
        ck_status gs = ck_dist_gather_rows(m->data_parallel, outputs[i], rows, size, st != CK_OK || sz != CK_OK);
        if (st == CK_OK)
            st = sz != CK_OK ? sz : gs;
        if (st != CK_OK)
            break;
    }
    return st;
}

static void exec_free(void *ex) { ck_exec_free(ex); }

/* An engine for up to `batch` rows: the one the last call kept when it is
 * planned for that many rows or more and the model was not planned again
 * since (plan_gen), else a new one; the caller owns it until put_back. */
static ck_status take_engine(ck_model *m, int64_t batch, ck_exec **out)
{
    ck_exec *ex = atomic_exchange(&m->kept_predict, NULL);
    if (ex && ck_exec_fits(ex, batch)) {
        *out = ex;
        return CK_OK;
    }
    ck_exec_free(ex);
    ck_status st = ck_exec_create(m, batch, out);
    if (!st) ck_exec_set_inference_only(*out);
    return st;
}

/* Keeps ex for the next call (freed with the model); of concurrent calls the
 * last to finish keeps its engine, and the one it replaces is freed. */
static void put_back(ck_model *m, ck_exec *ex)
{
    /* under the model's lock: threads predicting with one model all set it */
    ck_model_lock(m);
    m->kept_predict_free = exec_free;
    ck_model_unlock(m);
    ck_exec_free(atomic_exchange(&m->kept_predict, ex));
}

ck_status ck_model_predict(ck_model *m, const float *const *inputs, int64_t rows, float **outputs, int64_t batch_size)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_model_predict: model is NULL");
    if (rows < 0) return ck_fail(CK_ERR_ARG, "model '%s': negative row count %lld", m->base.name, (long long)rows);
    ck_status st = ck_model_build(m);
    if (!st && !m->base.built) st = ck_fail(CK_ERR_STATE, "model '%s' is not built (no input shape)", m->base.name);
    if (!st) st = check_buffers(m, inputs, outputs);
    if (st || rows == 0) return st;
    /* data-parallel: this rank's contiguous share of the rows, then every
     * rank gathers all outputs in order */
    int64_t lo, mine;
    ck_dist_slice(m->data_parallel, rows, &lo, &mine);
    int64_t batch = batch_size > 0 ? batch_size : PREDICT_DEFAULT_BATCH;
    if (batch > mine) batch = mine > 0 ? mine : 1;
    ck_exec *ex;
    if ((st = take_engine(m, batch, &ex))) return gather_outputs(m, rows, outputs, st);
    const float *chunk[64];
    if (m->n_inputs > 64) st = ck_fail(CK_ERR_UNSUPPORTED, "model '%s': more than 64 inputs", m->base.name);
    for (int64_t first = lo; !st && first < lo + mine; first += batch) {
        int64_t n = lo + mine - first < batch ? lo + mine - first : batch;
        for (int i = 0; i < m->n_inputs; i++) {
            int64_t size;
            ck_shape_size_from(&m->inputs[i]->shape, 1, &size);
            chunk[i] = inputs[i] + first * size;
        }
        if (!(st = ck_exec_forward(ex, chunk, n, false))) copy_outputs(ex, n, outputs, first);
    }
    put_back(m, ex);
    return gather_outputs(m, rows, outputs, st);
}

/* ---- variable-length inputs: a plan specialised to the data's shapes ---------- */
static ck_status check_shapes(const ck_model *m, const ck_shape *in_shapes, int64_t *rows)
{
    if (!in_shapes) return ck_fail(CK_ERR_ARG, "model '%s': input shapes are NULL", m->base.name);
    for (int i = 0; i < m->n_inputs; i++) {
        const ck_shape *s = &in_shapes[i];
        if (s->rank < 1 || s->dim[0] < 0 || (i > 0 && s->dim[0] != *rows))
            return ck_fail(CK_ERR_ARG, "model '%s': input %d needs a row count equal to the other inputs'",
                           m->base.name, i);
        *rows = s->dim[0];
    }
    return CK_OK;
}

ck_status ck_model_output_shapes_for(ck_model *m, const ck_shape *in_shapes, ck_shape *out_shapes)
{
    if (!m || !out_shapes) return ck_fail(CK_ERR_ARG, "ck_model_output_shapes_for: model or out_shapes is NULL");
    int64_t rows = 0;
    ck_status st = ck_model_build(m);
    if (!st && !m->base.built) st = ck_fail(CK_ERR_STATE, "model '%s' is not built (no input shape)", m->base.name);
    if (!st) st = check_shapes(m, in_shapes, &rows);
    ck_exec *ex = NULL;
    if (!st) st = ck_exec_create_shaped(m, 1, in_shapes, &ex);
    for (int i = 0; !st && i < m->n_outputs; i++) {
        out_shapes[i] = *ck_exec_output_shape(ex, i);
        out_shapes[i].dim[0] = rows;
    }
    ck_exec_free(ex);
    return st;
}

ck_status ck_model_predict_shaped(ck_model *m, const ck_shape *in_shapes, const float *const *inputs, float **outputs,
                                  int64_t batch_size)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_model_predict_shaped: model is NULL");
    int64_t rows = 0;
    ck_status st = ck_model_build(m);
    if (!st && !m->base.built) st = ck_fail(CK_ERR_STATE, "model '%s' is not built (no input shape)", m->base.name);
    if (!st) st = check_shapes(m, in_shapes, &rows);
    if (!st && m->n_inputs > 64) st = ck_fail(CK_ERR_UNSUPPORTED, "model '%s': more than 64 inputs", m->base.name);
    if (!st) st = check_buffers(m, inputs, outputs);
    if (st || rows == 0) return st;
    int64_t batch = batch_size > 0 ? batch_size : PREDICT_DEFAULT_BATCH;
    if (batch > rows) batch = rows;
    ck_exec *ex;
    if ((st = ck_exec_create_shaped(m, batch, in_shapes, &ex))) return st;
    ck_exec_set_inference_only(ex);
    int64_t in_size[64];
    for (int i = 0; !st && i < m->n_inputs; i++)
        if (!(st = ck_shape_size_from(&in_shapes[i], 1, &in_size[i])) && in_size[i] < 0)
            st = ck_fail(CK_ERR_ARG, "model '%s': input %d shape has an unknown dimension", m->base.name, i);
    const float *chunk[64];
    for (int64_t first = 0; !st && first < rows; first += batch) {
        int64_t n = rows - first < batch ? rows - first : batch;
        for (int i = 0; i < m->n_inputs; i++) chunk[i] = inputs[i] + first * in_size[i];
        if (!(st = ck_exec_forward(ex, chunk, n, false))) copy_outputs(ex, n, outputs, first);
    }
    ck_exec_free(ex);
    return st;
}

ck_status ck_model_predict1(ck_model *m, const float *input, int64_t rows, float *output)
{
    if (m && (m->n_inputs != 1 || m->n_outputs != 1) && m->base.built)
        return ck_fail(CK_ERR_ARG, "model '%s' has %d inputs and %d outputs; ck_model_predict1 needs 1 and 1",
                       m->base.name, m->n_inputs, m->n_outputs);
    return ck_model_predict(m, &input, rows, &output, 0);
}

const char *ck_kernel_isa(void)
{
    int nr = ck_packed_nr();
    return nr == 32 ? "avx512" : nr == 16 ? "avx2" : "none";
}

void ck_set_num_threads(int n)
{
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    /* one pool of threads: OpenBLAS's own, spinning between its calls, and
     * OpenMP's, spinning between regions, took each other's cores (a 2-thread
     * CNN training step 3x slower than 1 thread); ck_sgemm splits products
     * over the OpenMP threads instead */
    openblas_set_num_threads(1);
}
