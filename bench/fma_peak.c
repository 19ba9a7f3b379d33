/* This core's measured FMA peak (never run by the tests): 12 independent
 * chains of fused multiply-adds in AVX-512 and in AVX2 registers, timed by the
 * process's CPU time (bench_clock.h, BENCH_CLOCK=cpu) or wall time, best of 5.
 * bench/README.md divides a row's FLOP/s by it to say how far a kernel is from
 * what the core can do at all. Prints "fma_peak_ISA value GFLOP/s" lines.
 * Build: cc -O2 bench/fma_peak.c -o fma_peak (no library needed). */
#include "bench_clock.h"

#include <immintrin.h>
#include <stdio.h>

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(i) V c##i = SET1(1.0f + 0.001f * i);
#define STEP(i) c##i = FMA(c##i, m, a);
#define SUM(i) s = ADD(s, c##i);
/* 12 chains x iters FMAs; returns a value so that nothing is dropped. */
#define BODY                                                      \
    V m = SET1(0.999999f), a = SET1(1e-7f), s = SET1(0.0f);       \
    CHAINS(DECL)                                                  \
    for (long k = 0; k < iters; k++) {                            \
        CHAINS(STEP)                                              \
        __asm__ volatile("" : "+v"(c0), "+v"(c6)); /* a loop */   \
    }                                                             \
    CHAINS(SUM)

#define V __m512
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
__attribute__((target("avx512f"))) static float peak512(long iters)
{
    BODY
    return _mm512_reduce_add_ps(s);
}
#undef V
#undef SET1
#undef FMA
#undef ADD
#define V __m256
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
__attribute__((target("avx2,fma"))) static float peak256(long iters)
{
    BODY
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[7];
}

static void measure(const char *isa, float (*fn)(long), int lanes)
{
    long iters = 20000000;
    double best = 1e30;
    float sink = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        sink += fn(iters);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("fma_peak_%s %.1f GFLOP/s  (check %g)\n", isa, 12.0 * iters * lanes * 2 / best / 1e9, (double)sink);
}

int main(void)
{
    if (__builtin_cpu_supports("avx512f")) measure("avx512", peak512, 16);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) measure("avx2", peak256, 8);
    return 0;
}
