"""Tests for rnncore.sequence_models: five causal models behind one interface, and their numbers."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from rnncore import (gru, losses, lstm, rnn, sequence_models as sm, tcn, transformer, trees,
                     wrappers)
from rnncore.sequence_models import SequenceModelSpec

SPECS = [SequenceModelSpec(rnn, 5), SequenceModelSpec(lstm, 5), SequenceModelSpec(gru, 5, layers=2),
         SequenceModelSpec(tcn, 4, layers=3, kernel_size=3),
         SequenceModelSpec(transformer, 8, layers=2, heads=2),
         SequenceModelSpec(transformer, 6, heads=3, d_ff=10)]


def name(spec):
    """The model's module, rnncore.lstm, as a test id: lstm."""
    return spec.kind.__name__.rsplit(".", 1)[-1]


def formula(spec, D):
    """The parameter count, from the equations of each model (an independent witness)."""
    W, L, k = spec.width, spec.layers, spec.kernel_size
    per_layer = {rnn: lambda i: i * W + W * W + W,                      # W_x, W_h, b_h
                 lstm: lambda i: 4 * (i * W + W * W + W),               # four gates, one bias
                 gru: lambda i: 3 * (i * W + W * W + 2 * W)}            # three blocks, two biases
    if spec.kind in per_layer:
        return per_layer[spec.kind](D) + (L - 1) * per_layer[spec.kind](W)
    if spec.kind is tcn:
        conv = lambda i: k * i * W + W                                  # noqa: E731
        first = conv(D) + conv(W) + (D * W if D != W else 0)            # W_p when D != W
        return first + (L - 1) * 2 * conv(W)
    block = 4 * W * W + 2 * 2 * W + (W * spec.ff + spec.ff) + (spec.ff * W + W)
    return D * W + L * block + 2 * W                                    # W_e, blocks, final LN


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{name(s)}-{s.layers}")
def test_shapes_and_parameter_count(spec):
    rng = np.random.default_rng(0)
    for D in (3, spec.width):
        params = sm.init(spec, D, rng)
        assert sm.count(params) == formula(spec, D)
        assert sm.forward(spec, params, rng.normal(size=(7, 2, D))).shape == (7, 2, spec.width)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{name(s)}-{s.layers}")
def test_every_model_is_causal(spec):
    rng = np.random.default_rng(1)
    params = sm.init(spec, 3, rng)
    xs = rng.normal(size=(9, 2, 3))
    ys = sm.forward(spec, params, xs)
    for t in (0, 4, 7):
        changed = xs.copy()
        changed[t + 1:] = rng.normal(size=changed[t + 1:].shape)
        np.testing.assert_allclose(sm.forward(spec, params, changed)[:t + 1], ys[:t + 1],
                                   rtol=1e-12, atol=1e-12)
        assert not np.allclose(sm.forward(spec, params, changed)[t + 1:], ys[t + 1:])


def test_forward_is_the_library_models():
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(6, 3, 4))
    for cell in (rnn, lstm, gru):
        params = sm.init(SequenceModelSpec(cell, 5), 4, rng)
        np.testing.assert_allclose(sm.forward(SequenceModelSpec(cell, 5), params, xs),
                                   cell.forward(params["layer1"], xs)[0], rtol=1e-12)
        spec = SequenceModelSpec(cell, 5, layers=2)
        params = sm.init(spec, 4, rng)
        np.testing.assert_allclose(sm.forward(spec, params, xs),
                                   wrappers.stacked_forward(cell, params, xs)[0], rtol=1e-12)
    spec = SequenceModelSpec(tcn, 5, layers=2, kernel_size=3)
    params = sm.init(spec, 4, rng)
    np.testing.assert_allclose(sm.forward(spec, params, xs), tcn.forward(params, xs, [1, 2]),
                               rtol=1e-12)
    spec = SequenceModelSpec(transformer, 8, layers=2, heads=4, d_ff=16)
    params = sm.init(spec, 4, rng)
    x = xs @ params["W_e"] + transformer.sinusoidal_positional_encoding(6, 8)[:, None, :]
    for name in ("block1", "block2"):
        x = transformer.block_forward(params[name], x, 4, causal=True)
    np.testing.assert_allclose(sm.forward(spec, params, xs),
                               transformer.layer_norm(params["ln"], x), rtol=1e-12)


def test_sequential_steps_and_path_length():
    for T in (1, 10, 100):
        assert sm.sequential_steps(SequenceModelSpec(lstm), T) == T
        assert sm.sequential_steps(SequenceModelSpec(gru, layers=3), T) == 3 * T
        assert sm.sequential_steps(SequenceModelSpec(tcn, layers=4), T) == 4
        assert sm.sequential_steps(SequenceModelSpec(transformer, layers=2), T) == 2
        assert sm.path_length(SequenceModelSpec(rnn), T) == T
        assert sm.path_length(SequenceModelSpec(rnn, layers=2), T) == T + 1
        assert sm.path_length(SequenceModelSpec(transformer), T) == 1
    four_blocks = SequenceModelSpec(tcn, layers=4)
    assert sm.path_length(four_blocks, 31) == 4      # R = 1 + 2 (1 + 2 + 4 + 8)
    assert sm.path_length(four_blocks, 32) is None   # x_1 is out of reach


def positive(tree):
    """|w| + 0.1 everywhere: every ReLU active, no two paths cancel, so a gradient is nonzero
    exactly where the output depends on the input."""
    return trees.tree_map(lambda w: np.abs(w) + 0.1, tree)


