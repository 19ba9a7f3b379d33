/*
 * Recurrent cell loops for SimpleRNN, LSTM and GRU over a whole sequence, as Keras
 * 3 computes them: the input projection of every step in one GEMM, then one GEMM
 * per step for all gates of the recurrent projection, then the gate arithmetic
 * with threads over the batch. Forward keeps every step's pre-activations, gates
 * and states in the scratch so backward (BPTT) needs no recomputation; backward
 * runs the steps in reverse with one GEMM per step for the recurrent gradients and
 * one GEMM each for the kernel and input gradients of all steps. Masked steps
 * (Keras masks) leave the state alone. Nothing here knows what a layer is.
 */
#ifndef CK_KERNELS_RNN_H
#define CK_KERNELS_RNN_H

#include "kernels/activations.h"

typedef enum ck_rnn_kind { CK_RNN_SIMPLE, CK_RNN_LSTM, CK_RNN_GRU } ck_rnn_kind;

typedef struct ck_rnn_args {
    ck_rnn_kind kind;
    int64_t batch, steps, in_dim, units;
    const float *x;         /* [batch, steps, in_dim]                                  */
    const float *kernel;    /* [in_dim, G*units]; G = 1, 4 (i,f,c,o) or 3 (z,r,h)      */
    const float *recurrent; /* [units, G*units]                                        */
    /* kernel and recurrent packed for ck_gemm_packed (inference), or NULL: cblas */
    const float *kernel_packed, *recurrent_packed;
    const float *bias;      /* [G*units], GRU reset_after: [2, 3*units]; NULL = none   */
    bool reset_after;       /* GRU only                                                */
    bool go_backwards;      /* read steps last to first; outputs stay in that order    */
    ck_act_kind act, rec_act;
    const float *h0, *c0;   /* [batch, units] initial states or NULL (zeros)           */
    float *seq;             /* [batch, steps, units] or NULL                           */
    float *h;               /* [batch, units] final hidden state                       */
    float *c;               /* [batch, units] final cell state (LSTM) or NULL          */
    float *work;            /* ck_rnn_work_floats() floats of scratch, kept for backward */
    const float *mask;      /* [batch, steps] Keras mask (0 = skip the step) or NULL   */
    /* Training dropout, one mask per sample for every step as Keras draws it (0 or
     * 1/(1-rate)), or NULL: on the inputs [batch, in_dim], and on the previous
     * state [batch, units] where the cell reads it (LSTM, SimpleRNN: the recurrent
     * projection; GRU: everywhere, as Keras 3's GRUCell). */
    const float *in_drop, *rec_drop;
    bool zero_output_for_mask; /* masked steps output zeros, else the previous output */
    /* No backward follows (predict): the gates go over the pre-activations in
     * place and only the last step's states are kept (ck_rnn_final_states
     * still works), so a step writes 4 * units floats per row where it wrote
     * 10 (LSTM); ck_rnn_backward must not be called after such a forward. */
    bool forward_only;
    /* A half layer (mixed_float16, bfloat16, ...): every operation of Keras's
     * cell rounded to this type in turn, as XLA computes it (forward only). */
    ck_half half;
} ck_rnn_args;

/* Gradients for ck_rnn_backward; every pointer but the d-outputs is accumulated
 * into (+=) and may be NULL when not wanted. */
typedef struct ck_rnn_grads {
    const float *dseq;      /* [batch, steps, units] d loss / d seq, or NULL           */
    const float *dh, *dh2, *dc; /* [batch, units] d loss / d final h (two outputs may
                             * read it: last output and state), c; or NULL           */
    float *dx;              /* [batch, steps, in_dim]                                  */
    float *dh0, *dc0;       /* [batch, units] initial states                           */
    float *dkernel, *drecurrent, *dbias;
} ck_rnn_grads;

int64_t ck_rnn_gates(ck_rnn_kind kind);
/* Scratch floats forward and backward need; a multiple of batch. */
int64_t ck_rnn_work_floats(const ck_rnn_args *a);
void ck_rnn_forward(const ck_rnn_args *a);
/* The states after the last ck_rnn_forward (stateful layers keep them). */
void ck_rnn_final_states(const ck_rnn_args *a, float *h, float *c);
/* One LSTM cell update of `a->units` values (ConvLSTM runs it per position):
 * pre += zh, g = gates (i, f, c, o), c and h updated in place. */
void ck_rnn_lstm_cell(const ck_rnn_args *a, float *pre, const float *zh, float *g, float *h, float *c);
/* Backward of one ck_rnn_lstm_cell (pre: the summed pre-activations, g: gates,
 * c/cp: the new and previous cell states): dh (destroyed) and dc (in: d c; out:
 * d of the previous c) give dpre, copied to dzh; tmp holds `units` floats. */
void ck_rnn_lstm_cell_back(const ck_rnn_args *a, const float *pre, const float *g, const float *c, const float *cp,
                           float *dh, float *dc, float *dpre, float *dzh, float *tmp);
/* The backward of the last ck_rnn_forward with the same args (and scratch). */
void ck_rnn_backward(const ck_rnn_args *a, const ck_rnn_grads *g);

#endif
