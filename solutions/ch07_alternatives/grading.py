"""Trusted questions of chapter 7's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs and compares the
result with the solution's (expect_call: one call each, the student's arguments checked for
writes, ints exact). While a question runs, the library functions that compute its answer are
unavailable to the submission (forbid=...). The hidden inputs always include the edge cases
(large scores, a future key far above the kept ones, batch elements whose scores are far apart,
every score far below 0 (a finite mask fill above them fails),
T = 1, B = 1, d_k != d_v, odd widths, one head and many, dilations with holes, R == T exactly),
so a wrong answer fails on every student's draw; the random sizes are drawn away from the
visible examples'. The receptive field and the depth of a TCN are compared with the truth that
the gradient of a real TCN shows: with positive weights and inputs every ReLU is active and no
two paths cancel, so the last output's gradient is nonzero exactly on the inputs it can see.
Messages name the function, the sizes and the quantity, never the hidden values.
"""
import numpy as np

from rnncore_grader.checks import expect, expect_call, question
from rnncore import tcn, transformer, trees
from rnncore.sequence_models import dependence

TOL = dict(rtol=1e-4, atol=1e-5)
# (rnncore.streaming's cached attention is not listed: it is one head, returns no weights, and
# chapter 8 prints it.)
ATTENTION = ("rnncore.transformer:scaled_dot_product_attention",
             "rnncore.transformer:multihead_forward", "rnncore.attention:masked_softmax",
             "rnncore.attention:dot_attention", "rnncore.numerics:softmax",
             "rnncore.numerics:log_softmax")
MULTIHEAD = ("rnncore.transformer:multihead_forward",)


def _positive_tcn(kernel_size, num_blocks, rng):
    params = tcn.init(1, [2] * num_blocks, kernel_size, rng)
    return trees.tree_map(lambda w: np.abs(w) + 0.1, params)


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


def _draw(rng, low, high, avoid):
    """An integer in [low, high) that is not in avoid (the visible examples' values)."""
    choices = [n for n in range(low, high) if n not in avoid]
    return int(rng.choice(choices))


@question("test_positional_encoding",
          forbid=("rnncore.transformer:sinusoidal_positional_encoding",))
def positional_encoding(student, ref, rng):
    sizes = [(1, 1), (1, 6), (5, 1), (7, 5), (200, 33),
             (_draw(rng, 10, 120, {40}), 2 * _draw(rng, 1, 40, {2})),            # even d
             (_draw(rng, 10, 120, {9, 40}), 2 * _draw(rng, 1, 40, {3, 5}) + 1)]  # odd d
    for T, d in sizes:
        expect_call(student, ref, "positional_encoding", T, d, where=f"for T={T}, d={d}", **TOL,
                    hint="PE[t, 2i] = sin(t / 10000^(2i/d)) and PE[t, 2i+1] = cos(t / "
                         "10000^(2i/d)) for t = 0..T-1, the columns interleaved; for odd d the "
                         "last column is a sine")


ATTENTION_HINT = ("scores q_t . k_s / sqrt(d_k); -inf where s > t BEFORE the softmax; the "
                  "softmax over axis 1 (the keys), each row's own maximum (over the keys it may "
                  "see) subtracted first; out[t] = sum over s of weights[t, s] v[s]")


@question("test_causal_attention", forbid=ATTENTION)
def causal_attention(student, ref, rng):
    shapes = [(1, 1, 1, 1), (5, 3, 4, 2), (7, 1, 2, 5), (4, 4, 16, 1),
              (_draw(rng, 7, 14, set()), _draw(rng, 2, 5, {3}), _draw(rng, 5, 9, set()),
               _draw(rng, 1, 7, {3}))]
    for T, B, d_k, d_v in shapes:
        q, k = rng.normal(size=(T, B, d_k)), rng.normal(size=(T, B, d_k))
        v = rng.normal(size=(T, B, d_v))
        where = f"for T={T}, B={B}, d_k={d_k}, d_v={d_v}"
        expect_call(student, ref, "causal_attention", q, k, v, where=where, **TOL,
                    hint=ATTENTION_HINT)
        expect_call(student, ref, "causal_attention", 300.0 * q, k, v,
                    where=where + ", large scores", **TOL,
                    hint="np.exp overflows above ~709: subtract each row's largest score first")
        if T > 1:
            # The last key scores at least 1e4 with every query; for t < T - 1 it is masked.
            q_far, k_far = q.copy(), k.copy()
            q_far[..., 0] = np.abs(q[..., 0]) + 1.0
            k_far[-1] = 0.0
            k_far[-1, :, 0] = 3e4 * np.sqrt(d_k)
            expect_call(student, ref, "causal_attention", q_far, k_far, v,
                        where=where + ", a future key scoring far above the kept ones", **TOL,
                        hint="mask BEFORE np.exp, and take each row's maximum over the keys it "
                             "may see: a masked score must not enter the softmax at all")
        if B > 1:
            # In batch element 0, key 0 scores 2000 with every query (every row of b = 0 puts
            # its weight on key 0, exactly, in float32 too); the others keep ordinary scores,
            # far enough below for exp to underflow if the batch's maximum is subtracted.
            q_apart, k_apart = q.copy(), k.copy()
            q_apart[:, 0, 0] = 1.0
            k_apart[:, 0] = 0.0
            k_apart[0, 0, 0] = 2000.0 * np.sqrt(d_k)
            expect_call(student, ref, "causal_attention", q_apart, k_apart, v,
                        where=where + ", batch elements whose scores are far apart", **TOL,
                        hint="subtract the maximum of each row (each query t and batch element "
                             "b, over the keys s), not the maximum of the whole batch")
        if T > 1:
            # Every score -2000 or below, 40 apart (each row's weight goes to its best kept key,
            # in float32 too): q_t is one direction u per batch element, and k_s . u / sqrt(d_k)
            # is set to the score. A finite "large negative" mask fill (-1000, say) lies above
            # the kept scores and hands the weight to the future.
            u = rng.normal(size=(B, d_k))
            low = -2000.0 - 40.0 * np.stack([rng.permutation(T) for _ in range(B)], axis=1)
            noise = rng.normal(size=(T, B, d_k))
            noise -= (np.einsum("sbd,bd->sb", noise, u) / np.sum(u ** 2, axis=-1))[:, :, None] * u
            k_low = (low * np.sqrt(d_k) / np.sum(u ** 2, axis=-1))[:, :, None] * u + noise
            expect_call(student, ref, "causal_attention", np.broadcast_to(u, (T, B, d_k)).copy(),
                        k_low, v, where=where + ", every score -2000 or below", **TOL,
                        hint="set the future scores to -inf (np.where(future, -np.inf, scores)): "
                             "a finite 'large negative' number such as -1000 lies ABOVE kept "
                             "scores of -2000, and the future keys take the weight")