@pytest.mark.parametrize("T,k", [(2, 2), (8, 2), (31, 2), (32, 2), (50, 3), (200, 2), (9, 5)])
def test_blocks_to_reach_is_the_depth_at_which_the_first_input_is_seen(T, k):
    L = sm.blocks_to_reach(T, k)
    assert L == int(np.ceil(np.log2((T - 1) / (2 * (k - 1)) + 1)))
    rng = np.random.default_rng(T)
    xs = np.abs(rng.normal(size=(T, 1, 2)))
    for blocks, reaches in [(L, True), (L - 1, False)]:
        if blocks == 0:
            continue
        spec = SequenceModelSpec(tcn, 3, layers=blocks, kernel_size=k)
        params = positive(sm.init(spec, 2, rng))
        seen = sm.dependence(lambda x: sm.forward(spec, params, x), xs, T - 1, rng)
        assert (seen[0] > 0) == reaches, (T, k, blocks)
        assert (sm.path_length(spec, T) is not None) == reaches


def test_blocks_to_reach_needs_a_kernel_that_grows():
    assert sm.blocks_to_reach(1, 2) == 0
    with pytest.raises(ValueError, match="kernel_size must be at least 2"):
        sm.blocks_to_reach(10, 1)


def test_dependence_is_the_norm_of_the_jacobian_rows():
    rng = np.random.default_rng(3)
    spec = SequenceModelSpec(transformer, 4, heads=2)
    params = sm.init(spec, 3, rng)
    xs = rng.normal(size=(5, 1, 3))
    f = lambda x: sm.forward(spec, params, x)                          # noqa: E731
    J = autograd.jacobian(lambda x: f(x)[3])(xs)                       # (B, d, T, B, D)
    depends = np.abs(J).reshape(-1, 5, 3).max(axis=(0, 2)) > 0         # (T,)
    seen = sm.dependence(f, xs, 3, np.random.default_rng(0))
    assert np.array_equal(seen > 0, depends)
    assert np.array_equal(depends, np.arange(5) <= 3)
    # A plain sum of the outputs would see nothing: a layer norm's outputs always sum to
    # sum(beta) (here 0), so their sum does not depend on any input at all.
    plain = autograd.grad(lambda x: anp.sum(f(x)[3]))(xs)
    assert np.abs(plain).max() < 1e-12
    with pytest.raises(ValueError, match="t = 5 is not a step"):
        sm.dependence(f, xs, 5, rng)


def test_errors_name_the_problem():
    valid = "one of rnncore.rnn, rnncore.lstm, rnncore.gru, rnncore.tcn, rnncore.transformer"
    with pytest.raises(ValueError, match=f"kind must be a module, {valid}; got 'cnn'$"):
        SequenceModelSpec("cnn")
    with pytest.raises(ValueError, match=r"got 'lstm' \(a model is chosen by its module: from "
                                         r"rnncore import lstm\)"):
        SequenceModelSpec("lstm")
    with pytest.raises(ValueError, match=f"{valid}; got <module 'rnncore.losses'"):
        SequenceModelSpec(losses)
    with pytest.raises(ValueError, match="heads = 3 must divide"):
        SequenceModelSpec(transformer, 8, heads=3)
    with pytest.raises(ValueError, match="must be positive"):
        SequenceModelSpec(rnn, 0)
    spec = SequenceModelSpec(transformer, 4)
    params = sm.init(spec, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"xs has shape \(5, 1, 2\), expected \(T, B, D\) "
                                         r"with D = 3"):
        sm.forward(spec, params, np.zeros((5, 1, 2)))


@pytest.mark.parametrize("spec", [SequenceModelSpec(rnn), SequenceModelSpec(lstm),
                                  SequenceModelSpec(gru), SequenceModelSpec(tcn, layers=3),
                                  SequenceModelSpec(transformer, heads=2),
                                  SequenceModelSpec(transformer, 6, heads=3, d_ff=20)],
                         ids=name)
@pytest.mark.parametrize("D, out, budget", [(2, 1, 4513), (20, 20, 9000)])
def test_width_for_budget_is_the_closest_width(spec, D, out, budget):
    """The chosen width's count (model + readout, by the formula) is the closest to the budget
    of all widths (the heads dividing a Transformer's)."""
    total = lambda s: formula(s, D) + s.width * out + out                 # noqa: E731
    chosen = sm.width_for_budget(spec, D, budget, out)
    step = spec.heads if spec.kind is transformer else 1
    assert chosen.width % step == 0 and chosen.kind is spec.kind
    assert chosen.d_ff == spec.d_ff and chosen.layers == spec.layers
    others = [sm.replace(spec, width=w) for w in range(step, 4 * chosen.width, step)]
    assert all(abs(total(chosen) - budget) <= abs(total(o) - budget) for o in others)


def test_width_for_budget_matches_counts_that_differ_by_an_order_of_magnitude():
    specs = [SequenceModelSpec(rnn), SequenceModelSpec(lstm), SequenceModelSpec(tcn, layers=4),
             SequenceModelSpec(transformer)]
    at_32 = [sm.count(sm.init(s, 2, np.random.default_rng(0))) for s in specs]
    assert max(at_32) / min(at_32) > 10
    matched = [sm.count(sm.init(sm.width_for_budget(s, 2, 4500), 2, np.random.default_rng(0)))
               for s in specs]
    assert max(matched) / min(matched) < 1.2
    with pytest.raises(ValueError, match="budget"):
        sm.width_for_budget(specs[0], 2, 0)


def test_complexity_per_layer_follows_vaswani_table_1():
    assert sm.complexity_per_layer(SequenceModelSpec(gru)) == "O(T d²)"
    assert sm.complexity_per_layer(SequenceModelSpec(tcn)) == "O(k T d²)"
    assert sm.complexity_per_layer(SequenceModelSpec(transformer)) == "O(T² d)"
