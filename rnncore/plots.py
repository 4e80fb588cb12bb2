"""Figures for the book: every plot titled, every axis labelled, colour-blind-safe colours.

The line colours are Okabe & Ito's palette; maps use ``cividis``, readable with any colour vision.
"""
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.ticker import FuncFormatter, NullFormatter

from . import dynamics, gates as gates_module

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]


def use_style():
    """Set the course's matplotlib defaults (palette, colour map, sizes) for this session."""
    plt.rcParams.update({
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "image.cmap": "cividis",
        "figure.figsize": (7, 3.2),
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
    })


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def hidden_states(hs, ax=None, title="Hidden state over time", t0=1):
    """One line per hidden unit. hs: (T, H) (a single sequence) -> the axes."""
    ax = _axes(ax)
    hs = np.asarray(hs)
    steps = np.arange(t0, t0 + len(hs))
    for j in range(hs.shape[1]):
        ax.plot(steps, hs[:, j], label=f"unit {j + 1}", lw=1.5)
    ax.set(title=title, xlabel="time step t", ylabel="activation $h_{t,j}$")
    if hs.shape[1] <= 8:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="small")
    return ax


def hidden_heatmap(hs, ax=None, title="Hidden state over time", t0=1):
    """A (unit x time) heatmap of hs: (T, H), with a colour bar; returns the axes."""
    ax = _axes(ax)
    hs = np.asarray(hs)
    image = ax.imshow(hs.T, aspect="auto", cmap="cividis", vmin=-1, vmax=1, interpolation="nearest",
                      extent=(t0 - 0.5, t0 + len(hs) - 0.5, hs.shape[1] + 0.5, 0.5))
    ax.figure.colorbar(image, ax=ax, label="$h_{t,j}$")
    ax.set(title=title, xlabel="time step t", ylabel="hidden unit j")
    return ax


def activations(ax=None, title="Activation functions"):
    """tanh, the logistic sigmoid and ReLU on [-4, 4]; returns the axes."""
    ax = _axes(ax)
    z = np.linspace(-4, 4, 401)
    ax.plot(z, np.tanh(z), label="tanh(z)")
    ax.plot(z, 1 / (1 + np.exp(-z)), label="sigmoid(z)", ls="--")
    ax.plot(z, np.maximum(z, 0), label="ReLU(z)", ls=":")
    ax.set(title=title, xlabel="pre-activation z", ylabel="f(z)", ylim=(-1.5, 2.5))
    ax.axhline(0, color="0.7", lw=0.8)
    ax.legend(frameon=False)
    return ax


