/*
 * Data-parallel training over MPI: joining the job, the start-of-fit checks and
 * weight broadcast, the small ordered sums of losses and metric states, and
 * the gradient buckets whose reductions overlap backward.
 *
 * Gradients are cut into buckets at weight boundaries, from the end of the
 * gradient block (backward makes the last layers' gradients first), each
 * about bucket_bytes. Which engine layer call finishes a bucket is learnt on
 * the first step: rank 0 records, for each bucket, the index of the last
 * grad_ready call that touches it, and broadcasts that schedule; from then on
 * every rank starts a bucket's nonblocking reduction right after that call,
 * in the same order on every rank (MPI needs collectives in one order). The
 * hook also tests the oldest pending request, since Open MPI's TCP transport
 * moves data only inside MPI calls.
 *
 * ORDERED reduction gathers each bucket from every rank (MPI_Iallgather) and
 * adds the copies in rank order after the wait: MPI_Iallreduce's order of
 * additions is the implementation's and may change with message size or
 * algorithm, and a fixed order is what makes reruns bit-identical. It costs
 * (size - 1) x the bucket in traffic and size x in memory, against a ring
 * allreduce's 2 (size - 1) / size, so CK_REDUCE_MPI is there for large jobs.
 */
#include "dist/dist.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

bool ck_distribute_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PMIX_MAPPING_SERV"};
    for (int i = 0; i < CK_N_OF(vars); i++)
        if (getenv(vars[i]))
            return true;
    return false;
}

#ifndef CK_HAVE_MPI

static ck_status no_mpi(void)
{
    return ck_fail(CK_ERR_UNSUPPORTED, "this ckeras was built without MPI: data-parallel training needs Open MPI "
                   "(libopenmpi-dev) when it is built");
}
ck_status ck_distribute_init(int *argc, char ***argv, ck_data_parallel **out)
{
    (void)argc, (void)argv;
    if (out)
        *out = NULL;
    return no_mpi();
}
int ck_distribute_rank(const ck_data_parallel *d) { return (void)d, 0; }
int ck_distribute_size(const ck_data_parallel *d) { return (void)d, 1; }
void ck_distribute_set_bucket_bytes(ck_data_parallel *d, int64_t bytes) { (void)d, (void)bytes; }
void ck_distribute_set_reduction(ck_data_parallel *d, ck_reduction r) { (void)d, (void)r; }
void ck_distribute_get_stats(const ck_data_parallel *d, ck_distribute_stats *out)
{
    (void)d;
    memset(out, 0, sizeof *out);
}
ck_status ck_model_set_distribution(ck_model *m, ck_data_parallel *d)
{
    (void)m;
    return d ? no_mpi() : CK_OK;
}
void ck_distribute_abort(ck_data_parallel *d, int exit_code) { (void)d, (void)exit_code; }
void ck_distribute_finalize(ck_data_parallel *d) { (void)d; }
void ck_dist_slice(const ck_data_parallel *d, int64_t rows, int64_t *first, int64_t *count)
{
    (void)d;
    *first = 0, *count = rows;
}
bool ck_dist_is_root(const ck_data_parallel *d) { return (void)d, true; }
ck_status ck_dist_check_same(ck_data_parallel *d, const char *const *names, const int64_t *values, int n)
{
    (void)d, (void)names, (void)values, (void)n;
    return no_mpi();
}
ck_status ck_dist_broadcast(ck_data_parallel *d, float *v, int64_t n) { return (void)d, (void)v, (void)n, no_mpi(); }
ck_status ck_dist_sum(ck_data_parallel *d, double *v, int n) { return (void)d, (void)v, (void)n, no_mpi(); }
ck_status ck_dist_grads_attach(ck_data_parallel *d, ck_model *m, ck_exec *ex)
{
    return (void)d, (void)m, (void)ex, no_mpi();
}
ck_status ck_dist_gather_rows(ck_data_parallel *d, float *buf, int64_t rows, int64_t row_size, bool failed)
{
    return (void)d, (void)buf, (void)rows, (void)row_size, (void)failed, no_mpi();
}
ck_status ck_dist_grads_finish(ck_data_parallel *d, bool backward_ran) { return (void)d, (void)backward_ran, no_mpi(); }
void ck_dist_grads_detach(ck_data_parallel *d) { (void)d; }

