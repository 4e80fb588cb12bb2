r"""The LSTM layer, as PyTorch's ``nn.LSTM`` computes it.

For each step, with row vectors ``x: (B, D)`` and the state ``h_prev, c_prev: (B, H)``:

    z = x W_x + h_prev W_h + b        (B, 4H): the four gates' pre-activations, one matmul
    i = σ(z_i)                        input gate: how much of the candidate to write
    f = σ(z_f)                        forget gate: how much of the old cell to keep
    g = tanh(z_g)                     candidate cell value
    o = σ(z_o)                        output gate: how much of the cell to show
    c = f ⊙ c_prev + i ⊙ g
    h = o ⊙ tanh(c)

``W_x: (D, 4H)``, ``W_h: (H, 4H)`` and ``b: (4H,)`` hold the gates as column blocks in PyTorch's
order **i, f, g, o**: columns ``k*H:(k+1)*H`` belong to gate k. σ is the logistic sigmoid.
The state is the pair ``(h, c)``. Sequences are time-major, ``xs: (T, B, D)``.

:func:`forward_reference` is the readable loop, differentiated by autograd step by step;
:func:`forward` is the same layer as one autograd primitive with backpropagation through time
written by hand (:mod:`rnncore.fastpath.lstm`).
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from .validation import check_dtypes, check_finite, check_layer, check_state_dict, values
from .fastpath import lstm as fastpath
from .numerics import sigmoid, uniform_init

WEIGHTS = {"W_h": "H G", "W_x": "D G", "b": "G"}      # G = 4H, the four gate blocks


def init(input_size, hidden_size, rng, dtype=np.float64):
    """Every weight and the bias drawn as PyTorch does, U(-1/sqrt(H), 1/sqrt(H))."""
    return {
        "W_x": uniform_init(rng, hidden_size, (input_size, 4 * hidden_size), dtype),   # (D, 4H)
        "W_h": uniform_init(rng, hidden_size, (hidden_size, 4 * hidden_size), dtype),  # (H, 4H)
        "b": uniform_init(rng, hidden_size, 4 * hidden_size, dtype),                   # (4H,)
    }


def cell_gates(params, x, h_prev, c_prev):
    """One step with everything it computes: (i, f, g, o, c, h), each (B, H); no checks."""
    z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]     # (B, 4H)
    H = h_prev.shape[-1]
    i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
    g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    c = f * c_prev + i * g                                            # (B, H)
    return i, f, g, o, c, o * np.tanh(c)


def cell(params, x, h_prev, c_prev):
    """One step, no checks: the new state (h, c), each (B, H)."""
    *_, c, h = cell_gates(params, x, h_prev, c_prev)
    return h, c


def step(params, x, state):
    """One time step, checked. x: (B, D), state: (h_prev, c_prev), each (B, H) -> (h, c)."""
    h_prev, c_prev = _pair(state)
    check_layer(params, "an LSTM layer", WEIGHTS, gates=4, x=(x, "B D"), h_prev=(h_prev, "B H"),
                c_prev=(c_prev, "B H"))
    return cell(params, x, h_prev, c_prev)


def _pair(state):
    if not isinstance(getval(state), (tuple, list)) or len(state) != 2:
        raise ValueError("an LSTM's state is the pair (h, c) of two (B, H) arrays, got "
                         f"{type(getval(state)).__name__}")
    h, c = state
    return h, c


def check_inputs(params, xs, state=None):
    """Raise ValueError, saying what to fix, unless params, xs: (T, B, D) and state ((h_0, c_0),
    each (B, H), or None) have matching shapes, one floating dtype and finite values."""
    params, xs = values(params), getval(xs)
    h0, c0 = (None, None) if state is None else (getval(s) for s in _pair(state))
    given = {} if state is None else {"h_0": (h0, "B H"), "c_0": (c0, "B H")}
    check_layer(params, "an LSTM layer", WEIGHTS, gates=4, xs=(xs, "T B D"), **given)
    check_dtypes(params, list(WEIGHTS), xs=xs, h_0=h0, c_0=c0)
    check_finite("xs", xs)
    check_finite("h_0", h0, time_major=False)
    check_finite("c_0", c0, time_major=False)


def initial_state(params, xs, state=None):
    """(h_0, c_0): ``state`` itself, or two zero (B, H) arrays in the params' dtype if it is None."""
    if state is not None:
        return _pair(state)
    W_h = values(params)["W_h"]
    return (np.zeros((getval(xs).shape[1], W_h.shape[0]), dtype=W_h.dtype),) * 2


def forward_reference(params, xs, state=None):
    """Run the layer over a sequence, one step at a time (autograd differentiates every step).

    xs: (T, B, D); state: (h_0, c_0), each (B, H), zeros if None.
    Returns ``hs: (T, B, H)`` and the final state ``(h_T, c_T)``.
    """
    check_inputs(params, xs, state)
    h, c = initial_state(params, xs, state)
    hs = []
    for x in xs:                                     # x: (B, D)
        h, c = cell(params, x, h, c)
        hs.append(h)                                 # no in-place writes: autograd can follow
    return np.stack(hs), (h, c)                      # (T, B, H), ((B, H), (B, H))


def forward(params, xs, state=None):
    """The same layer as :func:`forward_reference`, fast: one autograd primitive, BPTT by hand.

    Returns ``hs: (T, B, H)`` and ``(h_T, c_T)``; gradients reach the params, xs, h_0 and c_0.
    """
    check_inputs(params, xs, state)
    h0, c0 = initial_state(params, xs, state)
    hs, c_T = fastpath.forward(params, xs, h0, c0)
    return hs, (hs[-1], c_T)


def from_torch(state_dict):
    """Params for :func:`forward` from the ``state_dict()`` of a single-layer ``torch.nn.LSTM``.

    PyTorch stores ``weight_ih_l0: (4H, D)``, ``weight_hh_l0: (4H, H)`` (row blocks i, f, g, o,
    the column form) and two biases; here ``W_x = weight_ih^T``, ``W_h = weight_hh^T`` (column
    blocks in the same order) and ``b = bias_ih + bias_hh``. Dtypes are kept.
    """
    w_ih, w_hh, b_ih, b_hh = check_state_dict(state_dict, "torch.nn.LSTM", gates=4)
    return {"W_x": onp.ascontiguousarray(w_ih.T),   # (D, 4H)
            "W_h": onp.ascontiguousarray(w_hh.T),   # (H, 4H)
            "b": b_ih + b_hh}                        # (4H,)
