"""rnncore.linear_attention: the same causal linear attention computed as attention and as an
RNN, and the capacity of its fixed-size state."""
import autograd
import numpy as np
import pytest

from rnncore import linear_attention as la


@pytest.mark.parametrize("T, B, d_k, d_v", [(1, 1, 1, 1), (9, 3, 4, 5), (16, 2, 8, 3)])
@pytest.mark.parametrize("feature, normalise", [(la.elu_plus_one, True), (None, False)])
def test_parallel_and_recurrent_forms_agree(T, B, d_k, d_v, feature, normalise):
    rng = np.random.default_rng(T + d_k)
    q, k = rng.normal(size=(2, T, B, d_k))
    v = rng.normal(size=(T, B, d_v))
    np.testing.assert_allclose(la.recurrent(q, k, v, feature, normalise),
                               la.parallel(q, k, v, feature, normalise), rtol=1e-10, atol=1e-12)


def test_parallel_against_a_plain_loop_over_the_definition():
    rng = np.random.default_rng(0)
    T, B, d_k, d_v = 6, 2, 3, 4
    q, k = rng.normal(size=(2, T, B, d_k))
    v = rng.normal(size=(T, B, d_v))
    phi = lambda x: np.where(x > 0, x + 1, np.exp(x))                       # noqa: E731
    expected = np.zeros((T, B, d_v))
    for t in range(T):
        for b in range(B):
            w = np.array([phi(q[t, b]) @ phi(k[s, b]) for s in range(t + 1)])
            expected[t, b] = (w / w.sum()) @ v[:t + 1, b]
    np.testing.assert_allclose(la.parallel(q, k, v), expected, rtol=1e-12)


def test_causal_and_differentiable():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 8, 2, 4))
    g = autograd.grad(lambda v_: np.sum(la.parallel(q, k, v_)[3] * rng.normal(size=(2, 4))))(v)
    assert np.all(g[4:] == 0) and np.all(np.abs(g[:4]).sum(axis=(1, 2)) > 0)


def test_step_is_pure_and_the_state_has_a_fixed_size():
    rng = np.random.default_rng(2)
    state = la.init_state(2, 3, 5)
    before = {key: value.copy() for key, value in state.items()}
    for _ in range(4):
        q, k = rng.normal(size=(2, 2, 3))
        _, new = la.step(q, k, rng.normal(size=(2, 5)), state)
        assert new["S"].shape == (2, 3, 5) and new["z"].shape == (2, 3)
    np.testing.assert_array_equal(state["S"], before["S"])


def test_prefill_is_the_state_after_the_steps():
    rng = np.random.default_rng(3)
    params = {name: rng.normal(size=(4, 4)) for name in ("W_q", "W_k", "W_v", "W_o")}
    xs = rng.normal(size=(6, 2, 4))
    state = la.init_state(2, 4, 4)
    for x in xs:
        _, state = la.layer_step(params, x, state)
    pre = la.prefill(params, xs)
    np.testing.assert_allclose(pre["S"], state["S"], rtol=1e-12)
    np.testing.assert_allclose(pre["z"], state["z"], rtol=1e-12)


def test_plain_memory_recalls_orthonormal_keys_exactly_up_to_d_k():
    """S = sum_s k_s^T v_s read with q = k_i returns v_i exactly when the keys are orthonormal
    (at most d_k of them): the capacity of a d_k x d_v state."""
    rng = np.random.default_rng(4)
    d_k, d_v = 6, 3
    keys = np.linalg.qr(rng.normal(size=(d_k, d_k)))[0]                    # rows orthonormal
    v = rng.normal(size=(d_k, 1, d_v))
    k = keys[:, None, :]
    state = la.init_state(1, d_k, d_v)
    for t in range(d_k):
        _, state = la.step(k[t], k[t], v[t], state, None, False)
    for i in range(d_k):
        recalled, _ = la.step(k[i], np.zeros((1, d_k)), np.zeros((1, d_v)), state, None, False)
        np.testing.assert_allclose(recalled, v[i], atol=1e-12)