def unrolled_graph(steps=4, ax=None, title="An RNN unrolled through time"):
    """The computation graph x_t -> h_t -> y_t, with h_{t-1} -> h_t, drawn for a few steps."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * steps + 1.6, 3.4))
    boxes = {"x": (0.0, OKABE_ITO[4]), "h": (1.0, OKABE_ITO[1]), "y": (2.0, OKABE_ITO[2])}

    def node(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=13,
                bbox=dict(boxstyle="round,pad=0.45", fc=colour, ec="black", alpha=0.9))

    def arrow(start, end, text=None):
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", lw=1.4, color="black", shrinkA=16, shrinkB=16))
        if text:
            ax.text((start[0] + end[0]) / 2 + 0.08, (start[1] + end[1]) / 2 + 0.06, text,
                    fontsize=10, ha="left", va="bottom")

    node(-0.2, 1.0, "$h_0$", "white")
    arrow((-0.2, 1.0), (1.0, 1.0), "$W_h$")
    for t in range(1, steps + 1):
        for kind, (y, colour) in boxes.items():
            node(t, y, f"${kind}_{{{t}}}$", colour)
        arrow((t, 0.0), (t, 1.0), "$W_x$")
        arrow((t, 1.0), (t, 2.0), "$W_y$")
        if t < steps:
            arrow((t, 1.0), (t + 1, 1.0), "$W_h$")
    ax.set(xlim=(-0.6, steps + 0.6), ylim=(-0.5, 2.5), title=title)
    ax.axis("off")
    return ax


def bptt_graph(steps=4, ax=None, title="Backpropagation through time: the gradient flows back"):
    """The unrolled graph (black, forward) with the losses l_t and the backward flow (vermillion).

    Each h_t receives gradient from its own loss (through y_t) and from h_{t+1} (through W_h),
    which is why dh_t = g_t + dz_{t+1} W_h^T in the row layout.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * steps + 1.6, 4.4))
    unrolled_graph(steps, ax=ax, title=title)
    back = dict(arrowstyle="-|>", lw=1.8, color=OKABE_ITO[5], ls="--", shrinkA=14, shrinkB=14)
    for t in range(1, steps + 1):
        ax.text(t, 3.0, f"$\\ell_{{{t}}}$", ha="center", va="center", fontsize=13,
                bbox=dict(boxstyle="round,pad=0.45", fc="white", ec="black"))
        ax.annotate("", xy=(t, 3.0), xytext=(t, 2.0), arrowprops=dict(
            arrowstyle="-|>", lw=1.4, color="black", shrinkA=16, shrinkB=16))
        ax.annotate("", xy=(t - 0.2, 2.0), xytext=(t - 0.2, 3.0), arrowprops=back)
        ax.annotate("", xy=(t - 0.2, 1.0), xytext=(t - 0.2, 2.0), arrowprops=back)
        ax.text(t - 0.27, 1.5, f"$g_{{{t}}}$", color=OKABE_ITO[5], fontsize=11,
                va="center", ha="right")
    for t in range(steps, 0, -1):          # from h_t back to h_{t-1} (h_0 for t = 1)
        start, end = (t, 1.0), ((t - 1, 1.0) if t > 1 else (-0.2, 1.0))
        ax.annotate("", xy=end, xytext=start,
                    arrowprops={**back, "connectionstyle": "arc3,rad=-0.4"})
        ax.text((start[0] + end[0]) / 2 + 0.1, 0.58, f"$dz_{{{t}}} W_h^\\top$", color=OKABE_ITO[5],
                fontsize=10, ha="center", va="top")
    ax.plot([], [], color="black", lw=1.4, label="forward: compute and store $h_t$")
    ax.plot([], [], color=OKABE_ITO[5], lw=1.8, ls="--", label="backward: gradient of the loss")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=2, frameon=False)
    ax.set(ylim=(-0.5, 3.5))
    return ax


def io_configurations(axes=None, title="Inputs and outputs of an RNN"):
    """Four ways to wire an RNN's inputs and outputs, one panel each: one to many, many to one,
    many to many (one output per step) and encoder-decoder (an output sequence of another length).

    Returns the four axes. Inputs x are at the bottom, states in the middle, outputs at the top;
    horizontal arrows carry the state from step to step.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.4),
                                 gridspec_kw={"width_ratios": [4, 4, 4, 6]})
        fig.suptitle(title, fontweight="bold")
        fig.subplots_adjust(top=0.76, wspace=0.05)
    colours = {"x": OKABE_ITO[4], "h": OKABE_ITO[1], "y": OKABE_ITO[2], "s": OKABE_ITO[3]}
    panels = [  # (title, steps, inputs at, outputs at, decoder starts at)
        ("one to many\n(a caption for an image)", 4, [1], [1, 2, 3, 4], None),
        ("many to one\n(classify a sentence)", 4, [1, 2, 3, 4], [4], None),
        ("many to many\n(predict the next character)", 4, [1, 2, 3, 4], [1, 2, 3, 4], None),
        ("encoder-decoder\n(translate: T_out differs from T_in)", 6, [1, 2, 3], [4, 5, 6], 4),
    ]
    for ax, (name, steps, inputs, outputs, decoder) in zip(axes, panels):
        def node(t, y, text, kind):
            ax.text(t, y, text, ha="center", va="center", fontsize=11,
                    bbox=dict(boxstyle="round,pad=0.35", fc=colours[kind], ec="black"))

        def arrow(start, end):
            ax.annotate("", xy=end, xytext=start, arrowprops=dict(
                arrowstyle="-|>", lw=1.2, color="black", shrinkA=13, shrinkB=13))

        for t in range(1, steps + 1):
            state = "s" if decoder and t >= decoder else "h"
            index = t - decoder + 1 if state == "s" else t
            node(t, 1.0, f"${state}_{{{index}}}$", state)
            if t < steps:
                arrow((t, 1.0), (t + 1, 1.0))
            if t in inputs:
                node(t, 0.0, f"$x_{{{t}}}$", "x")
                arrow((t, 0.0), (t, 1.0))
            if t in outputs:
                k = t - outputs[0] + 1 if decoder else t
                node(t, 2.0, f"$y_{{{k}}}$", "y")
                arrow((t, 1.0), (t, 2.0))
        ax.set(xlim=(0.4, steps + 0.6), ylim=(-0.5, 2.5), title=name)
        ax.title.set_fontsize("medium")
        ax.axis("off")
    return axes


# --- training and inside the models --------------------------------------------------------------

def _smooth(values, beta):
    """Exponential moving average with bias correction, as the progress bar's running loss."""
    out, running = [], 0.0
    for k, v in enumerate(values, start=1):
        running = beta * running + (1 - beta) * v
        out.append(running / (1 - beta ** k))
    return np.array(out)


