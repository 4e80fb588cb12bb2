"""Tests for rnncore.tcn: causal dilated convolutions, residual blocks, the receptive field."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nested_gradcheck import assert_gradients_match
from rnncore import tcn


def loop_conv(W, b, xs, d):
    """Witness: y_t = b + sum_j x_{t - j d} W_j, one t and one tap at a time, skipping t - j d < 0."""
    T, B, _ = xs.shape
    ys = np.zeros((T, B, W.shape[2])) + b
    for t in range(T):
        for j in range(W.shape[0]):
            if t - j * d >= 0:
                ys[t] += xs[t - j * d] @ W[j]
    return ys


@pytest.mark.parametrize("k,d", [(1, 1), (2, 1), (3, 1), (2, 2), (3, 3), (2, 7)])
def test_causal_conv_matches_a_loop(k, d):
    rng = np.random.default_rng(k * 10 + d)
    params = tcn.causal_conv_init(3, 4, k, rng)
    params["b"] = rng.normal(size=4)
    xs = rng.normal(size=(6, 2, 3))
    ys = tcn.causal_conv(params, xs, d)
    assert ys.shape == (6, 2, 4)
    np.testing.assert_allclose(ys, loop_conv(params["W"], params["b"], xs, d), rtol=1e-12, atol=1e-14)


def test_causal_conv_matches_torch_conv1d_with_left_padding():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    k, d = 3, 2
    params = {"W": rng.normal(size=(k, 3, 4)), "b": rng.normal(size=4)}
    xs = rng.normal(size=(9, 2, 3))
    weight = torch.tensor(params["W"][::-1].transpose(2, 1, 0).copy())   # (C_out, C_in, k), flipped
    x = torch.nn.functional.pad(torch.tensor(xs.transpose(1, 2, 0)), ((k - 1) * d, 0))   # (B, C, T)
    y = torch.nn.functional.conv1d(x, weight, torch.tensor(params["b"]), dilation=d)
    np.testing.assert_allclose(tcn.causal_conv(params, xs, d), y.numpy().transpose(2, 0, 1),
                               rtol=1e-12, atol=1e-12)


def test_block_is_relu_of_residual_plus_two_relu_convs():
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(5, 2, 3))
    relu = lambda z: np.maximum(z, 0)                                    # noqa: E731
    for C_out in (3, 4):                                                 # identity / projection
        params = tcn.block_init(3, C_out, 2, rng)
        assert ("W_p" in params) == (C_out != 3)
        z = relu(loop_conv(params["conv1"]["W"], params["conv1"]["b"], xs, 2))
        z = relu(loop_conv(params["conv2"]["W"], params["conv2"]["b"], z, 2))
        residual = xs @ params["W_p"] if C_out != 3 else xs
        np.testing.assert_allclose(tcn.block_forward(params, xs, 2), relu(residual + z), rtol=1e-12)


def positive(tree):
    """Every weight and bias |w| + 0.1. With positive inputs too, every ReLU is active and no two
    paths can cancel, so a gradient is nonzero exactly where the output depends on the input."""
    if isinstance(tree, dict):
        return {key: positive(value) for key, value in tree.items()}
    return np.abs(tree) + 0.1


@pytest.mark.parametrize("k,dilations", [(2, [1, 2, 4]), (3, [1, 2]), (2, [1]), (4, [3, 1])])
def test_output_depends_on_exactly_the_receptive_field(k, dilations):
    rng = np.random.default_rng(0)
    params = positive(tcn.init(2, [3] * len(dilations), k, rng))
    R = tcn.receptive_field(k, dilations)
    assert R == 1 + 2 * (k - 1) * sum(dilations)
    T = R + 6
    xs = np.abs(rng.normal(size=(T, 1, 2))) + 0.1
    for t in (0, R // 2, R - 1, T - 1):
        dy_t = autograd.grad(lambda xs: anp.sum(tcn.forward(params, xs, dilations)[t]))(xs)
        depends = np.any(dy_t[:, 0] != 0, axis=-1)                       # (T,) bool
        expected = (np.arange(T) <= t) & (np.arange(T) > t - R)          # t - R + 1 .. t
        assert np.array_equal(depends, expected), (
            f"output at t = {t} depends on inputs {np.flatnonzero(depends)}, expected "
            f"{np.flatnonzero(expected)} (receptive field R = {R})")


def test_receptive_field_values():
    assert tcn.receptive_field(2, [1, 2, 4, 8]) == 31          # 1 + 2 * 1 * 15
    assert tcn.receptive_field(3, [1, 2, 4]) == 29             # 1 + 2 * 2 * 7
    assert tcn.receptive_field(5, []) == 1


def test_changing_the_future_never_changes_the_past():
    rng = np.random.default_rng(4)
    params = tcn.init(2, [4, 4, 3], 3, rng)
    xs = rng.normal(size=(12, 2, 2))
    ys = tcn.forward(params, xs)
    for t in (0, 5, 10):
        xs2 = xs.copy()
        xs2[t + 1:] = rng.normal(size=xs2[t + 1:].shape)
        np.testing.assert_array_equal(tcn.forward(params, xs2)[:t + 1], ys[:t + 1])


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    params = tcn.init(2, [3, 3], 2, rng)                         # block1 projects 2 -> 3
    for block in params.values():
        for conv in ("conv1", "conv2"):
            block[conv]["b"] = 0.5 + 0.1 * rng.normal(size=3)   # keep away from ReLU kinks
    xs = rng.normal(size=(6, 2, 2))
    R = rng.normal(size=(6, 2, 3))
    assert "W_p" in params["block1"] and "W_p" not in params["block2"]
    assert_gradients_match(lambda p: anp.sum(tcn.forward(p["tcn"], p["xs"], [1, 2]) * R),
                           {"tcn": params, "xs": xs})


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 8), B=st.integers(1, 3), C_in=st.integers(1, 3), k=st.integers(1, 3),
       channels=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_shapes(T, B, C_in, k, channels):
    rng = np.random.default_rng(T)
    params = tcn.init(C_in, channels, k, rng)
    assert tcn.forward(params, rng.normal(size=(T, B, C_in))).shape == (T, B, channels[-1])


def test_errors_name_the_problem():
    rng = np.random.default_rng(0)
    params = tcn.init(2, [3], 2, rng)
    with pytest.raises(ValueError, match=r"xs has shape \(4, 2, 3\), expected \(T, B, Cin\) = "
                                         r"\(T, B, 2\) \(Cin = 2 from W\)"):
        tcn.forward(params, np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="one dilation per block"):
        tcn.forward(params, np.zeros((4, 2, 2)), [1, 2])
    with pytest.raises(ValueError, match="dilation must be a positive integer"):
        tcn.causal_conv(params["block1"]["conv1"], np.zeros((4, 2, 2)), 0)
    del params["block1"]["W_p"]
    with pytest.raises(ValueError, match="needs W_p"):
        tcn.forward(params, np.zeros((4, 2, 2)))
