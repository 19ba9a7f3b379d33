/* Forward passes of the attention family (the class entries live in attention.c):
 * EinsumDense by a general strided contraction, MultiHeadAttention and
 * GroupedQueryAttention as projection GEMMs around a batched softmax(Q K^T) V
 * (attention_axes handled by gathering the attended axes into one contiguous
 * block per (batch, other axes, head)), and Attention / AdditiveAttention with
 * Keras 3's dot, concat and additive scores. Each class's scratch lies in the
 * engine's workspace (after what forward keeps for backward), planned once, so
 * calls allocate nothing. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "layers/engine_util.h"
#include "engine/run.h"

#include <math.h>
#include <string.h>

/* ---- EinsumDense ------------------------------------------------------------------ */
/* Every letter of the equation (the "..." dims become letters '0'..'7') with its
 * size and its stride in the input, kernel and output (0 where absent). */
typedef struct einsum_loop {
    int n;
    int64_t dim[3 * CK_MAX_RANK], si[3 * CK_MAX_RANK], sk[3 * CK_MAX_RANK], so[3 * CK_MAX_RANK];
    char letter[3 * CK_MAX_RANK];
} einsum_loop;

/* Expands "...": the input side has rank-(letters) elided dims. */
static int expand(const char *s, size_t n, int elided, char *out)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            for (int e = 0; e < elided; e++) out[k++] = (char)('0' + e);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = 0;
    return k;
}

static int letter_index(einsum_loop *lp, char c, int64_t dim)
{
    for (int i = 0; i < lp->n; i++)
        if (lp->letter[i] == c) return i;
    lp->letter[lp->n] = c, lp->dim[lp->n] = dim;
    lp->si[lp->n] = lp->sk[lp->n] = lp->so[lp->n] = 0;
    return lp->n++;
}

static void strides_for(einsum_loop *lp, const char *spec, const int64_t *dims, int rank, int64_t *which_of(einsum_loop *))
{
    int64_t stride = 1;
    for (int a = rank - 1; a >= 0; a--) {
        int i = letter_index(lp, spec[a], dims[a]);
        which_of(lp)[i] += stride;
        stride *= dims[a];
    }
}
static int64_t *in_strides(einsum_loop *lp) { return lp->si; }
static int64_t *k_strides(einsum_loop *lp) { return lp->sk; }
static int64_t *o_strides(einsum_loop *lp) { return lp->so; }

static ck_status einsum_loop_plan(const char *eq, const ck_tensor *in, const ck_shape *kshape, const ck_tensor *out,
                                  einsum_loop *lp)
{
    const char *comma = strchr(eq, ','), *arrow = strstr(eq, "->");
    char is[3 * CK_MAX_RANK + 1], ks[3 * CK_MAX_RANK + 1], os[3 * CK_MAX_RANK + 1];
    size_t na = (size_t)(comma - eq), nb = (size_t)(arrow - comma - 1);
    int dots = strstr(eq, "...") && strstr(eq, "...") < comma ? 3 : 0;
    int elided = in->shape.rank - (int)(na - (size_t)dots);
    if (expand(eq, na, elided, is) != in->shape.rank || expand(comma + 1, nb, 0, ks) != kshape->rank ||
        expand(arrow + 2, strlen(arrow + 2), elided, os) != out->shape.rank)
        return ck_fail(CK_ERR_SHAPE, "equation '%s' does not fit the tensors", eq);
    lp->n = 0;
    strides_for(lp, os, out->shape.dim, out->shape.rank, o_strides);
    strides_for(lp, is, in->shape.dim, in->shape.rank, in_strides);
    strides_for(lp, ks, kshape->dim, kshape->rank, k_strides);
    return CK_OK;
}

/* out = sum over the letters not in the output of in * kernel: one odometer over
 * every letter, the output's letters outermost so each output is summed once. */
static void einsum_run(const einsum_loop *lp, const float *x, const float *k, float *y)
{
    int64_t idx[3 * CK_MAX_RANK] = {0}, total = 1;
    for (int i = 0; i < lp->n; i++) total *= lp->dim[i];
    int64_t oi = 0, ii = 0, ki = 0;
    for (int64_t t = 0; t < total; t++) {
        y[oi] += x[ii] * k[ki];
        for (int a = lp->n - 1; a >= 0; a--) {
            oi += lp->so[a], ii += lp->si[a], ki += lp->sk[a];
            if (++idx[a] < lp->dim[a]) break;
            oi -= lp->so[a] * lp->dim[a], ii -= lp->si[a] * lp->dim[a], ki -= lp->sk[a] * lp->dim[a];
            idx[a] = 0;
        }
    }
}

/* The same odometer for the gradients: which = 1 accumulates dx[ii] += dy[oi] *
 * k[ki], which = 2 dk[ki] += x[ii] * dy[oi]. */
static void einsum_back(const einsum_loop *lp, const float *x, const float *k, const float *dy, float *dx, float *dk)
{
    int64_t idx[3 * CK_MAX_RANK] = {0}, total = 1;
    for (int i = 0; i < lp->n; i++) total *= lp->dim[i];
    int64_t oi = 0, ii = 0, ki = 0;
    for (int64_t t = 0; t < total; t++) {
        if (dx) dx[ii] += dy[oi] * k[ki];
        if (dk) dk[ki] += x[ii] * dy[oi];
        for (int a = lp->n - 1; a >= 0; a--) {
            oi += lp->so[a], ii += lp->si[a], ki += lp->sk[a];
            if (++idx[a] < lp->dim[a]) break;
            oi -= lp->so[a] * lp->dim[a], ii -= lp->si[a] * lp->dim[a], ki -= lp->sk[a] * lp->dim[a];
            idx[a] = 0;
        }
    }
}

/* Forward keeps nothing: the pre-activation is recomputed when the activation
 * needs it (linear, the default, does not). */
