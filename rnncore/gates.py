r"""What the gates of an LSTM or a GRU did at every step of a sequence: for plots and inspection.

``lstm.forward`` and ``gru.forward`` return the states only. The functions here run the same
equations over a sequence and keep every intermediate value, each a ``(T, B, H)`` array in a dict:

LSTM (:mod:`rnncore.lstm`, gate blocks in PyTorch's order i, f, g, o)::

    z_t = x_t W_x + h_{t-1} W_h + b                        (B, 4H)
    i_t = σ(z_i),  f_t = σ(z_f),  g_t = tanh(z_g),  o_t = σ(z_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,   h_t = o_t ⊙ tanh(c_t)
    -> {"i", "f", "g", "o", "c", "h"}

GRU (:mod:`rnncore.gru`, blocks r, z, n), PyTorch's form (``form="pytorch"``)::

    r_t = σ(x_t W_xr + b_xr + h_{t-1} W_hr + b_hr)
    z_t = σ(x_t W_xz + b_xz + h_{t-1} W_hz + b_hz)
    n_t = tanh(x_t W_xn + b_xn + r_t ⊙ (h_{t-1} W_hn + b_hn))
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}
    -> {"r", "z", "n", "h"}

or Cho et al.'s (``form="cho"``, :func:`rnncore.gru.cho_step`), where the reset gate acts on
h_{t-1} *before* the matmul: n_t = tanh(x_t W_xn + b_xn + (r_t ⊙ h_{t-1}) W_hn + b_hn).

The sigmoid gates lie in (0, 1): 0 closes a gate, 1 opens it. The loops collect lists and
``np.stack`` them, so autograd can differentiate through them (slowly: use the layers' ``forward``
for training). :func:`for_plot` picks one sequence of the batch and names the gates for
:func:`rnncore.plots.gate_activations`; :func:`rnncore.plots.gates_on_text` draws them over the
characters a language model read.
"""
import autograd.numpy as np

from . import gru, lstm

LSTM_KEYS = ("i", "f", "g", "o", "c", "h")
GRU_KEYS = ("r", "z", "n", "h")
NAMES = {"i": "input gate $i_t$", "f": "forget gate $f_t$", "g": "candidate $g_t$",
         "o": "output gate $o_t$", "c": "cell state $c_t$", "h": "hidden state $h_t$",
         "r": "reset gate $r_t$", "z": "update gate $z_t$", "n": "candidate $n_t$",
         "tanh_c": "$\\tanh(c_t)$, the cell as the output gate reads it"}


def _stacked(steps, keys):
    """A list of per-step tuples of (B, H) arrays -> {key: (T, B, H)}."""
    return {key: np.stack([step[k] for step in steps]) for k, key in enumerate(keys)}


def lstm_gates(params, xs, state=None):
    """The LSTM's gates, cell states and hidden states at every step.

    params: an LSTM layer's dict (W_x (D, 4H), W_h (H, 4H), b (4H,)); xs: (T, B, D);
    state: (h_0, c_0), each (B, H), zeros if None. Returns {"i", "f", "g", "o", "c", "h"}, each
    (T, B, H); "h" equals the ``hs`` of :func:`rnncore.lstm.forward`. Raises ValueError for the
    calls that lstm.forward rejects (it runs the same checks).
    """
    lstm.check_inputs(params, xs, state)                 # the layer's own checks
    h, c = lstm.initial_state(params, xs, state)         # (h_0, c_0), zeros if None
    steps = []
    for x in xs:                                         # x: (B, D)
        steps.append(lstm.cell_gates(params, x, h, c))   # (i, f, g, o, c, h), the layer's step
        c, h = steps[-1][4:]
    return _stacked(steps, LSTM_KEYS)


def gru_gates(params, xs, state=None, form="pytorch"):
    """The GRU's gates and states at every step, in PyTorch's form or Cho et al.'s.

    params: a GRU layer's dict (W_x (D, 3H), W_h (H, 3H), b_x, b_h (3H,)); xs: (T, B, D);
    state: h_0 (B, H), zeros if None; form: "pytorch" (as :func:`rnncore.gru.forward`) or "cho"
    (as repeated :func:`rnncore.gru.cho_step`). Returns {"r", "z", "n", "h"}, each (T, B, H).
    """
    if form not in ("pytorch", "cho"):
        raise ValueError(f"form must be 'pytorch' or 'cho', got {form!r}")
    gru.check_inputs(params, xs, state)                  # the layer's own checks
    h = gru.initial_state(params, xs, state)             # h_0, zeros if None
    cell = gru.cell_gates if form == "pytorch" else gru.cho_gates   # reset after / before W_hn
    steps = []
    for x in xs:                                         # x: (B, D)
        steps.append(cell(params, x, h))                 # (r, z, n, h), the layer's step
        h = steps[-1][-1]
    return _stacked(steps, GRU_KEYS)


def for_plot(gates, keys, b=0):
    """{name: (T, H)}: the gates ``keys`` (e.g. "ifo") of sequence b, named for the plots.

    >>> plots.gate_activations(for_plot(lstm_gates(params, xs), "ifo"))
    """
    unknown = [k for k in keys if k not in gates]
    if unknown:
        raise ValueError(f"no gate {unknown} in this dict: it has {sorted(gates)}")
    B = np.shape(gates[keys[0]])[1]
    if not -B <= b < B:
        raise ValueError(f"b = {b} is not a sequence of this batch of B = {B}")
    return {NAMES[k]: gates[k][:, b] for k in keys}


def saturation(gate, margin=0.1):
    """The fraction of a sigmoid gate's values within ``margin`` of 0 or of 1, any shape.

    A gate near 0 or 1 acts as a switch (closed or open); one near 0.5 lets half through.
    """
    if not 0 < margin < 0.5:
        raise ValueError(f"margin must lie in (0, 0.5), got {margin}")
    gate = np.asarray(gate)
    return float(np.mean((gate < margin) | (gate > 1 - margin)))


def autocorrelation(values):
    r"""How slowly each unit changes: the lag-1 autocorrelation over time, averaged over units.

    values: (T, H) for one sequence. For each unit j, with a_t = v_{t,j} - mean_t v_{t,j},
    r_j = sum_t a_t a_{t-1} / sum_t a_t^2: near 1 for a unit that drifts slowly, near 0 for one
    that jumps at every step. Returns the mean of r_j over the units (constant units skipped).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or len(values) < 2:
        raise ValueError(f"values must have shape (T, H) with T >= 2, got {values.shape}")
    a = values - values.mean(axis=0)
    power = np.sum(a * a, axis=0)
    varying = power > 0
    return float(np.mean(np.sum(a[1:] * a[:-1], axis=0)[varying] / power[varying]))