@question("test_multihead_attention", forbid=MULTIHEAD)
def multihead_attention(student, ref, rng):
    cases = [(1, 1, 2, 1), (5, 3, 8, 2), (1, 2, 6, 3), (7, 1, 4, 1), (4, 2, 8, 8), (9, 3, 12, 4)]
    h = _draw(rng, 2, 5, set())
    cases.append((_draw(rng, 6, 12, {5}), _draw(rng, 2, 4, {2}), h * _draw(rng, 2, 4, set()), h))
    for T, B, d, h in cases:
        params = transformer.multihead_init(d, rng)
        x = rng.normal(size=(T, B, d))
        expect_call(student, ref, "multihead_attention", params, x, h,
                    where=f"for T={T}, B={B}, d={d}, num_heads={h}", **TOL,
                    hint="head i uses the contiguous columns i*d_k:(i+1)*d_k of x @ W_q, "
                         "x @ W_k and x @ W_v with the causal mask; concatenate the heads in "
                         "order and multiply by W_o; stack the weights on a last axis")


@question("test_receptive_field", forbid=("rnncore.tcn:receptive_field",))
def receptive_field(student, ref, rng):
    configs = [(2, [1, 2, 4, 8]), (3, []), (1, [2, 2]), (2, [5]), (3, [3, 3]),   # holes
               (2, [3, 1, 2])]
    for _ in range(5):
        blocks = int(rng.integers(1, 5))
        configs.append((int(rng.integers(2, 6)), [int(d) for d in rng.integers(1, 6, blocks)]))
    for n, (kernel_size, dilations) in enumerate(configs, start=1):
        T = 2 * kernel_size * sum(dilations) + 3                      # more than enough steps
        seen = _seen_by_last_output(_positive_tcn(kernel_size, len(dilations), rng), dilations,
                                    T, rng)
        truth = int(T - np.flatnonzero(seen)[0])     # from the earliest input seen to step T - 1
        expect(truth == ref.receptive_field(kernel_size, dilations),
               "the reference receptive field disagrees with the gradient (a grader bug)")
        expect_call(student, ref, "receptive_field", kernel_size, list(dilations),
                    where=f"for hidden configuration {n} (kernel size {kernel_size}, "
                          f"{len(dilations)} blocks), measured on a real TCN",
                    hint="one convolution with dilation d reaches (k - 1) d steps further back "
                         "than its input; a block has TWO convolutions; the output's own step "
                         "counts too; R is the span, holes included; return an int")


@question("test_blocks_to_reach", forbid=("rnncore.sequence_models:blocks_to_reach",))
def blocks_to_reach(student, ref, rng):
    # The student's blocks_to_reach with the library's receptive_field, so that a mistake in
    # exercise 4 costs only its own points (as in the visible tests).
    own = student.using(receptive_field="rnncore.tcn:receptive_field")
    cases = [(1, 2), (3, 2), (15, 2), (16, 2), (61, 3), (62, 3), (13, 3), (2, 7)]
    cases += [(_draw(rng, 2, 300, {30, 31, 32, 40, 41, 200}), int(rng.integers(2, 6)))
              for _ in range(5)]
    for n, (T, kernel_size) in enumerate(cases, start=1):
        truth = _depth(T, kernel_size, rng)
        expect(truth == ref.blocks_to_reach(T, kernel_size),
               "the reference depth disagrees with the gradient (a grader bug)")
        expect_call(own, ref, "blocks_to_reach", T, kernel_size,
                    where=f"for hidden case {n} (kernel size {kernel_size}), measured on real "
                          f"TCNs",
                    hint="the smallest L with R = 1 + 2 (k - 1)(2^L - 1) >= T; R == T is "
                         "enough; 0 blocks for T = 1; return an int")
