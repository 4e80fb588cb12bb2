"""Tests for rnncore.gates: the gates of the LSTM and the GRU over a sequence.

Witnesses: the layers' fast paths (their states, and the gate activations that fastpath.lstm.numpy_forward
and fastpath.gru.numpy_forward keep for the backward pass, computed by other code), repeated
gru.cho_step for Cho et al.'s form, autograd through the fast path's hand-written BPTT, and
finite differences.
"""
import autograd
import autograd.numpy as anp
import matplotlib
import numpy as np
import pytest

from nested_gradcheck import assert_gradients_match
from rnncore import fastpath, gates, gru, lstm, plots

matplotlib.use("Agg")


def make(module, T=6, B=3, D=4, H=5, seed=0, dtype=np.float64):
    """params with non-zero biases, xs and a non-zero initial state."""
    rng = np.random.default_rng(seed)
    params = module.init(D, H, rng, dtype)
    for name in params:
        if name.startswith("b"):
            params[name] = (0.5 * rng.normal(size=params[name].shape)).astype(dtype)
    xs = rng.normal(size=(T, B, D)).astype(dtype)
    h0, c0 = (0.5 * rng.normal(size=(B, H))).astype(dtype), rng.normal(size=(B, H)).astype(dtype)
    return params, xs, ((h0, c0) if module is lstm else h0)


SHAPES = [dict(T=6, B=3, D=4, H=5), dict(T=1, B=1, D=1, H=1), dict(T=9, B=2, D=7, H=3)]


def assert_gates_are(got, expected, keys, sizes, dtype):
    """got has exactly ``keys``; each expected array is matched in shape (T, B, H), dtype and value
    (to 1e-12 in float64, 1e-5 in float32). Returns that tolerance."""
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert set(got) == set(keys)
    for key, value in expected.items():
        assert got[key].shape == (sizes["T"], sizes["B"], sizes["H"]) and got[key].dtype == dtype
        np.testing.assert_allclose(got[key], value, rtol=tol, atol=tol, err_msg=key)
    return tol


def fast_path_gates(cell, params, xs, state, H):
    """The gate activations the fast path's forward keeps for its backward pass, by name."""
    if cell is lstm:
        hs, cs, _, fused = fastpath.lstm.numpy_forward(params["W_x"], params["W_h"], params["b"],
                                                       xs, *state)
        blocks = {k: fused[:, n] for n, k in enumerate("ifgo")}   # fused: (T, 4, B, H), i f g o
        return {"h": hs, "c": cs, **blocks}
    hs, fused = fastpath.gru.numpy_forward(params["W_x"], params["W_h"], params["b_x"],
                                           params["b_h"], xs, state)  # fused: [r, z, hn, n]
    return {"h": hs, "r": fused[:, 0], "z": fused[:, 1], "n": fused[:, 3]}   # (T, 4, B, H)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("cell", [lstm, gru], ids=["lstm", "gru"])
def test_gates_are_what_the_fast_path_computes(cell, sizes, dtype):
    params, xs, state = make(cell, dtype=dtype, **sizes)
    got = (gates.lstm_gates if cell is lstm else gates.gru_gates)(params, xs, state)
    expected = fast_path_gates(cell, params, xs, state, sizes["H"])
    tol = assert_gates_are(got, expected, gates.LSTM_KEYS if cell is lstm else gates.GRU_KEYS,
                           sizes, dtype)
    np.testing.assert_allclose(got["h"], cell.forward(params, xs, state)[0], rtol=tol, atol=tol)


def test_gru_gates_in_chos_form_repeat_cho_step_and_differ_from_pytorchs():
    params, xs, h = make(gru, seed=3)
    got = gates.gru_gates(params, xs, h, form="cho")
    for t, x in enumerate(xs):
        h = gru.cho_step(params, x, h)
        np.testing.assert_allclose(got["h"][t], h, rtol=1e-12, atol=1e-12)
    pytorch = gates.gru_gates(params, xs, make(gru, seed=3)[2])
    np.testing.assert_allclose(got["r"][0], pytorch["r"][0], rtol=1e-12)   # same gates at t = 1
    assert np.abs(got["h"] - pytorch["h"]).max() > 1e-3                     # different states


def test_zero_state_by_default_and_gates_in_their_ranges():
    params, xs, _ = make(lstm, seed=1)
    got = gates.lstm_gates(params, xs)
    np.testing.assert_allclose(got["h"], lstm.forward(params, xs)[0], rtol=1e-12)
    for key in "ifo":
        assert 0 < got[key].min() and got[key].max() < 1
    assert np.abs(got["g"]).max() < 1
    params, xs, _ = make(gru, seed=1)
    got = gates.gru_gates(params, xs)
    np.testing.assert_allclose(got["h"], gru.forward(params, xs)[0], rtol=1e-12)
    assert 0 < got["z"].min() and got["z"].max() < 1 and np.abs(got["n"]).max() < 1