#else

#include <mpi.h>

#define NOT_LEARNT (-2)
#define NEVER_READY 0x7fffffff

typedef struct bucket {
    int64_t lo, n;        /* floats [lo, lo + n) of the gradient block                */
    int ready_at;         /* index of the grad_ready call after which it is final     */
    MPI_Request req;
    bool started;
} bucket;

/* One fit's gradient reduction. */
typedef struct grad_sync {
    ck_model *m;
    ck_exec *ex;
    bucket *b;            /* [nb], b[0] at the end of the block (backward's order)  */
    int nb;
    int *order;           /* [nb] buckets by (ready_at, index): the start order     */
    int next;             /* order[next] is the next bucket to start                */
    int calls;            /* grad_ready calls in this backward                      */
    bool learnt;          /* the schedule is known (after the first step)           */
    float *gathered;      /* ORDERED: [size * block], bucket i's copies at size*lo  */
    /* BatchNormalization(synchronized=True): the sizes of one step's sums, in
     * order (learnt on the first step), which a rank without rows replays. */
    int64_t *sums;
    int n_sums, cap_sums, sum_calls;
    /* Unsynchronized BatchNormalization's moving statistics: each rank moves
     * them by its own rows, so after each step they are averaged (TF's
     * MirroredStrategy rule), which keeps the ranks' weights identical. */
    int64_t *moving;      /* [n_moving] (offset, size) pairs into the weight block */
    int n_moving;
    double *moving_buf;   /* [moving_size]                                         */
    int64_t moving_size;
} grad_sync;

