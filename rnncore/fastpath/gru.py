r"""The GRU's fast path: the forward loop and backpropagation through time by hand, in plain
numpy, joined into one autograd primitive, :func:`layer`, that :func:`rnncore.gru.forward` calls.
Gates as in :mod:`rnncore.gru` (PyTorch's form): column blocks r, z, n of ``W_x: (D, 3H)``,
``W_h: (H, 3H)``, ``b_x, b_h: (3H,)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import defvjp_argnums, primitive

from ..validation import check_gradient
from .shared import ColumnBlocks, WeightGradients, backward_blocks, blocks, input_term, result, work


def numpy_forward(W_x, W_h, b_x, b_h, xs, h0):
    r"""The forward loop in plain numpy, writing in place. Returns hs (T, B, H) and gates.

    ``gates: (T, B, 4H)`` holds [r, z, h_prev W_hn + b_hn, n] of every step, for the backward
    pass. The input terms x_t W_x + b_x (+ b_hr, b_hz, which add to them) are computed with one
    matmul per block of steps (:mod:`.shared`). σ(a) = (1 + tanh(a/2)) / 2, so the r and z columns
    are halved once (``s``) and one tanh, * 0.5, + 0.5 gives r and z together.
    """
    T, B, D = xs.shape
    H = h0.shape[-1]
    s = onp.full(3 * H, 0.5, dtype=xs.dtype)
    s[2 * H:] = 1                                    # halve r, z; keep n
    dt = xs.dtype
    W_xs = onp.multiply(W_x, s, out=work("gru.W_xs", W_x.shape, dt))
    b_xs = (b_x + onp.concatenate([b_h[:2 * H], onp.zeros(H, b_h.dtype)])) * s
    W_hs, b_hn = onp.multiply(W_h, s, out=work("gru.W_hs", W_h.shape, dt)), b_h[2 * H:]
    gates = result("gru.gates", (T, B, 4 * H), dt)      # returned or saved: see .shared
    hs = result("gru.hs", (T, B, H), dt)
    steps_list = blocks(T, B * 4 * H)
    gx_block = work("gru.gx", (steps_list[0].stop if T else 0, B, 3 * H), dt)
    h = h0
    recurrent = ColumnBlocks("gru.W_blocks", W_hs, B)   # the step matmul in blocks: see .shared
    one_block, W_rec = recurrent.n == 1, recurrent.blocks[0]
    for steps in steps_list:
        gx = input_term(xs[steps], W_xs, b_xs, out=gx_block[:steps.stop - steps.start])
        for t in range(steps.start, steps.stop):
            a, x_term = gates[t], gx[t - steps.start]    # (B, 4H), (B, 3H)
            if one_block:                            # [h W_hr s, h W_hz s, h W_hn]
                onp.matmul(h, W_rec, out=a[:, :3 * H])
            else:
                recurrent.matmul(h, a)               # (its blocks cover the first 3H columns)
            rz = a[:, :2 * H]
            rz += x_term[:, :2 * H]
            onp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5                                # [r, z]
            r, z, hn, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            hn += b_hn                               # h_{t-1} W_hn + b_hn
            onp.multiply(r, hn, out=n)
            n += x_term[:, 2 * H:]
            onp.tanh(n, out=n)                       # n = tanh(x W_xn + b_xn + r ⊙ (...))
            h = onp.subtract(h, n, out=hs[t])
            h *= z
            h += n                                   # h_t = n + z ⊙ (h_{t-1} - n)
    return hs, gates


def _local_derivatives(gates, h_prev, out):
    """For a block of steps, the factors that turn dh_t into [dhn, da_r, da_z, da_n] (this order:
    h_{t-1} meets the first three blocks, x_t the last three):

    out (..., 4H) <- [p ⊙ r, p ⊙ hn ⊙ r(1 - r), (h_prev - n) ⊙ z(1 - z), p],  p = (1 - z) ⊙ (1 - n²).
    """
    H = h_prev.shape[-1]
    r, z, hn, n = (gates[..., k * H:(k + 1) * H] for k in range(4))
    p = out[..., 3 * H:]
    onp.multiply(1 - z, 1 - n * n, out=p)                              # da_n = dh ⊙ p
    onp.multiply(p, r, out=out[..., :H])                                # dhn = da_n ⊙ r
    onp.multiply(p, hn * r * (1 - r), out=out[..., H:2 * H])            # da_r = da_n ⊙ hn ⊙ σ'
    onp.multiply(h_prev - n, z * (1 - z), out=out[..., 2 * H:3 * H])    # da_z


def numpy_backward(W_x, W_h, xs, h0, hs, gates, dhs, need_dxs=True, keep_dzs=False):
    r"""Backpropagation through time for :func:`numpy_forward`.

    dhs: (T, B, H), the gradient with respect to each h_t from outside the layer. Going back from
    t = T, with dh_t = dhs_t + (the gradient h_t sends to step t+1), a_* the pre-activations and
    hn_t = h_{t-1} W_hn + b_hn:

        da_n = dh_t ⊙ (1 - z_t) ⊙ (1 - n_t²)            da_z = dh_t ⊙ (h_{t-1} - n_t) ⊙ z_t(1 - z_t)
        da_r = da_n ⊙ hn_t ⊙ r_t(1 - r_t)               dhn  = da_n ⊙ r_t
        dh_{t-1} gets dh_t ⊙ z_t + [da_r, da_z, dhn] W_h^T
        dW_h = sum_t h_{t-1}^T [da_r, da_z, dhn],  db_h = sum [da_r, da_z, dhn]
        dW_x = sum_t x_t^T [da_r, da_z, da_n],     db_x = sum [da_r, da_z, da_n]

    All four of [da_r, da_z, dhn, da_n] are dh_t times a factor that depends on the forward pass
    only (:func:`_local_derivatives`). The loop goes back one block of steps at a time, and each
    block stays in cache: the factors are computed for the block, the loop multiplies dh_t into
    them in place (``d: (n, B, 4H)``), and the block's terms of the sums over time are added
    (:class:`.shared.WeightGradients`: h_{t-1} times [dhn, da_r, da_z], x_t times [da_r, da_z,
    da_n], the blocks of ``d`` in that order). With keep_dzs every step's d is kept (to name
    the step where a gradient overflowed).
    Returns (dW_x, dW_h, db_x, db_h, dxs, dh_0) (dxs None unless need_dxs). Raises ValueError,
    naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    steps_list, n_max = backward_blocks(T, B * 4 * H)            # n_max: the most steps in a block
    dt = hs.dtype
    dgates = (onp.empty((T, B, 4 * H), dt) if keep_dzs
              else work("gru.dgates", (n_max, B, 4 * H), dt))
    sums = WeightGradients("gru", xs, h0, hs, n_max, 4 * H,
                           x_cols=slice(H, 4 * H), h_cols=slice(0, 3 * H))
    dxs = result("gru.dxs", xs.shape, dt) if need_dxs else None
    dh_next, dh = onp.zeros_like(h0), work("gru.dh", (B, H), dt)
    W_hT = work("gru.W_hT", W_h.T.shape, dt)         # rows [hn, r, z], as the blocks of d
    W_hT[:H], W_hT[H:] = W_h[:, 2 * H:].T, W_h[:, :2 * H].T
    W_hT = ColumnBlocks("gru.W_hT_blocks", W_hT, B)  # the step matmul in blocks: see .shared
    dh_next_views, one_block, W_hT_0 = W_hT.outputs(dh_next), W_hT.n == 1, W_hT.blocks[0]
    for steps in steps_list:
        start, n = steps.start, steps.stop - steps.start
        d = dgates[steps] if keep_dzs else dgates[:n]    # (n, B, 4H)
        by_gate = d.reshape(n, B, 4, H)
        h_prev = hs[start - 1:steps.stop - 1] if start else onp.concatenate([h0[None], hs[:n - 1]])
        _local_derivatives(gates[steps], h_prev, d)
        for k in range(n - 1, -1, -1):
            t = start + k
            onp.add(dhs[t], dh_next, out=dh)          # dh_t, (B, H)
            by_gate[k] *= dh[:, None]                # [dhn, da_r, da_z, da_n]
            if one_block:                            # through the matmul h_{t-1} W_h
                onp.matmul(d[k, :, :3 * H], W_hT_0, out=dh_next)
            else:
                W_hT.matmul(d[k, :, :3 * H], dh_next, dh_next_views)
            dh *= gates[t, :, H:2 * H]
            dh_next += dh                            # and directly, through z ⊙ h_{t-1}
        sums.add(steps, d)
        if need_dxs:                                 # [da_r, da_z, da_n] W_x^T
            onp.matmul(d.reshape(n * B, 4 * H)[:, H:], W_x.T, out=dxs[steps].reshape(n * B, D))
    dW_x, db_x, dW_h_, db_h_ = sums.result()         # columns [r, z, n] and [hn, r, z]
    grads = (dW_x, onp.concatenate([dW_h_[:, H:], dW_h_[:, :H]], axis=1),   # dW_h: [r, z, hn]
             db_x, onp.concatenate([db_h_[H:], db_h_[:H]]),                # db_x, db_h (3H,)
             dxs, dh_next)                           # dh_0 (B, H)
    # finite? (checked once: ~20 us for a (128, 512) array; check_gradient says where, if not)
    if not all(onp.isfinite(g).all() for g in (grads[1], grads[2], dh_next)):
        if not keep_dzs:
            return numpy_backward(W_x, W_h, xs, h0, hs, gates, dhs, need_dxs,
                                  keep_dzs=True)  # again, keeping every step: raises
        check_gradient("GRU layer", dhs, dgates, (grads[1], grads[2], dh_next))
    return grads


@primitive
def layer(W_x, W_h, b_x, b_h, xs, h0, saved):
    """hs; ``saved`` (an empty dict) keeps the gate activations for the backward pass, as
    PyTorch's ctx.save_for_backward does: autograd hands the same arguments to _vjp."""
    hs, saved["gates"] = numpy_forward(W_x, W_h, b_x, b_h, xs, h0)
    return hs


def _vjp(argnums, hs, args, kwargs):
    """autograd's hook: from the output hs, a function dhs -> the gradients of the arguments asked for."""
    W_x, W_h, b_x, b_h, xs, h0, saved = args

    def vjp(dhs):
        grads = numpy_backward(W_x, W_h, xs, h0, hs, saved["gates"],
                               onp.asarray(dhs, dtype=hs.dtype), need_dxs=4 in argnums)
        return tuple(grads[i] for i in argnums)
    return vjp


defvjp_argnums(layer, _vjp)
