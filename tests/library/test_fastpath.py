"""Tests for what rnncore.fastpath does for speed only: the LSTM's and the GRU's gate-major
arrays and batched gate matmuls (B > 1), their primitives over the params dict, and the work
arrays kept between calls, each against the plain computation. (test_cells.py holds the layers
to the reference path, finite differences and PyTorch.)"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.misc import flatten

from rnncore import gru, lstm
from rnncore.fastpath import shared


@pytest.mark.parametrize("D, H, B", [(1, 64, 64), (65, 128, 32)])  # with and without few inputs
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_with_gate_major_batches_agrees_with_the_reference(D, H, B, dtype):
    rng = np.random.default_rng(1)
    params = lstm.init(D, H, rng, dtype=dtype)
    xs = rng.normal(size=(3, B, D)).astype(dtype)
    state = tuple(rng.normal(size=(B, H)).astype(dtype) for _ in range(2))
    G, Gc = rng.normal(size=(3, B, H)).astype(dtype), rng.normal(size=(B, H)).astype(dtype)

    def loss(args, forward):                          # gradients for params, xs and (h_0, c_0)
        hs, (_, c_T) = forward(*args)
        return anp.sum(hs * G) + anp.sum(c_T * Gc)

    tol = 1e-4 if dtype == np.float32 else 1e-10
    fast = autograd.grad(loss)((params, xs, state), lstm.forward)
    ref = autograd.grad(loss)((params, xs, state), lstm.forward_reference)
    np.testing.assert_allclose(flatten(fast)[0], flatten(ref)[0], rtol=tol, atol=tol)


@pytest.mark.parametrize("D, H, B", [(65, 128, 32), (1, 16, 5), (3, 8, 1)])  # D = 1: a product
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_with_gate_major_batches_agrees_with_the_reference(D, H, B, dtype):
    """The GRU's gates and dz are gate-major (B > 1: batched matmuls by gate blocks, the input
    term of D = 1 by broadcasting; B = 1: one matmul); gradients for params, xs and h_0."""
    rng = np.random.default_rng(3)
    params = gru.init(D, H, rng, dtype=dtype)
    xs, h0 = rng.normal(size=(3, B, D)).astype(dtype), rng.normal(size=(B, H)).astype(dtype)
    G = rng.normal(size=(3, B, H)).astype(dtype)

    def loss(args, forward):
        return anp.sum(forward(*args)[0] * G)

    tol = 1e-4 if dtype == np.float32 else 1e-10
    fast = autograd.grad(loss)((params, xs, h0), gru.forward)
    ref = autograd.grad(loss)((params, xs, h0), gru.forward_reference)
    np.testing.assert_allclose(flatten(fast)[0], flatten(ref)[0], rtol=tol, atol=tol)


def test_lstm_params_dict_of_boxes_and_extra_keys():
    """The primitive over the params dict is used only when autograd follows the dict itself:
    a plain dict holding traced arrays, or one with other keys, still gets its gradients."""
    rng = np.random.default_rng(2)
    params = lstm.init(3, 4, rng)
    xs = rng.normal(size=(5, 2, 3))

    def loss(p, forward):
        return anp.sum(forward(p, xs)[0] ** 2)

    ref = autograd.grad(loss)(params, lstm.forward_reference)
    of_W_h = autograd.grad(lambda W: loss({**params, "W_h": W}, lstm.forward))(params["W_h"])
    np.testing.assert_allclose(of_W_h, ref["W_h"], rtol=1e-10, atol=1e-12)
    extra = autograd.grad(lambda p: loss({k: p[k] for k in ("W_x", "W_h", "b")}, lstm.forward)
                          + anp.sum(p["other"] ** 2))({**params, "other": np.ones(2)})
    np.testing.assert_allclose(extra["W_x"], ref["W_x"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(extra["other"], 2 * np.ones(2))


@pytest.mark.parametrize("B", [1, 3])
def test_gru_params_dict_of_boxes_and_nested(B):
    """The GRU's primitive over the params dict (autograd follows the dict itself: here a model's
    params["gru"]) gives the gradients of params, xs and h_0; a plain dict holding a traced array
    goes through the primitive of the four arrays and gets its gradient too."""
    rng = np.random.default_rng(5)
    params = gru.init(3, 4, rng)
    xs, h0 = rng.normal(size=(5, B, 3)), rng.normal(size=(B, 4))
    G = rng.normal(size=(5, B, 4))

    def loss(args, forward):
        model, xs, h0 = args
        return anp.sum(forward(model["gru"], xs, h0)[0] * G)

    ref = autograd.grad(loss)(({"gru": params}, xs, h0), gru.forward_reference)
    fast = autograd.grad(loss)(({"gru": params}, xs, h0), gru.forward)
    np.testing.assert_allclose(flatten(fast)[0], flatten(ref)[0], rtol=1e-10, atol=1e-12)
    of_W_h = autograd.grad(lambda W: loss(({"gru": {**params, "W_h": W}}, xs, h0), gru.forward))
    np.testing.assert_allclose(of_W_h(params["W_h"]), ref[0]["gru"]["W_h"], rtol=1e-10,
                               atol=1e-12)


def test_work_and_result_arrays_start_at_their_own_offsets_mod_4096():
    """shared._empty places each name's arrays at its own address mod 4096 (against 4K
    aliasing), as views of a larger buffer: result() must not hand out again the memory of an
    earlier result while a view of it (e.g. h_T = hs[-1]) is alive."""
    names = [f"test.offset{k}" for k in range(5)]
    arrays = [shared.result(name, (3, 2, 5), np.float32) for name in names]
    offsets = [a.ctypes.data % 4096 for a in arrays]
    assert len(set(offsets)) == len(names) and all(o % 64 == 0 for o in offsets)
    for name, a, offset in zip(names, arrays, offsets):
        assert a.shape == (3, 2, 5) and a.dtype == np.float32 and a.flags.c_contiguous
        assert shared.work(name + ".w", (7,), np.float64).ctypes.data % 64 == 0
        assert shared._empty(name, (4, 4), np.float64).ctypes.data % 4096 == offset
    last, address = arrays[0][-1], arrays[0].ctypes.data   # a view of the first result only
    del arrays
    again = shared.result(names[0], (3, 2, 5), np.float32)
    assert not np.shares_memory(again, last)
    del last, again                                  # nothing refers to it now: reused
    first = shared.result(names[0], (3, 2, 5), np.float32)
    assert first.ctypes.data == address
    assert shared.result(names[0], (3, 2, 5), np.float32) is not first


@pytest.mark.parametrize("cell", [lstm, gru])
@pytest.mark.parametrize("B", [1, 32])
def test_work_arrays_are_kept_between_calls_of_one_shape(cell, B):
    """Each work array has a name of its own: a second forward + backward of the same shapes
    makes none anew (two arrays of different shapes under one name were both made at every
    call)."""
    rng = np.random.default_rng(4)
    params = cell.init(65, 128, rng, dtype=np.float32)
    xs = rng.normal(size=(6, B, 65)).astype(np.float32)   # B = 32: blocks of 4 and 2 steps
    grad = autograd.grad(lambda p: anp.sum(cell.forward(p, xs)[0] ** 2))
    grad(params)
    kept = dict(shared._kept.__dict__)
    grad(params)
    assert [name for name, a in shared._kept.__dict__.items() if a is not kept.get(name)] == []


# Gradients that overflow at a known step. LSTM: xs, b, h_0, c_0 = 0 keep i = f = o = 1/2, g = 0,
# c = h = 0; then dz_g = dc / 2 is the only gradient sent back, through W_h's g block (100): from
# G = 1e30 at step 11 it grows ~26x per step back, dz_g is 6.9e37 at step 5 and 1.8e39 (> float32's
# 3.4e38) at step 4. GRU: xs, biases, h_0 = 0 keep r = z = 1/2, n = h = 0; then dh_{t-1} = dh_t / 2
# + (dh_t / 4) 100 through W_h's n block (100): it grows 25.5x per step back, dh is 2.7e38 at
# step 5 and inf at step 4.
OVERFLOWING = {
    "LSTM": (lstm, {"W_x": np.zeros((1, 4), np.float32), "b": np.zeros(4, np.float32),
                    "W_h": np.array([[0, 0, 100, 0]], np.float32)}),
    "GRU": (gru, {"W_x": np.zeros((1, 3), np.float32), "b_x": np.zeros(3, np.float32),
                  "b_h": np.zeros(3, np.float32), "W_h": np.array([[0, 0, 100]], np.float32)}),
}


@pytest.mark.parametrize("cell", OVERFLOWING)
@pytest.mark.parametrize("cache_numbers", [None, 8])
def test_exploding_gradient_is_named_by_its_time_step_in_a_batch(cell, cache_numbers,
                                                                 monkeypatch):
    """The LSTM's dz and the GRU's d are gate-major, (4, n, B, H) per block with B > 1 and
    (n, 4, 1, H) with B = 1: the step where the gradient overflows is named in both."""
    if cache_numbers:                                # blocks of two steps with B = 1 (.shared)
        monkeypatch.setattr(shared, "CACHE_NUMBERS", cache_numbers)
    module, params = OVERFLOWING[cell]
    for B, b in [(1, 0), (3, 1)]:                    # the exploding sequence at batch index b
        xs, G = np.zeros((12, B, 1), np.float32), np.zeros((12, B, 1), np.float32)
        G[-1, b] = 1e30
        with np.errstate(over="ignore", invalid="ignore"):
            with pytest.raises(ValueError, match=rf"{cell} layer's gradient became NaN or inf at "
                                                 rf"time step 4 "):
                autograd.grad(lambda p: anp.sum(module.forward(p, xs)[0] * G))(params)
