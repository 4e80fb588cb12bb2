r"""The GRU layer, as PyTorch's ``nn.GRU`` computes it.

For each step, with row vectors ``x: (B, D)`` and ``h_prev: (B, H)``:

    r = σ(x W_xr + b_xr + h_prev W_hr + b_hr)          reset gate
    z = σ(x W_xz + b_xz + h_prev W_hz + b_hz)          update gate: how much of h_prev to keep
    n = tanh(x W_xn + b_xn + r ⊙ (h_prev W_hn + b_hn))  candidate state
    h = (1 - z) ⊙ n + z ⊙ h_prev

``W_x: (D, 3H)``, ``W_h: (H, 3H)``, ``b_x, b_h: (3H,)`` hold the gates as column blocks in PyTorch's
order **r, z, n**. The two biases stay apart because b_hn sits inside r ⊙ (...).

**Cho et al. (2014)**, eqs. (5)-(8), who introduced the unit, write (biases omitted there):

    r = σ(x W_r + h_prev U_r),  z = σ(x W_z + h_prev U_z)
    h̃ = tanh(x W + (r ⊙ h_prev) U)
    h = z ⊙ h_prev + (1 - z) ⊙ h̃

The update has the same convention as PyTorch's: z weighs the old state, 1 - z the candidate
(n is their h̃). The difference is where the reset gate acts: Cho et al. reset h_prev *before*
the matmul, (r ⊙ h_prev) U; PyTorch (following cuDNN) resets the product *after* it,
r ⊙ (h_prev W_hn + b_hn), so h_prev W_h for all three blocks is one matmul, made before r is
known. The two are different functions of the same parameters: :func:`cho_step` computes Cho's
form from this module's params, for comparison. (Some texts, e.g. Chung et al. 2014, swap z and
1 - z in the last line; that is the same model with the z block's weights and bias negated.)

:func:`forward_reference` is the readable loop, differentiated by autograd step by step;
:func:`forward` is the same layer as one autograd primitive with backpropagation through time
written by hand (:mod:`rnncore.fastpath.gru`).
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from .validation import check_layer, check_sequence, check_state_dict, values
from .fastpath import gru as fastpath
from .numerics import sigmoid, uniform_init

WEIGHTS = {"W_h": "H G", "W_x": "D G", "b_x": "G", "b_h": "G"}    # G = 3H: blocks r, z, n


def init(input_size, hidden_size, rng, dtype=np.float64):
    """Every weight and bias drawn as PyTorch does, U(-1/sqrt(H), 1/sqrt(H))."""
    return {
        "W_x": uniform_init(rng, hidden_size, (input_size, 3 * hidden_size), dtype),   # (D, 3H)
        "W_h": uniform_init(rng, hidden_size, (hidden_size, 3 * hidden_size), dtype),  # (H, 3H)
        "b_x": uniform_init(rng, hidden_size, 3 * hidden_size, dtype),                 # (3H,)
        "b_h": uniform_init(rng, hidden_size, 3 * hidden_size, dtype),                 # (3H,)
    }


def cell_gates(params, x, h_prev):
    """One step, PyTorch's form, with everything it computes: (r, z, n, h), each (B, H); no checks."""
    gx = x @ params["W_x"] + params["b_x"]                      # (B, 3H)
    gh = h_prev @ params["W_h"] + params["b_h"]                 # (B, 3H)
    H = h_prev.shape[-1]
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return r, z, n, (1 - z) * n + z * h_prev                    # h: (B, H)


def cell(params, x, h_prev):
    """One step, PyTorch's form, no checks: the new state h, (B, H)."""
    return cell_gates(params, x, h_prev)[-1]


def step(params, x, h_prev):
    """One time step, PyTorch's form, checked. x: (B, D), h_prev: (B, H) -> h: (B, H)."""
    check_layer(params, "a GRU layer", WEIGHTS, gates=3, x=(x, "B D"), h_prev=(h_prev, "B H"))
    return cell(params, x, h_prev)


