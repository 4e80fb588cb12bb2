r"""The GRU's fast path: the forward loop and backpropagation through time by hand, in plain
numpy, joined into one autograd primitive (:func:`layer_of_params`, or :func:`layer` of the four
arrays) that :func:`rnncore.gru.forward` calls through :func:`forward`.
Gates as in :mod:`rnncore.gru` (PyTorch's form): column blocks r, z, n of ``W_x: (D, 3H)``,
``W_h: (H, 3H)``, ``b_x, b_h: (3H,)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import Box, defvjp_argnums, primitive

from ..validation import check_gradient
from .shared import (WeightGradients, backward_blocks, blocks, gate_gradients, input_term,
                     result, work)


def numpy_forward(W_x, W_h, b_x, b_h, xs, h0):
    r"""The forward loop in plain numpy, writing in place. Returns hs (T, B, H) and gates.

    ``gates: (T, 4, B, H)`` holds [r, z, h_prev W_hn + b_hn, n] of every step (``gates[t, 1]``
    is z_t), for the backward pass: gate-major, as the LSTM's (:mod:`.lstm`), so that every
    elementwise operation on a gate reads and writes whole contiguous (B, H) arrays instead of
    (B, H) column slices of a (B, 4H) array, which numpy's loops go through row by row. The step
    matmul writes the three blocks of h_{t-1} W_h with one batched matmul by W_h's (3, H, H) gate
    blocks (:func:`gate_blocks`), and the input terms x_t W_x + b_x (+ b_hr, b_hz, which add
    to them) come gate-major from one batched matmul per block of steps (:mod:`.shared`; a
    broadcast product with D = 1). With B = 1 both layouts are the same memory and a step's
    matmul is one (1, H) @ (H, 3H) product. Measured against the (T, B, 4H) layout with the
    step matmuls in blocks of columns (autograd.grad of sum(hs * G),
    1 thread, A/B in alternating processes, medians): the capstone's T=40, B=32, D=8, H=32 3.1
    -> 2.3 ms float64, 2.1 -> 1.5 ms float32; benchmarks/bench_cells.py float64 char LM B=32
    -13%, time series -19%, long range -18%, B=1 unchanged; float32 -21%, -29%, -23%, B=1 -7%.
    σ(a) = (1 + tanh(a/2)) / 2, so the r and z columns are halved once (``s``) and one tanh,
    * 0.5, + 0.5 gives r and z together.
    """
    T, B, D = xs.shape
    H = h0.shape[-1]
    s = onp.full(3 * H, 0.5, dtype=xs.dtype)
    s[2 * H:] = 1                                    # halve r, z; keep n
    dt = xs.dtype
    W_xs = onp.multiply(W_x, s, out=work("gru.W_xs", W_x.shape, dt))
    b_xs = (b_x + onp.concatenate([b_h[:2 * H], onp.zeros(H, b_h.dtype)])) * s
    W_hs = onp.multiply(W_h, s, out=work("gru.W_hs", W_h.shape, dt))
    b_hn = work("gru.b_hn", (B, H), dt)              # tiled: same-shape adds are the faster
    b_hn[:] = b_h[2 * H:]
    gates = result("gru.gates", (T, 4, B, H), dt)    # returned or saved: see .shared
    hs = result("gru.hs", (T, B, H), dt)
    steps_list = blocks(T, B * 4 * H)
    n_max = steps_list[0].stop if T else 0
    gx_block = work("gru.gx", (n_max, 3, B, H), dt)  # (x_t W_x + b) s, gate-major
    add, multiply, subtract = onp.add, onp.multiply, onp.subtract
    tanh, matmul = onp.tanh, onp.matmul
    if B == 1:                                       # one (1, 3H) row times W_hs
        W_rec, rec_out = W_hs, gates[:, :3].reshape(T, 1, 3 * H)
    else:                                            # (3, B, H): times W_hs's gate blocks
        W_rec, rec_out = gate_blocks("gru.W_blocks", W_hs), gates[:, :3]
        W_xs3, b_xs3 = gate_blocks("gru.W_x_blocks", W_xs), b_xs.reshape(3, 1, H)
    h = h0
    for steps in steps_list:
        n = steps.stop - steps.start
        gx = gx_block[:n]
        if B == 1:
            input_term(xs[steps], W_xs, b_xs, out=gx.reshape(n, 1, 3 * H))
        else:
            if D == 1:                               # an outer product: see .shared.input_term
                multiply(xs[steps][:, None], W_xs3, gx)
            else:
                matmul(xs[steps][:, None], W_xs3, gx)
            add(gx, b_xs3, gx)
        for t in range(steps.start, steps.stop):
            a, x_t = gates[t], gx[t - steps.start]   # (4, B, H), (3, B, H)
            matmul(h, W_rec, rec_out[t])             # [h W_hr s, h W_hz s, h W_hn]
            rz = a[:2]
            add(rz, x_t[:2], rz)
            tanh(rz, rz)
            multiply(rz, 0.5, rz)
            add(rz, 0.5, rz)                         # [r, z]
            hn, n_t = a[2], a[3]
            add(hn, b_hn, hn)                        # h_{t-1} W_hn + b_hn
            multiply(a[0], hn, n_t)
            add(n_t, x_t[2], n_t)
            tanh(n_t, n_t)                           # n = tanh(x W_xn + b_xn + r ⊙ (...))
            h = subtract(h, n_t, hs[t])
            multiply(h, a[1], h)
            add(h, n_t, h)                           # h_t = n + z ⊙ (h_{t-1} - n)
    return hs, gates


def gate_blocks(name, W):
    """W (K, 3H) as its three gates' column blocks, (3, K, H), contiguous (a work array)."""
    K, G = W.shape
    out = work(name, (3, K, G // 3), W.dtype)
    out[:] = W.reshape(K, 3, G // 3).transpose(1, 0, 2)
    return out


def _local_derivatives(gates, h_prev, out, tmp):
    """For a block of steps, the factors that turn dh_t into [dhn, da_r, da_z, da_n] (this order:
    h_{t-1} meets the first three, x_t the last three), gate-major as the gates:

    out (n, 4, B, H) <- [p ⊙ r, p ⊙ hn ⊙ r(1 - r), (h_prev - n) ⊙ z(1 - z), p],
    p = (1 - z) ⊙ (1 - n²).

    Eleven passes over (n, B, H) arrays, all written in place or in one kept work array (da_r as
    dhn ⊙ (1 - r) ⊙ hn reuses dhn = p ⊙ r; 1 - z serves p and z(1 - z)): 165 -> 128 us for a
    block of 16 steps of B = 32, H = 32 float64, against r(1 - r), z(1 - z) of both gates at once
    and four fresh temporaries.
    """
    r, z, hn, n = (gates[:, k] for k in range(4))
    dhn, da_r, da_z, p = (out[:, k] for k in range(4))            # tmp: (n, B, H), work space
    subtract, multiply = onp.subtract, onp.multiply
    subtract(1, z, tmp)                                                 # 1 - z
    multiply(n, n, p)
    subtract(1, p, p)
    multiply(p, tmp, p)                                                 # da_n = dh ⊙ p
    multiply(p, r, dhn)                                                 # dhn = da_n ⊙ r
    subtract(1, r, da_r)
    multiply(da_r, dhn, da_r)
    multiply(da_r, hn, da_r)                                    # da_r = dhn ⊙ (1 - r) ⊙ hn
    multiply(z, tmp, da_z)
    subtract(h_prev, n, tmp)
    multiply(da_z, tmp, da_z)                                           # da_z


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
    them in place (``d: (n, 4, B, H)``, gate-major like the gates: see :func:`numpy_forward`),
    and the block's terms of the sums over time are added (:class:`.shared.WeightGradients`:
    h_{t-1} times [dhn, da_r, da_z], x_t times [da_r, da_z, da_n], the gates of ``d`` in that
    order). With B > 1 a block's d is kept as (4, n, B, H), so that each gate's (n*B, H)
    gradients are one matrix for the sums (:meth:`.shared.WeightGradients.add_blocks`), and
    [da_r, da_z, dhn] W_h^T is the sum of three gates' products (one batched matmul, then two
    adds: 0.96 us against 1.22 for add.reduce over the gates, B = 32, H = 32 float64); dh_t is
    multiplied into d_t gate by gate, since one broadcast multiply of (4, B, H) gates n*B*H apart
    cost 4.0 us against 3.1 for four (B, H) ones. With B = 1 d is kept as (n, 4, 1, H), where d_t
    is one row for one matmul. Both changes and :func:`_local_derivatives`' together, at the
    capstone's T=40, B=32, D=8, H=32 (autograd.grad, A/B in alternating processes): float64
    2.21 -> 2.08 ms, float32 1.47 -> 1.44 ms; the benchmark's four cases unchanged. With
    keep_dzs every step's d is kept (to name the step where a gradient overflowed).
    Returns (dW_x, dW_h, db_x, db_h, dxs, dh_0) (dxs None unless need_dxs). Raises ValueError,
    naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    steps_list, n_max = backward_blocks(T, B * 4 * H)            # n_max: the most steps in a block
    dt = hs.dtype
    dgates = gate_gradients("gru.dgates", T, n_max, B, H, dt, keep_all=keep_dzs)
    sums = WeightGradients("gru", xs, h0, hs, n_max, 4 * H,
                           x_cols=slice(H, 4 * H), h_cols=slice(0, 3 * H))
    dxs = result("gru.dxs", xs.shape, dt) if need_dxs else None
    local = work("gru.local", (n_max, B, H), dt)     # _local_derivatives' work space
    dh_next, dh = onp.zeros_like(h0), work("gru.dh", (B, H), dt)
    W_hT = work("gru.W_hT", (3, H, H), dt)           # gate blocks [hn, r, z] of W_h^T, as d's
    W_hT[:] = W_h.reshape(H, 3, H).transpose(1, 2, 0)[[2, 0, 1]]
    add, multiply, matmul = onp.add, onp.multiply, onp.matmul
    z_ = gates[:, 1]                                 # z_[t]: z_t, (B, H)
    if B == 1:
        W_hT = W_hT.reshape(3 * H, H)                # one (1, 3H) row times it
    else:
        products = work("gru.dh_parts", (3, B, H), dt)
        W_xT = W_x.reshape(D, 3, H).transpose(1, 2, 0)          # (3, H, D), a view
    for steps in steps_list:
        start, n = steps.start, steps.stop - steps.start
        d = dgates[steps] if keep_dzs else dgates[:n]    # (n, 4, B, H)
        h_prev = hs[start - 1:steps.stop - 1] if start else onp.concatenate([h0[None], hs[:n - 1]])
        _local_derivatives(gates[steps], h_prev, d, local[:n])
        for k in range(n - 1, -1, -1):
            t = start + k
            add(dhs[t], dh_next, dh)                 # dh_t, (B, H)
            d_t = d[k]
            if B == 1:                               # [dhn, da_r, da_z, da_n]
                multiply(d_t, dh, d_t)
                matmul(d_t[:3].reshape(1, 3 * H), W_hT, dh_next)   # through h_{t-1} W_h
            else:                                    # gate by gate, and two adds: see above
                for d_g in d_t:
                    multiply(d_g, dh, d_g)
                matmul(d_t[:3], W_hT, products)
                add(products[0], products[1], dh_next)
                add(dh_next, products[2], dh_next)
            multiply(dh, z_[t], dh)
            add(dh_next, dh, dh_next)                # and directly, through z ⊙ h_{t-1}
        if B == 1:
            sums.add(steps, d.reshape(n, 1, 4 * H))
            if need_dxs:                             # [da_r, da_z, da_n] W_x^T
                matmul(d.reshape(n, 4 * H)[:, H:], W_x.T, out=dxs[steps].reshape(n, D))
        else:
            by_gate = d.transpose(1, 0, 2, 3).reshape(4, n * B, H)   # a view, unless keep_dzs
            sums.add_blocks(steps, by_gate)
            if need_dxs:
                add.reduce(matmul(by_gate[1:], W_xT), axis=0, out=dxs[steps].reshape(n * B, D))
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


def forward(params, xs, h0):
    """hs of the layer: :func:`layer_of_params` when params holds W_x, W_h, b_x and b_h only and
    autograd follows the dict itself (or nothing in it), else :func:`layer` of its arrays."""
    if (len(params) == 4 and (isinstance(params, Box)
                              or not any(isinstance(v, Box) for v in params.values()))):
        return layer_of_params(params, xs, h0, {})
    return layer(params["W_x"], params["W_h"], params["b_x"], params["b_h"], xs, h0, {})


@primitive
def layer(W_x, W_h, b_x, b_h, xs, h0, saved):
    """hs; ``saved`` (an empty dict) keeps the gate activations for the backward pass, as
    PyTorch's ctx.save_for_backward does: autograd hands the same arguments to _vjp."""
    hs, saved["gates"] = numpy_forward(W_x, W_h, b_x, b_h, xs, h0)
    return hs


@primitive
def layer_of_params(params, xs, h0, saved):
    """:func:`layer` with the params dict as one argument. Taking params["W_x"] etc. under autograd
    costs, in the backward pass, a zero array for every parameter and one addition per key;
    here the gradient is the dict itself. Measured at the capstone's T=40, B=32, D=8, H=32
    (autograd.grad, A/B in alternating processes): float64 2.08 -> 1.98 ms, float32 1.42 ->
    1.29 ms; with the GRU's params inside a model's dict (params["gru"]), 2.51 -> 2.41 and
    1.58 -> 1.52 ms."""
    return layer(params["W_x"], params["W_h"], params["b_x"], params["b_h"], xs, h0, saved)


def _gradients(hs, W_x, W_h, xs, h0, saved, need_dxs):
    """A function dhs -> numpy_backward's (dW_x, dW_h, db_x, db_h, dxs, dh_0)."""
    def grads(dhs):
        return numpy_backward(W_x, W_h, xs, h0, hs, saved["gates"],
                              onp.asarray(dhs, dtype=hs.dtype), need_dxs=need_dxs)
    return grads


def _vjp(argnums, hs, args, kwargs):
    """autograd's hook: from the output hs, a function dhs -> the gradients of the arguments asked for."""
    W_x, W_h, b_x, b_h, xs, h0, saved = args
    grads = _gradients(hs, W_x, W_h, xs, h0, saved, need_dxs=4 in argnums)

    def vjp(dhs):
        all_grads = grads(dhs)
        return tuple(all_grads[i] for i in argnums)
    return vjp


def _vjp_of_params(argnums, hs, args, kwargs):
    """:func:`_vjp` for :func:`layer_of_params`: the params' gradient is one dict."""
    params, xs, h0, saved = args
    grads = _gradients(hs, params["W_x"], params["W_h"], xs, h0, saved, need_dxs=1 in argnums)

    def vjp(dhs):
        dW_x, dW_h, db_x, db_h, dxs, dh0 = grads(dhs)
        dparams = {"W_x": dW_x, "W_h": dW_h, "b_x": db_x, "b_h": db_h}
        return tuple([dparams, dxs, dh0][i] for i in argnums)
    return vjp


defvjp_argnums(layer, _vjp)
defvjp_argnums(layer_of_params, _vjp_of_params)
