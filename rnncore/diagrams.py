r"""Data-flow diagrams of chapter 5's models, drawn with matplotlib (re-exported by rnncore.plots).

Each function draws on ``ax`` (a new figure if None), turns the axis frame off and returns the
axes. Boxes are operations or states; arrows carry (B, H) arrays from left to right in time:

- :func:`lstm_cell_diagram`: one LSTM step, the cell state c along the top, the four gates below;
- :func:`gru_cell_diagram`: one GRU step (PyTorch's form), the update gate z as keep-or-write;
- :func:`bidirectional_graph`: a bidirectional RNN unrolled over a few steps;
- :func:`encoder_decoder_graph`: an encoder-decoder with attention at one decoder step.
"""
import matplotlib.pyplot as plt


def _palette():
    from .plots import OKABE_ITO        # here: rnncore.plots imports this module at its end
    return OKABE_ITO


def _new_axes(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _box(ax, x, y, text, colour="white", fontsize=12, pad=0.35, style="round"):
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3,
            bbox=dict(boxstyle=f"{style},pad={pad}", fc=colour, ec="black", lw=1.1))


def _flow(ax, points, colour="black", lw=1.4, ls="-", shrink_end=14, label=None, label_at=None,
          label_offset=(0.08, 0.08), fontsize=10):
    """A polyline through ``points`` with an arrowhead at its end (a box's edge, not its centre)."""
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=colour, lw=lw, ls=ls, zorder=1, solid_capstyle="round")
    ax.annotate("", xy=points[-1], xytext=points[-2], zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=lw, ls=ls,
                                shrinkA=0 if len(points) > 2 else 12, shrinkB=shrink_end))
    if label:
        (x0, y0), (x1, y1) = label_at if label_at else (points[-2], points[-1])
        ax.text((x0 + x1) / 2 + label_offset[0], (y0 + y1) / 2 + label_offset[1], label,
                fontsize=fontsize, color=colour, ha="left", va="bottom", zorder=4)


def _state_line(ax, y, colour, x_start, operations, x_end, label):
    """The state a gated cell carries along y: from x_start through each (x, operation) circle to
    the box ``label`` at x_end, drawn thick in the state's colour."""
    for x, operation in operations:
        _box(ax, x, y, operation, fontsize=11, style="circle", pad=0.15)
    _box(ax, x_end, y, label, colour)
    stops = [x_start] + [x for x, _ in operations] + [x_end]
    for a, b in zip(stops, stops[1:]):
        _flow(ax, [(a, y), (b, y)], colour=colour, lw=2.6)


