r"""Five causal sequence models behind one interface, and the numbers that tell them apart.

    spec = SequenceModelSpec(lstm, width=32)    # rnn, lstm, gru, tcn or transformer (modules)
    params = init(spec, D, rng)
    features = forward(spec, params, xs)        # (T, B, D) -> (T, B, width)

Every model is *causal*: ``features[t]`` depends on ``xs[0..t]`` only, so one readout at every
step makes a language model and one at the last step a sequence regressor. The models:

- rnn, lstm, gru: ``layers`` recurrent layers of ``width`` units, one on top of the other
  (:func:`rnncore.wrappers.stacked_forward`); every layer runs its cell's fast path.
- tcn: ``layers`` residual blocks of ``width`` channels with kernel size ``kernel_size`` and
  dilations 1, 2, 4, ... (:mod:`rnncore.tcn`). It sees the last ``tcn.receptive_field`` steps.
- transformer: the inputs embedded by one matrix and given their positions,
  ``x W_e + PE``, then ``layers`` causal pre-norm blocks with ``heads`` heads and a position-wise
  MLP of ``d_ff`` units, then a final layer norm (:mod:`rnncore.transformer`).

Besides the error a model makes, the book compares (Vaswani et al. 2017, Table 1):

- :func:`count`: the number of parameters, and :func:`width_for_budget`, the width that gives a
  model a parameter budget, so that models can be compared at the same size;
- :func:`complexity_per_layer`: the work of one layer over T steps, in Vaswani et al.'s O-terms;
- :func:`sequential_steps`: how many operations must run one after the other in a forward pass
  over T steps (the rest runs in parallel over the positions);
- :func:`path_length`: how many layers a signal from the first input passes through, on the
  shortest path, before it reaches the features at the last step T;
- :func:`dependence`: which inputs an output can see, measured by autograd.
"""
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as onp

import autograd.numpy as np
from autograd import grad

from . import tcn, transformer, trees, wrappers

RECURRENT = wrappers.CELLS                       # (rnn, lstm, gru): a cell is chosen by module
KINDS = (*RECURRENT, tcn, transformer)


@dataclass(frozen=True)
class SequenceModelSpec:
    """The choices that are not arrays (autograd differentiates ``params`` only).

    kind: one of :data:`KINDS`, a module (rnn, lstm, gru, tcn or transformer); width: H, the
    TCN's channels or the Transformer's d_model;
    layers: recurrent layers, TCN blocks or Transformer blocks; kernel_size: the TCN's k;
    heads: the Transformer's attention heads; d_ff: its MLP's hidden units (default 2 width).
    """
    kind: ModuleType
    width: int = 32
    layers: int = 1
    kernel_size: int = 2
    heads: int = 2
    d_ff: int = None

    def __post_init__(self):
        if not any(self.kind is k for k in KINDS):
            valid = ", ".join(k.__name__ for k in KINDS)
            hint = (f" (a model is chosen by its module: from rnncore import {self.kind})"
                    if f"rnncore.{self.kind}" in [k.__name__ for k in KINDS] else "")
            raise ValueError(f"kind must be a module, one of {valid}; got {self.kind!r}{hint}")
        if self.width < 1 or self.layers < 1 or self.kernel_size < 1:
            raise ValueError(f"width, layers and kernel_size must be positive, got width="
                             f"{self.width}, layers={self.layers}, kernel_size={self.kernel_size}")
        if self.kind is transformer and self.width % self.heads:
            raise ValueError(f"heads = {self.heads} must divide the width d_model = {self.width}")

    @property
    def ff(self):
        """The Transformer's MLP width: d_ff, or 2 width if not given."""
        return 2 * self.width if self.d_ff is None else self.d_ff


def init(spec, input_size, rng, dtype=np.float64):
    """The parameters of ``spec`` for inputs of size D = ``input_size``: a nested dict.

    Recurrent: ``{"layer1": ..., "layerL": ...}`` (each the cell's own parameters). TCN:
    ``{"block1": ..., "blockL": ...}``. Transformer: ``{"W_e": (D, d), "block1": ...,
    "blockL": ..., "ln": ...}``, W_e ~ N(0, 1) like an embedding table, so that a one-hot input
    picks a row of unit-variance entries, on the scale of the positional encoding.
    """
    W, L = spec.width, spec.layers
    if spec.kind in RECURRENT:
        return wrappers.stacked_init(spec.kind, input_size, W, L, rng, dtype)
    if spec.kind is tcn:
        return tcn.init(input_size, [W] * L, spec.kernel_size, rng, dtype)
    params = {"W_e": rng.normal(0.0, 1.0, (input_size, W)).astype(dtype)}          # (D, d)
    params.update({f"block{l}": transformer.block_init(W, spec.ff, rng, dtype)
                   for l in range(1, L + 1)})
    params["ln"] = transformer.layer_norm_init(W, dtype)
    return params