def _curve(value):
    """A history dict -> (its steps, its loss); an array y -> (1..n, y); a pair -> (x, y)."""
    if isinstance(value, dict):
        return np.asarray(value["step"]), np.asarray(value["loss"])
    if isinstance(value, tuple) and len(value) == 2:
        return np.asarray(value[0]), np.asarray(value[1])
    return np.arange(1, len(value) + 1), np.asarray(value)


def _plain_log_labels(ax):
    """A log y axis labelled 0.1, 1, 10 (not 10^-1 ...); within ~a decade, 2, 3, 4 ... too."""
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    low, high = ax.get_ylim()
    ax.yaxis.set_minor_formatter(plain if high / low < 20 else NullFormatter())


def loss_curves(curves, ax=None, log=True, smooth=None, title="Training loss", xlabel="step",
                ylabel="loss"):
    """Loss against step, for one training history or several named curves.

    curves: a history from :func:`rnncore.train.train` (its training loss, and every evaluation
    metric whose name contains "loss", e.g. ``val_loss``, as dots at its ``eval_step``), or a
    dict name -> history, array of values or (steps, values) pair. log: a log y axis, where a
    loss falling by the same factor falls by the same distance. smooth: beta of an exponential
    moving average drawn over the faint raw curve (e.g. 0.9; evaluation points are not smoothed);
    None draws the raw curves only.
    """
    ax = _axes(ax)
    evaluations = {}
    if isinstance(curves, dict) and "loss" in curves and "step" in curves:
        evaluations = {name: (curves["eval_step"], curves[name]) for name in curves
                       if "loss" in name and name != "loss" and "eval_step" in curves}
        curves = {"training": curves}
    for k, (name, value) in enumerate(curves.items()):
        steps, values = _curve(value)
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        if smooth is None:
            ax.plot(steps, values, color=colour, label=name, lw=1.5)
        else:
            ax.plot(steps, values, color=colour, alpha=0.3, lw=1)
            ax.plot(steps, _smooth(values, smooth), color=colour, label=name, lw=1.8)
    for k, (name, (steps, values)) in enumerate(evaluations.items(), start=1):
        ax.plot(steps, values, color=OKABE_ITO[k % len(OKABE_ITO)], marker="o", ms=4, lw=1.2,
                label=name)
    if log:
        _plain_log_labels(ax)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel + (" (log scale)" if log else ""))
    ax.legend(frameon=False)
    return ax