def lstm_cell_diagram(ax=None, title="One LSTM step: the cell state runs along the top"):
    """The LSTM step of chapter 5: [h_{t-1}, x_t] feeds four gates; c_{t-1} -> c_t along the top
    through one multiplication by f_t and one addition of i_t * g_t; h_t = o_t * tanh(c_t)."""
    colours = _palette()
    ax = _new_axes(ax, (9.5, 4.8))
    gate_y, top, bottom = 2.6, 5.0, 1.0
    # the inputs: c_{t-1} on the top line, h_{t-1} on the bottom line, x_t from below
    _box(ax, -0.4, top, "$c_{t-1}$", colours[2])
    _box(ax, -0.4, bottom, "$h_{t-1}$", colours[1])
    _box(ax, 1.3, -0.4, "$x_t$", colours[4])
    _flow(ax, [(1.3, -0.4), (1.3, bottom)], shrink_end=0)
    ax.plot([0.1, 7.6], [bottom, bottom], color="black", lw=1.4, zorder=1)   # the shared bus
    ax.text(1.45, bottom - 0.45, "$z_t = x_t W_x + h_{t-1} W_h + b$", fontsize=9, va="top")
    gates = [(2.6, "$\\sigma$", "$f_t$", "forget"), (4.1, "$\\sigma$", "$i_t$", "input"),
             (5.5, "tanh", "$g_t$", "candidate"), (7.6, "$\\sigma$", "$o_t$", "output")]
    for x, op, name, role in gates:
        _flow(ax, [(x, bottom), (x, gate_y)], shrink_end=13)
        _box(ax, x, gate_y, op, colours[0] if op != "tanh" else colours[3], fontsize=11,
             style="square")
        ax.text(x + 0.28, gate_y + 0.45, f"{name}\n{role}", fontsize=9, va="bottom", ha="left")
    # the cell line: c_{t-1} -> (x f_t) -> (+ i_t g_t) -> c_t
    _state_line(ax, top, colours[2], -0.4, [(2.6, "$\\times$"), (4.8, "$+$")], 10.4, "$c_t$")
    _box(ax, 4.8, 3.9, "$\\times$", fontsize=11, style="circle", pad=0.15)
    _flow(ax, [(2.6, gate_y), (2.6, top)], shrink_end=10)
    _flow(ax, [(4.1, gate_y), (4.1, 3.9), (4.8, 3.9)], shrink_end=10)
    _flow(ax, [(5.5, gate_y), (5.5, 3.9), (4.8, 3.9)], shrink_end=10)
    _flow(ax, [(4.8, 3.9), (4.8, top)], shrink_end=10)
    # the readout: h_t = o_t * tanh(c_t)
    _box(ax, 8.8, 3.9, "tanh", colours[3], fontsize=11, style="square")
    _box(ax, 8.8, gate_y, "$\\times$", fontsize=11, style="circle", pad=0.15)
    _box(ax, 10.4, bottom, "$h_t$", colours[1])
    _flow(ax, [(8.8, top), (8.8, 3.9)], shrink_end=12)
    _flow(ax, [(8.8, 3.9), (8.8, gate_y)], shrink_end=10)
    _flow(ax, [(7.6, gate_y), (8.8, gate_y)], shrink_end=10)
    _flow(ax, [(8.8, gate_y), (8.8, bottom), (10.4, bottom)])
    ax.text(6.4, top + 0.25, "$c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$", fontsize=10,
            color=colours[2], ha="center", va="bottom")
    ax.text(9.0, 1.75, "$h_t = o_t \\odot \\tanh(c_t)$", fontsize=10, ha="left", va="center")
    ax.set(xlim=(-1.0, 11.6), ylim=(-1.0, 5.9), title=title)
    ax.axis("off")
    return ax


def gru_cell_diagram(ax=None, title="One GRU step: the update gate keeps or writes"):
    """The GRU step of chapter 5 (PyTorch's form): h_{t-1} -> h_t along the top, kept by z_t and
    replaced by 1 - z_t of the candidate n_t; the reset gate r_t scales h_{t-1} W_hn + b_hn."""
    colours = _palette()
    ax = _new_axes(ax, (9.5, 4.8))
    gate_y, top, bottom = 2.6, 5.0, 1.0
    _box(ax, -0.4, top, "$h_{t-1}$", colours[1])
    _box(ax, 1.3, -0.4, "$x_t$", colours[4])
    _flow(ax, [(0.3, top), (0.3, bottom), (0.9, bottom)], shrink_end=0)
    _flow(ax, [(1.3, -0.4), (1.3, bottom)], shrink_end=0)
    ax.plot([0.9, 7.0], [bottom, bottom], color="black", lw=1.4, zorder=1)
    for x, name, role in [(2.4, "$z_t$", "update"), (4.2, "$r_t$", "reset")]:
        _flow(ax, [(x, bottom), (x, gate_y)], shrink_end=13)
        _box(ax, x, gate_y, "$\\sigma$", colours[0], fontsize=11, style="square")
        ax.text(x + 0.28, gate_y - 0.25, f"{name}\n{role}", fontsize=9, va="top", ha="left")
    # the candidate: n_t = tanh(x_t W_xn + b_xn + r_t * (h_{t-1} W_hn + b_hn))
    _box(ax, 7.0, gate_y, "tanh", colours[3], fontsize=11, style="square")
    _flow(ax, [(7.0, bottom), (7.0, gate_y)], shrink_end=13)
    _flow(ax, [(4.2, gate_y), (7.0, gate_y)], shrink_end=22, colour="0.35")
    ax.text(5.65, gate_y + 0.12, "$r_t \\odot (h_{t-1} W_{hn} + b_{hn})$", fontsize=9,
            va="bottom", ha="center", color="0.25")
    ax.text(7.3, gate_y - 0.25, "$n_t$\ncandidate", fontsize=9, va="top", ha="left")
    # the state line: h_t = z_t * h_{t-1} + (1 - z_t) * n_t
    _state_line(ax, top, colours[1], -0.4, [(2.4, "$\\times$"), (8.4, "$+$")], 10.6, "$h_t$")
    _box(ax, 3.3, 3.9, "$1 - \\cdot$", fontsize=9, style="square", pad=0.2)
    _box(ax, 8.4, 3.9, "$\\times$", fontsize=11, style="circle", pad=0.15)
    _flow(ax, [(2.4, gate_y), (2.4, top)], shrink_end=10)
    ax.text(2.3, 4.3, "keep $z_t$\n(forget gate)", fontsize=9, ha="right", va="center")
    _flow(ax, [(2.4, 3.4), (3.3, 3.4), (3.3, 3.9)], shrink_end=10)
    _flow(ax, [(3.3, 3.9), (8.4, 3.9)], shrink_end=10)
    ax.text(5.8, 3.98, "write $1 - z_t$ (input gate)", fontsize=9, ha="center", va="bottom")
    _flow(ax, [(7.0, gate_y), (8.4, gate_y), (8.4, 3.9)], shrink_end=10)
    _flow(ax, [(8.4, 3.9), (8.4, top)], shrink_end=10)
    ax.text(5.0, top + 0.25, "$h_t = z_t \\odot h_{t-1} + (1 - z_t) \\odot n_t$", fontsize=10,
            color=colours[1], ha="center", va="bottom")
    ax.set(xlim=(-1.0, 11.4), ylim=(-1.0, 5.9), title=title)
    ax.axis("off")
    return ax


