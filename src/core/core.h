/*
 * Internal foundation shared by every part of the library: error reporting,
 * checked size arithmetic, shapes, a string builder, the allocator, the RNG, whole
 * files and NumPy array files (core/npy.c).
 * Nothing here knows what a layer or a model is.
 */
#ifndef CK_CORE_H
#define CK_CORE_H

#include "ckeras.h"

#include <stdarg.h>
#include <stdio.h>

#if defined(__GNUC__)
#define CK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CK_PRINTF(f, a)
#endif

/* ---- errors: one message per thread, like errno ---- */
ck_status ck_fail(ck_status status, const char *fmt, ...) CK_PRINTF(2, 3);
/* Prefixes the current message ("file.json: " + message) and returns status. */
ck_status ck_fail_prefix(ck_status status, const char *fmt, ...) CK_PRINTF(2, 3);
void ck_clear_error(void);

/* ---- allocation: every allocation goes through here ---- */
void *ck_malloc(size_t bytes);
void *ck_calloc(size_t n, size_t size);
void *ck_realloc(void *p, size_t bytes);
void ck_free(void *p);
char *ck_strdup(const char *s);
/* Grows *items (of item_size) so that index `need - 1` is valid. */
ck_status ck_grow(void **items, int *cap, int need, size_t item_size);
/* Whether an address-space limit (RLIMIT_AS, `ulimit -v`) leaves room for
 * `bytes` more mappings right now (always true without one). For the memory
 * that other libraries take and cannot give up cleanly: libgomp ends the
 * process when a thread cannot be created, and OpenBLAS retries a buffer it
 * cannot map for ever. The answer can be stale by the time it is used when
 * other threads map memory meanwhile. */
bool ck_address_room(size_t bytes);
/* Whether RLIMIT_AS is finite (a thread asks the system every 20 ms). */
bool ck_address_limited(void);

