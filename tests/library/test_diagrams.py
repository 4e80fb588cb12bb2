"""Chapter 5's data-flow diagrams (rnncore.diagrams, re-exported by rnncore.plots): each draws the
quantities of its equations, with a title, on axes without a frame."""
import matplotlib
import matplotlib.pyplot as plt
import pytest

from rnncore import diagrams, plots


pytestmark = pytest.mark.usefixtures("close_figures")


def texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def assert_diagram(ax, *symbols):
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title(), "a diagram needs a title"
    assert not ax.axison, "a diagram has no axis frame"
    drawn = texts(ax)
    missing = [s for s in symbols if s not in drawn]
    assert not missing, f"not drawn: {missing} in {drawn!r}"
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) >= 6, "the data flow is drawn with arrows"


def test_the_diagrams_are_the_plots_functions():
    for name in ("lstm_cell_diagram", "gru_cell_diagram", "bidirectional_graph",
                 "encoder_decoder_graph"):
        assert getattr(plots, name) is getattr(diagrams, name)


def test_lstm_cell_diagram_draws_the_four_gates_the_cell_and_the_readout():
    ax = plots.lstm_cell_diagram()
    assert_diagram(ax, "$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$",
                   "$g_t$", "$o_t$", "forget", "input", "output")
    assert texts(ax).count("$\\sigma$") == 3 and texts(ax).count("tanh") >= 2   # 3 gates, g, c


def test_gru_cell_diagram_shows_the_update_gate_as_forget_and_input_gate():
    ax = plots.gru_cell_diagram()
    assert_diagram(ax, "$h_{t-1}$", "$h_t$", "$x_t$", "$r_t$", "$z_t$", "$n_t$", "forget gate",
                   "input gate", "$r_t \\odot (h_{t-1} W_{hn} + b_{hn})$")


@pytest.mark.parametrize("steps", [3, 5])
def test_bidirectional_graph_has_both_chains_at_every_step(steps):
    _, ax = plt.subplots()
    assert plots.bidirectional_graph(steps, ax=ax) is ax
    names = [str(t) for t in range(1, steps)] + ["T"]
    assert_diagram(ax, *[f"$x_{{{n}}}$" for n in names],
                   *[f"$\\overrightarrow{{h}}_{{{n}}}$" for n in names],
                   *[f"$\\overleftarrow{{h}}_{{{n}}}$" for n in names],
                   "$\\overrightarrow{h}_0$", "$\\overleftarrow{h}_{T+1}$")
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 2


def test_encoder_decoder_graph_draws_one_weight_per_source_position():
    ax = plots.encoder_decoder_graph((0.2, 0.3, 0.5))
    assert_diagram(ax, "$k_{1}$", "$k_{2}$", "$k_{S}$", "$d_{t-1}$", "$d_t$", "$y_t$",
                   "$a_{t,1} = 0.20$", "$a_{t,S} = 0.50$", "query")
    with pytest.raises(ValueError, match="summing to 1"):
        plots.encoder_decoder_graph((0.5, 0.6))
    with pytest.raises(ValueError, match="S >= 2"):
        plots.encoder_decoder_graph((1.0,))
