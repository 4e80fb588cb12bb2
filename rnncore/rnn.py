r"""The vanilla (Elman) recurrent layer.

The book writes, for column vectors,

    h_t = f(W_h h_{t-1} + W_x x_t + b_h)

The code keeps a batch of row vectors, ``x: (B, D)`` and ``h: (B, H)``, so the same equation reads

    h = f(h_prev @ W_h + x @ W_x + b_h)

with ``W_x: (D, H)`` and ``W_h: (H, H)``: each code matrix is the transpose of the book's.
Sequences are time-major, ``xs: (T, B, D)``.

Two paths compute the same layer. :func:`forward_reference` is the readable loop, differentiated
by autograd step by step. :func:`forward` runs the same loop in plain numpy as one autograd
primitive whose backward pass is backpropagation through time written by hand
(:func:`numpy_backward`): autograd sees one operation instead of ~3T, which is what makes it fast.
"""
import autograd.numpy as np
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import defvjp_argnums, primitive
from autograd.tracer import getval

from .checks import (check_dtypes, check_finite, check_gradient, check_layer, check_state_dict,
                     values)

NONLINEARITIES = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def init(input_size, hidden_size, rng, dtype=np.float64):
    """Weights drawn as PyTorch draws them, U(-1/sqrt(H), 1/sqrt(H)); the bias starts at zero
    (PyTorch draws its two biases, b_ih and b_hh, from the same range)."""
    k = 1.0 / np.sqrt(hidden_size)
    return {
        "W_x": rng.uniform(-k, k, (input_size, hidden_size)).astype(dtype),   # (D, H)
        "W_h": rng.uniform(-k, k, (hidden_size, hidden_size)).astype(dtype),  # (H, H)
        "b_h": np.zeros(hidden_size, dtype=dtype),                            # (H,)
    }


def _activation(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
    return NONLINEARITIES[nonlinearity]


def _check_params(params, **arrays):
    return check_layer(params, "an RNN layer", {"W_x": "D H", "W_h": "H H", "b_h": "H"}, **arrays)


def step(params, x, h_prev, nonlinearity="tanh"):
    """One time step: h_t = f(h_{t-1} W_h + x_t W_x + b_h).  x: (B, D), h_prev: (B, H) -> (B, H)."""
    _check_params(params, x=(x, "B D"), h_prev=(h_prev, "B H"))
    return _cell(params, x, h_prev, _activation(nonlinearity))


def _cell(params, x, h_prev, f):
    return f(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])   # (B, H)


def _check(params, xs, state):
    """Shapes, dtypes and finite values of a forward call; returns h_0 (zeros if state is None)."""
    params, xs_, h0 = values(params), getval(xs), getval(state)
    given = {} if h0 is None else {"state": (h0, "B H")}
    dims = _check_params(params, xs=(xs_, "T B D"), **given)
    dtype = check_dtypes(params, ["W_x", "W_h", "b_h"], xs=xs_, state=h0)
    check_finite("xs", xs_)
    check_finite("state", h0, time_major=False)
    return np.zeros((dims["B"], dims["H"]), dtype=dtype) if state is None else state


def forward_reference(params, xs, state=None, nonlinearity="tanh"):
    """Run the layer over a sequence, one step at a time (autograd differentiates every step).

    xs: (T, B, D); state: the initial hidden state h_0, (B, H), zeros if None.
    Returns ``hs: (T, B, H)``, the states h_1..h_T, and the final state ``h_T: (B, H)``.
    """
    h = _check(params, xs, state)
    f = _activation(nonlinearity)
    hs = []
    for x in xs:                                     # x: (B, D)
        h = _cell(params, x, h, f)
        hs.append(h)                                 # no in-place writes: autograd can follow
    return np.stack(hs), h                           # (T, B, H), (B, H)


def forward(params, xs, state=None, nonlinearity="tanh"):
    """The same layer as :func:`forward_reference`, fast: one autograd primitive, BPTT by hand.

    xs: (T, B, D); state: h_0, (B, H), zeros if None. Returns ``hs: (T, B, H)`` and ``h_T: (B, H)``.
    Gradients reach W_x, W_h, b_h, xs and state, under ``autograd.grad`` like any other function.
    """
    h0 = _check(params, xs, state)
    _activation(nonlinearity)
    hs = _layer(params["W_x"], params["W_h"], params["b_h"], xs, h0, nonlinearity)
    return hs, hs[-1]                                # (T, B, H), (B, H)


