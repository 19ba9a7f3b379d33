/* Seedable random numbers for initialisers, dropout and shuffling: xoshiro256**
 * seeded through splitmix64, so every seed gives a well-mixed, reproducible stream.
 * Keras's own streams are backend-specific and cannot be reproduced; the
 * distributions are what match. */
#include "core.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ck_rng_seed(ck_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ck_rng_next(ck_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ck_rng_uniform(ck_rng *r) { return (double)(ck_rng_next(r) >> 11) * 0x1.0p-53; }

double ck_rng_normal(ck_rng *r)
{
    /* Box-Muller; u1 in (0, 1] keeps log finite. */
    double u1 = 1.0 - ck_rng_uniform(r), u2 = ck_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