def test_gradients_through_the_gates_match_the_hand_written_bptt():
    """autograd through lstm_gates' loop against the fast path's BPTT by hand."""
    params, xs, state = make(lstm, seed=2)
    G = np.random.default_rng(9).normal(size=(6, 3, 5))

    def through_gates(p):
        return anp.sum(gates.lstm_gates(p, xs, state)["h"] * G)

    def through_forward(p):
        return anp.sum(lstm.forward(p, xs, state)[0] * G)

    got, expected = autograd.grad(through_gates)(params), autograd.grad(through_forward)(params)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-10, atol=1e-12,
                                   err_msg=f"d{name}")


@pytest.mark.parametrize("form", ["pytorch", "cho"])
def test_gradients_of_a_gate_match_finite_differences(form):
    params, xs, h0 = make(gru, T=3, B=2, D=2, H=3, seed=4)
    weights = np.random.default_rng(5).normal(size=(3, 2, 3))
    assert_gradients_match(lambda p: anp.sum(gates.gru_gates(p, xs, h0, form)["r"] * weights)
                           + anp.sum(gates.gru_gates(p, xs, h0, form)["h"] ** 2), params)


def test_for_plot_names_one_sequence_and_plots_draw_it():
    params, xs, state = make(lstm)
    got = gates.lstm_gates(params, xs, state)
    named = gates.for_plot(got, "ifo", b=2)
    assert list(named) == [gates.NAMES[k] for k in "ifo"]
    np.testing.assert_array_equal(named["forget gate $f_t$"], got["f"][:, 2])
    from rnncore import plots
    axes = plots.gate_activations(named)
    assert [ax.get_title() for ax in axes] == list(named)
    matplotlib.pyplot.close("all")


def test_saturation_counts_switch_like_values():
    assert gates.saturation(np.array([0.05, 0.5, 0.95, 0.3])) == 0.5
    assert gates.saturation(np.full((2, 3), 0.5)) == 0.0
    assert gates.saturation(np.array([0.15, 0.85]), margin=0.2) == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda p, xs, s: gates.lstm_gates(p["lstm"], xs[..., :3], s["lstm"]),
     r"xs has shape \(6, 3, 3\), expected \(T, B, D\) = \(T, B, 4\)"),
    (lambda p, xs, s: gates.lstm_gates(p["lstm"], xs, s["lstm"][0]),
     r"LSTM's state is the pair \(h, c\)"),
    (lambda p, xs, s: gates.lstm_gates(p["gru"], xs), r"params is missing \['b'\]"),
    (lambda p, xs, s: gates.gru_gates(p["gru"], xs, s["gru"][:, :2]),
     r"state has shape \(3, 2\), expected \(B, H\) = \(3, 5\)"),
    (lambda p, xs, s: gates.gru_gates(p["gru"], xs.astype(np.float32)),
     r"xs has dtype float32 but the params have float64"),
    (lambda p, xs, s: gates.gru_gates(p["gru"], xs, form="Cho"),
     r"form must be 'pytorch' or 'cho', got 'Cho'"),
    (lambda p, xs, s: gates.for_plot(gates.gru_gates(p["gru"], xs), "ifo"),
     r"no gate \['i', 'f', 'o'\] in this dict: it has \['h', 'n', 'r', 'z'\]"),
    (lambda p, xs, s: gates.for_plot(gates.gru_gates(p["gru"], xs), "rz", b=3),
     r"b = 3 is not a sequence of this batch of B = 3"),
    (lambda p, xs, s: gates.saturation(np.zeros(3), margin=0.5), r"margin must lie in \(0, 0.5\)"),
])
def test_bad_calls_raise_value_errors_that_say_what_to_fix(call, message):
    params = {"lstm": make(lstm)[0], "gru": make(gru)[0]}
    _, xs, lstm_state = make(lstm)
    states = {"lstm": lstm_state, "gru": make(gru)[2]}
    with pytest.raises(ValueError, match=message):
        call(params, xs, states)


def test_gates_on_text_writes_the_characters_under_the_time_axis():
    params, xs, _ = make(lstm, T=5, B=2)
    axes = plots.gates_on_text(gates.lstm_gates(params, xs), "ifo", "ab cd", b=1)
    assert [ax.get_title() for ax in axes] == [gates.NAMES[k] for k in "ifo"]
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == ["a", "b", "\u2423", "c", "d"]
    assert axes[-1].get_xlabel() and not axes[0].get_xlabel()
    with pytest.raises(ValueError, match="text has 3 characters but the gates have T = 5 steps"):
        plots.gates_on_text(gates.lstm_gates(params, xs), "ifo", "abc")
    matplotlib.pyplot.close("all")


def test_autocorrelation_tells_slow_units_from_fast_ones():
    t = np.arange(200)
    slow = np.sin(2 * np.pi * t / 100)[:, None]                       # one period in 100 steps
    fast = np.where(t % 2 == 0, 1.0, -1.0)[:, None]                   # flips every step
    assert gates.autocorrelation(slow) > 0.95
    assert gates.autocorrelation(fast) < -0.95
    both = np.hstack([slow, fast, np.ones((200, 1))])                 # the constant unit is skipped
    assert gates.autocorrelation(both) == pytest.approx(
        (gates.autocorrelation(slow) + gates.autocorrelation(fast)) / 2)
    with pytest.raises(ValueError, match=r"values must have shape \(T, H\) with T >= 2"):
        gates.autocorrelation(np.zeros((1, 3)))
