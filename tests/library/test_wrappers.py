"""Tests for rnncore.wrappers: padded batches, stacked and bidirectional RNNs, for every cell."""
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nested_gradcheck import assert_gradients_match
from rnncore import gru, lstm, rnn, wrappers

CELLS = [rnn, lstm, gru]                 # every cell module with the common interface
CELL_IDS = ["rnn", "lstm", "gru"]


def is_pair(state):
    return isinstance(state, (tuple, list))


def assert_state_equal(got, expected, **tolerance):
    """Compare two cell states (an array, or the LSTM's pair (h, c)) entry by entry."""
    assert is_pair(got) == is_pair(expected)
    for g, e in (zip(got, expected) if is_pair(expected) else [(got, expected)]):
        np.testing.assert_allclose(g, e, **(tolerance or {"rtol": 0, "atol": 0}))


def some_state(cell, params, B, D, rng):
    """A non-zero state of the cell's own structure: one step from zeros on a random input."""
    _, state = cell.forward(params, rng.normal(size=(1, B, D)))
    return state


def data(T=5, B=3, D=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(T, B, D))


# --- stacked --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_a_one_layer_stack_is_the_cell(cell):
    rng, xs = data()
    params = wrappers.stacked_init(cell, 2, 4, 1, rng)
    assert sorted(params) == ["layer1"]
    state = some_state(cell, params["layer1"], 3, 2, rng)
    for s in (None, state):
        hs, finals = wrappers.stacked_forward(cell, params, xs, None if s is None else [s])
        hs_ref, final_ref = cell.forward(params["layer1"], xs, s)
        np.testing.assert_array_equal(hs, hs_ref)
        assert len(finals) == 1
        assert_state_equal(finals[0], final_ref)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_a_three_layer_stack_feeds_each_layers_states_to_the_next(cell):
    rng, xs = data()
    params = wrappers.stacked_init(cell, 2, 4, 3, rng)
    hs, finals = wrappers.stacked_forward(cell, params, xs)
    inputs = xs
    for l in range(3):
        inputs, final = cell.forward(params[f"layer{l + 1}"], inputs)
        assert_state_equal(finals[l], final)
    np.testing.assert_array_equal(hs, inputs)


# --- bidirectional --------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_backward_half_is_the_cell_on_the_reversed_sequence_re_reversed(cell):
    rng, xs = data(T=6)
    params = wrappers.bidirectional_init(cell, 2, 4, rng)
    hs, (final_f, final_b) = wrappers.bidirectional_forward(cell, params, xs)
    assert hs.shape == (6, 3, 8)
    hs_f, ref_f = cell.forward(params["forward"], xs)
    hs_b_reversed, ref_b = cell.forward(params["backward"], xs[::-1])
    np.testing.assert_array_equal(hs[:, :, :4], hs_f)
    np.testing.assert_array_equal(hs[:, :, 4:], hs_b_reversed[::-1])
    assert_state_equal(final_f, ref_f)
    assert_state_equal(final_b, ref_b)
    # h_t's backward half has read x_t..x_T: at t = T it has read x_T only.
    _, only_last = cell.forward(params["backward"], xs[-1:])
    np.testing.assert_allclose(hs[-1, :, 4:], only_last[0] if is_pair(only_last) else only_last)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_bidirectional_passes_initial_states_to_each_direction(cell):
    rng, xs = data()
    params = wrappers.bidirectional_init(cell, 2, 4, rng)
    s_f, s_b = (some_state(cell, params[d], 3, 2, rng) for d in ("forward", "backward"))
    hs, _ = wrappers.bidirectional_forward(cell, params, xs, (s_f, s_b))
    np.testing.assert_array_equal(hs[:, :, :4], cell.forward(params["forward"], xs, s_f)[0])
    hs_b_reversed, _ = cell.forward(params["backward"], xs[::-1], s_b)
    np.testing.assert_array_equal(hs[:, :, 4:], hs_b_reversed[::-1])


# --- padding --------------------------------------------------------------------------------------

LENGTHS = [5, 2, 4]


def padded_batch(seed=1, D=2):
    rng = np.random.default_rng(seed)
    T, B = max(LENGTHS), len(LENGTHS)
    mask = (np.arange(T)[:, None] < np.array(LENGTHS)).astype(float)       # (T, B)
    xs = rng.normal(size=(T, B, D)) * mask[:, :, None] + 7.0 * (1 - mask[:, :, None])   # pad = 7
    return rng, xs, mask


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_a_mask_of_ones_is_exactly_the_cell(cell):
    rng, xs = data()
    params = cell.init(2, 4, rng)
    hs, final = wrappers.masked_forward(cell, params, xs, np.ones((5, 3)))
    hs_ref, final_ref = cell.forward(params, xs)
    np.testing.assert_allclose(hs, hs_ref, rtol=1e-13, atol=0)
    assert_state_equal(final, final_ref, rtol=1e-13, atol=0)


def wrapped(cell, wrapper, D, H, rng):
    """(params, forward(params, xs, mask=None)) of a 2-layer stack or a bidirectional layer."""
    if wrapper == "stacked":
        params = wrappers.stacked_init(cell, D, H, 2, rng)
        return params, lambda p, xs, mask=None: wrappers.stacked_forward(cell, p, xs, mask=mask)
    params = wrappers.bidirectional_init(cell, D, H, rng)
    return params, lambda p, xs, mask=None: wrappers.bidirectional_forward(cell, p, xs, mask=mask)