ck_status ck_einsum_dense_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_einsum_dense_config *c = CK_CFG(l, ck_einsum_dense_config);
    einsum_loop lp;
    if (einsum_loop_plan(c->equation, &in[0], &l->weights[0].shape, &out[0], &lp))
        return ck_fail_prefix(CK_ERR_SHAPE, "%s '%s': ", l->cls->class_name, l->name);
    int64_t n = ck_numel(&out[0]);
    const float *dz = dout[0].data;
    if (c->activation.kind != CK_ACT_LINEAR) {
        if (!ex || !ex->workspace)
            return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
        float *z = ex->workspace, *g = z + n;
        memset(z, 0, (size_t)n * sizeof *z);
        einsum_run(&lp, in[0].data, l->weights[0].value, z);
        if (l->n_weights > 1) {
            int64_t st[CK_MAX_RANK];
            const ck_weight *b = &l->weights[1];
            ck_bcast_strides(b->shape.dim, b->shape.rank, out[0].shape.dim, out[0].shape.rank, st);
            for (int64_t j = 0; j < n; j++) z[j] += b->value[ck_bcast_offset(j, out[0].shape.dim, out[0].shape.rank, st)];
        }
        int64_t cols = out[0].shape.dim[out[0].shape.rank - 1];
        memset(g, 0, (size_t)n * sizeof *g);
        ck_act_backward(c->activation.kind, z, out[0].data, dout[0].data, g, n / cols, cols);
        dz = g;
    }
    einsum_back(&lp, in[0].data, l->weights[0].value, dz, din[0].data, l->weights[0].grad);
    if (l->n_weights > 1) {
        int64_t st[CK_MAX_RANK];
        const ck_weight *b = &l->weights[1];
        ck_bcast_strides(b->shape.dim, b->shape.rank, out[0].shape.dim, out[0].shape.rank, st);
        for (int64_t j = 0; j < n; j++) b->grad[ck_bcast_offset(j, out[0].shape.dim, out[0].shape.rank, st)] += dz[j];
    }
    return CK_OK;
}

/* Scratch per row for a non-linear activation: the pre-activation and its grad. */
int64_t ck_einsum_dense_workspace(const ck_layer *l)
{
    if (CK_CFG(l, ck_einsum_dense_config)->activation.kind == CK_ACT_LINEAR) return 0;
    int64_t n;
    if (ck_shape_size_from(&l->out_shapes[0], 1, &n) || n == CK_NONE) return 0;
    return 2 * n;
}

ck_status ck_einsum_dense_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_einsum_dense_config *c = CK_CFG(l, ck_einsum_dense_config);
    einsum_loop lp;
    if (einsum_loop_plan(c->equation, &in[0], &l->weights[0].shape, &out[0], &lp))
        return ck_fail_prefix(CK_ERR_SHAPE, "%s '%s': ", l->cls->class_name, l->name);
    int64_t n = ck_numel(&out[0]);
    memset(out[0].data, 0, (size_t)n * sizeof(float));
    einsum_run(&lp, in[0].data, l->weights[0].value, out[0].data);
    ck_half half = ck_half_of_dtype(l->dtype); /* keras/src/layers/core/einsum_dense.py: einsum, add, activation */
    ck_round_half(half, out[0].data, out[0].data, n);
    if (l->n_weights > 1) { /* bias: right-aligned broadcast over the output */
        int64_t st[CK_MAX_RANK];
        const ck_weight *b = &l->weights[1];
        ck_bcast_strides(b->shape.dim, b->shape.rank, out[0].shape.dim, out[0].shape.rank, st);
        for (int64_t j = 0; j < n; j++) out[0].data[j] += b->value[ck_bcast_offset(j, out[0].shape.dim, out[0].shape.rank, st)];
    }
    int64_t cols = out[0].shape.dim[out[0].shape.rank - 1];
    if (half) ck_bias_act_half(half, out[0].data, NULL, out[0].data, n / cols, cols, c->activation.kind);
    else ck_act_forward(c->activation.kind, out[0].data, out[0].data, n / cols, cols);
    return CK_OK;
}

/* ---- scaled dot-product attention over gathered blocks ------------------------------- */
/* y[rows, n] = x[rows, k] W[k, n] + b[n] (b may be NULL). */
static void proj(const float *x, int64_t rows, int64_t k, const float *w, const float *b, int64_t n, float *y)
{
    ck_sgemm(false, false, rows, n, k, 1.0f, x, k, w, n, 0.0f, y, n);
    if (b)
        for (int64_t r = 0; r < rows; r++) ck_vec_add(y + r * n, b, n);
}

/* proj for a half layer (keras/src/layers/core/einsum_dense.py: einsum, then
 * add): the product rounded, then the sum, unless `last` (the layer's output
 * projection, whose last operation the engine rounds). */
static void proj_half(ck_half half, bool last, const float *x, int64_t rows, int64_t k, const float *w, const float *b,
                      int64_t n, float *y)
{
    proj(x, rows, k, w, NULL, n, y);
    if (last && !b) return;
    ck_round_half(half, y, y, rows * n);
    if (!b) return;
    for (int64_t r = 0; r < rows; r++) ck_vec_add(y + r * n, b, n);
    if (!last) ck_round_half(half, y, y, rows * n);
}

/* The projections of q, k, v (into Pq, Pk, Pv) or of the attention output,
 * as the layer computes them. */
static void project(ck_half half, bool last, const float *x, int64_t rows, int64_t k, const float *w, const float *b,
                    int64_t n, float *y)
{
    if (half) proj_half(half, last, x, rows, k, w, b, n, y);
    else proj(x, rows, k, w, b, n, y);
}

/* How a half layer's attention rounds (multi_head_attention.py and
 * grouped_query_attention.py _compute_attention). Through
 * ops.dot_product_attention (no dropout, no scores returned, one attention
 * axis), jax.nn's xla path keeps the logits and the softmax in float32 and
 * casts the weights and the output; otherwise the query times the scale, the
 * scores, each operation of the softmax (a Softmax layer of the half type) and
 * the output are rounded. */
typedef struct att_half {
    ck_half half;
    bool dpa;          /* through ops.dot_product_attention */
} att_half;

/* Whether Keras's call goes through ops.dot_product_attention. */
static bool keras_dpa(double dropout, int n_out, int attention_axes)
{
    return dropout == 0.0 && n_out == 1 && attention_axes == 1;
}

/* The other path's query, r(q * r(scale)), in place (`n` values): only where no
 * backward reads q again (attend then takes scale 1). Returns the scale attend
 * applies. */
static float prescale_query(const att_half *hf, bool inference_only, float scale, float *q, int64_t n)
{
    if (!hf->half || hf->dpa || !inference_only) return scale;
    float s = scale;
    ck_round_half(hf->half, &s, &s, 1);
    for (int64_t i = 0; i < n; i++) q[i] *= s;
    ck_round_half(hf->half, q, q, n);
    return 1.0f;
}

/* Keras masks of one attention call: [batch, tq] for the query, [batch, tk] for
 * the value and the key; a block's batch row is its index / per_batch. */
typedef struct att_masks {
    const float *q, *v, *k;
    int64_t per_batch;
    bool causal;        /* use_causal_mask=True: query i sees keys j <= i */
} att_masks;

