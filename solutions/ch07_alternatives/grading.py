"""Trusted questions of chapter 7's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs (other sizes: T = 1,
B = 1, d = 1, odd widths, d_k != d_v, one head and many, large scores) and compares the result
with the solution's. The receptive field and the depth of a TCN are compared with the truth that
the gradient of a real TCN shows: with positive weights and inputs every ReLU is active and no
two paths cancel, so the last output's gradient is nonzero exactly on the inputs it can see.
Messages name the function, the sizes and the quantity, never the hidden values.
"""
import numpy as np

from grader.checks import expect, expect_close, question
from rnncore import optim, tcn, transformer
from rnncore.sequence_models import dependence

TOL = dict(rtol=1e-4, atol=1e-5)


def _positive_tcn(kernel_size, num_blocks, rng):
    params = tcn.init(1, [2] * num_blocks, kernel_size, rng)
    return optim.tree_map(lambda w: np.abs(w) + 0.1, params)


def _seen_by_last_output(params, dilations, T, rng):
    """(T,) bool: the inputs on which the last output of the TCN has a nonzero gradient."""
    xs = np.abs(rng.normal(size=(T, 1, 1))) + 0.1
    return dependence(lambda x: tcn.forward(params, x, dilations), xs, T - 1, rng) > 0


def _depth(T, kernel_size, rng):
    """The fewest blocks (dilations 1, 2, 4, ...) at which the last of T outputs sees x_1."""
    L = 0
    while T > 1 and (L == 0 or not _seen_by_last_output(_positive_tcn(kernel_size, L, rng),
                                                           None, T, rng)[0]):
        L += 1
    return L


@question("test_positional_encoding")
def positional_encoding(student, ref, rng):
    sizes = [(1, 1), (1, 6), (5, 1), (7, 5), (200, 33),
             (int(rng.integers(10, 120)), 2 * int(rng.integers(1, 40))),      # even d
             (int(rng.integers(10, 120)), 2 * int(rng.integers(1, 40)) + 1)]  # odd d
    for T, d in sizes:
        expect_close(student.positional_encoding(T, d), ref.positional_encoding(T, d),
                     f"positional_encoding(T={T}, d={d})", **TOL,
                     hint="PE[t, 2i] = sin(t / 10000^(2i/d)) and PE[t, 2i+1] = cos(t / "
                          "10000^(2i/d)) for t = 0..T-1, the columns interleaved; for odd d the "
                          "last column is a sine")


@question("test_causal_attention")
def causal_attention(student, ref, rng):
    shapes = [(1, 1, 1, 1), (5, 3, 4, 2), (7, 1, 2, 5), (4, 4, 16, 1), (12, 2, 8, 8)]
    for T, B, d_k, d_v in shapes:
        q, k = rng.normal(size=(T, B, d_k)), rng.normal(size=(T, B, d_k))
        v = rng.normal(size=(T, B, d_v))
        for label, scale in [("", 1.0), (", large scores", 300.0)]:
            expect_close(student.causal_attention(scale * q, k, v),
                         ref.causal_attention(scale * q, k, v),
                         f"causal_attention(q, k, v) = (out, weights) for T={T}, B={B}, "
                         f"d_k={d_k}, d_v={d_v}{label}", **TOL,
                         hint="scores q_t . k_s / sqrt(d_k); -inf where s > t BEFORE the softmax; "
                              "the softmax over axis 1 (the keys), each row's maximum "
                              "subtracted first; out[t] = sum over s of weights[t, s] v[s]")


@question("test_multihead_attention")
def multihead_attention(student, ref, rng):
    for T, B, d, h in [(1, 1, 2, 1), (5, 3, 8, 2), (1, 2, 6, 3), (7, 1, 4, 1), (4, 2, 8, 8),
                       (9, 3, 12, 4)]:
        params = transformer.multihead_init(d, rng)
        x = rng.normal(size=(T, B, d))
        expect_close(student.multihead_attention(params, x, h),
                     ref.multihead_attention(params, x, h),
                     f"multihead_attention(params, x, num_heads) = (out, weights) for T={T}, "
                     f"B={B}, d={d}, num_heads={h}", **TOL,
                     hint="head i uses the contiguous columns i*d_k:(i+1)*d_k of x @ W_q, "
                          "x @ W_k and x @ W_v with the causal mask; concatenate the heads in "
                          "order and multiply by W_o; stack the weights on a last axis")


@question("test_receptive_field")
def receptive_field(student, ref, rng):
    configs = [(2, [1, 2, 4, 8]), (3, []), (1, [2, 2])]
    for _ in range(6):
        blocks = int(rng.integers(1, 5))
        configs.append((int(rng.integers(2, 5)), [int(d) for d in rng.integers(1, 6, blocks)]))
    for n, (kernel_size, dilations) in enumerate(configs, start=1):
        T = 2 * kernel_size * sum(dilations) + 3                      # more than enough steps
        seen = _seen_by_last_output(_positive_tcn(kernel_size, len(dilations), rng), dilations,
                                    T, rng)
        truth = int(T - np.flatnonzero(seen)[0])     # from the earliest input seen to step T - 1
        expect(truth == ref.receptive_field(kernel_size, dilations),
               "the reference receptive field disagrees with the gradient (a grader bug)")
        got = student.receptive_field(kernel_size, list(dilations))
        expect_close(got, truth, f"receptive_field for hidden configuration {n} (kernel size "
                                 f"{kernel_size}, {len(dilations)} blocks), measured on a real "
                                 f"TCN", rtol=0, atol=0,
                     hint="one convolution with dilation d reaches (k - 1) d steps further back "
                          "than its input; a block has TWO convolutions; the output's own step "
                          "counts too")


@question("test_blocks_to_reach")
def blocks_to_reach(student, ref, rng):
    # The student's blocks_to_reach with the library's receptive_field, so that a mistake in
    # exercise 4 costs only its own points (as in the visible tests).
    own = student.using(receptive_field="rnncore.tcn:receptive_field")
    cases = [(1, 2), (3, 2), (31, 2), (32, 2), (61, 3), (62, 3)]
    cases += [(int(rng.integers(2, 300)), int(rng.integers(2, 6))) for _ in range(6)]
    for n, (T, kernel_size) in enumerate(cases, start=1):
        truth = _depth(T, kernel_size, rng)
        expect(truth == ref.blocks_to_reach(T, kernel_size),
               "the reference depth disagrees with the gradient (a grader bug)")
        expect_close(own.blocks_to_reach(T, kernel_size), truth,
                     f"blocks_to_reach for hidden case {n} (kernel size {kernel_size}), measured "
                     f"on real TCNs", rtol=0, atol=0,
                     hint="the smallest L with R = 1 + 2 (k - 1)(2^L - 1) >= T; R == T is enough; "
                          "0 blocks for T = 1")
