"""What the three fast paths share: blocks of time steps, work arrays kept between calls, the input
term of a block of steps, and the weight gradients of a block.

Why blocks: the arrays of all steps (T*B*4H numbers, several MB) do not fit in the processor's
cache, and a pass over such an array costs several times a pass over a block that stays in cache.
So the forward loop makes the input term of ~64K numbers' worth of steps at a time, just before it
needs them, and the backward loop takes the weight gradients of each block as soon as it has them.

Why work arrays: fresh memory costs a page fault per 4 KB the first time it is written (glibc hands
large freed blocks back to the system and maps them again): measured here, up to 1700 faults in
one LSTM forward and backward, 2.6 ms of its 31 ms (~1.5 us a fault). Arrays that only live inside one call
(the blocks' scratch, W_h^T) are kept, per thread, between calls (:func:`work`); what a call
returns or saves for the backward pass is never one that anything still uses, but it may reuse the
memory of an earlier call's result that nothing references any more (:func:`result`).
"""
import sys
import threading

import numpy as onp

CACHE_NUMBERS = 2 ** 16          # numbers per block of the (T, B, G) arrays: 256 KB in float32
RESULTS_KEPT = 4                 # earlier results kept for reuse, per name
_kept = threading.local()
_results = threading.local()
_offsets = {}                    # name -> its arrays' address mod 4096: see _empty