/* Keras's _compute_causal_mask (multi_head_attention.py, attention.py,
 * grouped_query_attention.py): row_index >= col_index of cumsums over a
 * [tq, tk] grid of ones, i.e. the lower triangle from the top left even when
 * tq != tk; it is and-ed with the padding masks. */
static bool score_off(const att_masks *m, int64_t b, int64_t tq, int64_t tk, int64_t i, int64_t j)
{
    return (m->causal && j > i) || (m->q && m->q[b * tq + i] == 0.0f) || (m->v && m->v[b * tk + j] == 0.0f) ||
           (m->k && m->k[b * tk + j] == 0.0f);
}

/* The layer's use_causal_mask, one value for all its calls (the loader refuses
 * layers whose calls differ). */
static ck_status causal_of(ck_layer *l, bool *causal)
{
    int c = ck_layer_causal(l);
    if (c < 0)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "calls with and without use_causal_mask=True are not supported");
    *causal = c == 1;
    return CK_OK;
}

static const float *mask_in(const ck_run *ex, int n_in, int i)
{
    return ex && ex->in_masks && i < n_in ? ex->in_masks[i] : NULL;
}

/* Keras's masked softmax: a score whose query or key step is masked becomes
 * -1e9 before the softmax (a fully masked query row attends uniformly). */
static void mask_scores(const att_masks *m, int64_t g, int64_t tq, int64_t tk, float *s)
{
    if (!m || (!m->q && !m->v && !m->k && !m->causal)) return;
    int64_t b = g / m->per_batch;
    for (int64_t i = 0; i < tq; i++)
        for (int64_t j = 0; j < tk; j++)
            if (score_off(m, b, tq, tk, i, j)) s[i * tk + j] = -1e9f;
}

/* For each of `groups` blocks: s = q k^T * scale [tq, tk], softmax over tk, o = s v.
 * Block g's weights land at s + g * s_step (s_step 0: one reused buffer). */
static void attend(int64_t groups, int64_t tq, int64_t tk, int64_t dk, int64_t dv, float scale, const float *q,
                   const float *k, const float *v, float *s, int64_t s_step, float *o, const att_masks *m, int64_t g0,
                   const att_half *hf)
{
    ck_half half = hf ? hf->half : CK_HALF_NONE;
    bool scores_rounded = half && !hf->dpa;
    for (int64_t g = 0; g < groups; g++, s += s_step) {
        ck_sgemm(false, true, tq, tk, dk, scale, q + g * tq * dk, dk, k + g * tk * dk, dk, 0.0f, s, tk);
        if (scores_rounded) ck_round_half(half, s, s, tq * tk);
        mask_scores(m, g0 + g, tq, tk, s);
        if (scores_rounded) ck_act_forward_half(CK_ACT_SOFTMAX, half, s, s, tq, tk);
        else ck_act_forward(CK_ACT_SOFTMAX, s, s, tq, tk);
        ck_round_half(half, s, s, tq * tk);
        ck_sgemm(false, false, tq, dv, tk, 1.0f, s, tk, v + g * tk * dv, dv, 0.0f, o + g * tq * dv, dv);
        ck_round_half(half, o + g * tq * dv, o + g * tq * dv, tq * dv);
    }
}

/* Offsets that split a projected tensor [B, m_1..m_r, H, d] into outer blocks
 * (batch, unattended axes, head) and inner rows (attended axes): the element
 * offset of (outer o, inner i) is outer[o] + inner[i], since strides are linear. */
typedef struct split {
    int64_t n_outer, n_inner;
    int64_t *outer, *inner;
} split;

static void split_offsets(const int64_t *mid, int r, const bool *att, int64_t B, int64_t H, int64_t d, split *sp)
{
    int64_t stride[CK_MAX_RANK + 2], s = H * d; /* [0] batch, [a + 1] mid a, [r + 1] head */
    stride[r + 1] = d;
    for (int a = r - 1; a >= 0; a--) stride[a + 1] = s, s *= mid[a];
    stride[0] = s;
    /* outer odometer: batch, unattended mids, head; inner: attended mids */
    sp->n_outer = sp->n_inner = 0;
    int64_t no = B * H, ni = 1;
    for (int a = 0; a < r; a++) {
        if (att[a]) ni *= mid[a];
        else no *= mid[a];
    }
    for (int64_t o = 0; o < no; o++) {
        int64_t rem = o, off = (rem % H) * stride[r + 1];
        rem /= H;
        for (int a = r - 1; a >= 0; a--)
            if (!att[a]) off += (rem % mid[a]) * stride[a + 1], rem /= mid[a];
        sp->outer[o] = off + rem * stride[0];
    }
    for (int64_t i = 0; i < ni; i++) {
        int64_t rem = i, off = 0;
        for (int a = r - 1; a >= 0; a--)
            if (att[a]) off += (rem % mid[a]) * stride[a + 1], rem /= mid[a];
        sp->inner[i] = off;
    }
    sp->n_outer = no, sp->n_inner = ni;
}

static void gather(const split *sp, const float *src, int64_t d, float *dst, bool scatter)
{
    for (int64_t o = 0; o < sp->n_outer; o++)
        for (int64_t i = 0; i < sp->n_inner; i++) {
            float *blk = dst + (o * sp->n_inner + i) * d;
            float *s = (float *)src + sp->outer[o] + sp->inner[i];
            memcpy(scatter ? s : blk, scatter ? blk : s, (size_t)d * sizeof(float));
        }
}


/* One MultiHeadAttention call's geometry and the buffers forward keeps for
 * backward (in the engine's workspace): projections P*, their per-block gathers
 * G*, every block's attention weights S, the combined heads Po. */
typedef struct mha_run {
    const ck_tensor *q, *k, *v;
    int r;                           /* middle axes */
    bool att[CK_MAX_RANK];
    int64_t B, H, kd, vd, fq, fk, fv, rq, rk, nout, groups, tq, tk;
    int64_t qmid[CK_MAX_RANK], kmid[CK_MAX_RANK];
    const ck_weight *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
    float *Pq, *Pk, *Pv, *Gq, *Gk, *Gv, *S, *Go, *Po;
    split sq, sk, sv, so;
    int64_t *offs;                   /* the splits' offset tables, after Po          */
    float *scratch;                  /* backward's gradients, after the offsets      */
    att_masks am;
} mha_run;

/* Floats forward keeps for backward. */
static int64_t mha_floats(const mha_run *m)
{
    return 2 * m->rq * m->H * m->kd + 2 * m->rk * m->H * m->kd + 2 * m->rk * m->H * m->vd +
           m->groups * m->tq * m->tk + 2 * m->rq * m->H * m->vd;
}

