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
(:mod:`rnncore.fastpath.rnn`): autograd sees one operation instead of ~3T, which is what makes it fast.
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from .validation import check_layer, check_sequence, check_state_dict, values
from .fastpath import rnn as fastpath
from .numerics import uniform_init

WEIGHTS = {"W_x": "D H", "W_h": "H H", "b_h": "H"}
NONLINEARITIES = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def init(input_size, hidden_size, rng, dtype=np.float64):
    """Weights drawn as PyTorch draws them, U(-1/sqrt(H), 1/sqrt(H)); the bias starts at zero
    (PyTorch draws its two biases, b_ih and b_hh, from the same range)."""
    return {
        "W_x": uniform_init(rng, hidden_size, (input_size, hidden_size), dtype),   # (D, H)
        "W_h": uniform_init(rng, hidden_size, (hidden_size, hidden_size), dtype),  # (H, H)
        "b_h": np.zeros(hidden_size, dtype=dtype),                                 # (H,)
    }


def activation(nonlinearity):
    """The function f called ``nonlinearity`` ("tanh" or "relu"); ValueError for any other name."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
    return NONLINEARITIES[nonlinearity]


def cell(params, x, h_prev, f=np.tanh):
    """h_t = f(h_{t-1} W_h + x_t W_x + b_h), without checks.  x: (B, D), h_prev: (B, H) -> (B, H)."""
    return f(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])   # (B, H)


def step(params, x, h_prev, nonlinearity="tanh"):
    """One time step, checked: :func:`cell` with the named nonlinearity."""
    check_layer(params, "an RNN layer", WEIGHTS, x=(x, "B D"), h_prev=(h_prev, "B H"))
    return cell(params, x, h_prev, activation(nonlinearity))


def check_inputs(params, xs, state=None):
    """Raise ValueError, saying what to fix, unless params, xs: (T, B, D) and state (h_0: (B, H)
    or None) have matching shapes, one floating dtype and finite values."""
    check_sequence(params, "an RNN layer", WEIGHTS, xs, state)


def initial_state(params, xs, state=None):
    """h_0: ``state`` itself, or zeros (B, H) in the params' dtype if it is None."""
    W_h = values(params)["W_h"]
    return np.zeros((getval(xs).shape[1], W_h.shape[0]), dtype=W_h.dtype) if state is None else state


def forward_reference(params, xs, state=None, nonlinearity="tanh"):
    """Run the layer over a sequence, one step at a time (autograd differentiates every step).

    xs: (T, B, D); state: the initial hidden state h_0, (B, H), zeros if None.
    Returns ``hs: (T, B, H)``, the states h_1..h_T, and the final state ``h_T: (B, H)``.
    """
    check_inputs(params, xs, state)
    h, f = initial_state(params, xs, state), activation(nonlinearity)
    hs = []
    for x in xs:                                     # x: (B, D)
        h = cell(params, x, h, f)
        hs.append(h)                                 # no in-place writes: autograd can follow
    return np.stack(hs), h                           # (T, B, H), (B, H)


def forward(params, xs, state=None, nonlinearity="tanh"):
    """The same layer as :func:`forward_reference`, fast: one autograd primitive, BPTT by hand.

    xs: (T, B, D); state: h_0, (B, H), zeros if None. Returns ``hs: (T, B, H)`` and ``h_T: (B, H)``.
    Gradients reach W_x, W_h, b_h, xs and state, under ``autograd.grad`` like any other function.
    """
    check_inputs(params, xs, state)
    activation(nonlinearity)
    hs = fastpath.layer(params["W_x"], params["W_h"], params["b_h"], xs,
                        initial_state(params, xs, state), nonlinearity)
    return hs, hs[-1]                                # (T, B, H), (B, H)


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