def gate_activations(gates, axes=None, title="Gate activations over time", t0=1, vmin=0.0,
                     vmax=1.0):
    """Small multiples: one (unit x time) heatmap per gate, on one shared colour scale.

    gates: dict name -> (T, H) array for one sequence, e.g. {"input i": ..., "forget f": ...,
    "output o": ...}. Sigmoid gates live in [0, 1] (the default scale); pass vmin=-1 for tanh
    candidates. Returns the array of axes, one per gate, each titled and labelled.
    """
    if axes is None:
        _, axes = plt.subplots(1, len(gates), figsize=(3.4 * len(gates) + 1.0, 3.2), sharey=True,
                               squeeze=False, layout="constrained")
        axes = axes[0]
    for ax, (name, values) in zip(axes, gates.items()):
        values = np.asarray(values)
        image = ax.imshow(values.T, aspect="auto", cmap="cividis", vmin=vmin, vmax=vmax,
                          interpolation="nearest", extent=(t0 - 0.5, t0 + len(values) - 0.5,
                                                           values.shape[1] + 0.5, 0.5))
        ax.set(title=name, xlabel="time step t", ylabel="unit j")
    axes[0].figure.colorbar(image, ax=list(axes), label="activation")
    axes[0].figure.suptitle(title, fontweight="bold")
    return axes


def attention_map(weights, x_labels=None, y_labels=None, ax=None, title="Attention weights",
                  xlabel="input position (key) j", ylabel="output position (query) i"):
    """The (T_out, T_in) matrix alpha_ij: row i is how output i spreads its attention over inputs.

    x_labels, y_labels: tick labels for the inputs and outputs (tokens, characters); None keeps
    the positions. Each row of softmax weights sums to 1, so the colour scale runs from 0 to 1.
    """
    ax = _axes(ax)
    weights = np.asarray(weights)
    image = ax.imshow(weights, cmap="cividis", vmin=0.0, vmax=1.0, interpolation="nearest",
                      aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=r"weight $\alpha_{ij}$")
    for labels, ticks, n in ((x_labels, ax.set_xticks, weights.shape[1]),
                             (y_labels, ax.set_yticks, weights.shape[0])):
        if labels is not None:
            ticks(range(n), labels=[str(label) for label in labels])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def gradient_norm_vs_lag(lags, norms, ax=None, title="How far back does the gradient reach?",
                         xlabel="lag k (time steps back)",
                         ylabel=r"gradient norm $\|\partial \ell_T / \partial h_{T-k}\|$"):
    """Gradient norm against lag on a log y axis, where exponential decay is a straight line.

    norms: an array (one curve) or a dict name -> array (e.g. "RNN", "LSTM"), each like lags.
    """
    ax = _axes(ax)
    named = norms if isinstance(norms, dict) else {"gradient norm": norms}
    markers = "osD^v"
    for k, (name, values) in enumerate(named.items()):
        ax.plot(lags, values, marker=markers[k % len(markers)], ms=4, lw=1.5, label=name)
    ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(frameon=False)
    return ax


