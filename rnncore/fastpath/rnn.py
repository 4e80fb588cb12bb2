r"""The vanilla RNN's fast path: the forward loop and backpropagation through time by hand, in
plain numpy, joined into one autograd primitive, :func:`layer`, that :func:`rnncore.rnn.forward`
calls. Autograd sees one operation instead of ~3T, which is what makes it fast; its gradient is
:func:`numpy_backward`. Same layout as :mod:`rnncore.rnn`: ``xs: (T, B, D)``, ``h: (B, H)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import defvjp_argnums, primitive

from ..validation import check_gradient
from .inputs import input_term


def numpy_forward(W_x, W_h, b_h, xs, h0, nonlinearity="tanh"):
    r"""The forward loop in plain numpy, writing in place: z_t = h_{t-1} W_h + x_t W_x + b_h, h_t = f(z_t).

    The input term x_t W_x + b_h does not depend on the recurrence, so it is computed for all T
    steps with one matmul before the loop; each step then adds h_{t-1} W_h and applies f in place.
    Returns hs: (T, B, H).
    """
    T, B, D = xs.shape
    hs = input_term(xs, W_x)                         # (T*B, H): x_t W_x for every step at once
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
             onp.ones(T * B, dtype=dz.dtype) @ dz,   # db_h (H,): the sum over t and the batch
             (dz @ W_x.T).reshape(T, B, D) if need_dxs else None,
             dh_next)                                # dh_0 (B, H)
    check_gradient("RNN layer", dhs, dzs, (grads[1], grads[2], dh_next))
    return grads


@primitive
def layer(W_x, W_h, b_h, xs, h0, nonlinearity):
    return numpy_forward(W_x, W_h, b_h, xs, h0, nonlinearity)


def _vjp(argnums, hs, args, kwargs):
    """autograd's hook: from the output hs, a function dhs -> the gradients of the arguments asked for."""
    W_x, W_h, b_h, xs, h0, nonlinearity = args

    def vjp(dhs):
        grads = numpy_backward(W_x, W_h, xs, h0, hs, onp.asarray(dhs, dtype=hs.dtype),
                               nonlinearity, need_dxs=3 in argnums)
        return tuple(grads[i] for i in argnums)
    return vjp


defvjp_argnums(layer, _vjp)
