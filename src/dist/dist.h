/*
 * The distribution floor: what data-parallel fit (src/train/fit.c) needs from
 * MPI, behind a narrow interface so that nothing else includes mpi.h and the
 * library builds without MPI (distribute.c then has only failing stubs). It sits
 * between train/ (its only user) and the engine, whose per-layer grad_ready hook
 * it uses to start each gradient bucket's reduction while backward goes on.
 */
#ifndef CK_DIST_DIST_H
#define CK_DIST_DIST_H

#include "engine/exec.h"

/* Rows [*first, *first + *count) of a global batch of `rows` are this rank's:
 * contiguous slices in rank order, the first rows % size ranks one row longer,
 * so rank 0 always has one and the ranks' slices concatenate to the batch. */
void ck_dist_slice(const ck_data_parallel *d, int64_t rows, int64_t *first, int64_t *count);
bool ck_dist_is_root(const ck_data_parallel *d);

/* Every rank passes the same n named values (model and data signatures); a
 * rank whose values differ from rank 0's fails on every rank, naming the rank,
 * the value and both numbers. */
ck_status ck_dist_check_same(ck_data_parallel *d, const char *const *names, const int64_t *values, int n);
/* Rank 0's n floats to every rank. */
ck_status ck_dist_broadcast(ck_data_parallel *d, float *v, int64_t n);
/* v [n] := the sum over ranks, added in rank order (the same bits everywhere). */
ck_status ck_dist_sum(ck_data_parallel *d, double *v, int n);

/* Rows split as by ck_dist_slice: each rank has filled its own rows of
 * buf [rows, row_size]; afterwards every rank holds all of them, in order.
 * failed: this rank could not make its rows (it returns at once, its own
 * error standing); then every other rank fails, naming it. */
ck_status ck_dist_gather_rows(ck_data_parallel *d, float *buf, int64_t rows, int64_t row_size, bool failed);

/* Gradient reduction of one fit: buckets over m->grad_block, each started from
 * ex's grad_ready hook once backward has finished its last layer. */
ck_status ck_dist_grads_attach(ck_data_parallel *d, ck_model *m, ck_exec *ex);
/* After backward (backward_ran false: this rank had no rows and its grads are
 * zero): starts what is left, waits, and leaves in m->grad_block the sum of
 * every rank's gradient. */
ck_status ck_dist_grads_finish(ck_data_parallel *d, bool backward_ran);
void ck_dist_grads_detach(ck_data_parallel *d);

#endif