struct ck_data_parallel {
    MPI_Comm comm;
    MPI_Comm comm_bn;     /* the layers' sums (sum_across), apart from the buckets:
                           * a rank without rows replays them in its own order     */
    int rank, size;
    bool owns_mpi;        /* ck_distribute_init called MPI_Init                     */
    int64_t bucket_bytes;
    ck_reduction reduction;
    ck_distribute_stats stats;
    grad_sync *sync;      /* the running fit's, or NULL                             */
    /* The per-step sums' buffer: every rank's copies, then zeros for a replay;
     * grown to the largest sum, so steps after the first allocate nothing. */
    double *scratch;
    int64_t scratch_cap;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One line for an MPI error: with MPI_ERRORS_RETURN a lost peer surfaces here
 * (when the launcher has not ended the job first). */
static ck_status mpi_fail(const ck_data_parallel *d, int rc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", rc);
    return ck_fail(CK_ERR_IO, "distributed fit: %s failed on rank %d of %d (a rank lost?): %s", what, d->rank,
                   d->size, text);
}

ck_status ck_distribute_init(int *argc, char ***argv, ck_data_parallel **out)
{
    if (!out)
        return ck_fail(CK_ERR_ARG, "ck_distribute_init: out is NULL");
    *out = NULL;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS)
        return ck_fail(CK_ERR_IO, "ck_distribute_init: MPI_Init failed");
    ck_data_parallel *d = ck_calloc(1, sizeof *d);
    if (!d)
        return ck_fail(CK_ERR_NOMEM, "ck_distribute_init: out of memory");
    d->owns_mpi = !inited;
    d->bucket_bytes = 25 << 20;
    d->reduction = CK_REDUCE_ORDERED;
    /* our own communicator: ckeras's collectives never mix with the caller's,
     * and errors come back as codes instead of ending the process */
    if (MPI_Comm_dup(MPI_COMM_WORLD, &d->comm) != MPI_SUCCESS) {
        ck_free(d);
        return ck_fail(CK_ERR_IO, "ck_distribute_init: MPI_Comm_dup failed");
    }
    if (MPI_Comm_dup(MPI_COMM_WORLD, &d->comm_bn) != MPI_SUCCESS) {
        MPI_Comm_free(&d->comm);
        ck_free(d);
        return ck_fail(CK_ERR_IO, "ck_distribute_init: MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(d->comm_bn, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    *out = d;
    return CK_OK;
}

int ck_distribute_rank(const ck_data_parallel *d) { return d ? d->rank : 0; }
int ck_distribute_size(const ck_data_parallel *d) { return d ? d->size : 1; }
bool ck_dist_is_root(const ck_data_parallel *d) { return !d || d->rank == 0; }

void ck_distribute_set_bucket_bytes(ck_data_parallel *d, int64_t bytes)
{
    if (d && bytes > 0)
        d->bucket_bytes = bytes;
}

void ck_distribute_set_reduction(ck_data_parallel *d, ck_reduction r)
{
    if (d)
        d->reduction = r;
}

void ck_distribute_get_stats(const ck_data_parallel *d, ck_distribute_stats *out)
{
    if (d)
        *out = d->stats;
    else
        memset(out, 0, sizeof *out);
}

ck_status ck_model_set_distribution(ck_model *m, ck_data_parallel *d)
{
    if (!m)
        return ck_fail(CK_ERR_ARG, "ck_model_set_distribution: model is NULL");
    m->data_parallel = d;
    return CK_OK;
}

void ck_distribute_abort(ck_data_parallel *d, int exit_code)
{
    if (d)
        MPI_Abort(d->comm, exit_code);
}

void ck_distribute_finalize(ck_data_parallel *d)
{
    if (!d)
        return;
    ck_dist_grads_detach(d);
    MPI_Comm_free(&d->comm);
    MPI_Comm_free(&d->comm_bn);
    ck_free(d->scratch);
    if (d->owns_mpi)
        MPI_Finalize();
    ck_free(d);
}

void ck_dist_slice(const ck_data_parallel *d, int64_t rows, int64_t *first, int64_t *count)
{
    int64_t size = d ? d->size : 1, r = d ? d->rank : 0, base = rows / size, extra = rows % size;
    *count = base + (r < extra);
    *first = r * base + (r < extra ? r : extra);
}

ck_status ck_dist_check_same(ck_data_parallel *d, const char *const *names, const int64_t *values, int n)
{
    int64_t *all = ck_malloc((size_t)d->size * (size_t)n * sizeof *all);
    if (!all)
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    int rc = MPI_Allgather(values, n, MPI_INT64_T, all, n, MPI_INT64_T, d->comm);
    ck_status st = rc == MPI_SUCCESS ? CK_OK : mpi_fail(d, rc, "the start-of-fit check");
    for (int r = 1; st == CK_OK && r < d->size; r++)
        for (int i = 0; i < n && st == CK_OK; i++)
            if (all[(size_t)r * (size_t)n + (size_t)i] != all[i])
                st = ck_fail(CK_ERR_SHAPE, "distributed fit: rank %d's %s is %lld but rank 0's is %lld; every rank "
                             "must load the same model and data", r, names[i],
                             (long long)all[(size_t)r * (size_t)n + (size_t)i], (long long)all[i]);
    ck_free(all);
    return st;
}

ck_status ck_dist_broadcast(ck_data_parallel *d, float *v, int64_t n)
{
    for (int64_t at = 0; at < n; at += 1 << 28) { /* MPI counts are int */
        int rc = MPI_Bcast(v + at, (int)(n - at < (1 << 28) ? n - at : 1 << 28), MPI_FLOAT, 0, d->comm);
        if (rc != MPI_SUCCESS)
            return mpi_fail(d, rc, "broadcasting rank 0's weights");
    }
    return CK_OK;
}

static ck_status sum_on(ck_data_parallel *d, MPI_Comm comm, double *v, int n);

ck_status ck_dist_sum(ck_data_parallel *d, double *v, int n) { return sum_on(d, d->comm, v, n); }

/* At least n doubles of d->scratch. */
static double *scratch(ck_data_parallel *d, int64_t n)
{
    if (n > d->scratch_cap) {
        double *more = ck_realloc(d->scratch, (size_t)n * sizeof *more);
        if (!more)
            return NULL;
        d->scratch = more, d->scratch_cap = n;
    }
    return d->scratch;
}

static ck_status sum_on(ck_data_parallel *d, MPI_Comm comm, double *v, int n)
{
    if (d->size == 1 || n == 0)
        return CK_OK;
    double *all = scratch(d, (int64_t)d->size * n);
    if (!all)
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    int rc = MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, comm);
    if (rc == MPI_SUCCESS)
        for (int i = 0; i < n; i++) {
            double s = all[i];
            for (int r = 1; r < d->size; r++)
                s += all[(size_t)r * (size_t)n + (size_t)i];
            v[i] = s;
        }
    return rc == MPI_SUCCESS ? CK_OK : mpi_fail(d, rc, "summing losses and metrics");
}

ck_status ck_dist_gather_rows(ck_data_parallel *d, float *buf, int64_t rows, int64_t row_size, bool failed)
{
    int *failures = ck_malloc((size_t)d->size * 3 * sizeof *failures), *counts = failures + d->size,
        *displs = counts + d->size;
    if (!failures)
        return ck_fail(CK_ERR_NOMEM, "distributed predict: out of memory");
    int mine = failed, rc = MPI_Allgather(&mine, 1, MPI_INT, failures, 1, MPI_INT, d->comm);
    ck_status st = rc == MPI_SUCCESS ? CK_OK : mpi_fail(d, rc, "gathering predictions");
    for (int r = 0; st == CK_OK && !failed && r < d->size; r++) /* a failed rank keeps its own message */
        if (failures[r])
            st = ck_fail(CK_ERR_STATE, "distributed predict: rank %d failed on its rows", r);
    ck_data_parallel one = *d;
    for (int r = 0; st == CK_OK && r < d->size; r++) {
        int64_t first, count;
        one.rank = r;
        ck_dist_slice(&one, rows, &first, &count);
        if ((first + count) * row_size > 0x7fffffff)
            st = ck_fail(CK_ERR_UNSUPPORTED, "distributed predict: %lld output values is too many for one gather",
                         (long long)(rows * row_size));
        counts[r] = (int)(count * row_size), displs[r] = (int)(first * row_size);
    }
    if (st == CK_OK && !failed && (rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, buf, counts, displs, MPI_FLOAT, d->comm)))
        st = mpi_fail(d, rc, "gathering predictions");
    ck_free(failures);
    return st;
}

