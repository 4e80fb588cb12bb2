r"""The LSTM's fast path: the forward loop and backpropagation through time by hand, in plain
numpy, joined into one autograd primitive (:func:`layer_of_params`, or :func:`layer` of the three
arrays) that :func:`rnncore.lstm.forward` calls through :func:`forward`.
Gates as in :mod:`rnncore.lstm`: column blocks i, f, g, o of ``W_x: (D, 4H)``, ``W_h: (H, 4H)``,
``b: (4H,)``.
"""
import numpy as onp                  # plain numpy inside the primitive: autograd does not trace it
from autograd.extend import Box, defvjp_argnums, primitive

from ..validation import check_gradient
from .shared import (WeightGradients, backward_blocks, blocks, gate_gradients, input_term,
                     result, work)


def numpy_forward(W_x, W_h, b, xs, h0, c0):
    r"""The forward loop in plain numpy, writing in place. Returns hs, cs, tanh_cs (T, B, H), gates.

    ``gates: (T, 4, B, H)`` holds the activations i, f, g, o of every step (``gates[t, 1]`` is
    f_t), for the backward pass: gate-major, so that every elementwise operation on a gate reads
    and writes whole contiguous (B, H) arrays. Numpy's loops over (B, H) column slices of a
    (B, 4H) row-major array (the layout of the matmul x W) go row by row and cost up to 2-3
    times as much (float32 (32, 128): 1.8 vs 0.74 us a multiply; a block of the backward's local
    derivatives, 4 steps of B = 64, H = 64: 77 vs 43 us); with B = 1 both layouts are the same
    memory. Measured against the (T, B, 4H) layout (autograd.grad of the benchmark's loss, 1
    thread, A/B in alternating processes): float32 char LM B=32 -9%, time series -16%, long
    range -12%, B=1 -3%; float64 -5 to -11%.
    The step matmul writes each gate's block with its own matmul (one batched numpy matmul of
    the (4, K, H) gate blocks of W: as fast as one (K, 4H) matmul split into blocks of columns,
    which beat one whole (K, 4H) matmul by 14-24% with OpenBLAS 0.3.31's small-matrix kernels);
    with B = 1 it is one matmul by W itself.
    The input term x_t W_x + b is computed with one matmul per block of steps (:mod:`.shared`),
    or, with few inputs (8D <= H), in the recurrent matmul itself: the row [h_{t-1}, x_t, 1] times
    [W_h; W_x; b] (``rows``, ``W``) costs little more than h_{t-1} W_h and saves adding a (B, 4H)
    term at every step. One tanh serves all four gates: σ(z) = (1 + tanh(z/2)) / 2, so the
    sigmoid gates' columns of W_x, W_h and b are halved once (``s``), and after the tanh
    ``a * s + (1 - s)`` turns those columns into σ(z) and leaves g = tanh(z_g) as it is (s and
    1 - s are tiled to (4, B, H) once: numpy's same-shape operations are faster than broadcasting
    ones).
    """
    T, B, D = xs.shape
    H = h0.shape[-1]
    s = onp.full(4 * H, 0.5, dtype=xs.dtype)
    s[2 * H:3 * H] = 1                               # halve i, f, o; keep g
    dt = xs.dtype
    few_inputs = 8 * D <= H
    W = work("lstm.W", (H + D + 1, 4 * H), dt)       # [W_h; W_x; b] s
    W_hs, W_xs, b_s = W[:H], W[H:H + D], W[H + D]
    onp.multiply(W_h, s, out=W_hs)
    onp.multiply(W_x, s, out=W_xs)
    onp.multiply(b, s, out=b_s)
    rows = work("lstm.rows", (B, H + D + 1), dt)     # [h_{t-1}, x_t, 1], with few inputs
    rows[:, :H], rows[:, H + D] = h0, 1
    scale, shift = work("lstm.scale", (4, B, H), dt), work("lstm.shift", (4, B, H), dt)
    scale[:], shift[:] = s.reshape(4, 1, H), 1 - s.reshape(4, 1, H)
    gates = result("lstm.gates", (T, 4, B, H), dt)     # returned or saved: see .shared
    hs, cs, tanh_cs = (result("lstm." + k, (T, B, H), dt) for k in ("hs", "cs", "tanh_cs"))
    h, c = h0, c0
    zh, ig = work("lstm.zh", (4, B, H), dt), work("lstm.ig", (B, H), dt)
    i_, f_, g_, o_ = (gates[:, k] for k in range(4))   # i_[t]: i_t, (B, H)
    # With B = 1 a step's dozen numpy calls cost more than their arithmetic: the loops call the
    # ufuncs by local names with positional outputs and index per-gate views of the whole array.
    add, multiply, tanh, matmul = onp.add, onp.multiply, onp.tanh, onp.matmul
    W_rec = W if few_inputs else W_hs                # (K, 4H)
    if B == 1:                                       # one (1, 4H) row times W_rec
        z_out, zh_out = gates.reshape(T, 1, 4 * H), zh.reshape(1, 4 * H)
    else:                                            # (4, B, H): times W_rec's gate blocks
        W_rec, z_out, zh_out = gate_blocks("lstm.W_blocks", W_rec), gates, zh
        W_xs4, b_s4 = gate_blocks("lstm.W_x_blocks", W_xs), b_s.reshape(4, 1, H)
    for steps in blocks(T, B * 4 * H):
        if not few_inputs:                           # (x_t W_x + b) s
            if B == 1:
                input_term(xs[steps], W_xs, b_s, out=z_out[steps])
            else:
                matmul(xs[steps][:, None], W_xs4, gates[steps])   # gate by gate
                add(gates[steps], b_s4, gates[steps])
        for t in range(steps.start, steps.stop):
            a = gates[t]                             # (4, B, H)
            if few_inputs:
                rows[:, H:H + D] = xs[t]
                matmul(rows, W_rec, z_out[t])        # z_t s
            else:
                matmul(h, W_rec, zh_out)
                add(a, zh, a)                        # z_t s
            tanh(a, a)
            multiply(a, scale, a)
            add(a, shift, a)                         # [i, f, g, o]
            c = add(multiply(f_[t], c, cs[t]), multiply(i_[t], g_[t], ig), cs[t])   # c_t
            h = multiply(o_[t], tanh(c, tanh_cs[t]), hs[t])   # h_t = o ⊙ tanh(c_t)
            if few_inputs:
                rows[:, :H] = h
    return hs, cs, tanh_cs, gates