static int64_t mha_n_offs(const mha_run *m) { return 4 * (m->groups + m->tq + m->tk); }

/* Backward's gradient buffers: dPo, dGo, dGq, dGk, dGv, dPq, dPk, dPv, one dS. */
static int64_t mha_grad_floats(const mha_run *m)
{
    int64_t nq = m->rq * m->H * m->kd, nk = m->rk * m->H * m->kd, nv = m->rk * m->H * m->vd;
    return 2 * (nq + nk + nv + m->rq * m->H * m->vd) + m->tq * m->tk;
}

static int64_t prod_mid_shape(const ck_shape *s)
{
    int64_t n = 1;
    for (int a = 1; a < s->rank - 1; a++) n *= s->dim[a];
    return n;
}

/* Geometry from shapes alone (the workspace hook has no tensors). */
static ck_status mha_geometry(ck_layer *l, const ck_shape *q, const ck_shape *k, const ck_shape *v,
                              const ck_shape *o, mha_run *m)
{
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    if (c->use_gate || c->sliding_window != CK_INT_NULL)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "running with use_gate or sliding_window is not supported yet");
    m->r = q->rank - 2;
    memset(m->att, 0, sizeof m->att);
    for (int i = 0; i < c->attention_axes.n; i++) {
        int64_t a = c->attention_axes.v[i];
        if (a < 1 || a > m->r)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'attention_axes': axis %lld is not between the batch and "
                                  "feature axes", (long long)a);
        m->att[a - 1] = true;
    }
    m->B = q->dim[0], m->H = c->num_heads, m->kd = c->key_dim, m->vd = c->value_dim;
    m->fq = q->dim[m->r + 1], m->fk = k->dim[m->r + 1], m->fv = v->dim[m->r + 1];
    m->rq = m->B * prod_mid_shape(q), m->rk = m->B * prod_mid_shape(k);
    int64_t on = 1;
    for (int a = 1; a < o->rank; a++) on *= o->dim[a];
    m->nout = on / prod_mid_shape(q);
    m->groups = m->B * m->H, m->tq = m->tk = 1;
    for (int a = 0; a < m->r; a++) {
        m->qmid[a] = q->dim[a + 1], m->kmid[a] = k->dim[a + 1];
        if (m->att[a]) m->tq *= m->qmid[a], m->tk *= m->kmid[a];
        else m->groups *= m->qmid[a];
    }
    return CK_OK;
}

int64_t ck_mha_workspace(const ck_layer *l)
{
    mha_run m;
    const ck_shape *in = l->in_shapes;
    ck_shape q = in[0], k = l->n_in > 2 ? in[2] : in[1], v = in[1], o = l->out_shapes[0];
    q.dim[0] = k.dim[0] = v.dim[0] = o.dim[0] = 1;
    for (int a = 1; a < q.rank; a++)
        if (q.dim[a] == CK_NONE || k.dim[a] == CK_NONE) return 0;
    if (mha_geometry((ck_layer *)l, &q, &k, &v, &o, &m)) return 0;
    return mha_floats(&m) + ck_ws_floats8(mha_n_offs(&m)) + mha_grad_floats(&m);
}

static ck_status mha_setup(ck_layer *l, const ck_tensor *in, int n_in, const ck_tensor *out, ck_run *ex, mha_run *m)
{
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    m->q = &in[0], m->v = &in[1], m->k = n_in > 2 ? &in[2] : &in[1];
    ck_status st = mha_geometry(l, &m->q->shape, &m->k->shape, &m->v->shape, &out[0].shape, m);
    if (st) return st;
    if (ex && ex->in_masks && m->r != 1)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "Keras masks on inputs of rank %d are not supported yet", m->r + 2);
    bool causal = false;
    if ((st = causal_of(l, &causal))) return st;
    if (causal && m->r != 1)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "use_causal_mask=True on inputs of rank %d is not supported",
                              m->r + 2);
    float *ws = ck_ws_of(l, ex);
    if (!ws) return CK_ERR_STATE;
    int w = 0;
    m->wq = &l->weights[w++], m->bq = c->use_bias ? &l->weights[w++] : NULL;
    m->wk = &l->weights[w++], m->bk = c->use_bias ? &l->weights[w++] : NULL;
    m->wv = &l->weights[w++], m->bv = c->use_bias ? &l->weights[w++] : NULL;
    m->wo = &l->weights[w++], m->bo = c->use_bias ? &l->weights[w++] : NULL;
    int64_t H = m->H, kd = m->kd, vd = m->vd, rq = m->rq, rk = m->rk, G = m->groups;
    m->Pq = ws, m->Pk = m->Pq + rq * H * kd, m->Pv = m->Pk + rk * H * kd, m->Gq = m->Pv + rk * H * vd;
    m->Gk = m->Gq + rq * H * kd, m->Gv = m->Gk + rk * H * kd, m->S = m->Gv + rk * H * vd;
    m->Go = m->S + G * m->tq * m->tk, m->Po = m->Go + rq * H * vd;
    m->offs = ck_ws_align8(m->Po + rq * H * vd);
    m->scratch = (float *)(m->offs + mha_n_offs(m));
    int64_t *p = m->offs;
    m->sq = (split){.outer = p, .inner = p + G}, p += G + m->tq;
    m->sk = (split){.outer = p, .inner = p + G}, p += G + m->tk;
    m->sv = (split){.outer = p, .inner = p + G}, p += G + m->tk;
    m->so = (split){.outer = p, .inner = p + G};
    split_offsets(m->qmid, m->r, m->att, m->B, H, kd, &m->sq);
    split_offsets(m->kmid, m->r, m->att, m->B, H, kd, &m->sk);
    split_offsets(m->kmid, m->r, m->att, m->B, H, vd, &m->sv);
    split_offsets(m->qmid, m->r, m->att, m->B, H, vd, &m->so);
    m->am = (att_masks){mask_in(ex, n_in, 0), mask_in(ex, n_in, 1), mask_in(ex, n_in, 2), H, causal};
    return CK_OK;
}

static const float *val(const ck_weight *w) { return w ? w->value : NULL; }

