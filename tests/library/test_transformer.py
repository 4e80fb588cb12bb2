"""Tests for rnncore.transformer: attention, positional encoding, layer norm, the block."""
import math

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nested_gradcheck import assert_gradients_match
from rnncore import transformer


def tiny(T=5, B=2, d=8, d_ff=12, seed=0):
    rng = np.random.default_rng(seed)
    params = transformer.block_init(d, d_ff, rng)
    for ln in ("ln1", "ln2"):                           # non-trivial scale and shift test more
        params[ln] = {"gamma": 1 + 0.3 * rng.normal(size=d), "beta": 0.3 * rng.normal(size=d)}
    params["mlp"]["b_1"] = 0.3 * rng.normal(size=d_ff)
    return rng, params, rng.normal(size=(T, B, d))


# --- scaled dot-product attention -----------------------------------------------------------------

def loop_attention(q, k, v, allowed):
    """Witness: for each batch element and query, the softmax over the allowed keys, one by one."""
    T, B, d = q.shape
    out, weights = np.zeros((T, B, v.shape[-1])), np.zeros((T, k.shape[0], B))
    for b in range(B):
        for t in range(T):
            keys = [s for s in range(k.shape[0]) if allowed[t, s, b]]
            e = np.array([q[t, b] @ k[s, b] / math.sqrt(d) for s in keys])
            a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
            weights[t, keys, b] = a
            out[t, b] = sum(a_s * v[s, b] for a_s, s in zip(a, keys))
    return out, weights


@pytest.mark.parametrize("mask_kind", ["none", "causal", "per-example"])
def test_attention_matches_a_loop_and_masks_exactly(mask_kind):
    rng = np.random.default_rng(1)
    T, S, B = 4, 4, 3
    q, k, v = rng.normal(size=(T, B, 5)), rng.normal(size=(S, B, 5)), rng.normal(size=(S, B, 2))
    per_example = np.concatenate([np.ones((T, 1, B)), rng.random((T, S - 1, B)) < 0.5], axis=1)
    mask = {"none": None, "causal": transformer.causal_mask(T), "per-example": per_example}[mask_kind]
    allowed = np.ones((T, S, B), bool) if mask is None else np.broadcast_to(
        mask[:, :, None] if mask.ndim == 2 else mask, (T, S, B)).astype(bool)
    out, weights = transformer.scaled_dot_product_attention(q, k, v, mask)
    out_ref, weights_ref = loop_attention(q, k, v, allowed)
    np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights, weights_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(weights[~allowed] == 0.0)


def test_causal_mask():
    np.testing.assert_array_equal(transformer.causal_mask(3),
                                  [[True, False, False], [True, True, False], [True, True, True]])


# --- positional encoding --------------------------------------------------------------------------

@pytest.mark.parametrize("T,d", [(1, 2), (7, 6), (50, 16), (9, 5)])
def test_positional_encoding_is_the_formula_and_bounded(T, d):
    pe = transformer.sinusoidal_positional_encoding(T, d)
    assert pe.shape == (T, d)
    for t in range(T):
        for j in range(d):
            i = j // 2
            angle = t / 10000 ** (2 * i / d)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert pe[t, j] == pytest.approx(expected, abs=1e-12), f"PE[{t}, {j}]"
    assert np.all(np.abs(pe) <= 1.0)
    assert len({tuple(row) for row in np.round(pe, 9)}) == T        # every position distinct


# --- multi-head attention, layer norm, MLP --------------------------------------------------------

def test_multihead_is_per_head_attention_concatenated_then_mixed():
    rng, params, x = tiny(d=6)
    attn, h = params["attn"], 3
    out, weights = transformer.multihead_forward(attn, x, h, transformer.causal_mask(5))
    heads = []
    for i in range(h):
        cols = slice(2 * i, 2 * i + 2)                                  # d_k = 2
        head, w = transformer.scaled_dot_product_attention(
            x @ attn["W_q"][:, cols], x @ attn["W_k"][:, cols], x @ attn["W_v"][:, cols],
            transformer.causal_mask(5))
        np.testing.assert_allclose(weights[..., i], w, rtol=1e-12)
        heads.append(head)
    np.testing.assert_allclose(out, np.concatenate(heads, -1) @ attn["W_o"], rtol=1e-12, atol=1e-14)