def bidirectional_graph(steps=4, ax=None,
                        title="A bidirectional RNN unrolled: two chains, opposite directions"):
    """x_t feeds a left-to-right chain (h->_t) and a right-to-left chain (h<-_t); each output
    h_t = [h->_t ; h<-_t] reads both, so it depends on every input x_1..x_T."""
    colours = _palette()
    ax = _new_axes(ax, (1.9 * steps + 2.4, 4.4))
    rows = {"x": 0.0, "forward": 1.1, "backward": 2.2, "out": 3.4}
    _box(ax, -0.1, rows["forward"], "$\\overrightarrow{h}_0$")
    _box(ax, steps + 1.1, rows["backward"], "$\\overleftarrow{h}_{T+1}$")
    d = 0.3                               # the forward chain sits left of x_t, the backward right
    for t in range(1, steps + 1):
        name = "T" if t == steps else str(t)
        _box(ax, t, rows["x"], f"$x_{{{name}}}$", colours[4])
        _box(ax, t - d, rows["forward"], f"$\\overrightarrow{{h}}_{{{name}}}$", colours[1])
        _box(ax, t + d, rows["backward"], f"$\\overleftarrow{{h}}_{{{name}}}$", colours[0])
        _box(ax, t, rows["out"], f"$h_{{{name}}}$", colours[2])
        _flow(ax, [(t, rows["x"]), (t - d, rows["forward"])], colour=colours[1])
        _flow(ax, [(t, rows["x"]), (t + d, rows["backward"])], colour=colours[0], ls="--",
              shrink_end=16)
        _flow(ax, [(t - d, rows["forward"]), (t - 0.1, rows["out"])], colour="0.3",
              shrink_end=16)
        _flow(ax, [(t + d, rows["backward"]), (t + 0.1, rows["out"])], colour="0.3")
    for t in range(0, steps):             # left to right: h->_t -> h->_{t+1}
        _flow(ax, [(t - d if t else -0.1, rows["forward"]), (t + 1 - d, rows["forward"])],
              colour=colours[1], shrink_end=22)
    for t in range(steps + 1, 1, -1):     # right to left: h<-_{t} -> h<-_{t-1}
        _flow(ax, [(t + d if t <= steps else steps + 1.1, rows["backward"]),
                   (t - 1 + d, rows["backward"])], colour=colours[0], shrink_end=22)
    ax.text(steps + 0.55, rows["out"], "$h_t = [\\overrightarrow{h}_t ; \\overleftarrow{h}_t]$",
            fontsize=10, va="center", ha="left")
    ax.plot([], [], color=colours[1], lw=1.4, label="forward cell: reads $x_1, x_2, \\dots$")
    ax.plot([], [], color=colours[0], lw=1.4, ls="--",
            label="backward cell: reads $x_T, x_{T-1}, \\dots$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)
    ax.set(xlim=(-0.6, steps + 2.4), ylim=(-0.5, 3.9), title=title)
    ax.axis("off")
    return ax


def encoder_decoder_graph(weights=(0.1, 0.15, 0.6, 0.15), ax=None,
                          title="Encoder-decoder with attention: decoder step t"):
    """An encoder's states k_1..k_S (from x_1..x_S) and one decoder step t: the previous decoder
    state is the query, each k_s gets a weight a_{t,s} (line width), their weighted sum is the
    context c_t, which feeds the new decoder state and the output y_t. ``weights``: the a_{t,s}
    drawn (they label the lines; any positive numbers summing to 1)."""
    colours = _palette()
    S = len(weights)
    if S < 2 or min(weights) < 0 or abs(sum(weights) - 1) > 1e-6:
        raise ValueError(f"weights must be S >= 2 nonnegative numbers summing to 1, got {weights}")
    ax = _new_axes(ax, (1.6 * S + 6.0, 4.8))
    enc_y, ctx_x, ctx_y, dec_y = 1.2, S + 1.6, 3.0, 1.2
    for s in range(1, S + 1):
        name = "S" if s == S else str(s)
        _box(ax, s, 0.0, f"$x_{{{name}}}$", colours[4])
        _box(ax, s, enc_y, f"$k_{{{name}}}$", colours[0])
        _flow(ax, [(s, 0.0), (s, enc_y)])
        if s < S:
            _flow(ax, [(s, enc_y), (s + 1, enc_y)], colour="0.5", shrink_end=18)
        a = weights[s - 1]
        _flow(ax, [(s, enc_y), (ctx_x, ctx_y)], colour=colours[5], lw=0.8 + 7 * a,
              shrink_end=18)
        ax.text(s + 0.08, 0.6, f"$a_{{t,{name}}} = {a:.2f}$", fontsize=9, color=colours[5],
                ha="left", va="center")
    ax.text((S + 1) / 2, -0.75, "encoder RNN: its states are the keys and the values; line width = weight $a_{t,s}$",
            fontsize=9, ha="center")
    _box(ax, ctx_x, ctx_y, "$c_t = \\sum_s a_{t,s} v_s$", colours[6], fontsize=11)
    # the decoder: state d_{t-1} (the query) -> d_t; the context enters d_t and the output
    q_x, d_x = S + 2.6, S + 4.4
    _box(ax, q_x, dec_y, "$d_{t-1}$", colours[1])
    _box(ax, d_x, dec_y, "$d_t$", colours[1])
    _box(ax, d_x, 0.0, "$y_{t-1}$", colours[4])
    _box(ax, d_x, ctx_y + 0.9, "$y_t$", colours[2])
    _flow(ax, [(q_x, dec_y), (d_x, dec_y)], shrink_end=18)
    _flow(ax, [(d_x, 0.0), (d_x, dec_y)])
    _flow(ax, [(q_x, dec_y), (ctx_x + 0.3, ctx_y)], colour=colours[5], ls="--", shrink_end=18,
          label="query $q = d_{t-1}$", label_offset=(0.3, -0.3))
    _flow(ax, [(ctx_x, ctx_y), (d_x - 0.15, dec_y)], colour="black", shrink_end=16)
    _flow(ax, [(d_x, dec_y), (d_x, ctx_y + 0.9)], shrink_end=14)
    _flow(ax, [(ctx_x, ctx_y), (d_x - 0.25, ctx_y + 0.9)], shrink_end=14)
    ax.text(d_x + 0.35, -0.75, "decoder (RNN)", fontsize=9, ha="center")
    ax.set(xlim=(0.3, d_x + 1.2), ylim=(-1.1, ctx_y + 1.5), title=title)
    ax.axis("off")
    return ax