def gate_blocks(name, W):
    """W (K, 4H) as its four gates' column blocks, (4, K, H), contiguous (a work array)."""
    K, G = W.shape
    out = work(name, (4, K, G // 4), W.dtype)
    out[:] = W.reshape(K, 4, G // 4).transpose(1, 0, 2)
    return out


def _local_derivatives(gates, c_prev, tanh_c, out, dc_dh):
    """For a block of steps, every factor of the backward pass that does not involve dh or dc:

    out (n, 4, B, H) <- [g ⊙ i(1-i), c_prev ⊙ f(1-f), i ⊙ (1-g²), tanh(c) ⊙ o(1-o)],
    dc_dh (n, B, H) <- o ⊙ (1 - tanh²(c)).
    a(1 - a) is computed for all four gates at once, then the g gate is replaced by 1 - g² and
    each gate multiplied by its other factor.
    """
    i, f, g, o = (gates[:, k] for k in range(4))
    onp.subtract(1, gates, out=out)
    out *= gates                                                        # σ'(z) = a(1 - a)
    onp.multiply(g, g, out=out[:, 2])
    onp.subtract(1, out[:, 2], out=out[:, 2])                           # tanh'(z_g) = 1 - g²
    for k, other in enumerate([g, c_prev, i, tanh_c]):
        out[:, k] *= other
    onp.multiply(tanh_c, tanh_c, out=dc_dh)
    onp.subtract(1, dc_dh, out=dc_dh)
    dc_dh *= o


def numpy_backward(W_x, W_h, xs, h0, c0, hs, cs, tanh_cs, gates, dhs, dc_T, need_dxs=True,
                   keep_dzs=False):
    r"""Backpropagation through time for :func:`numpy_forward`.

    dhs: (T, B, H), the gradient of the loss with respect to each h_t from outside the layer;
    dc_T: (B, H), with respect to c_T. Going back from t = T, with dh_t = dhs_t + dz_{t+1} W_h^T
    and dc_t the gradient reaching c_t from c_{t+1} (through f_{t+1}) and from h_t:

        dc_t  = dc_{t+1} ⊙ f_{t+1} + dh_t ⊙ o_t ⊙ (1 - tanh²(c_t))
        dz_i  = dc_t ⊙ g_t ⊙ i_t(1 - i_t)          dz_f = dc_t ⊙ c_{t-1} ⊙ f_t(1 - f_t)
        dz_g  = dc_t ⊙ i_t ⊙ (1 - g_t²)            dz_o = dh_t ⊙ tanh(c_t) ⊙ o_t(1 - o_t)
        dW_x = sum_t x_t^T dz_t,  dW_h = sum_t h_{t-1}^T dz_t,  db = sum_{t, batch} dz_t
        dx_t = dz_t W_x^T,  dh_0 = dz_1 W_h^T,  dc_0 = dc_1 ⊙ f_1

    The loop goes back one block of steps at a time, and each block stays in cache: the factors
    after dc_t and dh_t, which depend on the forward pass only (:func:`_local_derivatives`), are
    computed for the block, the loop multiplies dc_t and dh_t into them in place, and the block's
    terms of the sums over time are added (:class:`.shared.WeightGradients`). dz is gate-major
    like the gates (see :func:`numpy_forward`): a block's dz_t are kept as (4, n, B, H), so
    that each gate's (n*B, H) gradients are one matrix for the sums, and dh_{t-1} = dz_t W_h^T is
    the sum of the four gates' products (one batched matmul, then a sum); with B = 1, as
    (n, 4, 1, H), where dz_t is one row (n, 4H) for one matmul. The dz_t of all steps are kept
    only with keep_dzs (to name the step where a gradient overflowed).
    Returns (dW_x, dW_h, db, dxs, dh_0, dc_0) (dxs None unless need_dxs). Raises ValueError,
    naming the time step, if the gradient becomes NaN or inf.
    """
    T, B, D = xs.shape
    H = hs.shape[-1]
    steps_list, n_max = backward_blocks(T, B * 4 * H)            # n_max: the most steps in a block
    dt = hs.dtype
    dzs = gate_gradients("lstm.dz", T, n_max, B, H, dt, keep_all=keep_dzs)
    dc_dh = work("lstm.dc_dh", (n_max, B, H), dt)
    sums = WeightGradients("lstm", xs, h0, hs, n_max, 4 * H)
    dxs = result("lstm.dxs", xs.shape, dt) if need_dxs else None
    dh_next = onp.zeros_like(h0)                     # nothing comes after step T
    dh, dc_term = work("lstm.dh", (B, H), dt), work("lstm.dc_term", (B, H), dt)
    dc = onp.array(dc_T, dtype=hs.dtype)             # our own copy, updated in place
    f_ = gates[:, 1]                                 # f_[t]: f_t, (B, H)
    add, multiply, matmul = onp.add, onp.multiply, onp.matmul   # see numpy_forward
    if B == 1:
        W_hT = W_h.T                                 # (4H, H): a row times a view is as fast
    else:                                            # (4, H, H): gate j's rows of W_h^T
        W_hT = work("lstm.W_hT", (4, H, H), dt)
        W_hT[:] = W_h.reshape(H, 4, H).transpose(1, 2, 0)
        products = work("lstm.dh_parts", (4, B, H), dt)
        W_xT = W_x.reshape(D, 4, H).transpose(1, 2, 0)          # (4, H, D), a view
    for steps in steps_list:
        start, n = steps.start, steps.stop - steps.start
        dz = dzs[steps] if keep_dzs else dzs[:n]     # (n, 4, B, H)
        c_prev = cs[start - 1:steps.stop - 1] if start else onp.concatenate([c0[None], cs[:n - 1]])
        _local_derivatives(gates[steps], c_prev, tanh_cs[steps], dz, dc_dh[:n])
        for k in range(n - 1, -1, -1):
            t = start + k
            add(dhs[t], dh_next, dh)                 # dh_t, (B, H)
            add(dc, multiply(dh, dc_dh[k], dc_term), dc)   # dc_t
            dz_t = dz[k]                             # (4, B, H)
            dz_ifg = dz_t[:3]
            multiply(dz_ifg, dc, dz_ifg)             # dz_i, dz_f, dz_g
            dz_o = dz_t[3]
            multiply(dz_o, dh, dz_o)                 # dz_o
            multiply(dc, f_[t], dc)                  # the gradient sent back to c_{t-1} (⊙ f_t)
            if B == 1:                               # ... and to h_{t-1}
                matmul(dz_t.reshape(1, 4 * H), W_hT, dh_next)
            else:
                add.reduce(matmul(dz_t, W_hT, products), axis=0, out=dh_next)
        if B == 1:
            sums.add(steps, dz.reshape(n, 1, 4 * H))
        else:
            by_gate = dz.transpose(1, 0, 2, 3).reshape(4, n * B, H)   # a view, unless keep_dzs
            sums.add_blocks(steps, by_gate)
        if need_dxs:
            out = dxs[steps].reshape(n * B, D)
            if B == 1:
                onp.matmul(dz.reshape(n, 4 * H), W_x.T, out=out)
            else:
                onp.add.reduce(onp.matmul(by_gate, W_xT), axis=0, out=out)
    dW_x, db, dW_h, _ = sums.result()
    grads = (dW_x, dW_h, db, dxs, dh_next, dc)       # dh_0, dc_0 (B, H)
    # finite? (checked once: ~20 us for a (128, 512) array; check_gradient says where, if not)
    if not all(onp.isfinite(g).all() for g in (dW_h, db, dh_next, dc)):
        if not keep_dzs:
            return numpy_backward(W_x, W_h, xs, h0, c0, hs, cs, tanh_cs, gates, dhs, dc_T,
                                  need_dxs, keep_dzs=True)  # again, keeping every dz_t: raises
        check_gradient("LSTM layer", dhs, dzs, (dW_h, db, dh_next, dc))
    return grads


def forward(params, xs, h0, c0):
    """hs and c_T of the layer: :func:`layer_of_params` when params holds W_x, W_h and b only
    and autograd follows the dict itself (or nothing in it), else :func:`layer` of its arrays."""
    if (len(params) == 3 and (isinstance(params, Box)
                              or not any(isinstance(v, Box) for v in params.values()))):
        return layer_of_params(params, xs, h0, c0, {})
    return layer(params["W_x"], params["W_h"], params["b"], xs, h0, c0, {})


@primitive
def layer(W_x, W_h, b, xs, h0, c0, saved):
    """hs and c_T; ``saved`` (an empty dict) keeps the activations for the backward pass, as
    PyTorch's ctx.save_for_backward does: autograd hands the same arguments to _vjp."""
    hs, cs, tanh_cs, gates = numpy_forward(W_x, W_h, b, xs, h0, c0)
    saved.update(cs=cs, tanh_cs=tanh_cs, gates=gates)
    return hs, cs[-1]


@primitive
def layer_of_params(params, xs, h0, c0, saved):
    """:func:`layer` with the params dict as one argument. Taking params["W_x"] etc. under autograd
    costs, in the backward pass, a zero array for every parameter and one addition per key (~0.2 ms
    of a 1.5 ms LSTM char LM B=1 forward + backward); here the gradient is the dict itself."""
    return layer(params["W_x"], params["W_h"], params["b"], xs, h0, c0, saved)


def _gradients(outputs, W_x, W_h, xs, h0, c0, saved, need_dxs):
    """A function (dhs, dc_T) -> numpy_backward's (dW_x, dW_h, db, dxs, dh_0, dc_0)."""
    hs = outputs[0]

    def grads(g):
        dhs, dc_T = (onp.asarray(a, dtype=hs.dtype) for a in g)
        return numpy_backward(W_x, W_h, xs, h0, c0, hs, saved["cs"], saved["tanh_cs"],
                              saved["gates"], dhs, dc_T, need_dxs=need_dxs)
    return grads


def _vjp(argnums, outputs, args, kwargs):
    """autograd's hook: a function (dhs, dc_T) -> the gradients of the arguments asked for."""
    W_x, W_h, b, xs, h0, c0, saved = args
    grads = _gradients(outputs, W_x, W_h, xs, h0, c0, saved, need_dxs=3 in argnums)

    def vjp(g):
        all_grads = grads(g)
        return tuple(all_grads[i] for i in argnums)
    return vjp


def _vjp_of_params(argnums, outputs, args, kwargs):
    """:func:`_vjp` for :func:`layer_of_params`: the params' gradient is one dict."""
    params, xs, h0, c0, saved = args
    grads = _gradients(outputs, params["W_x"], params["W_h"], xs, h0, c0, saved,
                       need_dxs=1 in argnums)

    def vjp(g):
        dW_x, dW_h, db, dxs, dh0, dc0 = grads(g)
        dparams = {"W_x": dW_x, "W_h": dW_h, "b": db}
        return tuple([dparams, dxs, dh0, dc0][i] for i in argnums)
    return vjp


defvjp_argnums(layer, _vjp)
defvjp_argnums(layer_of_params, _vjp_of_params)