/* ---- gradient buckets ------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Buckets cut at weight starts, from the block's end down, each at least
 * bucket_bytes unless it reaches the block's start. */
static ck_status make_buckets(ck_data_parallel *d, grad_sync *g)
{
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(g->m, &refs, &n);
    if (st != CK_OK)
        return st;
    int64_t *starts = ck_malloc((size_t)(n + 1) * sizeof *starts);
    g->b = ck_calloc((size_t)(n + 1), sizeof *g->b);
    g->order = ck_malloc((size_t)(n + 1) * sizeof *g->order);
    if (!starts || !g->b || !g->order) {
        ck_free(refs), ck_free(starts);
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    }
    int ns = 0;
    starts[ns++] = 0;
    for (int i = 0; i < n; i++)
        starts[ns++] = refs[i].w->value - g->m->weight_block;
    ck_free(refs);
    qsort(starts, (size_t)ns, sizeof *starts, cmp_i64);
    int64_t hi = g->m->weight_block_size, per = d->bucket_bytes / (int64_t)sizeof(float);
    for (int i = ns - 1; i >= 0 && hi > 0; i--) {
        if (starts[i] >= hi || (i > 0 && hi - starts[i] < per))
            continue;
        if (hi - starts[i] > (1 << 30) / d->size) {
            ck_free(starts);
            return ck_fail(CK_ERR_UNSUPPORTED, "distributed fit: a weight of %lld values is too big for one "
                           "reduction", (long long)(hi - starts[i]));
        }
        g->b[g->nb++] = (bucket){.lo = starts[i], .n = hi - starts[i], .ready_at = NOT_LEARNT};
        hi = starts[i];
    }
    ck_free(starts);
    return CK_OK;
}