def test_a_per_example_mask_applies_to_every_head_of_its_own_example():
    rng, params, x = tiny(T=4, B=3)
    mask = np.concatenate([np.ones((4, 1, 3)), rng.random((4, 3, 3)) < 0.5], axis=1)   # (T, T, B)
    out, weights = transformer.multihead_forward(params["attn"], x, 4, mask)
    for b in range(3):                                  # witness: each example alone, (T, T) mask
        out_b, weights_b = transformer.multihead_forward(params["attn"], x[:, b:b + 1], 4,
                                                         mask[:, :, b])
        np.testing.assert_allclose(out[:, b:b + 1], out_b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(weights[:, :, b:b + 1], weights_b, rtol=1e-12)
    assert np.all(weights[mask == 0] == 0.0)


def test_layer_norm_normalises_each_position():
    rng, _, x = tiny()
    y = transformer.layer_norm(transformer.layer_norm_init(8), 3 * x + 2, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=-1), 1.0, rtol=1e-12)
    params = {"gamma": rng.normal(size=8), "beta": rng.normal(size=8)}
    np.testing.assert_allclose(transformer.layer_norm(params, x, eps=0.0),
                               params["gamma"] * (x - x.mean(-1, keepdims=True)) /
                               x.std(-1, keepdims=True) + params["beta"], rtol=1e-12)


def test_block_is_pre_norm_with_two_residuals():
    _, params, x = tiny()
    ln = transformer.layer_norm
    x1 = x + transformer.multihead_forward(params["attn"], ln(params["ln1"], x), 2)[0]
    expected = x1 + transformer.mlp_forward(params["mlp"], ln(params["ln2"], x1))
    np.testing.assert_allclose(transformer.block_forward(params, x, 2), expected, rtol=1e-13)


# --- the block's properties -----------------------------------------------------------------------

@pytest.mark.parametrize("t", [0, 2, 4])
def test_causal_block_never_looks_ahead(t):
    rng, params, x = tiny(T=6)
    y = transformer.block_forward(params, x, num_heads=2, causal=True)
    x2 = x.copy()
    x2[t + 1:] = rng.normal(size=x2[t + 1:].shape) * 5.0              # change only the future
    y2 = transformer.block_forward(params, x2, num_heads=2, causal=True)
    np.testing.assert_allclose(y2[:t + 1], y[:t + 1], rtol=1e-12, atol=1e-13)
    assert np.abs(y2[t + 1:] - y[t + 1:]).min() > 0                  # and the future did change
    y_free = transformer.block_forward(params, x2, num_heads=2)      # without the mask it leaks
    assert np.abs(y_free[:t + 1] - y[:t + 1]).max() > 1e-6


def test_without_positions_or_mask_the_block_is_permutation_equivariant():
    rng, params, x = tiny(T=6)
    perm = rng.permutation(6)
    y = transformer.block_forward(params, x, num_heads=4)
    np.testing.assert_allclose(transformer.block_forward(params, x[perm], num_heads=4), y[perm],
                               rtol=1e-12, atol=1e-13)
    pe = transformer.sinusoidal_positional_encoding(6, 8)[:, None, :]   # positions break it
    y_pe = transformer.block_forward(params, x + pe, num_heads=4)
    y_pe_permuted = transformer.block_forward(params, x[perm] + pe, num_heads=4)
    assert np.abs(y_pe_permuted - y_pe[perm]).max() > 1e-3


def test_block_gradients_match_finite_differences():
    _, params, x = tiny(T=3, B=2, d=4, d_ff=5)
    R = np.random.default_rng(9).normal(size=x.shape)
    padding = np.ones((3, 3, 2))
    padding[:, 2, 1] = 0                                   # example 1's last position is padding

    def f(p):
        return anp.sum(transformer.block_forward(p["block"], p["x"], 2, causal=True,
                                                 mask=padding) * R)

    assert_gradients_match(f, {"block": params, "x": x})


@settings(max_examples=20, deadline=None)
@given(T=st.integers(1, 5), B=st.integers(1, 3), h=st.integers(1, 3), d_k=st.integers(1, 3),
       causal=st.booleans())
def test_block_shapes(T, B, h, d_k, causal):
    d = h * d_k
    rng = np.random.default_rng(T + 10 * B)
    params = transformer.block_init(d, 3, rng)
    x = rng.normal(size=(T, B, d))
    assert transformer.block_forward(params, x, h, causal=causal).shape == (T, B, d)
    _, weights = transformer.multihead_forward(params["attn"], x, h)
    assert weights.shape == (T, T, B, h)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)


def test_errors_name_the_problem():
    _, params, x = tiny()
    with pytest.raises(ValueError, match="num_heads = 3 must divide the model size d = 8"):
        transformer.block_forward(params, x, 3)
    with pytest.raises(ValueError, match=r"mask has shape \(4, 4\), expected \(T, T\) = \(5, 5\) "
                                         r"\(T = 5 from x\)"):
        transformer.multihead_forward(params["attn"], x, 2, mask=np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"missing \['W_o'\]"):
        transformer.multihead_forward({k: v for k, v in params["attn"].items() if k != "W_o"}, x, 2)
    with pytest.raises(ValueError, match=r"x has shape \(5, 8\)"):
        transformer.block_forward(params, x[:, 0], 2)
    with pytest.raises(ValueError, match=r"mask has shape \(5, 3\), expected \(T, S\) = \(5, 4\)"):
        transformer.scaled_dot_product_attention(x, x[:4], x[:4], np.ones((5, 3)))
