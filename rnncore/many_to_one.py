r"""Many-to-one models: a recurrent encoder read out once per sequence.

A classifier or a forecaster needs one answer per sequence, not one per step. The encoder (any
cell, one way or both ways) reads the whole sequence; a **summary** of its states goes through
one linear layer:

    h_1..h_T = Encoder(x_1..x_T)                              hs: (T, B, H_e)
    s        = pool(h_1..h_T)                                 (B, H_e)
    y        = s W_y + b_y                                    (B, K): logits, or K numbers

Two pools. ``"last"``: the state after the last step, h_T, which has read the whole sequence;
for a bidirectional encoder, the forward half of h_T and the backward half of h_1 (each the half
that has read everything: the backward half of h_T has read x_T only). ``"mean"``: the average
of h_1..h_T, which lets every step speak directly to the output.

The choices that are not arrays live in a :class:`ManyToOneSpec`, outside ``params``, as in
:mod:`rnncore.seq2seq`: autograd differentiates ``params`` only.
"""
from dataclasses import dataclass
from types import ModuleType

import autograd.numpy as np

from . import gru, linear, losses, wrappers
from .validation import check_shapes


@dataclass(frozen=True)
class ManyToOneSpec:
    """The encoder's cell module (rnn, gru or lstm), whether it reads both ways, and the pool."""
    cell: ModuleType = gru
    bidirectional: bool = False
    pool: str = "last"

    def __post_init__(self):
        wrappers.check_cell("spec.cell", self.cell)
        if self.pool not in ("last", "mean"):
            raise ValueError(f"spec.pool must be 'last' or 'mean', got {self.pool!r}")


def init(input_size, hidden_size, output_size, rng, spec=ManyToOneSpec(), dtype=np.float64):
    """Parameters ``{"encoder": ..., "output": {"W_y": (H_e, K), "b_y": (K,)}}``, H_e = H, or
    2H for a bidirectional encoder (whose parameters are ``{"forward": ..., "backward": ...}``)."""
    if spec.bidirectional:
        encoder = wrappers.bidirectional_init(spec.cell, input_size, hidden_size, rng, dtype)
    else:
        encoder = spec.cell.init(input_size, hidden_size, rng, dtype)
    H_e = 2 * hidden_size if spec.bidirectional else hidden_size
    return {"encoder": encoder, "output": linear.init(H_e, output_size, rng, dtype)}


def summarise(params, xs, spec=ManyToOneSpec()):
    """The summary s of each sequence: xs (T, B, D) -> (B, H_e), pooled as spec.pool says."""
    check_shapes(xs=(xs, "T B D"))
    if spec.bidirectional:
        hs, _ = wrappers.bidirectional_forward(spec.cell, params["encoder"], xs)   # (T, B, 2H)
    else:
        hs, _ = spec.cell.forward(params["encoder"], xs)                         # (T, B, H)
    if spec.pool == "mean":
        return np.mean(hs, axis=0)                                               # (B, H_e)
    if not spec.bidirectional:
        return hs[-1]                                                            # h_T
    H = hs.shape[-1] // 2
    return np.concatenate([hs[-1, :, :H], hs[0, :, H:]], axis=-1)  # forward h_T, backward h_1


def forward(params, xs, spec=ManyToOneSpec()):
    """y = pool(Encoder(xs)) W_y + b_y: xs (T, B, D) -> (B, K)."""
    return linear.forward(params["output"], summarise(params, xs, spec))


def classification_loss(params, xs, labels, spec=ManyToOneSpec()):
    """Mean cross-entropy of the classes ``labels: (B,)`` (integers in [0, K))."""
    logits = forward(params, xs, spec)                                          # (B, K)
    check_shapes(logits=(logits, "B K"), labels=(labels, "B"))
    return losses.softmax_cross_entropy(logits[None], np.asarray(labels)[None])


def regression_loss(params, xs, ys, spec=ManyToOneSpec()):
    """Mean squared error of the targets ``ys: (B, K)``."""
    return losses.mse(forward(params, xs, spec), ys)