static ck_status start_bucket(ck_data_parallel *d, grad_sync *g, bucket *b)
{
    float *grad = g->m->grad_block + b->lo;
    int rc = d->reduction == CK_REDUCE_MPI
                 ? MPI_Iallreduce(MPI_IN_PLACE, grad, (int)b->n, MPI_FLOAT, MPI_SUM, d->comm, &b->req)
                 : MPI_Iallgather(grad, (int)b->n, MPI_FLOAT, g->gathered + (size_t)d->size * (size_t)b->lo,
                                  (int)b->n, MPI_FLOAT, d->comm, &b->req);
    if (rc != MPI_SUCCESS)
        return mpi_fail(d, rc, "starting a gradient reduction");
    b->started = true;
    d->stats.buckets++;
    d->stats.bytes += 4.0 * (double)b->n;
    return CK_OK;
}

/* Learning: the latest call that touched each bucket. */
static void learn(grad_sync *g, const ck_layer *l, int call)
{
    for (int w = 0; w < l->n_weights; w++) {
        int64_t lo = l->weights[w].value - g->m->weight_block, hi = lo + l->weights[w].size;
        for (int i = 0; i < g->nb; i++)
            if (g->b[i].lo < hi && lo < g->b[i].lo + g->b[i].n && g->b[i].ready_at < call)
                g->b[i].ready_at = call;
    }
}

