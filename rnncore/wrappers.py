r"""Layers around a cell: padded batches, stacks of cells (deep RNNs) and bidirectional RNNs.

Every function takes the *cell module* as its first argument (:mod:`rnncore.rnn`, and the LSTM
and GRU modules, which share its interface): ``cell.init(input_size, hidden_size, rng, dtype)`` and
``cell.forward(params, xs, state=None) -> (hs, final_state)``. A cell is chosen this one way
everywhere in rnncore, by its module (``seq2seq.Seq2SeqSpec(encoder=lstm)``,
``many_to_one.ManyToOneSpec(cell=gru)``, ``sequence_models.SequenceModelSpec(rnn)``);
:func:`check_cell` names the valid ones when something else is given. A cell's state is one array
``h: (B, H)`` for the RNN and the GRU and the pair ``(h, c)`` for the LSTM; the code here never
looks inside it, so one wrapper serves all three.

Padding. A batch of sequences of different lengths is padded to one length T and comes with a
``mask: (T, B)`` of 0/1 (1 = a real step). :func:`masked_forward` skips the padded steps: the
state passes through them unchanged, so the final state is the state after each sequence's own
last step. Every wrapper takes ``mask=None``; pass it whenever the batch is padded.
"""
import autograd.numpy as np

from . import gru, lstm, rnn
from .validation import check_shapes

CELLS = (rnn, lstm, gru)


def check_cell(name, cell):
    """Raise ValueError, listing the valid cells, unless ``cell`` is one of :data:`CELLS`."""
    if not any(cell is c for c in CELLS):
        valid = ", ".join(c.__name__ for c in CELLS)
        hint = (f" (a cell is chosen by its module: from rnncore import {cell})"
                if f"rnncore.{cell}" in [c.__name__ for c in CELLS] else "")
        raise ValueError(f"{name} must be a cell module, one of {valid}; got {cell!r}{hint}")


def _map(f, *states):
    """f applied to the array(s) of a cell state: one array (RNN, GRU) or the LSTM's (h, c)."""
    if isinstance(states[0], (tuple, list)):
        return tuple(f(*parts) for parts in zip(*states))
    return f(*states)


def masked_forward(cell, params, xs, mask, state=None):
    r"""Run a cell over a padded batch: a step with m_t = 0 leaves the state as it was.

        s_t = cell(x_t, s_{t-1})  if m_t = 1,     s_t = s_{t-1}  if m_t = 0
        h_t = 0 at the padded steps

    xs: (T, B, D); mask: (T, B) of 0/1 or bool; state: the cell's initial state (zeros if None).
    Returns ``hs: (T, B, H)`` and the final state, which for each sequence is its state after its
    last real step. With a mask of all ones it computes what ``cell.forward`` does (to rounding),
    but one step per call, so it is slower: use it only for padded batches.
    """
    check_cell("cell", cell)
    check_shapes(xs=(xs, "T B D"), mask=(mask, "T B"))
    valid = np.asarray(mask) != 0                                # (T, B) bool
    hs = []
    for x, m in zip(xs, valid):                                  # x: (B, D), m: (B,)
        h_new, new_state = cell.forward(params, x[None], state)  # one step: (1, B, H), state
        if state is None:
            state = _map(np.zeros_like, new_state)               # the cell's zero state
        state = _map(lambda new, old: np.where(m[:, None], new, old), new_state, state)
        hs.append(np.where(m[:, None], h_new[0], 0.0))           # (B, H)
    return np.stack(hs), state                                   # (T, B, H), state


def _run(cell, params, xs, state, mask):
    """cell.forward, or masked_forward when the batch is padded."""
    if mask is None:
        return cell.forward(params, xs, state)
    return masked_forward(cell, params, xs, mask, state)


# --- stacked (deep) RNNs -------------------------------------------------------------------------

def stacked_init(cell, input_size, hidden_size, num_layers, rng, dtype=np.float64):
    """Parameters ``{"layer1": ..., "layerL": ...}``: layer 1 reads x (D), every later layer reads
    the states of the layer below (H)."""
    check_cell("cell", cell)
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    sizes = [input_size] + [hidden_size] * (num_layers - 1)
    return {f"layer{l}": cell.init(size, hidden_size, rng, dtype)
            for l, size in enumerate(sizes, start=1)}