def cho_gates(params, x, h_prev):
    """One step of Cho et al.'s form with everything it computes: (r, z, h̃, h); no checks."""
    W_x, W_h, b_x, b_h = params["W_x"], params["W_h"], params["b_x"], params["b_h"]
    H = h_prev.shape[-1]
    rz = sigmoid(x @ W_x[:, :2 * H] + b_x[:2 * H] + h_prev @ W_h[:, :2 * H] + b_h[:2 * H])
    r, z = rz[:, :H], rz[:, H:]
    h_tilde = np.tanh(x @ W_x[:, 2 * H:] + b_x[2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
    return r, z, h_tilde, z * h_prev + (1 - z) * h_tilde


def cho_step(params, x, h_prev):
    """One step of Cho et al.'s form (see the module docstring), on this module's params, checked.

    r and z as in :func:`step`; h̃ = tanh(x W_xn + b_xn + (r ⊙ h_prev) W_hn + b_hn);
    h = z ⊙ h_prev + (1 - z) ⊙ h̃. It differs from :func:`step` only by where r acts.
    """
    check_layer(params, "a GRU layer", WEIGHTS, gates=3, x=(x, "B D"), h_prev=(h_prev, "B H"))
    return cho_gates(params, x, h_prev)[-1]


def check_inputs(params, xs, state=None):
    """Raise ValueError, saying what to fix, unless params, xs: (T, B, D) and state (h_0: (B, H)
    or None) have matching shapes, one floating dtype and finite values."""
    check_sequence(params, "a GRU layer", WEIGHTS, xs, state, gates=3)


def initial_state(params, xs, state=None):
    """h_0: ``state`` itself, or zeros (B, H) in the params' dtype if it is None."""
    W_h = values(params)["W_h"]
    return np.zeros((getval(xs).shape[1], W_h.shape[0]), dtype=W_h.dtype) if state is None else state


def forward_reference(params, xs, state=None):
    """Run the layer over a sequence, one step at a time (autograd differentiates every step).

    xs: (T, B, D); state: h_0, (B, H), zeros if None. Returns ``hs: (T, B, H)`` and ``h_T: (B, H)``.
    """
    check_inputs(params, xs, state)
    h = initial_state(params, xs, state)
    hs = []
    for x in xs:                                     # x: (B, D)
        h = cell(params, x, h)
        hs.append(h)                                 # no in-place writes: autograd can follow
    return np.stack(hs), h                           # (T, B, H), (B, H)


def forward(params, xs, state=None):
    """The same layer as :func:`forward_reference`, fast: one autograd primitive, BPTT by hand.

    Returns ``hs: (T, B, H)`` and ``h_T: (B, H)``; gradients reach the params, xs and state.
    """
    check_inputs(params, xs, state)
    hs = fastpath.forward(params, xs, initial_state(params, xs, state))
    return hs, hs[-1]


def from_torch(state_dict):
    """Params for :func:`forward` from the ``state_dict()`` of a single-layer ``torch.nn.GRU``.

    PyTorch stores ``weight_ih_l0: (3H, D)``, ``weight_hh_l0: (3H, H)`` (row blocks r, z, n, the
    column form) and the biases b_ih, b_hh; here ``W_x = weight_ih^T``, ``W_h = weight_hh^T``,
    ``b_x = bias_ih``, ``b_h = bias_hh`` (kept apart: b_hn is reset by r). Dtypes are kept.
    """
    w_ih, w_hh, b_ih, b_hh = check_state_dict(state_dict, "torch.nn.GRU", gates=3)
    return {"W_x": onp.ascontiguousarray(w_ih.T),   # (D, 3H)
            "W_h": onp.ascontiguousarray(w_hh.T),   # (H, 3H)
            "b_x": b_ih.copy(), "b_h": b_hh.copy()}  # (3H,) each