ck_status ck_mha_forward(CK_FWD_ARGS)
{
    mha_run m;
    ck_status st = mha_setup(l, in, n_in, out, ex, &m);
    if (st) return st;
    int64_t H = m.H, kd = m.kd, vd = m.vd;
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    att_half hf = {ck_half_of_dtype(l->dtype), keras_dpa(c->dropout, n_out, m.r)};
    project(hf.half, false, m.q->data, m.rq, m.fq, m.wq->value, val(m.bq), H * kd, m.Pq);
    project(hf.half, false, m.k->data, m.rk, m.fk, m.wk->value, val(m.bk), H * kd, m.Pk);
    project(hf.half, false, m.v->data, m.rk, m.fv, m.wv->value, val(m.bv), H * vd, m.Pv);
    gather(&m.sq, m.Pq, kd, m.Gq, false);
    gather(&m.sk, m.Pk, kd, m.Gk, false);
    gather(&m.sv, m.Pv, vd, m.Gv, false);
    float scale = prescale_query(&hf, ex && ex->inference_only, 1.0f / sqrtf((float)kd), m.Gq, m.groups * m.tq * kd);
    attend(m.groups, m.tq, m.tk, kd, vd, scale, m.Gq, m.Gk, m.Gv, m.S, m.tq * m.tk, m.Go, &m.am, 0, &hf);
    gather(&m.so, m.Po, vd, m.Go, true);
    project(hf.half, true, m.Po, m.rq, H * vd, m.wo->value, val(m.bo), m.nout, out[0].data);
    /* return_attention_scores: the softmax, [batch, heads, tq, tk] as S keeps it. */
    if (n_out > 1) memcpy(out[1].data, m.S, (size_t)(m.groups * m.tq * m.tk) * sizeof(float));
    return CK_OK;
}

/* Gradients of y = x W + b: dW += x^T dy, db += colsum dy, dx += dy W^T. */
static void proj_back(const float *x, float *dx, int64_t rows, int64_t k, const ck_weight *w, const ck_weight *b,
                      int64_t n, const float *dy)
{
    ck_sgemm(true, false, k, n, rows, 1.0f, x, k, dy, n, 1.0f, w->grad, n);
    if (b) ck_sum_rows_acc(b->grad, dy, rows, n);
    if (dx) ck_sgemm(false, true, rows, k, n, 1.0f, dy, n, w->value, n, 1.0f, dx, k);
}

/* Backward through the kept projections, weights and gathers. A masked score was
 * replaced by a constant, so its gradient is zero. */
ck_status ck_mha_backward(CK_BWD_ARGS)
{
    if (n_out > 1)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "training through return_attention_scores is not supported");
    mha_run m;
    ck_status st = mha_setup(l, in, n_in, out, ex, &m);
    if (st) return st;
    int64_t H = m.H, kd = m.kd, vd = m.vd, tq = m.tq, tk = m.tk, G = m.groups;
    int64_t nq = m.rq * H * kd, nk = m.rk * H * kd, nv = m.rk * H * vd, no = m.rq * H * vd;
    float *dPo = m.scratch, *dGo = dPo + no, *dGq = dGo + no, *dGk = dGq + nq, *dGv = dGk + nk;
    float *dPq = dGv + nv, *dPk = dPq + nq, *dPv = dPk + nk, *dS = dPv + nv;
    memset(dPo, 0, (size_t)no * sizeof *dPo);
    proj_back(m.Po, dPo, m.rq, H * vd, m.wo, m.bo, m.nout, dout[0].data);
    gather(&m.so, dPo, vd, dGo, false);
    float scale = 1.0f / sqrtf((float)kd);
    for (int64_t g = 0; g < G; g++) {
        const float *S = m.S + g * tq * tk, *go = dGo + g * tq * vd;
        /* dV = S^T dO; dS = dO V^T; softmax: dZ = S * (dS - rowsum(S * dS)) */
        ck_sgemm(true, false, tk, vd, tq, 1.0f, S, tk, go, vd, 0.0f, dGv + g * tk * vd, vd);
        ck_sgemm(false, true, tq, tk, vd, 1.0f, go, vd, m.Gv + g * tk * vd, vd, 0.0f, dS, tk);
        for (int64_t i = 0; i < tq; i++) {
            float dot = 0.0f;
            for (int64_t j = 0; j < tk; j++) dot += S[i * tk + j] * dS[i * tk + j];
            for (int64_t j = 0; j < tk; j++) dS[i * tk + j] = S[i * tk + j] * (dS[i * tk + j] - dot);
        }
        if (m.am.q || m.am.v || m.am.k || m.am.causal) { /* masked scores are constants */
            int64_t b = g / m.am.per_batch;
            for (int64_t i = 0; i < tq; i++)
                for (int64_t j = 0; j < tk; j++)
                    if (score_off(&m.am, b, tq, tk, i, j)) dS[i * tk + j] = 0.0f;
        }
        ck_sgemm(false, false, tq, kd, tk, scale, dS, tk, m.Gk + g * tk * kd, kd, 0.0f, dGq + g * tq * kd, kd);
        ck_sgemm(true, false, tk, kd, tq, scale, dS, tk, m.Gq + g * tq * kd, kd, 0.0f, dGk + g * tk * kd, kd);
    }
    gather(&m.sq, dPq, kd, dGq, true);
    gather(&m.sk, dPk, kd, dGk, true);
    gather(&m.sv, dPv, vd, dGv, true);
    float *dq = din[0].data, *dv = din[1].data, *dk = n_in > 2 ? din[2].data : din[1].data;
    proj_back(m.q->data, dq, m.rq, m.fq, m.wq, m.bq, H * kd, dPq);
    proj_back(m.k->data, dk, m.rk, m.fk, m.wk, m.bk, H * kd, dPk);
    proj_back(m.v->data, dv, m.rk, m.fv, m.wv, m.bv, H * vd, dPv);
    return CK_OK;
}

/* GroupedQueryAttention: query heads share key/value heads in groups of
 * num_query_heads / num_key_value_heads (Keras repeats the kv heads). Neither
 * pass keeps anything: the workspace is scratch, sized for backward (forward
 * takes less than half of it). */
static int64_t gqa_floats(const ck_layer *l, int64_t B, int64_t Tq, int64_t Tk)
{
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    int64_t d = c->head_dim, nq = B * Tq * c->num_query_heads * d, nk = B * Tk * c->num_key_value_heads * d;
    return 4 * nq + 4 * nk + 4 * Tq * d + 4 * Tk * d + 2 * Tq * Tk;
}

int64_t ck_gqa_workspace(const ck_layer *l)
{
    int64_t Tq = l->in_shapes[0].dim[1], Tk = l->in_shapes[l->n_in > 2 ? 2 : 1].dim[1];
    return Tq == CK_NONE || Tk == CK_NONE ? 0 : gqa_floats(l, 1, Tq, Tk);
}