def _layer_names(params):
    names = [f"layer{l}" for l in range(1, len(params) + 1)]
    if sorted(params) != sorted(names):
        raise ValueError(f"params of a stacked RNN must have the keys {names} (one per layer), "
                         f"got {sorted(params)}")
    return names


def stacked_forward(cell, params, xs, state=None, mask=None):
    r"""A deep RNN: each layer's states are the next layer's inputs.

        h^{(0)}_t = x_t,     h^{(l)}_t = cell^{(l)}(h^{(l-1)}_t, h^{(l)}_{t-1})   for l = 1..L

    xs: (T, B, D); state: a list of L initial states (one per layer) or None for zeros;
    mask: (T, B) for a padded batch, see :func:`masked_forward`.
    Returns ``hs: (T, B, H)``, the top layer's states h^{(L)}_1..h^{(L)}_T, and the list of the L
    final states, bottom layer first.
    """
    check_cell("cell", cell)
    names = _layer_names(params)
    states = [None] * len(names) if state is None else list(state)
    if len(states) != len(names):
        raise ValueError(f"state must hold one initial state per layer ({len(names)}), "
                         f"got {len(states)}")
    hs, finals = xs, []
    for name, s in zip(names, states):
        hs, final = _run(cell, params[name], hs, s, mask)      # (T, B, H)
        finals.append(final)
    return hs, finals


# --- bidirectional RNNs --------------------------------------------------------------------------

def bidirectional_init(cell, input_size, hidden_size, rng, dtype=np.float64):
    """Two independent cells: ``{"forward": ..., "backward": ...}``."""
    check_cell("cell", cell)
    return {"forward": cell.init(input_size, hidden_size, rng, dtype),
            "backward": cell.init(input_size, hidden_size, rng, dtype)}


def bidirectional_forward(cell, params, xs, state=None, mask=None):
    r"""A bidirectional RNN: one cell reads the sequence left to right, another right to left.

        \overrightarrow{h}_t = cell_f(x_t, \overrightarrow{h}_{t-1})   for t = 1..T
        \overleftarrow{h}_t  = cell_b(x_t, \overleftarrow{h}_{t+1})    for t = T..1
        h_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t]

    so h_t summarises the whole sequence, x_1..x_t from the left and x_t..x_T from the right.
    The backward cell is the ordinary cell run on the reversed sequence; its states are reversed
    back so that both halves of h_t belong to step t.

    xs: (T, B, D); state: ``(state_f, state_b)`` or None for zeros; mask: (T, B) or None.
    Returns ``hs: (T, B, 2H)`` and ``(final_f, final_b)``: the forward cell's state after x_T and
    the backward cell's state after x_1 (each the summary of the whole sequence, read one way).

    Padding: pass ``mask`` for a padded batch. Without it the backward cell *starts* on the
    padding, so every \overleftarrow{h}_t of a short sequence has read padding tokens before its
    real ones (and final_f has read them after): the results differ from those of the unpadded
    sequence. With the mask the padded steps are skipped in both directions.

    Why not for language modelling: a language model predicts x_{t+1} from x_1..x_t, i.e. it
    factorises p(x_1..x_T) = prod_t p(x_{t+1} | x_1..x_t). But \overleftarrow{h}_t has read
    x_{t+1}..x_T, the very token it should predict and those after it, so training would teach it
    to copy the answer (a near-zero loss that means nothing), and when generating text the future
    tokens do not exist yet. Bidirectional RNNs are for tasks that see the whole input first:
    tagging, classification, and the encoder of a sequence-to-sequence model.
    """
    check_cell("cell", cell)
    check_shapes(xs=(xs, "T B D"))
    missing = [k for k in ("forward", "backward") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: a bidirectional RNN needs 'forward' and "
                         f"'backward' cell parameters (see bidirectional_init)")
    state_f, state_b = (None, None) if state is None else state
    mask_reversed = None if mask is None else np.asarray(mask)[::-1]
    hs_f, final_f = _run(cell, params["forward"], xs, state_f, mask)                   # (T, B, H)
    hs_b_reversed, final_b = _run(cell, params["backward"], xs[::-1], state_b, mask_reversed)
    hs_b = hs_b_reversed[::-1]                                  # (T, B, H), aligned with hs_f
    return np.concatenate([hs_f, hs_b], axis=-1), (final_f, final_b)   # (T, B, 2H)
