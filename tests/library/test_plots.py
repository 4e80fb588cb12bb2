"""The training and model-inspection figures: each returns its axes, titled and labelled."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnncore import plots


pytestmark = pytest.mark.usefixtures("close_figures")


def assert_labelled(ax):
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), "untitled or unlabelled axes"


HISTORY = {"step": [1, 2, 3, 4], "loss": [2.0, 1.5, 1.1, 0.9], "grad_norm": [1.0] * 4,
           "time": [0.1] * 4, "eval_step": [0, 4], "val_loss": [2.1, 1.0], "accuracy": [0.1, 0.6]}


def test_loss_curves_of_a_history_draws_training_and_eval_losses_on_a_log_axis():
    ax = plots.loss_curves(HISTORY)
    assert_labelled(ax)
    assert ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["training", "val_loss"]                           # accuracy is not a loss
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [0, 4])


def test_loss_curves_of_named_curves_with_smoothing():
    ax = plots.loss_curves({"adam": HISTORY, "sgd": [3.0, 2.0, 1.0], "rmsprop": ([2, 4], [1, .5])},
                           log=False, smooth=0.5)
    assert_labelled(ax)
    assert ax.get_yscale() == "linear"
    lines = ax.get_lines()
    assert len(lines) == 6                                              # raw + smoothed each
    # bias-corrected EMA of (3, 2, 1) with beta 0.5: 3, (0.75 + 1)/0.75, ...
    np.testing.assert_allclose(lines[3].get_ydata()[:2], [3.0, 7 / 3])


def test_gate_activations_small_multiples_share_one_scale():
    rng = np.random.default_rng(0)
    gates = {name: rng.uniform(size=(20, 5)) for name in ("input i", "forget f", "output o")}
    axes = plots.gate_activations(gates)
    assert len(axes) == 3
    for ax, name in zip(axes, gates):
        assert_labelled(ax)
        assert ax.get_title() == name
        assert ax.images[0].get_clim() == (0.0, 1.0)
    assert axes[0].figure.get_suptitle()


def test_attention_map_labels_its_ticks():
    weights = np.full((3, 4), 0.25)
    ax = plots.attention_map(weights, x_labels=list("abcd"), y_labels=["x", "y", "z"])
    assert_labelled(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z"]
    assert ax.images[0].get_array().shape == (3, 4)


def test_gradient_norm_vs_lag_uses_a_log_axis_and_takes_several_curves():
    lags = np.arange(1, 11)
    ax = plots.gradient_norm_vs_lag(lags, {"RNN": 0.5 ** lags, "LSTM": 0.95 ** lags})
    assert_labelled(ax)
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    ax = plots.gradient_norm_vs_lag(lags, 0.5 ** lags)
    assert_labelled(ax)


def test_confusion_matrix_counts_and_shows_row_fractions():
    labels, predicted = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 0, 2])
    ax, counts = plots.confusion_matrix(labels, predicted, ["a", "b", "c"])
    assert_labelled(ax)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    shown = ax.get_images()[0].get_array()
    np.testing.assert_allclose(shown[1], [1 / 3, 2 / 3, 0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


def test_io_configurations_draws_four_titled_panels_with_their_inputs_and_outputs():
    axes = plots.io_configurations()
    assert len(axes) == 4 and axes[0].figure.get_suptitle()
    labels = [[t.get_text() for t in ax.texts] for ax in axes]
    assert [ax.get_title().split("\n")[0] for ax in axes] == [
        "one to many", "many to one", "many to many", "encoder-decoder"]
    count = [{kind: sum(text.startswith(f"${kind}_") for text in panel) for kind in "xhsy"}
             for panel in labels]
    assert count == [{"x": 1, "h": 4, "s": 0, "y": 4}, {"x": 4, "h": 4, "s": 0, "y": 1},
                     {"x": 4, "h": 4, "s": 0, "y": 4}, {"x": 3, "h": 3, "s": 3, "y": 3}]