static ck_status on_grad_ready(void *user, const ck_layer *l)
{
    ck_data_parallel *d = user;
    grad_sync *g = d->sync;
    int call = g->calls++;
    if (!g->learnt) {
        learn(g, l, call);
        return CK_OK;
    }
    ck_status st = CK_OK;
    while (st == CK_OK && g->next < g->nb && g->b[g->order[g->next]].ready_at <= call)
        st = start_bucket(d, g, &g->b[g->order[g->next++]]);
    for (int i = 0; st == CK_OK && i < g->next; i++) { /* let MPI move the oldest pending one */
        bucket *b = &g->b[g->order[i]];
        if (b->req == MPI_REQUEST_NULL)
            continue;
        int done = 0, rc = MPI_Test(&b->req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            st = mpi_fail(d, rc, "a gradient reduction");
        break;
    }
    return st;
}

static ck_status on_sum_across(void *user, double *v, int64_t n)
{
    ck_data_parallel *d = user;
    grad_sync *g = d->sync;
    if (n > 0x7fffffff)
        return ck_fail(CK_ERR_UNSUPPORTED, "distributed fit: a sum of %lld values", (long long)n);
    if (!g->learnt && g->n_sums == g->cap_sums) {
        int cap = g->cap_sums ? 2 * g->cap_sums : 16;
        int64_t *more = ck_realloc(g->sums, (size_t)cap * sizeof *more);
        if (!more)
            return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
        g->sums = more, g->cap_sums = cap;
    }
    if (!g->learnt)
        g->sums[g->n_sums++] = n;
    else if (g->sum_calls >= g->n_sums || g->sums[g->sum_calls] != n)
        return ck_fail(CK_ERR_STATE, "distributed fit: the layers' cross-rank sums changed after the first step");
    g->sum_calls++;
    return sum_on(d, d->comm_bn, v, (int)n);
}

/* A rank without rows this step: the sums the others make, with zeros. */
static ck_status replay_sums(ck_data_parallel *d, grad_sync *g)
{
    if (g->n_sums && !g->learnt)
        return ck_fail(CK_ERR_STATE, "distributed fit: rank %d had no rows in the first step", d->rank);
    ck_status st = CK_OK;
    for (int i = 0; st == CK_OK && i < g->n_sums; i++) {
        /* zeros after the copies sum_on gathers into the same buffer */
        double *all = scratch(d, (int64_t)(d->size + 1) * g->sums[i]);
        if (!all)
            return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
        double *zeros = all + d->size * g->sums[i];
        memset(zeros, 0, (size_t)g->sums[i] * sizeof *zeros);
        st = sum_on(d, d->comm_bn, zeros, (int)g->sums[i]);
    }
    return st;
}

/* The moving statistics of every BatchNormalization (its non-trainable
 * weights): a synchronized one's are equal on all ranks already, and the mean
 * of equal values in double gives them back exactly. */
static ck_status find_moving(grad_sync *g)
{
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(g->m, &refs, &n);
    if (st != CK_OK)
        return st;
    g->moving = ck_malloc((size_t)(2 * n + 1) * sizeof *g->moving);
    for (int i = 0; g->moving && i < n; i++)
        if (!refs[i].trainable && !strcmp(refs[i].layer->cls->class_name, "BatchNormalization")) {
            g->moving[2 * g->n_moving] = refs[i].w->value - g->m->weight_block;
            g->moving[2 * g->n_moving++ + 1] = refs[i].w->size;
            g->moving_size += refs[i].w->size;
        }
    ck_free(refs);
    if (!g->moving || !(g->moving_buf = ck_malloc((size_t)(g->moving_size + 1) * sizeof *g->moving_buf)))
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    if (g->moving_size > 0x7fffffff)
        return ck_fail(CK_ERR_UNSUPPORTED, "distributed fit: too many moving statistics");
    return CK_OK;
}

/* The mean over the ranks that ran forward this step (a rank without rows
 * left its statistics where they were). */
static ck_status average_moving(ck_data_parallel *d, grad_sync *g, bool ran)
{
    if (!g->moving_size)
        return CK_OK;
    double *v = g->moving_buf;
    for (int i = 0, at = 0; i < g->n_moving; at += (int)g->moving[2 * i + 1], i++)
        for (int64_t j = 0; j < g->moving[2 * i + 1]; j++)
            v[at + j] = ran ? g->m->weight_block[g->moving[2 * i] + j] : 0.0;
    v[g->moving_size] = ran;
    ck_status st = ck_dist_sum(d, v, (int)g->moving_size + 1);
    for (int i = 0, at = 0; st == CK_OK && i < g->n_moving; at += (int)g->moving[2 * i + 1], i++)
        for (int64_t j = 0; j < g->moving[2 * i + 1]; j++)
            g->m->weight_block[g->moving[2 * i] + j] = (float)(v[at + j] / v[g->moving_size]);
    return st;
}

ck_status ck_dist_grads_attach(ck_data_parallel *d, ck_model *m, ck_exec *ex)
{
    ck_dist_grads_detach(d);
    grad_sync *g = ck_calloc(1, sizeof *g);
    if (!g)
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    g->m = m, g->ex = ex;
    d->sync = g;
    ck_status st = make_buckets(d, g);
    if (st == CK_OK)
        st = find_moving(g);
    if (st == CK_OK && d->reduction == CK_REDUCE_ORDERED && d->size > 1 &&
        !(g->gathered = ck_malloc((size_t)d->size * (size_t)(m->weight_block_size ? m->weight_block_size : 1) *
                                  sizeof(float))))
        st = ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory for %d copies of the gradients", d->size);
    if (st != CK_OK) {
        ck_dist_grads_detach(d);
        return st;
    }
    if (d->size > 1) { /* one rank: its gradient is the sum already */
        ck_exec_set_data_parallel(ex, on_grad_ready, on_sum_across, d);
    }
    return CK_OK;
}

void ck_dist_grads_detach(ck_data_parallel *d)
{
    grad_sync *g = d ? d->sync : NULL;
    if (!g)
        return;
    if (g->ex)
        ck_exec_set_data_parallel(g->ex, NULL, NULL, NULL);
    ck_free(g->b), ck_free(g->order), ck_free(g->gathered);
    ck_free(g->sums), ck_free(g->moving), ck_free(g->moving_buf);
    ck_free(g);
    d->sync = NULL;
}

/* After the first step: rank 0's schedule for everyone, and the start order. */
static ck_status finish_learning(ck_data_parallel *d, grad_sync *g)
{
    int *ready = ck_malloc((size_t)g->nb * sizeof *ready);
    if (!ready)
        return ck_fail(CK_ERR_NOMEM, "distributed fit: out of memory");
    for (int i = 0; i < g->nb; i++)
        ready[i] = g->b[i].ready_at == NOT_LEARNT ? NEVER_READY : g->b[i].ready_at;
    int rc = MPI_Bcast(ready, g->nb, MPI_INT, 0, d->comm);
    for (int i = 0; i < g->nb; i++)
        g->b[i].ready_at = ready[i];
    ck_free(ready);
    if (rc != MPI_SUCCESS)
        return mpi_fail(d, rc, "sharing the bucket schedule");
    /* insertion sort by (ready_at, index): stable and tiny */
    for (int i = 0; i < g->nb; i++) {
        int j = i;
        while (j > 0 && g->b[g->order[j - 1]].ready_at > g->b[i].ready_at)
            g->order[j] = g->order[j - 1], j--;
        g->order[j] = i;
    }
    g->learnt = true;
    return CK_OK;
}

static void add_in_rank_order(const ck_data_parallel *d, const grad_sync *g, const bucket *b)
{
    const float *all = g->gathered + (size_t)d->size * (size_t)b->lo;
    float *out = g->m->grad_block + b->lo;
    memcpy(out, all, (size_t)b->n * sizeof *out);
    for (int r = 1; r < d->size; r++) {
        const float *part = all + (size_t)r * (size_t)b->n;
        for (int64_t i = 0; i < b->n; i++)
            out[i] += part[i];
    }
}

ck_status ck_dist_grads_finish(ck_data_parallel *d, bool backward_ran)
{
    grad_sync *g = d->sync;
    if (!g)
        return ck_fail(CK_ERR_STATE, "distributed fit: no gradient reduction attached");
    if (!backward_ran)
        memset(g->m->grad_block, 0, (size_t)g->m->weight_block_size * sizeof(float));
    d->stats.steps++;
    ck_status st = d->size > 1 && !backward_ran ? replay_sums(d, g) : CK_OK;
    if (st == CK_OK && d->size > 1) {
        if (!g->learnt)
            for (int i = 0; i < g->nb; i++)
                g->order[i] = i;
        double t0 = now_s();
        while (st == CK_OK && g->next < g->nb)
            st = start_bucket(d, g, &g->b[g->order[g->next++]]);
        for (int i = 0; i < g->nb; i++) {
            int rc = g->b[i].started ? MPI_Wait(&g->b[i].req, MPI_STATUS_IGNORE) : MPI_SUCCESS;
            if (rc != MPI_SUCCESS && st == CK_OK)
                st = mpi_fail(d, rc, "a gradient reduction");
            g->b[i].started = false;
        }
        double t1 = now_s();
        for (int i = 0; st == CK_OK && d->reduction == CK_REDUCE_ORDERED && i < g->nb; i++)
            add_in_rank_order(d, g, &g->b[i]);
        d->stats.wait_s += t1 - t0;
        d->stats.sum_s += now_s() - t1;
    }
    if (st == CK_OK && d->size > 1)
        st = average_moving(d, g, backward_ran);
    if (st == CK_OK && !g->learnt && d->size > 1)
        st = finish_learning(d, g);
    else if (d->size == 1)
        g->learnt = true;
    g->next = 0;
    g->calls = 0;
    g->sum_calls = 0;
    return st;
}

#endif