/* Query head h and its key/value head hk of sample b, gathered from the
 * projections [B, T, heads, d] into contiguous [T, d] blocks. */
static void gqa_head(const float *Pq, const float *Pk, const float *Pv, int64_t b, int64_t h, int64_t hk, int64_t Tq,
                     int64_t Tk, int64_t Hq, int64_t Hk, int64_t d, float *gq, float *gk, float *gv)
{
    for (int64_t t = 0; t < Tq; t++) memcpy(gq + t * d, Pq + ((b * Tq + t) * Hq + h) * d, (size_t)d * sizeof *gq);
    for (int64_t t = 0; t < Tk; t++) {
        memcpy(gk + t * d, Pk + ((b * Tk + t) * Hk + hk) * d, (size_t)d * sizeof *gk);
        memcpy(gv + t * d, Pv + ((b * Tk + t) * Hk + hk) * d, (size_t)d * sizeof *gv);
    }
}

ck_status ck_gqa_forward(CK_FWD_ARGS)
{
    (void)n_out;
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    if (c->sliding_window != CK_INT_NULL)
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "running with sliding_window is not supported yet");
    bool causal = false;
    ck_status st = causal_of(l, &causal);
    if (st) return st;
    const ck_tensor *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    int64_t B = q->shape.dim[0], Tq = q->shape.dim[1], Tk = k->shape.dim[1], F = q->shape.dim[2];
    int64_t Hq = c->num_query_heads, Hk = c->num_key_value_heads, d = c->head_dim, rep = Hq / Hk;
    float *buf = ck_ws_of(l, ex);
    if (!buf) return CK_ERR_STATE;
    float *Pq = buf, *Pk = Pq + B * Tq * Hq * d, *Pv = Pk + B * Tk * Hk * d, *gq = Pv + B * Tk * Hk * d;
    float *gk = gq + Tq * d, *gv = gk + Tk * d, *S = gv + Tk * d, *go = S + Tq * Tk, *Po = go + Tq * d;
    int w = 0;
    const float *bq = NULL, *bk = NULL, *bv = NULL, *bo = NULL, *Wq, *Wk, *Wv, *Wo;
    Wq = l->weights[w++].value;
    if (c->use_bias) bq = l->weights[w++].value;
    Wk = l->weights[w++].value;
    if (c->use_bias) bk = l->weights[w++].value;
    Wv = l->weights[w++].value;
    if (c->use_bias) bv = l->weights[w++].value;
    Wo = l->weights[w++].value;
    if (c->use_bias) bo = l->weights[w++].value;
    att_half hf = {ck_half_of_dtype(l->dtype), keras_dpa(c->dropout, n_out, 1)};
    project(hf.half, false, q->data, B * Tq, F, Wq, bq, Hq * d, Pq);
    project(hf.half, false, k->data, B * Tk, k->shape.dim[2], Wk, bk, Hk * d, Pk);
    project(hf.half, false, v->data, B * Tk, v->shape.dim[2], Wv, bv, Hk * d, Pv);
    float scale = prescale_query(&hf, ex && ex->inference_only, 1.0f / sqrtf((float)d), Pq, B * Tq * Hq * d);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hq; h++) {
            gqa_head(Pq, Pk, Pv, b, h, h / rep, Tq, Tk, Hq, Hk, d, gq, gk, gv);
            att_masks am = {mask_in(ex, n_in, 0), mask_in(ex, n_in, 1), mask_in(ex, n_in, 2), 1, causal};
            attend(1, Tq, Tk, d, d, scale, gq, gk, gv, S, 0, go, &am, b, &hf);
            for (int64_t t = 0; t < Tq; t++) memcpy(Po + ((b * Tq + t) * Hq + h) * d, go + t * d, (size_t)d * sizeof *go);
        }
    project(hf.half, true, Po, B * Tq, Hq * d, Wo, bo, F, out[0].data);
    return CK_OK;
}

/* GroupedQueryAttention backward: everything is recomputed from the inputs (the
 * forward keeps nothing), then per (batch, query head) the softmax-attention
 * gradients; a key/value head sums the gradients of the query heads sharing it. */