def confusion_matrix(labels, predicted, names, ax=None, title="Confusion matrix"):
    """Row k: how the examples of true class k were classified, as fractions of that row.

    labels, predicted: (N,) integer classes in [0, len(names)). Returns ``(axes, counts)`` with
    counts: (K, K), counts[k, j] = the number of examples of class k predicted as j.
    """
    ax = _axes(ax)
    K = len(names)
    counts = np.zeros((K, K), dtype=int)
    np.add.at(counts, (np.asarray(labels), np.asarray(predicted)), 1)
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(fractions, cmap="cividis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="fraction of the true class")
    for k in range(K):
        for j in range(K):
            ax.text(j, k, f"{fractions[k, j]:.2f}".lstrip("0") if counts[k, j] else "",
                    ha="center", va="center", fontsize="small",
                    color="black" if fractions[k, j] > 0.5 else "white")
    ax.set_xticks(range(K), labels=names)
    ax.set_yticks(range(K), labels=names)
    ax.set(title=title, xlabel="predicted class", ylabel="true class")
    return ax, counts


# --- chapter 4's gradient figures (numbers from rnncore.dynamics) ---------------------------------

def norms_vs_lag(norms, ax=None, bound=None, label="median over the batch",
                 bound_label=r"bound $(\gamma\,\sigma_{max})^k$",
                 title="Gradient norm against lag",
                 ylabel=r"$\|\partial h_T / \partial h_{T-k}\|_2$"):
    """The median of norms (T + 1, B) against the lag k = 0..T, with the batch's range shaded.

    bound: optional (T + 1,) values, drawn dashed in the same colour (e.g. :func:`rnncore.dynamics.norm_bound`).
    Log y axis (through :func:`gradient_norm_vs_lag`), where geometric decay is a
    straight line. Several calls on one axes draw several curves, each in the next colour.
    Returns the axes.
    """
    norms = np.asarray(norms)
    lags = np.arange(len(norms))
    if ax is None:
        _, ax = plt.subplots()
    colour = OKABE_ITO[len(ax.collections) % len(OKABE_ITO)]
    ax.fill_between(lags, norms.min(axis=1), norms.max(axis=1), color=colour, alpha=0.2, lw=0)
    curves = {label: np.median(norms, axis=1)}
    if bound is not None:
        curves[bound_label] = np.asarray(bound)
    first = len(ax.get_lines())
    gradient_norm_vs_lag(lags, curves, ax=ax, title=title, ylabel=ylabel)
    lines = ax.get_lines()
    lines[first].set(color=colour, marker="o", ms=3)
    if bound is not None:
        lines[first + 1].set(color=colour, ls="--", marker="", lw=1.2)
    ax.legend(frameon=False, fontsize="small")
    return ax


def activation_slopes(ax=None, title="The slope of the activation bounds the gradient"):
    """f'(z) for tanh, the logistic sigmoid and ReLU on [-4, 4], each with its maximum gamma."""
    if ax is None:
        _, ax = plt.subplots()
    z = np.linspace(-4, 4, 401)
    sigmoid = 1 / (1 + np.exp(-z))
    slopes = {"tanh": (1 - np.tanh(z) ** 2, "-"), "sigmoid": (sigmoid * (1 - sigmoid), "--"),
              "relu": ((z > 0).astype(float), ":")}
    for k, (name, (slope, style)) in enumerate(slopes.items()):
        colour = OKABE_ITO[k]
        ax.plot(z, slope, style, color=colour, lw=1.8,
                label=f"{name}: $\\gamma$ = {dynamics.DERIVATIVE_BOUND[name]:g}")
        ax.axhline(dynamics.DERIVATIVE_BOUND[name], color=colour, lw=0.8, alpha=0.6)
    ax.set(title=title, xlabel="pre-activation z", ylabel="slope f'(z)", ylim=(-0.05, 1.15))
    ax.legend(frameon=False, fontsize="small")
    return ax


# --- chapter 5's gates over a sentence (numbers from rnncore.gates) ------------------------------

def gates_on_text(gates, keys, text, b=0, title="Gate activations over a sentence", vmin=0.0,
                  vmax=1.0):
    """One (unit x character) heatmap per gate in ``keys``, stacked, the characters of ``text``
    (the inputs x_1..x_T of sequence b; ``gates`` from :func:`rnncore.gates.lstm_gates` or
    :func:`rnncore.gates.gru_gates`) written under the time axis; a space shows as ␣.

    The panels come from :func:`gate_activations` (one shared colour scale,
    vmin..vmax: 0..1 for the sigmoid gates, -1..1 for candidates and states). Returns the axes.
    """
    T = np.shape(gates[keys[0]])[0]
    if len(text) != T:
        raise ValueError(f"text has {len(text)} characters but the gates have T = {T} steps")
    _, axes = plt.subplots(len(keys), 1, figsize=(10.5, 1.7 * len(keys) + 1.0), sharex=True,
                           squeeze=False, layout="constrained")
    axes = gate_activations(gates_module.for_plot(gates, keys, b), axes=axes[:, 0], title=title,
                                  vmin=vmin, vmax=vmax)
    axes[-1].set_xticks(range(1, T + 1), labels=[c if c != " " else "\u2423" for c in text],
                        fontsize=8)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[-1].set_xlabel("input character $x_t$ (time step t)")
    return axes


# --- data-flow diagrams of chapter 5's cells and models, drawn in rnncore.diagrams ---------------
from .diagrams import (bidirectional_graph, encoder_decoder_graph, gru_cell_diagram,  # noqa: E402,F401
                       lstm_cell_diagram)
