/* Rounding float32 values to float16 and bfloat16, which Keras computes in under
 * a mixed dtype policy: bit arithmetic on the float32 pattern, so the result is
 * the same on every CPU (no F16C or AVX-512 BF16 needed) and a cast in JAX or
 * NumPy gives the same value. */
#include "core/core.h"

#include <string.h>

ck_half ck_half_of_dtype(const char *dtype)
{
    if (!strcmp(dtype, "mixed_float16") || !strcmp(dtype, "float16")) return CK_HALF_FLOAT16;
    if (!strcmp(dtype, "mixed_bfloat16") || !strcmp(dtype, "bfloat16")) return CK_HALF_BFLOAT16;
    return CK_HALF_NONE;
}

static inline uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Drops the low `drop` of the 23 fraction bits, rounding, to nearest, ties to even; a
 * carry out of the fraction moves the exponent up (to infinity at the top). */
static inline uint32_t round_fraction(uint32_t u, int drop)
{
    uint32_t half_ulp = (1u << (drop - 1)) - 1u, lsb = (u >> drop) & 1u;
    return (u + half_ulp + lsb) & ~((1u << drop) - 1u);
}

static float to_bfloat16(float f)
{
    uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return f; /* NaN */
    return float_of(round_fraction(u, 16));
}

static float to_float16(float f)
{
    uint32_t u = bits_of(f), sign = u & 0x80000000u, mag = u & 0x7fffffffu;
    if (mag > 0x7f800000u) return f;                              /* NaN */
    if (mag >= 0x477ff000u) return float_of(sign | 0x7f800000u);  /* 65520 and up: infinity */
    if (mag >= 0x38800000u) return float_of(round_fraction(u, 13)); /* normal: 10 fraction bits */
    /* subnormal: a multiple of 2^-24; adding 0.5 (whose ulp is 2^-24) rounds to it */
    float r = (float_of(mag) + 0.5f) - 0.5f;
    return float_of(sign | bits_of(r));
}

void ck_round_half(ck_half half, const float *src, float *dst, int64_t n)
{
    if (half == CK_HALF_FLOAT16)
        for (int64_t i = 0; i < n; i++) dst[i] = to_float16(src[i]);
    else if (half == CK_HALF_BFLOAT16)
        for (int64_t i = 0; i < n; i++) dst[i] = to_bfloat16(src[i]);
    else if (dst != src)
        memmove(dst, src, (size_t)n * sizeof *dst);
}

/* A value to_float16 gave (a float16 value held in a float32) as binary16 bits. */
static uint16_t float16_bits(float f)
{
    uint32_t u = bits_of(f), sign = (u >> 16) & 0x8000u, mag = u & 0x7fffffffu;
    if (mag > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  /* NaN */
    if (mag >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u); /* infinity */
    if (mag >= 0x38800000u) return (uint16_t)(sign | (((mag >> 23) - 112u) << 10) | ((mag >> 13) & 0x3ffu));
    /* subnormal: an exact multiple of 2^-24 */
    return (uint16_t)(sign | (uint32_t)(float_of(mag) * 16777216.0f));
}

void ck_pack_half(ck_half half, const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = half == CK_HALF_BFLOAT16 ? (uint16_t)(bits_of(to_bfloat16(src[i])) >> 16)
                                           : float16_bits(to_float16(src[i]));
}
