r"""The GRU's fast path: the forward loop and backpropagation through time by hand, in plain
numpy, joined into one autograd primitive, :func:`layer`, that :func:`rnncore.gru.forward` calls.
Gates as in :mod:`rnncore.gru` (PyTorch's form): column blocks r, z, n of ``W_x: (D, 3H)``,
``W_h: (H, 3H)``, ``b_x, b_h: (3H,)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import defvjp_argnums, primitive

from ..validation import check_gradient
from .inputs import input_term


def numpy_forward(W_x, W_h, b_x, b_h, xs, h0):
    r"""The forward loop in plain numpy, writing in place. Returns hs (T, B, H) and gates.

    ``gates: (T, B, 4H)`` holds [r, z, h_prev W_hn + b_hn, n] of every step, for the backward
    pass. The input terms x_t W_x + b_x (+ b_hr, b_hz, which add to them) are computed for all
    steps with one matmul before the loop. σ(a) = (1 + tanh(a/2)) / 2, so the r and z columns
    are halved once (``s``) and one tanh, * 0.5, + 0.5 gives r and z together.
    """
    T, B, D = xs.shape
    H = h0.shape[-1]
    s = onp.full(3 * H, 0.5, dtype=xs.dtype)
    s[2 * H:] = 1                                    # halve r, z; keep n
    gx = input_term(xs, W_x * s)                     # (T*B, 3H)
    gx += (b_x + onp.concatenate([b_h[:2 * H], onp.zeros(H, b_h.dtype)])) * s
    gx = gx.reshape(T, B, 3 * H)
    W_hs, b_hn = W_h * s, b_h[2 * H:]
    gates = onp.empty((T, B, 4 * H), dtype=xs.dtype)
    hs = onp.empty((T, B, H), dtype=xs.dtype)
    h = h0
    for t in range(T):
        a = gates[t]                                 # (B, 4H)
        onp.matmul(h, W_hs, out=a[:, :3 * H])        # [h W_hr s, h W_hz s, h W_hn]
        rz = a[:, :2 * H]
        rz += gx[t, :, :2 * H]
        onp.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5                                    # [r, z]
        r, z, hn, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        hn += b_hn                                   # h_{t-1} W_hn + b_hn
        onp.multiply(r, hn, out=n)
        n += gx[t, :, 2 * H:]
        onp.tanh(n, out=n)                           # n = tanh(x W_xn + b_xn + r ⊙ (...))
        h = onp.subtract(h, n, out=hs[t])
        h *= z
        h += n                                       # h_t = n + z ⊙ (h_{t-1} - n)
    return hs, gates


def _local_derivatives(gates, h_prev, out):
    """For a block of steps, the factors that turn dh_t into [da_r, da_z, dhn, da_n]:

    out (..., 4H) <- [p ⊙ hn ⊙ r(1 - r), (h_prev - n) ⊙ z(1 - z), p ⊙ r, p],  p = (1 - z) ⊙ (1 - n²).
    """
    H = h_prev.shape[-1]
    r, z, hn, n = (gates[..., k * H:(k + 1) * H] for k in range(4))
    p = out[..., 3 * H:]
    onp.multiply(1 - z, 1 - n * n, out=p)                              # da_n = dh ⊙ p
    onp.multiply(p, hn * r * (1 - r), out=out[..., :H])                 # da_r = da_n ⊙ hn ⊙ σ'
    onp.multiply(h_prev - n, z * (1 - z), out=out[..., H:2 * H])        # da_z
    onp.multiply(p, r, out=out[..., 2 * H:3 * H])                       # dhn = da_n ⊙ r


def numpy_backward(W_x, W_h, xs, h0, hs, gates, dhs, need_dxs=True):
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
    only (:func:`_local_derivatives`): the factors are computed for a block of steps at a time,
    just before the loop reaches them (blocks of ~64K numbers stay in cache), and the loop
    multiplies dh_t into them, in place: ``dgates: (T, B, 4H)``.
    Returns (dW_x, dW_h, db_x, db_h, dxs, dh_0) (dxs None unless need_dxs). Raises ValueError,
    naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    h_prev = onp.concatenate([h0[None], hs[:-1]])                     # h_0 .. h_{T-1}
    dgates = onp.empty_like(gates)                   # (T, B, 4H): local factors, then gradients
    by_gate = dgates.reshape(T, B, 4, H)
    dh_next = onp.zeros_like(h0)
    W_hT = onp.ascontiguousarray(W_h.T)              # a contiguous copy: faster matmuls than .T
    block = max(1, 2 ** 16 // gates[0].size)         # steps per block
    for stop in range(T, 0, -block):
        steps = slice(max(stop - block, 0), stop)
        _local_derivatives(gates[steps], h_prev[steps], dgates[steps])
        for t in range(steps.stop - 1, steps.start - 1, -1):
            dh = dhs[t] + dh_next                    # dh_t, (B, H)
            by_gate[t] *= dh[:, None]                # [da_r, da_z, dhn, da_n]
            dh_next = dgates[t, :, :3 * H] @ W_hT    # through the matmul h_{t-1} W_h
            dh *= gates[t, :, H:2 * H]
            dh_next += dh                            # and directly, through z ⊙ h_{t-1}
    d = dgates.reshape(T * B, 4 * H)
    dgh = d[:, :3 * H]                               # [da_r, da_z, dhn]
    dgx = onp.concatenate([d[:, :2 * H], d[:, 3 * H:]], axis=1)   # [da_r, da_z, da_n]
    ones = onp.ones(T * B, dtype=d.dtype)
    grads = (xs.reshape(T * B, D).T @ dgx,           # dW_x (D, 3H)
             h_prev.reshape(T * B, H).T @ dgh,       # dW_h (H, 3H)
             ones @ dgx, ones @ dgh,                 # db_x, db_h (3H,): sums over t and batch
             (dgx @ W_x.T).reshape(T, B, D) if need_dxs else None,
             dh_next)                                # dh_0 (B, H)
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