def forward(spec, params, xs):
    """Causal features of every step: xs (T, B, D) -> (T, B, width); see the module docstring."""
    if spec.kind in RECURRENT:
        return wrappers.stacked_forward(spec.kind, params, xs)[0]
    if spec.kind is tcn:
        return tcn.forward(params, xs)                           # dilations 1, 2, 4, ...
    T = np.shape(xs)[0]
    if np.ndim(xs) != 3 or np.shape(xs)[-1] != np.shape(params["W_e"])[0]:
        raise ValueError(f"xs has shape {tuple(np.shape(xs))}, expected (T, B, D) with "
                         f"D = {np.shape(params['W_e'])[0]} from W_e")
    pe = transformer.sinusoidal_positional_encoding(T, spec.width)          # (T, d)
    x = xs @ params["W_e"] + pe[:, None, :]                                 # (T, B, d)
    for l in range(1, spec.layers + 1):
        x = transformer.block_forward(params[f"block{l}"], x, spec.heads, causal=True)
    return transformer.layer_norm(params["ln"], x)                         # (T, B, d)


def count(params):
    """The number of parameters: the sizes of every array in the nested dict, summed."""
    return int(sum(np.size(w) for _, w in trees.leaves(params)))


def width_for_budget(spec, input_size, budget, output_size=0):
    """``spec`` with the width whose parameter count is closest to ``budget``.

    The count is the model's (:func:`count` of :func:`init`) plus, if ``output_size`` is given,
    a linear readout of the features (width x output_size weights and output_size biases), so
    that models of different kinds can be compared at the same number of parameters. A
    Transformer's width stays a multiple of its heads, and its MLP keeps d_ff = 2 width unless
    the spec fixes d_ff. Ties go to the smaller width.
    """
    if budget < 1:
        raise ValueError(f"budget must be a positive number of parameters, got {budget}")
    step = spec.heads if spec.kind is transformer else 1

    def total(width):
        sized = replace(spec, width=width)
        params = init(sized, input_size, onp.random.default_rng(0))
        return count(params) + (width * output_size + output_size if output_size else 0), sized

    best, width = None, step
    while True:
        n, sized = total(width)
        if best is None or abs(n - budget) < abs(best[0] - budget):
            best = (n, sized)
        if n >= budget:
            return best[1]
        width += step


def complexity_per_layer(spec):
    """The work of one layer over a sequence of T steps of width d, as in Vaswani et al. 2017,
    Table 1: a string. Recurrent: T steps of a d x d product, O(T d^2); convolution with kernel
    size k: O(k T d^2); self-attention: the T x T scores of d-vectors, O(T^2 d) (its d x d
    projections, O(T d^2), are left out, as in the paper)."""
    if spec.kind in RECURRENT:
        return "O(T d²)"
    if spec.kind is tcn:
        return "O(k T d²)"
    return "O(T² d)"


def sequential_steps(spec, T):
    """Operations that must run one after the other in a forward pass over T steps.

    A recurrent layer runs T steps in order (h_t needs h_{t-1}); the stack, run layer by
    layer, L T. A TCN or Transformer block computes all T positions at once, so L blocks take
    L such operations, whatever T.
    """
    return spec.layers * T if spec.kind in RECURRENT else spec.layers


def path_length(spec, T):
    """Layers a signal passes through from x_1 to the features at step T, on the shortest path.

    Recurrent: x_1 enters layer 1 at step 1 and climbs L - 1 layers and crosses T - 1 steps,
    T + L - 1 cell applications (T for one layer). Transformer: one block already connects
    every pair of positions and the stack has L of them, L. TCN: L, if its receptive field
    reaches back to step 1 (R >= T), otherwise there is no path at all (None); with dilations
    1, 2, 4, ... the fewest blocks that reach is about log2(T) (:func:`blocks_to_reach`).
    """
    if spec.kind in RECURRENT:
        return T + spec.layers - 1
    if spec.kind is tcn:
        R = tcn.receptive_field(spec.kernel_size, tcn.default_dilations(spec.layers))
        return spec.layers if R >= T else None
    return spec.layers


def blocks_to_reach(T, kernel_size):
    """The fewest TCN blocks (dilations 1, 2, 4, ...) whose receptive field covers T steps.

    R(L) = 1 + 2 (k - 1)(2^L - 1) >= T, so L = ceil(log2((T - 1) / (2 (k - 1)) + 1)).
    """
    if kernel_size < 2:
        raise ValueError(f"kernel_size must be at least 2 for the receptive field to grow, "
                         f"got {kernel_size}")
    L = 0
    while tcn.receptive_field(kernel_size, tcn.default_dilations(L)) < T:
        L += 1
    return L


def dependence(f, xs, t, rng):
    r"""How much the output at step t depends on each input: ``|d (r . f(xs)[t]) / d xs[s]|``.

    f: a function xs (T, B, D) -> (T, B, K); t: a step (0-based). r ~ N(0, 1), of the shape of
    f(xs)[t], is a random direction: the gradient of a *random* combination of the outputs is
    zero only where the whole Jacobian is (almost surely), while a plain sum can cancel (the
    outputs of a layer norm always sum to the same number). Returns (T,): the norm over the
    batch and the features of the gradient with respect to each input step s.
    """
    T = np.shape(xs)[0]
    if not -T <= t < T:
        raise ValueError(f"t = {t} is not a step of a sequence of length T = {T}")
    shape = np.shape(f(xs)[t])
    r = rng.normal(size=shape)
    g = grad(lambda x: np.sum(f(x)[t] * r))(xs)                             # (T, B, D)
    return np.sqrt(np.sum(np.reshape(g, (T, -1)) ** 2, axis=1))             # (T,)