def row(state, b):
    """Batch element b of a cell state (an array or a pair), keeping the batch axis."""
    return tuple(part[b:b + 1] for part in state) if is_pair(state) else state[b:b + 1]


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("wrapper", ["stacked", "bidirectional"])
def test_padded_batch_matches_each_sequence_run_alone(cell, wrapper):
    rng, xs, mask = padded_batch()
    params, forward = wrapped(cell, wrapper, 2, 3, rng)
    hs, finals = forward(params, xs, mask)
    for b, L in enumerate(LENGTHS):
        alone, alone_finals = forward(params, xs[:L, b:b + 1])      # the unpadded sequence, B = 1
        np.testing.assert_allclose(hs[:L, b], alone[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(hs[L:, b], 0.0)               # padded steps output zeros
        for got, want in zip(finals, alone_finals):                 # per layer / per direction
            assert_state_equal(row(got, b), want, rtol=1e-12, atol=1e-14)
    # The padding's values cannot matter.
    garbage = np.where(mask[:, :, None] == 1, xs, -1e3)
    np.testing.assert_array_equal(forward(params, garbage, mask)[0], hs)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_without_a_mask_padding_leaks_into_the_backward_direction(cell):
    """The documented failure: the backward cell starts on the padding."""
    rng, xs, mask = padded_batch()
    params = wrappers.bidirectional_init(cell, 2, 3, rng)
    hs, _ = wrappers.bidirectional_forward(cell, params, xs)         # no mask
    b, L = 1, LENGTHS[1]
    alone, _ = wrappers.bidirectional_forward(cell, params, xs[:L, b:b + 1])
    np.testing.assert_allclose(hs[:L, b, :3], alone[:, 0, :3], rtol=1e-12)   # forward half: fine
    assert np.abs(hs[:L, b, 3:] - alone[:, 0, 3:]).max() > 1e-3      # backward half: wrong


# --- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("wrapper", ["stacked", "bidirectional"])
def test_gradients_match_finite_differences(cell, wrapper):
    rng, xs, mask = padded_batch(D=2)
    xs, mask = xs[:4], mask[:4]
    params, forward = wrapped(cell, wrapper, 2, 2, rng)
    hs, _ = forward(params, xs, mask)
    R = rng.normal(size=hs.shape)                                    # a generic linear read-out

    def f(both):
        hs, finals = forward(both["params"], both["xs"], mask)
        parts = [part for s in finals for part in (s if is_pair(s) else [s])]   # h (and c)
        return anp.sum(hs * R) + sum(anp.sum(part ** 2) for part in parts)

    grads = assert_gradients_match(f, {"params": params, "xs": xs})
    padded = mask == 0
    assert np.all(grads["xs"][padded] == 0.0), "padded inputs must get no gradient"
    assert np.abs(grads["xs"][~padded]).min() > 0


# --- shapes and errors ----------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 5), B=st.integers(1, 3), D=st.integers(1, 4), H=st.integers(1, 4),
       L=st.integers(1, 3), cell_index=st.integers(0, len(CELLS) - 1))
def test_shapes(T, B, D, H, L, cell_index):
    cell = CELLS[cell_index]
    rng = np.random.default_rng(T * 100 + B * 10 + D)
    xs = rng.normal(size=(T, B, D))
    hs, finals = wrappers.stacked_forward(cell, wrappers.stacked_init(cell, D, H, L, rng), xs)
    assert hs.shape == (T, B, H) and len(finals) == L
    for s in finals:
        assert all(part.shape == (B, H) for part in (s if is_pair(s) else [s]))
    mask = np.ones((T, B))
    hs2, (f, b) = wrappers.bidirectional_forward(cell, wrappers.bidirectional_init(cell, D, H, rng),
                                                 xs, mask=mask)
    assert hs2.shape == (T, B, 2 * H)
    assert all(part.shape == (B, H) for s in (f, b) for part in (s if is_pair(s) else [s]))


def test_errors_name_the_problem():
    rng, xs = data()
    params = wrappers.stacked_init(rnn, 2, 4, 2, rng)
    with pytest.raises(ValueError, match=r"mask has shape \(4, 3\), expected \(T, B\) = \(5, 3\)"):
        wrappers.stacked_forward(rnn, params, xs, mask=np.ones((4, 3)))
    with pytest.raises(ValueError, match="one initial state per layer"):
        wrappers.stacked_forward(rnn, params, xs, state=[np.zeros((3, 4))])
    with pytest.raises(ValueError, match=r"keys \['layer1', 'layer2'\]"):
        wrappers.stacked_forward(rnn, {"layer1": params["layer1"], "layer3": params["layer2"]}, xs)
    with pytest.raises(ValueError, match="num_layers"):
        wrappers.stacked_init(rnn, 2, 4, 0, rng)
    with pytest.raises(ValueError, match=r"missing \['backward'\]"):
        wrappers.bidirectional_forward(rnn, {"forward": params["layer1"]}, xs)
