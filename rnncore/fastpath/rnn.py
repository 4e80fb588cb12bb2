r"""The vanilla RNN's fast path: the forward loop and backpropagation through time by hand, in
plain numpy, joined into one autograd primitive, :func:`layer`, that :func:`rnncore.rnn.forward`
calls. Autograd sees one operation instead of ~3T, which is what makes it fast; its gradient is
:func:`numpy_backward`. Same layout as :mod:`rnncore.rnn`: ``xs: (T, B, D)``, ``h: (B, H)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import defvjp_argnums, primitive

from ..validation import check_gradient
from .shared import WeightGradients, backward_blocks, blocks, input_term, result, work


def numpy_forward(W_x, W_h, b_h, xs, h0, nonlinearity="tanh"):
    r"""The forward loop in plain numpy, writing in place: z_t = h_{t-1} W_h + x_t W_x + b_h, h_t = f(z_t).

    The input term x_t W_x + b_h does not depend on the recurrence, so it is computed with one
    matmul per block of steps (:mod:`.shared`); each step then adds h_{t-1} W_h and applies f in
    place. Returns hs: (T, B, H).
    """
    T, B, D = xs.shape
    hs = result("rnn.hs", (T, B, W_h.shape[0]), xs.dtype)   # z_t, then h_t; see .shared
    f = onp.tanh if nonlinearity == "tanh" else (lambda z, out: onp.maximum(z, 0, out=out))
    zh = work("rnn.zh", h0.shape, xs.dtype)
    h = h0
    for steps in blocks(T, hs[0].size):
        input_term(xs[steps], W_x, b_h, out=hs[steps])    # x_t W_x + b_h for the block
        for t in range(steps.start, steps.stop):
            z = hs[t]                                # (B, H)
            z += onp.matmul(h, W_h, out=zh)          # z_t = h_{t-1} W_h + x_t W_x + b_h
            h = f(z, out=z)                          # h_t = f(z_t), written over z_t
    return hs


def numpy_backward(W_x, W_h, xs, h0, hs, dhs, nonlinearity="tanh", need_dxs=True, keep_dzs=False):
    r"""Backpropagation through time for :func:`numpy_forward` (the maths of :mod:`rnncore.bptt`).

    dhs: (T, B, H), the gradient of the loss with respect to each h_t from outside the layer.
    With dh_t = dhs_t + dz_{t+1} W_h^T (the gradient reaching h_t by every path):

        dz_t = dh_t * f'(z_t),  f'(z_t) = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
        dW_x = sum_t x_t^T dz_t,  dW_h = sum_t h_{t-1}^T dz_t,  db_h = sum_{t, batch} dz_t
        dx_t = dz_t W_x^T,        dh_0 = dz_1 W_h^T

    The loop goes back one block of steps at a time, and each block stays in cache: f'(z_t) is
    computed for the block, the loop turns it into dz_t in place and carries dh back, and the
    block's terms of the sums over time are added (:class:`.shared.WeightGradients`). The dz_t of
    all steps are kept only with keep_dzs (to name the step where a gradient overflowed).
    Returns (dW_x, dW_h, db_h, dxs, dh_0), the order of the primitive's arguments (dxs is None
    unless need_dxs). Raises ValueError, naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    steps_list, n_max = backward_blocks(T, B * H)            # n_max: the most steps in a block
    dt = hs.dtype
    dzs = onp.empty((T, B, H), dt) if keep_dzs else work("rnn.dz", (n_max, B, H), dt)
    sums = WeightGradients("rnn", xs, h0, hs, n_max, H)
    dxs = result("rnn.dxs", xs.shape, dt) if need_dxs else None
    dh_next = onp.zeros_like(h0)                     # dz_{t+1} W_h^T: nothing comes after step T
    dh = work("rnn.dh", (B, H), dt)
    W_hT = work("rnn.W_hT", W_h.T.shape, dt)
    W_hT[:] = W_h.T                                  # a contiguous copy: faster matmuls than .T
    for steps in steps_list:
        start, n = steps.start, steps.stop - steps.start
        dz = dzs[steps] if keep_dzs else dzs[:n]     # (n, B, H): f'(z_t), then dz_t
        if nonlinearity == "tanh":
            onp.multiply(hs[steps], hs[steps], out=dz)
            onp.subtract(1, dz, out=dz)              # 1 - h_t^2, in place
        else:
            onp.greater(hs[steps], 0, out=dz)        # [h_t > 0]
        for k in range(n - 1, -1, -1):
            dz_t = dz[k]                             # (B, H)
            dz_t *= onp.add(dhs[start + k], dh_next, out=dh)   # dz_t = dh_t * f'(z_t), in place
            onp.matmul(dz_t, W_hT, out=dh_next)      # the gradient sent back to h_{t-1}
        sums.add(steps, dz)
        if need_dxs:
            onp.matmul(dz.reshape(n * B, H), W_x.T, out=dxs[steps].reshape(n * B, D))
    dW_x, db_h, dW_h, _ = sums.result()
    grads = (dW_x, dW_h, db_h, dxs, dh_next)         # dh_0 (B, H)
    # finite? (checked once: ~20 us for a (128, 512) array; check_gradient says where, if not)
    if not all(onp.isfinite(g).all() for g in (dW_h, db_h, dh_next)):
        if not keep_dzs:
            return numpy_backward(W_x, W_h, xs, h0, hs, dhs, nonlinearity, need_dxs,
                                  keep_dzs=True)  # again, keeping every dz_t: raises
        check_gradient("RNN layer", dhs, dzs, (dW_h, db_h, dh_next))
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