def numpy_forward(W_x, W_h, b_h, xs, h0, nonlinearity="tanh"):
    r"""The forward loop in plain numpy, writing in place: z_t = h_{t-1} W_h + x_t W_x + b_h, h_t = f(z_t).

    The input term x_t W_x + b_h does not depend on the recurrence, so it is computed for all T
    steps with one matmul before the loop; each step then adds h_{t-1} W_h and applies f in place.
    Returns hs: (T, B, H).
    """
    T, B, D = xs.shape
    hs = xs.reshape(T * B, D) @ W_x                  # (T*B, H): x_t W_x for every step at once
    hs += b_h
    hs = hs.reshape(T, B, -1)                        # (T, B, H), turned into h_t step by step
    f = onp.tanh if nonlinearity == "tanh" else (lambda z, out: onp.maximum(z, 0, out=out))
    h = h0
    for t in range(T):
        z = hs[t]                                    # (B, H)
        z += h @ W_h                                 # z_t = h_{t-1} W_h + x_t W_x + b_h
        h = f(z, out=z)                              # h_t = f(z_t), written over z_t
    return hs


def numpy_backward(W_x, W_h, xs, h0, hs, dhs, nonlinearity="tanh", need_dxs=True):
    r"""Backpropagation through time for :func:`numpy_forward` (the maths of :mod:`rnncore.bptt`).

    dhs: (T, B, H), the gradient of the loss with respect to each h_t from outside the layer.
    With dh_t = dhs_t + dz_{t+1} W_h^T (the gradient reaching h_t by every path):

        dz_t = dh_t * f'(z_t),  f'(z_t) = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
        dW_x = sum_t x_t^T dz_t,  dW_h = sum_t h_{t-1}^T dz_t,  db_h = sum_{t, batch} dz_t
        dx_t = dz_t W_x^T,        dh_0 = dz_1 W_h^T

    f'(z_t) for all steps is computed before the loop; the loop turns it into dz_t in place and
    carries dh back; the sums over time are then single matmuls over all T*B rows.
    Returns (dW_x, dW_h, db_h, dxs, dh_0), the order of the primitive's arguments (dxs is None
    unless need_dxs). Raises ValueError, naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    if nonlinearity == "tanh":                       # f'(z_t) for every step, (T, B, H)
        dzs = hs * hs
        onp.subtract(1, dzs, out=dzs)                # 1 - h_t^2, in place
    else:
        dzs = (hs > 0).astype(hs.dtype)              # [h_t > 0]
    dh_next = onp.zeros_like(h0)                     # dz_{t+1} W_h^T: nothing comes after step T
    W_hT = onp.ascontiguousarray(W_h.T)              # a contiguous copy: faster matmuls than .T
    for t in range(T - 1, -1, -1):
        dz = dzs[t]                                  # (B, H)
        dz *= dhs[t] + dh_next                       # dz_t = dh_t * f'(z_t), in place
        dh_next = dz @ W_hT                          # the gradient sent back to h_{t-1}
    dz = dzs.reshape(T * B, H)
    h_prev = onp.concatenate([h0[None], hs[:-1]]).reshape(T * B, H)   # h_0 .. h_{T-1}
    grads = (xs.reshape(T * B, D).T @ dz,            # dW_x (D, H)
             h_prev.T @ dz,                          # dW_h (H, H)
             dz.sum(axis=0),                         # db_h (H,)
             (dz @ W_x.T).reshape(T, B, D) if need_dxs else None,
             dh_next)                                # dh_0 (B, H)
    check_gradient("RNN layer", dhs, dzs, (grads[1], grads[2], dh_next))
    return grads


@primitive
def _layer(W_x, W_h, b_h, xs, h0, nonlinearity):
    return numpy_forward(W_x, W_h, b_h, xs, h0, nonlinearity)


def _layer_vjp(argnums, hs, args, kwargs):
    """autograd's hook: from the output hs, a function dhs -> the gradients of the arguments asked for."""
    W_x, W_h, b_h, xs, h0, nonlinearity = args

    def vjp(dhs):
        grads = numpy_backward(W_x, W_h, xs, h0, hs, onp.asarray(dhs, dtype=hs.dtype),
                               nonlinearity, need_dxs=3 in argnums)
        return tuple(grads[i] for i in argnums)
    return vjp


defvjp_argnums(_layer, _layer_vjp)


def from_torch(state_dict):
    """Params for :func:`forward` from the ``state_dict()`` of a single-layer ``torch.nn.RNN``.

    PyTorch stores ``weight_ih_l0: (H, D)`` and ``weight_hh_l0: (H, H)`` in the column form and
    two biases; here ``W_x = weight_ih^T``, ``W_h = weight_hh^T`` and ``b_h = bias_ih + bias_hh``.
    The state dict does not record the nonlinearity: pass ``nn.RNN``'s to :func:`forward`
    (``nonlinearity="relu"`` for ``nn.RNN(..., nonlinearity="relu")``). Dtypes are kept.
    """
    w_ih, w_hh, b_ih, b_hh = check_state_dict(state_dict, "torch.nn.RNN", gates=1)
    return {"W_x": onp.ascontiguousarray(w_ih.T),   # (D, H)
            "W_h": onp.ascontiguousarray(w_hh.T),   # (H, H)
            "b_h": b_ih + b_hh}                      # (H,)
