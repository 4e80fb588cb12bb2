"""Tests for rnncore.attention: dot-product and additive attention with masks."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nested_gradcheck import assert_gradients_match
from rnncore import attention


def problem(S=5, B=3, H=4, Hv=3, seed=0, masked=True):
    rng = np.random.default_rng(seed)
    keys, values = rng.normal(size=(S, B, H)), rng.normal(size=(S, B, Hv))
    query = rng.normal(size=(B, H))
    mask = (rng.random((S, B)) < 0.6).astype(float) if masked else np.ones((S, B))
    mask[0] = 1                                       # every column keeps at least one position
    return rng, query, keys, values, mask


def reference(score, query, keys, values, mask):
    """An independent witness: one batch element at a time, only over its valid positions."""
    S, B = mask.shape
    weights, context = np.zeros((S, B)), np.zeros((B, values.shape[-1]))
    for b in range(B):
        valid = [s for s in range(S) if mask[s, b]]
        e = np.array([score(query[b], keys[s, b]) for s in valid])
        a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        weights[valid, b] = a
        context[b] = sum(a_s * values[s, b] for a_s, s in zip(a, valid))
    return context, weights


def run(kind, rng, query, keys, values, mask):
    """(context, weights, score function for the reference) for 'dot', 'scaled' or 'additive'."""
    if kind == "additive":
        params = attention.additive_init(query.shape[-1], keys.shape[-1], 6, rng)
        score = lambda q, k: params["v"] @ np.tanh(q @ params["W_q"] + k @ params["W_k"])  # noqa: E731
        return (*attention.additive_attention(params, query, keys, values, mask), score)
    scale = kind == "scaled"
    score = lambda q, k: q @ k / (np.sqrt(len(q)) if scale else 1.0)   # noqa: E731
    return (*attention.dot_attention(query, keys, values, mask, scale=scale), score)


KINDS = ["dot", "scaled", "additive"]


@pytest.mark.parametrize("kind", KINDS)
def test_matches_a_loop_over_valid_positions(kind):
    rng, query, keys, values, mask = problem()
    assert (mask == 0).any()
    context, weights, score = run(kind, rng, query, keys, values, mask)
    context_ref, weights_ref = reference(score, query, keys, values, mask)
    np.testing.assert_allclose(weights, weights_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(context, context_ref, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(S=st.integers(1, 6), B=st.integers(1, 4), H=st.integers(1, 5), seed=st.integers(0, 10**6),
       kind=st.sampled_from(KINDS))
def test_weights_sum_to_one_and_are_zero_where_masked(S, B, H, seed, kind):
    rng, query, keys, values, mask = problem(S, B, H, 2, seed)
    context, weights, _ = run(kind, rng, query, keys, values, mask)
    assert context.shape == (B, 2) and weights.shape == (S, B)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(weights[mask == 0] == 0.0)
    assert np.all(weights[mask == 1] > 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_keys_and_values_cannot_change_anything(kind):
    rng, query, keys, values, mask = problem()
    context, weights, _ = run(kind, np.random.default_rng(1), query, keys, values, mask)
    padded = (mask == 0)[:, :, None]
    for junk in (1e6, np.inf, np.nan):
        keys2, values2 = np.where(padded, junk, keys), np.where(padded, junk, values)
        with np.errstate(invalid="ignore", over="ignore"):    # junk scores, discarded by the mask
            context2, weights2, _ = run(kind, np.random.default_rng(1), query, keys2, values2, mask)
        np.testing.assert_array_equal(weights2, weights)
        np.testing.assert_array_equal(context2, context)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences_and_skip_masked_positions(kind):
    rng, query, keys, values, mask = problem(S=4, B=2, H=3, Hv=2)
    params = attention.additive_init(3, 3, 4, rng) if kind == "additive" else {}
    R = rng.normal(size=(2, 2))

    def f(p):
        if kind == "additive":
            context, weights = attention.additive_attention(p["attn"], p["q"], p["k"], p["v"], mask)
        else:
            context, weights = attention.dot_attention(p["q"], p["k"], p["v"], mask,
                                                       scale=kind == "scaled")
        return anp.sum(context * R) + anp.sum(weights[0] ** 2)

    grads = assert_gradients_match(f, {"attn": params, "q": query, "k": keys, "v": values})
    padded = mask == 0
    assert padded.any()
    assert np.all(grads["k"][padded] == 0.0) and np.all(grads["v"][padded] == 0.0)


@pytest.mark.parametrize("scale", [False, True])
def test_a_large_query_equal_to_one_key_attends_to_that_key(scale):
    rng = np.random.default_rng(3)
    S, B, H = 6, 3, 8
    keys = rng.normal(size=(S, B, H))
    keys = 10.0 * keys / np.linalg.norm(keys, axis=-1, keepdims=True)   # length 10 each
    chosen = np.array([4, 0, 2])
    query = keys[chosen, np.arange(B)]                                  # (B, H)
    _, weights = attention.dot_attention(query, keys, keys, scale=scale)
    assert np.all(np.argmax(weights, axis=0) == chosen)
    assert np.all(weights[chosen, np.arange(B)] > 0.99)


def test_scaling_divides_scores_by_sqrt_H():
    _, query, keys, _, _ = problem(H=9)
    np.testing.assert_allclose(attention.dot_scores(query, keys, scale=True),
                               attention.dot_scores(query, keys) / 3.0, rtol=1e-14)


def test_a_fully_masked_column_raises_instead_of_nan():
    _, query, keys, values, mask = problem()
    mask[:, 1] = 0
    with pytest.raises(ValueError, match=r"nothing to attend to at \[\(1,\)\]"):
        attention.dot_attention(query, keys, values, mask)


def test_no_nan_even_for_extreme_scores():
    rng, query, keys, values, mask = problem()
    grad = autograd.grad(lambda k: anp.sum(attention.dot_attention(1e3 * query, k, values, mask)[0]))
    g = grad(1e3 * keys)
    assert np.all(np.isfinite(g))


def test_shape_errors_name_the_argument():
    rng, query, keys, values, mask = problem()
    with pytest.raises(ValueError, match=r"keys has shape \(5, 3, 4\), expected \(S, B, H\) = "
                                         r"\(S, 3, 5\) \(B = 3 from query, H = 5 from query\)"):
        attention.dot_attention(np.zeros((3, 5)), keys, values, mask)
    with pytest.raises(ValueError, match=r"mask has shape \(5, 2\), expected \(S, B\) = \(5, 3\)"):
        attention.dot_attention(query, keys, values, mask[:, :2])
    with pytest.raises(ValueError, match=r"values has shape \(4, 3, 3\)"):
        attention.dot_attention(query, keys, values[:4], mask)
    with pytest.raises(ValueError, match=r"missing \['v'\]"):
        attention.additive_attention({"W_q": np.zeros((4, 2)), "W_k": np.zeros((4, 2))},
                                     query, keys, values)
