/* model.predict on the execution engine: batches of batch_size rows through one
 * planned ck_exec, and the ck_predictor handle that keeps a planned engine alive
 * between calls so single-sample inference costs only arithmetic. Models with
 * None non-batch input dims (variable-length sequences) run through
 * ck_model_predict_shaped, on a plan specialised to the data's shapes.
 * A large batch runs as sub-batches whose rows of the busiest layer fit the L2
 * cache (block_rows): layer by layer over the whole batch, a batch-256 CNN's
 * conv activations (22 MB) went to memory and back between layers. */
#include "engine/exec.h"
#include "dist/dist.h"
#include "kernels/gemm_packed.h"

#include <cblas.h>
#include <omp.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

struct ck_predictor {
    ck_exec *ex;       /* planned for one sub-batch (block_rows)            */
    int64_t max_rows;  /* what ck_predictor_run accepts                      */
};

/* Sub-batches of fewer rows gain nothing measurable (bench/README.md,
 * "Blocking inference over the batch") and leave the GEMMs short rows. */
#define BLOCK_MIN_ROWS 8

static int64_t l2_bytes(void)
{
    long b = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return b > 0 ? b : 256 * 1024; /* not reported (some VMs, non-glibc) */
}

/* Rows per sub-batch for calls of up to max_rows rows: as many as keep the
 * busiest layer's inputs, outputs and workspace within L2, but no fewer than
 * make each sub-batch's pass over the weights (read again per sub-batch: a
 * Dense layer's GEMM has the rows as its M) cost at most half what its rows'
 * activations do (at 1x, a 784-512-256-10 MLP at batch 256 ran 2 % slower in
 * halves of 128), nor fewer than BLOCK_MIN_ROWS; spread evenly over the fewest
 * sub-batches (256 rows, at most 100 a block: 86, 86 and 84). All rows at once
 * where a layer ties them together (ck_exec_rows_independent). Depends only on
 * the model, max_rows and the machine's L2, so it is the same from call to call. */
static int64_t block_rows(const ck_exec *probe, int64_t max_rows)
{
    if (max_rows <= BLOCK_MIN_ROWS || !ck_exec_rows_independent(probe)) return max_rows;
    int64_t busiest, all = ck_exec_row_bytes(probe, &busiest);
    int64_t weights = ck_exec_model(probe)->weight_block_size * (int64_t)sizeof(float);
    /* each of the threads a layer splits the rows over has its own L2 (and
     * fewer, larger sub-batches open fewer parallel regions) */
    int64_t rows = busiest > 0 ? l2_bytes() / busiest * omp_get_max_threads() : max_rows;
    int64_t amortized = all > 0 ? (2 * weights + all - 1) / all : 0;
    if (rows < amortized) rows = amortized;
    if (rows < BLOCK_MIN_ROWS) rows = BLOCK_MIN_ROWS;
    /* under two full sub-batches, the split saves less than the second pass
     * over the weights costs (a 784-128-64-10 MLP at batch 256 in halves of
     * 128: 2 % slower) */
    if (2 * rows > max_rows) return max_rows;
    int64_t blocks = (max_rows + rows - 1) / rows;
    return (max_rows + blocks - 1) / blocks;
}

/* An inference engine for calls of up to max_rows rows, planned for one
 * sub-batch of them; *block: its rows. */
static ck_status blocked_engine(ck_model *m, int64_t max_rows, const ck_shape *in_shapes, ck_exec **out, int64_t *block)
{
    ck_exec *probe = NULL;
    *block = max_rows;
    if (max_rows > BLOCK_MIN_ROWS) { /* a one-row plan to read the activations' sizes from */
        ck_status st = ck_exec_create_shaped(m, 1, in_shapes, &probe);
        if (st) return st;
        *block = block_rows(probe, max_rows);
        ck_exec_free(probe);
    }
    ck_status st = ck_exec_create_shaped(m, *block, in_shapes, out);
    if (!st) ck_exec_set_inference_only(*out);
    return st;
}

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
    if (max_rows < 1)
        return ck_fail(CK_ERR_ARG, "model '%s': batch size must be >= 1, got %lld", m->base.name, (long long)max_rows);
    ck_predictor *p = ck_calloc(1, sizeof *p);
    if (!p) return ck_fail(CK_ERR_NOMEM, "out of memory");
    int64_t block;
    if ((st = blocked_engine(m, max_rows, in_shapes, &p->ex, &block))) {
        ck_free(p);
        return st;
    }
    p->max_rows = max_rows;
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