ck_status ck_gqa_backward(CK_BWD_ARGS)
{
    (void)out, (void)n_out;
    const ck_mha_config *c = CK_CFG(l, ck_mha_config);
    bool causal = false;
    ck_status st = causal_of(l, &causal);
    if (st) return st;
    const ck_tensor *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    int64_t B = q->shape.dim[0], Tq = q->shape.dim[1], Tk = k->shape.dim[1], F = q->shape.dim[2];
    int64_t Hq = c->num_query_heads, Hk = c->num_key_value_heads, d = c->head_dim, rep = Hq / Hk;
    int64_t nq = B * Tq * Hq * d, nk = B * Tk * Hk * d;
    float *buf = ck_ws_of(l, ex);
    if (!buf) return CK_ERR_STATE;
    memset(buf, 0, (size_t)gqa_floats(l, B, Tq, Tk) * sizeof *buf);
    float *Pq = buf, *Pk = Pq + nq, *Pv = Pk + nk, *dPq = Pv + nk, *dPk = dPq + nq, *dPv = dPk + nk;
    float *Po = dPv + nk, *dPo = Po + nq, *gq = dPo + nq, *gk = gq + Tq * d, *gv = gk + Tk * d, *go = gv + Tk * d;
    float *S = go + Tq * d, *dS = S + Tq * Tk, *dgo = dS + Tq * Tk, *dgq = dgo + Tq * d, *dgk = dgq + Tq * d;
    float *dgv = dgk + Tk * d;
    int w = 0;
    const ck_weight *wq = &l->weights[w++], *bq = c->use_bias ? &l->weights[w++] : NULL;
    const ck_weight *wk = &l->weights[w++], *bk = c->use_bias ? &l->weights[w++] : NULL;
    const ck_weight *wv = &l->weights[w++], *bv = c->use_bias ? &l->weights[w++] : NULL;
    const ck_weight *wo = &l->weights[w++], *bo = c->use_bias ? &l->weights[w++] : NULL;
    proj(q->data, B * Tq, F, wq->value, val(bq), Hq * d, Pq);
    proj(k->data, B * Tk, k->shape.dim[2], wk->value, val(bk), Hk * d, Pk);
    proj(v->data, B * Tk, v->shape.dim[2], wv->value, val(bv), Hk * d, Pv);
    float scale = 1.0f / sqrtf((float)d);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) proj_back(Po, dPo, B * Tq, Hq * d, wo, bo, F, dout[0].data);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < Hq; h++) {
                int64_t hk = h / rep;
                gqa_head(Pq, Pk, Pv, b, h, hk, Tq, Tk, Hq, Hk, d, gq, gk, gv);
                att_masks am = {mask_in(ex, n_in, 0), mask_in(ex, n_in, 1), mask_in(ex, n_in, 2), 1, causal};
                attend(1, Tq, Tk, d, d, scale, gq, gk, gv, S, 0, go, &am, b, NULL);
                if (pass == 0) {
                    for (int64_t t = 0; t < Tq; t++)
                        memcpy(Po + ((b * Tq + t) * Hq + h) * d, go + t * d, (size_t)d * sizeof *go);
                    continue;
                }
                for (int64_t t = 0; t < Tq; t++) memcpy(dgo + t * d, dPo + ((b * Tq + t) * Hq + h) * d, (size_t)d * sizeof *dgo);
                ck_sgemm(true, false, Tk, d, Tq, 1.0f, S, Tk, dgo, d, 0.0f, dgv, d);
                ck_sgemm(false, true, Tq, Tk, d, 1.0f, dgo, d, gv, d, 0.0f, dS, Tk);
                for (int64_t i = 0; i < Tq; i++) {
                    float dot = 0.0f;
                    for (int64_t j = 0; j < Tk; j++) dot += S[i * Tk + j] * dS[i * Tk + j];
                    for (int64_t j = 0; j < Tk; j++)
                        dS[i * Tk + j] = score_off(&am, b, Tq, Tk, i, j) ? 0.0f : S[i * Tk + j] * (dS[i * Tk + j] - dot);
                }
                ck_sgemm(false, false, Tq, d, Tk, scale, dS, Tk, gk, d, 0.0f, dgq, d);
                ck_sgemm(true, false, Tk, d, Tq, scale, dS, Tk, gq, d, 0.0f, dgk, d);
                for (int64_t t = 0; t < Tq; t++) ck_vec_add(dPq + ((b * Tq + t) * Hq + h) * d, dgq + t * d, d);
                for (int64_t t = 0; t < Tk; t++) {
                    ck_vec_add(dPk + ((b * Tk + t) * Hk + hk) * d, dgk + t * d, d);
                    ck_vec_add(dPv + ((b * Tk + t) * Hk + hk) * d, dgv + t * d, d);
                }
            }
    }
    float *dq = din[0].data, *dv = din[1].data, *dk = n_in > 2 ? din[2].data : din[1].data;
    proj_back(q->data, dq, B * Tq, F, wq, bq, Hq * d, dPq);
    proj_back(k->data, dk, B * Tk, k->shape.dim[2], wk, bk, Hk * d, dPk);
    proj_back(v->data, dv, B * Tk, v->shape.dim[2], wv, bv, Hk * d, dPv);
    return CK_OK;
}

/* ---- Attention, AdditiveAttention --------------------------------------------------------- */
/* Scratch per sample (nothing is kept): forward's scores [Tq, Tv]; backward's
 * weights and their gradient [Tq, Tv] each and the masked output gradient [Tq, Dv]. */
int64_t ck_attention_workspace(const ck_layer *l)
{
    int64_t Tq = l->in_shapes[0].dim[1], Tv = l->in_shapes[1].dim[1], Dv = l->in_shapes[1].dim[2];
    return Tq == CK_NONE || Tv == CK_NONE || Dv == CK_NONE ? 0 : 2 * Tq * Tv + Tq * Dv;
}

/* One sample's scores [Tq, Tv] for a half layer, as attention.py and
 * additive_attention.py _calculate_scores compute them on half tensors: every
 * operation rounded, except a value that ops.sum reads (jnp.sum adds in
 * float32, and XLA drops the cast pair before it). */
static void scores_half(ck_half half, bool additive, bool concat, const float *scale, float csw, const float *qb,
                        const float *kb, int64_t Tq, int64_t Tv, int64_t D, float *S)
{
    if (!additive && !concat) { /* matmul, then multiply by the scale */
        ck_sgemm(false, true, Tq, Tv, D, 1.0f, qb, D, kb, D, 0.0f, S, Tv);
        ck_round_half(half, S, S, Tq * Tv);
        for (int64_t i = 0; scale && i < Tq * Tv; i++) S[i] *= scale[0];
        if (scale) ck_round_half(half, S, S, Tq * Tv);
        return;
    }
    for (int64_t i = 0; i < Tq; i++)
        for (int64_t j = 0; j < Tv; j++) {
            float sum = 0.0f;
            for (int64_t d = 0; d < D; d++) {
                float a = qb[i * D + d] + kb[j * D + d], t;
                ck_round_half(half, &a, &a, 1);
                if (additive) { /* sum(scale * tanh(q + k)) */
                    t = tanhf(a);
                    ck_round_half(half, &t, &t, 1);
                    sum += (scale ? scale[d] : 1.0f) * t;
                } else { /* concat_score_weight * sum(tanh(scale * (q + k))) */
                    if (scale) a *= scale[0], ck_round_half(half, &a, &a, 1);
                    sum += tanhf(a);
                }
            }
            ck_round_half(half, &sum, &sum, 1);
            if (concat) sum *= csw, ck_round_half(half, &sum, &sum, 1);
            S[i * Tv + j] = sum;
        }
}

