/*
 * Recurrent cell loops for SimpleRNN, LSTM and GRU over a whole sequence, as Keras
 * 3 computes them: the input projection of every step in one GEMM, then one GEMM
 * per step for all gates of the recurrent projection, then the gate arithmetic
 * with threads over the batch. Nothing here knows what a layer is.
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
    const float *bias;      /* [G*units], GRU reset_after: [2, 3*units]; NULL = none   */
    bool reset_after;       /* GRU only                                                */
    bool go_backwards;      /* read steps last to first; outputs stay in that order    */
    ck_act_kind act, rec_act;
    float *seq;             /* [batch, steps, units] or NULL                           */
    float *h;               /* [batch, units] final hidden state                       */
    float *c;               /* [batch, units] final cell state (LSTM) or NULL          */
    float *work;            /* ck_rnn_work_floats() floats of scratch                  */
    const float *mask;      /* [batch, steps] Keras mask (0 = skip the step) or NULL   */
    bool zero_output_for_mask; /* masked steps output zeros, else the previous output */
} ck_rnn_args;

int64_t ck_rnn_gates(ck_rnn_kind kind);
/* Scratch floats the loop needs (input projection, recurrent projection, state). */
int64_t ck_rnn_work_floats(const ck_rnn_args *a);
void ck_rnn_forward(const ck_rnn_args *a);

#endif