/* ---- checked arithmetic ---- */
static inline bool ck_mul_ok(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool ck_add_ok(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* Elements of an array (a field table, a list of names). */
#define CK_N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- shapes ---- */
ck_shape ck_shape_of(int rank, const int64_t *dims);
ck_shape ck_shape_1(int64_t a);
ck_shape ck_shape_2(int64_t a, int64_t b);
bool ck_shape_eq(const ck_shape *a, const ck_shape *b);
/* Product of dims from `from` on; CK_NONE if any is unknown; CK_ERR_OVERFLOW sets msg. */
ck_status ck_shape_size_from(const ck_shape *s, int from, int64_t *out);
/* Python-style repr used in messages and Keras 2 summaries: "(None, 3)", "(3,)". */
void ck_shape_repr(const ck_shape *s, char *buf, size_t cap);
/* Python-style axis (negative counts from the end) to an index in [0, rank). */
bool ck_normalize_axis(int64_t axis, int rank, int *out);
/* Largest accepted dimension: keeps products far from overflow and allocation absurdity. */
#define CK_MAX_DIM ((int64_t)1 << 40)

/* ---- growable string ---- */
typedef struct ck_buf {
    char *data;   /* NUL-terminated when len > 0 or after ck_buf_take */
    size_t len;
    size_t cap;
    bool failed;  /* an allocation failed; further appends are ignored */
} ck_buf;
void ck_buf_put(ck_buf *b, const char *s);
void ck_buf_putn(ck_buf *b, const char *s, size_t n);
void ck_buf_printf(ck_buf *b, const char *fmt, ...) CK_PRINTF(2, 3);
/* Hands the string to the caller (never NULL unless allocation failed). */
char *ck_buf_take(ck_buf *b);
void ck_buf_free(ck_buf *b);

/* ---- threads ----
 * Every parallel loop of the library asks ck_team_size how many threads its
 * work gets and runs through ck_parallel_for (or its own region when it needs
 * one): a team of one never opens an OpenMP region, since even a one-thread
 * region costs libgomp's barrier futex calls (76 per batch-1 CNN predict). */
/* Threads for a loop of `work` (multiply-adds or element visits) where `grain`
 * is the least work worth a team: the OpenMP thread count (ck_set_num_threads),
 * but 1 inside a team, under the grain, and as far as other processes keep the
 * machine's cores busy (a team member that waits for a core stalls the whole
 * team at every barrier: 47x slower than one thread with 4 busy processes on 2
 * cores, where one thread lost only its fair share). */
int ck_team_size(int64_t work, int64_t grain);
/* fn(ctx, lo, hi) over [0, n) in pieces that the team's threads take as they
 * come free (a late thread's share goes to the others); called straight on
 * [0, n), with no OpenMP region, for a team of one. fn must give the same
 * result whoever runs a piece: each index writes its own outputs. */
typedef void ck_range_fn(void *ctx, int64_t lo, int64_t hi);
void ck_parallel_for(int threads, int64_t n, ck_range_fn *fn, void *ctx);
/* fn(ctx, &waited) on every thread of a team (straight on the calling thread
 * for a team of one), for work that shares itself out by omp_get_thread_num
 * and meets at ck_team_barrier(waited): a barrier of the team (nothing outside
 * one) whose wait the team's first thread adds up. Both this and
 * ck_parallel_for time that thread's waits: a wait longer than its work, past
 * 0.2 ms, means a member had no core, and ck_team_size then gives the calling
 * thread one thread for 0.1 s (doubling with each late team in a row, up to
 * 3.2 s). */
typedef void ck_team_fn(void *ctx, int64_t *waited);
void ck_team_run(int threads, ck_team_fn *fn, void *ctx);
void ck_team_barrier(int64_t *waited);
/* How many threads of the running team may be where the caller is now: the
 * team's size inside a team, 1 outside one. */
int ck_team_threads_now(void);

/* ---- whole files ---- */
/* Whole file into a NUL-terminated buffer; messages name the path. */
ck_status ck_read_file(const char *path, char **data, size_t *len);
/* Atomic write: a temporary file in the same folder, fsync, the destination's
 * mode (new: 0666 less the umask), rename, fsync of the folder; stale
 * temporaries of killed saves in that folder removed first (core/file.c). */
ck_status ck_write_file_atomic(const char *path, const void *data, size_t len);
/* A zip of n members built in memory (stored, or deflated), then written by
 * ck_write_file_atomic (core/zip.c). */
ck_status ck_write_zip_atomic(const char *path, const char *const *names, const void *const *data, const size_t *lens,
                              int n, bool deflate);
/* Whether a zip member stating `size` bytes may be inflated, before a byte is:
 * not beyond what deflate can make of comp_size (a stored member is its size),
 * not beyond `implied` (what its contents should take, 0 when nothing implies a
 * size) plus ck_limits' slack, and not beyond `max` (a ck_limits maximum). */
ck_status ck_zip_size_ok(uint64_t size, uint64_t comp_size, bool stored, uint64_t implied, int64_t max,
                         const char *origin, const char *member);

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ---- */
typedef struct ck_rng {
    uint64_t s[4];
} ck_rng;
void ck_rng_seed(ck_rng *r, uint64_t seed);
uint64_t ck_rng_next(ck_rng *r);
double ck_rng_uniform(ck_rng *r);  /* [0, 1) */
double ck_rng_normal(ck_rng *r);   /* N(0, 1) */

/* ---- half precision: float32 values rounded to what a 16-bit float holds ---- */
/* A Keras dtype policy's compute dtype where it is narrower than float32
 * (mixed_float16, float16; mixed_bfloat16, bfloat16). */
typedef enum ck_half { CK_HALF_NONE, CK_HALF_FLOAT16, CK_HALF_BFLOAT16 } ck_half;
/* The compute half of a dtype or dtype policy name; CK_HALF_NONE for the rest. */
ck_half ck_half_of_dtype(const char *dtype);
/* dst[i] := src[i] cast to `half` and back, rounding to nearest, ties to even
 * (as a cast to float16/bfloat16 does): overflow gives infinity, NaN stays NaN.
 * dst may be src. */
void ck_round_half(ck_half half, const float *src, float *dst, int64_t n);
/* dst[i] := the 16 bits of src[i] cast to `half` (rounded as ck_round_half),
 * as a file stores them: IEEE binary16, or bfloat16's top half of a float32. */
void ck_pack_half(ck_half half, const float *src, uint16_t *dst, int64_t n);

#endif