def blocks(T, step_size, backward=False):
    """Slices of the steps 0..T-1, each ~CACHE_NUMBERS / step_size steps, in order (or reversed)."""
    n = max(1, CACHE_NUMBERS // step_size)
    starts = range(0, T, n)
    return [slice(s, min(s + n, T)) for s in (reversed(starts) if backward else starts)]


def backward_blocks(T, step_size):
    """The blocks a backward pass goes through, last steps first, and the most steps in one."""
    steps_list = blocks(T, step_size, backward=True)
    return steps_list, max((s.stop - s.start for s in steps_list), default=0)


def gate_gradients(name, T, n_max, B, H, dtype, keep_all=False):
    """Where a backward pass puts a block's gate-major gradients, viewed as (n, 4, B, H) for its
    n steps: a work array stored (4, n_max, B, H) when B > 1, so that each gate's (n*B, H)
    gradients are one matrix for the weight gradients' sums (:meth:`WeightGradients.add_blocks`),
    and (n_max, 4, 1, H) when B = 1, where a step's gradients are one row for one matmul; with
    keep_all, a new (T, 4, B, H) array for every step (to name the step where a gradient
    overflowed)."""
    if keep_all:
        return onp.empty((T, 4, B, H), dtype)
    if B == 1:
        return work(name, (n_max, 4, B, H), dtype)
    return work(name, (4, n_max, B, H), dtype).transpose(1, 0, 2, 3)


def _empty(name, shape, dtype):
    """onp.empty(shape, dtype) whose address, mod 4096, is ``name``'s own (a multiple of 64, a
    different one for each of the first 64 names): a view into a uint8 buffer 4 KB larger, which
    owns the memory (the view's ``.base``).

    Why: large arrays come from the system page-aligned (all at address 16 mod 4096), and a step
    reads and writes row t of several of them (hs, cs, tanh(c), the gates, dz...) whose rows are
    then 4096-byte multiples apart: the processor takes a load from an address that matches a
    pending store's in its last 12 bits as dependent on it ("4K aliasing") and waits. Measured
    here (autograd.grad of the benchmark's loss, 1 thread, this against page-aligned arrays in
    alternating processes, medians): LSTM float32 char LM B=32 11.30 -> 10.34 ms, time series
    13.31 -> 12.55, long range 38.9 -> 36.1, B=1 1.25 -> 1.23; float64 8-11% less in all four;
    GRU float32 2-5% less; RNN unchanged (+-1.5%).
    """
    dtype = onp.dtype(dtype)
    offset = _offsets.setdefault(name, 64 * (9 * len(_offsets) % 64))   # 576 bytes apart
    nbytes = int(onp.prod(shape, dtype=onp.int64)) * dtype.itemsize
    raw = onp.empty(nbytes + 4096, onp.uint8)
    start = (offset - raw.ctypes.data) % 4096
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def work(name, shape, dtype):
    """A work array kept between calls under ``name`` (one per thread); its contents are left over
    from the last call. Never return one or save it for later: the next call overwrites it."""
    arrays = _kept.__dict__
    a = arrays.get(name)
    if a is None or a.shape != tuple(shape) or a.dtype != dtype:
        a = arrays[name] = _empty(name, shape, dtype)
    return a


def result(name, shape, dtype):
    """An array to return or to save for the backward pass: the memory of one of the last
    RESULTS_KEPT arrays made under ``name`` (per thread) that nothing references any more (no
    caller, no view of it, no autograd graph: only this cache), or a new array. Its contents are
    left over; it must be overwritten whole."""
    shape, dtype = tuple(shape), onp.dtype(dtype)
    kept = _results.__dict__.setdefault(name, [])
    for k in range(len(kept)):                       # a view of kept[k] refers to its .base
        if (kept[k].shape == shape and kept[k].dtype == dtype and sys.getrefcount(kept[k]) == 2
                and sys.getrefcount(kept[k].base) == 2):
            return kept[k]                           # referenced by the list and the argument only
    a = _empty(name, shape, dtype)
    kept[:] = [b for b in kept if b.shape == shape and b.dtype == dtype][1 - RESULTS_KEPT:] + [a]
    return a


def input_term(xs, W_x, b, out):
    """out (n, B, G) <- x_t W_x + b for a block of steps xs (n, B, D).

    With D = 1 it is an outer product, which broadcasting computes several times faster than a
    matmul whose inner dimension is 1 (and to the same bits: one product per entry, no sum)."""
    n, B, D = xs.shape
    if D == 1:
        onp.multiply(xs, W_x[0], out=out)
    else:
        onp.matmul(xs.reshape(n * B, D), W_x, out=out.reshape(n * B, -1))
    out += b
    return out


class WeightGradients:
    """The sums over time of a layer's weight gradients, added block by block.

    For pre-activations z_t = x_t W_x + h_{t-1} W_h + b (the G columns), with gradients dz_t:
    dW_x = sum_t x_t^T dz_t, db = sum_t 1^T dz_t, dW_h = sum_t h_{t-1}^T dz_t. One matmul per
    block gives all three: the rows [x_t, 1, h_{t-1}] (D + 1 + H of them) times dz_t. Where x_t
    and h_{t-1} meet different columns of dz (the GRU's), ``x_cols`` and ``h_cols`` (slices)
    name them: then [x_t, 1] times dz[x_cols] and [1, h_{t-1}] times dz[h_cols], two matmuls
    with no product that is not needed.
    """

    def __init__(self, name, xs, h0, hs, steps_per_block, G, x_cols=None, h_cols=None):
        T, B, D = xs.shape
        H, dt = hs.shape[-1], hs.dtype
        self.xs, self.h0, self.hs, self.D = xs, h0, hs, D
        self.rows = work(name + ".sum_rows", (steps_per_block * B, D + 1 + H), dt)
        self.rows[:, D] = 1
        if x_cols is None:                           # (rows, columns of dz) of each matmul
            self.parts = [(slice(None), slice(None))]
            shapes = [(D + 1 + H, G)]
        else:
            self.parts = [(slice(0, D + 1), x_cols), (slice(D, None), h_cols)]
            shapes = [(D + 1, len(range(G)[x_cols])), (1 + H, len(range(G)[h_cols]))]
        self.sums = [result(f"{name}.grads{k}", shape, dt) for k, shape in enumerate(shapes)]
        self.scratch = [work(f"{name}.sum{k}", shape, dt) for k, shape in enumerate(shapes)]
        self.name, self.first, self.by_gate, self.G = name, True, None, G

    def _rows(self, steps, B):
        """The rows [x_t, 1, h_{t-1}] of the block's steps, (n*B, D+1+H)."""
        n = steps.stop - steps.start
        D, H, rows = self.D, self.hs.shape[-1], self.rows[:n * B]
        rows[:, :D] = self.xs[steps].reshape(n * B, D)
        h_rows = rows[:, D + 1:]
        if steps.start == 0:                         # h_{t-1} of the first step is h_0
            h_rows[:B] = self.h0
            h_rows[B:] = self.hs[:steps.stop - 1].reshape(-1, H)
        else:
            h_rows[:] = self.hs[steps.start - 1:steps.stop - 1].reshape(n * B, H)
        return rows

    def add(self, steps, dz):
        """Add the block ``steps``' terms; dz: (n, B, G), the gradients of its pre-activations."""
        n, B, G = dz.shape
        rows = self._rows(steps, B)
        dz = dz.reshape(n * B, G)
        for (r, c), total, scratch in zip(self.parts, self.sums, self.scratch):
            if self.first:
                onp.matmul(rows[:, r].T, dz[:, c], out=total)
            else:
                total += onp.matmul(rows[:, r].T, dz[:, c], out=scratch)
        self.first = False

    def add_blocks(self, steps, dz):
        """:meth:`add` for dz given gate-major: (k, n*B, G/k), gate j's gradients in columns
        j*G/k:(j+1)*G/k of the sums (the LSTM's and the GRU's, see :mod:`.lstm`, :mod:`.gru`;
        ``x_cols`` and ``h_cols`` must then be whole gates). The block's terms are summed
        gate-major too, (gates, rows, G/k) for each matmul, and put in the sums' columns once, by
        :meth:`result`: adding each block into the (D+1+H, G) sums' strided column blocks cost
        230 instead of 195 us a block (float32 LSTM char LM B=32: 0.45 ms a call)."""
        k, _, width = dz.shape
        rows = self._rows(steps, self.hs.shape[1])
        if self.first:                               # per matmul: (its gates of dz, its sums)
            self.by_gate = []
            for j, ((r, c), total) in enumerate(zip(self.parts, self.sums)):
                cols = range(self.G)[c]
                gates = slice(cols.start // width, (cols.stop + width - 1) // width)
                suffix = ".by_gate" if j == 0 else f".by_gate{j}"   # the LSTM's first name kept
                shape = (gates.stop - gates.start, len(total), width)
                self.by_gate.append((gates, work(self.name + suffix, shape, dz.dtype)))
        for (r, _), (gates, by_gate), scratch in zip(self.parts, self.by_gate, self.scratch):
            if self.first:
                onp.matmul(rows[:, r].T, dz[gates], out=by_gate)
            else:
                by_gate += onp.matmul(rows[:, r].T, dz[gates], out=scratch.reshape(by_gate.shape))
        self.first = False

    def result(self):
        """(dW_x, db_x, dW_h, db_h), views of the sums (db_x and db_h are one row without
        ``x_cols``): dW_x (D, .), db_x over x_cols, dW_h (H, .), db_h over h_cols."""
        if self.first:                               # no steps (T = 0): the sums are zero
            for total in self.sums:
                total[:] = 0
        elif self.by_gate is not None:               # see add_blocks
            for (_, by_gate), total in zip(self.by_gate, self.sums):
                k, R, width = by_gate.shape
                total.reshape(R, k, width)[:] = by_gate.transpose(1, 0, 2)
        D, (x_sum, h_sum) = self.D, (self.sums * 2)[:2]
        if len(self.sums) == 1:
            return x_sum[:D], x_sum[D], x_sum[D + 1:], x_sum[D]
        return x_sum[:D], x_sum[D], h_sum[1:], h_sum[0]