/* Rows [first, first + rows) of the inputs through ex, one planned batch of
 * them (block at most) at a time, into the same rows of outputs. */
static ck_status run_blocks(ck_exec *ex, const float *const *inputs, int64_t first, int64_t rows, float **outputs,
                            int64_t block)
{
    const ck_model *m = ck_exec_model(ex);
    if (block > ck_exec_batch(ex)) block = ck_exec_batch(ex);
    ck_status st = CK_OK;
    if (first == 0 && rows <= block) { /* one sub-batch: the caller's pointers as they are */
        if (!(st = ck_exec_forward(ex, inputs, rows, false))) copy_outputs(ex, rows, outputs, 0);
        return st;
    }
    const float *chunk[64];
    if (m->n_inputs > 64) return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': more than 64 inputs", m->base.name);
    for (int64_t at = first; !st && at < first + rows; at += block) {
        int64_t n = first + rows - at < block ? first + rows - at : block;
        for (int i = 0; i < m->n_inputs; i++) chunk[i] = inputs[i] + at * ck_exec_input_size(ex, i);
        if (!(st = ck_exec_forward(ex, chunk, n, false))) copy_outputs(ex, n, outputs, at);
    }
    return st;
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
    ck_model *m = ck_exec_model(p->ex);
    ck_status st = check_buffers(m, inputs, outputs);
    if (!st && (rows < 1 || rows > p->max_rows))
        st = ck_fail(CK_ERR_ARG, "model '%s': %lld rows for an engine planned for 1..%lld", m->base.name,
                     (long long)rows, (long long)p->max_rows);
    return st ? st : run_blocks(p->ex, inputs, 0, rows, outputs, rows);
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

/* An engine for calls of up to `batch` rows, planned for one sub-batch of
 * them (*block rows, block_rows): the one the last call kept when it is
 * planned for that many rows or more and the model was not planned again
 * since (plan_gen), else a new one; the caller owns it until put_back. */
static ck_status take_engine(ck_model *m, int64_t batch, ck_exec **out, int64_t *block)
{
    ck_exec *ex = atomic_exchange(&m->kept_predict, NULL);
    if (ex && ck_exec_fits(ex, 1)) {
        *block = block_rows(ex, batch); /* a row's bytes do not depend on the planned batch */
        if (ck_exec_fits(ex, *block)) {
            *out = ex;
            return CK_OK;
        }
    }
    ck_exec_free(ex);
    return blocked_engine(m, batch, NULL, out, block);
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
    int64_t block;
    if ((st = take_engine(m, batch, &ex, &block))) return gather_outputs(m, rows, outputs, st);
    /* batch_size only bounds the sub-batches: rows are independent unless a
     * layer ties them (block is then batch) */
    if (!st) st = run_blocks(ex, inputs, lo, mine, outputs, block);
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
    int64_t block;
    if ((st = blocked_engine(m, batch, in_shapes, &ex, &block))) return st;
    for (int i = 0; !st && i < m->n_inputs; i++) {
        int64_t in_size;
        if (!(st = ck_shape_size_from(&in_shapes[i], 1, &in_size)) && in_size < 0)
            st = ck_fail(CK_ERR_ARG, "model '%s': input %d shape has an unknown dimension", m->base.name, i);
    }
    if (!st) st = run_blocks(ex, inputs, 0, rows, outputs, block);
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