ck_status ck_attention_forward(CK_FWD_ARGS)
{
    (void)n_out;
    /* Keras: scores of masked value steps lose 1e9, masked query rows give 0 */
    const float *qm = mask_in(ex, n_in, 0), *vm = mask_in(ex, n_in, 1);
    const ck_attention_config *c = CK_CFG(l, ck_attention_config);
    att_masks am = {NULL, vm, NULL, 1, false};
    ck_status st = causal_of(l, &am.causal);
    if (st) return st;
    bool additive = !strcmp(l->cls->class_name, "AdditiveAttention");
    bool concat = !additive && !strcmp(c->score_mode, "concat");
    const ck_tensor *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    int64_t B = q->shape.dim[0], Tq = q->shape.dim[1], Tv = v->shape.dim[1], D = q->shape.dim[2], Dv = v->shape.dim[2];
    int w = 0;
    const float *scale = c->use_scale ? l->weights[w++].value : NULL;
    float csw = concat ? l->weights[w].value[0] : 1.0f;
    float *S = ck_ws_of(l, ex);
    if (!S) return CK_ERR_STATE;
    ck_half half = ck_half_of_dtype(l->dtype);
    float big = 1e9f; /* Keras's max_value, in the scores' dtype */
    ck_round_half(half, &big, &big, 1);
    for (int64_t b = 0; b < B; b++) {
        const float *qb = q->data + b * Tq * D, *kb = k->data + b * Tv * D;
        if (half) {
            scores_half(half, additive, concat, scale, csw, qb, kb, Tq, Tv, D, S);
        } else if (!additive && !concat) {
            ck_sgemm(false, true, Tq, Tv, D, scale ? scale[0] : 1.0f, qb, D, kb, D, 0.0f, S, Tv);
        } else {
            for (int64_t i = 0; i < Tq; i++)
                for (int64_t j = 0; j < Tv; j++) {
                    float s = 0.0f;
                    for (int64_t d = 0; d < D; d++) {
                        float a = qb[i * D + d] + kb[j * D + d];
                        if (additive) s += (scale ? scale[d] : 1.0f) * tanhf(a);
                        else s += tanhf(scale ? scale[0] * a : a);
                    }
                    S[i * Tv + j] = additive ? s : csw * s;
                }
        }
        /* Keras's _apply_scores (attention.py): the score mask (value mask and
         * causal mask and-ed) takes 1e9 off a masked score */
        if (vm || am.causal)
            for (int64_t i = 0; i < Tq; i++)
                for (int64_t j = 0; j < Tv; j++)
                    if (score_off(&am, b, Tq, Tv, i, j)) S[i * Tv + j] -= big;
        if (half) ck_round_half(half, S, S, Tq * Tv), ck_act_forward_half(CK_ACT_SOFTMAX, half, S, S, Tq, Tv);
        else ck_act_forward(CK_ACT_SOFTMAX, S, S, Tq, Tv);
        float *ob = out[0].data + b * Tq * Dv;
        ck_sgemm(false, false, Tq, Dv, Tv, 1.0f, S, Tv, v->data + b * Tv * Dv, Dv, 0.0f, ob, Dv);
        for (int64_t i = 0; qm && i < Tq; i++)
            for (int64_t d = 0; d < Dv; d++) ob[i * Dv + d] *= qm[b * Tq + i];
    }
    return CK_OK;
}

/* Backward of Attention / AdditiveAttention: the scores and weights are
 * recomputed (no state kept), then softmax and score gradients per mode. */
ck_status ck_attention_backward(CK_BWD_ARGS)
{
    (void)out, (void)n_out;
    const ck_attention_config *c = CK_CFG(l, ck_attention_config);
    bool additive = !strcmp(l->cls->class_name, "AdditiveAttention");
    bool concat = !additive && !strcmp(c->score_mode, "concat");
    const float *qm = mask_in(ex, n_in, 0), *vm = mask_in(ex, n_in, 1);
    att_masks am = {NULL, vm, NULL, 1, false};
    ck_status st = causal_of(l, &am.causal);
    if (st) return st;
    const ck_tensor *q = &in[0], *v = &in[1], *k = n_in > 2 ? &in[2] : &in[1];
    float *dq = din[0].data, *dv = din[1].data, *dk = n_in > 2 ? din[2].data : din[1].data;
    int64_t B = q->shape.dim[0], Tq = q->shape.dim[1], Tv = v->shape.dim[1], D = q->shape.dim[2], Dv = v->shape.dim[2];
    int w = 0;
    const ck_weight *ws = c->use_scale ? &l->weights[w++] : NULL, *wc = concat ? &l->weights[w] : NULL;
    float sc = ws && !additive ? ws->value[0] : 1.0f, csw = wc ? wc->value[0] : 1.0f;
    float *P = ck_ws_of(l, ex);
    if (!P) return CK_ERR_STATE;
    float *dS = P + Tq * Tv, *g = dS + Tq * Tv;
    for (int64_t b = 0; b < B; b++) {
        const float *qb = q->data + b * Tq * D, *kb = k->data + b * Tv * D, *vb = v->data + b * Tv * Dv;
        for (int64_t i = 0; i < Tq; i++)
            for (int64_t j = 0; j < Tv; j++) {
                float s = 0.0f;
                for (int64_t d = 0; d < D; d++) {
                    float a = qb[i * D + d] + kb[j * D + d];
                    s += additive ? (ws ? ws->value[d] : 1.0f) * tanhf(a)
                         : concat ? tanhf(sc * a) : qb[i * D + d] * kb[j * D + d];
                }
                s = additive ? s : concat ? csw * s : sc * s;
                P[i * Tv + j] = score_off(&am, b, Tq, Tv, i, j) ? s - 1e9f : s;
            }
        ck_act_forward(CK_ACT_SOFTMAX, P, P, Tq, Tv);
        for (int64_t i = 0; i < Tq; i++)
            for (int64_t e = 0; e < Dv; e++)
                g[i * Dv + e] = dout[0].data[(b * Tq + i) * Dv + e] * (qm ? qm[b * Tq + i] : 1.0f);
        if (dv) ck_sgemm(true, false, Tv, Dv, Tq, 1.0f, P, Tv, g, Dv, 1.0f, dv + b * Tv * Dv, Dv);
        ck_sgemm(false, true, Tq, Tv, Dv, 1.0f, g, Dv, vb, Dv, 0.0f, dS, Tv);
        for (int64_t i = 0; i < Tq; i++) {
            float dot = 0.0f;
            for (int64_t j = 0; j < Tv; j++) dot += P[i * Tv + j] * dS[i * Tv + j];
            for (int64_t j = 0; j < Tv; j++) dS[i * Tv + j] = P[i * Tv + j] * (dS[i * Tv + j] - dot);
        }
        for (int64_t i = 0; i < Tq; i++)
            for (int64_t j = 0; j < Tv; j++) {
                float ds = dS[i * Tv + j];
                for (int64_t d = 0; d < D; d++) {
                    float qd = qb[i * D + d], kd = kb[j * D + d], gq, gk;
                    if (additive) {
                        float t = tanhf(qd + kd), wd = ws ? ws->value[d] : 1.0f;
                        gq = gk = ds * wd * (1.0f - t * t);
                        if (ws) ws->grad[d] += ds * t;
                    } else if (concat) {
                        float t = tanhf(sc * (qd + kd)), dt = ds * csw * (1.0f - t * t);
                        gq = gk = dt * sc;
                        wc->grad[0] += ds * t;
                        if (ws) ws->grad[0] += dt * (qd + kd);
                    } else {
                        gq = ds * sc * kd, gk = ds * sc * qd;
                        if (ws) ws->grad[0] += ds * qd * kd;
                    }
                    if (dq) dq[(b * Tq + i) * D + d] += gq;
                    if (dk) dk[(b * Tv + j) * D + d] += gk;
                }
            }
    }
    return CK_OK;
}
