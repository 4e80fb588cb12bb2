"""Tests for the recurrent cells rnncore.rnn, rnncore.lstm and rnncore.gru.

Every fast path (an autograd primitive with BPTT by hand) has three witnesses: the reference path
(autograd through the readable loop), finite differences and PyTorch (committed fixtures made by
tests/library/fixtures/make_torch_fixtures.py, and a live comparison where torch is installed).
"""
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import fastpath, gradcheck, gru, linear, losses, lstm, numerics, rnn

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}


class Cell:
    """One interface over the three modules: the state is a dict of named (B, H) arrays."""

    def __init__(self, kind):
        self.kind = kind
        self.module = {"rnn": rnn, "lstm": lstm, "gru": gru}[kind.split("_")[0]]
        self.extra = {"nonlinearity": kind.split("_")[1]} if kind.startswith("rnn") else {}
        self.state_names = ["h0", "c0"] if kind == "lstm" else ["h0"]

    def run(self, forward, params, xs, state):
        """-> hs, {"h_T": ..., ("c_T": ...)}; state: dict of h0 (and c0)."""
        given_state = (state["h0"], state["c0"]) if self.kind == "lstm" else state["h0"]
        hs, final = getattr(self.module, forward)(params, xs, given_state, **self.extra)
        finals = {"h_T": final[0], "c_T": final[1]} if self.kind == "lstm" else {"h_T": final}
        return hs, finals

    def loss(self, forward, weights):
        """A scalar that uses hs and every final state: sum(hs * G) + sum(h_T * Gh) (+ c_T * Gc)."""
        def f(args):
            hs, finals = self.run(forward, args["params"], args["xs"], args["state"])
            return anp.sum(hs * weights["hs"]) + sum(anp.sum(finals[k] * weights[k]) for k in finals)
        return f


def make(kind, T=5, B=2, D=3, H=4, dtype=np.float64, seed=0):
    """params (non-zero biases), xs, state dict and loss weights for one cell."""
    rng = np.random.default_rng(seed)
    cell = Cell(kind)
    params = cell.module.init(D, H, rng, dtype)
    for name in params:
        if name.startswith("b"):
            params[name] = (0.3 * rng.normal(size=params[name].shape)).astype(dtype)
    xs = rng.normal(size=(T, B, D)).astype(dtype)
    state = {name: (0.5 * rng.normal(size=(B, H))).astype(dtype) for name in cell.state_names}
    weights = {"hs": rng.normal(size=(T, B, H)).astype(dtype), "h_T": rng.normal(size=(B, H)),
               "c_T": rng.normal(size=(B, H))}
    weights = {k: v.astype(dtype) for k, v in weights.items()}
    return cell, {"params": params, "xs": xs, "state": state}, weights


def flat(grads):
    """{"params": {...}, "xs": ..., "state": {...}} -> one flat dict for gradcheck.compare."""
    return {**grads["params"], "xs": grads["xs"], **grads["state"]}


def assert_close(got, expected, tol, what):
    """Every array within tol of its expected value, relative to the array's largest entry
    (float32 sums in another order differ by ~1e-7 of the largest terms, not of each entry)."""
    for name in expected:
        g, e = np.asarray(got[name], np.float64), np.asarray(expected[name], np.float64)
        assert g.shape == e.shape, f"{what}: {name} has shape {g.shape}, expected {e.shape}"
        error = np.abs(g - e) / max(np.abs(e).max(initial=0), 1e-30)
        if error.size and error.max() > tol:
            where = np.unravel_index(np.argmax(error), error.shape)
            raise AssertionError(f"{what}: {name} differs at index {where} by {error.max():.2e} of "
                                 f"its largest entry: got {g[where]:.8g}, expected {e[where]:.8g}")


def assert_paths_agree(kind, dtype, **sizes):
    cell, args, weights = make(kind, dtype=dtype, **sizes)
    tol = TOLERANCE[dtype]
    hs_fast, fin_fast = cell.run("forward", args["params"], args["xs"], args["state"])
    hs_ref, fin_ref = cell.run("forward_reference", args["params"], args["xs"], args["state"])
    assert hs_fast.dtype == dtype
    assert_close({"hs": hs_fast, **fin_fast}, {"hs": hs_ref, **fin_ref}, tol,
                 f"{kind} forward, fast vs reference")
    fast = autograd.grad(cell.loss("forward", weights))(args)
    ref = autograd.grad(cell.loss("forward_reference", weights))(args)
    assert all(g.dtype == dtype for g in flat(fast).values()), "a gradient changed dtype"
    assert_close(flat(fast), flat(ref), tol, f"{kind} gradients, fast vs reference ({np.dtype(dtype)})")


# --- fast path against reference path -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_fast_and_reference_paths_agree(kind, dtype):
    assert_paths_agree(kind, dtype, T=7, B=3, D=4, H=5)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(KINDS), dtype=st.sampled_from([np.float64, np.float32]),
       T=st.integers(1, 6), B=st.integers(1, 4), D=st.integers(1, 4), H=st.integers(1, 5),
       seed=st.integers(0, 2 ** 16))
def test_fast_and_reference_paths_agree_for_any_shape(kind, dtype, T, B, D, H, seed):
    assert_paths_agree(kind, dtype, T=T, B=B, D=D, H=H, seed=seed)


@pytest.mark.parametrize("cache_numbers", [1, 40, 130])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_in_blocks_of_steps_agrees(kind, dtype, cache_numbers, monkeypatch):
    """The fast path goes through time in blocks of steps that fit in cache
    (fastpath.shared.blocks): blocks of one step, and of a few with a shorter last one, give the
    same layer (here B*H = 15 and B*4H = 60 numbers per step)."""
    monkeypatch.setattr(fastpath.shared, "CACHE_NUMBERS", cache_numbers)
    assert_paths_agree(kind, dtype, T=7, B=3, D=4, H=5)


@pytest.mark.parametrize("D, H", [(1, 8), (2, 16)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_with_few_inputs_agrees(kind, dtype, D, H):
    """With few inputs (8D <= H) the LSTM's fast path makes the input term inside the recurrent
    matmul (fastpath.lstm.numpy_forward); the other cells, and shapes elsewhere, do not."""
    assert_paths_agree(kind, dtype, T=7, B=3, D=D, H=H)


def numpy_passes(kind, args, weights):
    """Everything the fast path's numpy_forward and numpy_backward return (called directly: autograd
    would copy the gradients)."""
    p, xs, h0, G = args["params"], args["xs"], args["state"]["h0"], weights["hs"]
    if kind == "lstm":
        c0 = args["state"]["c0"]
        saved = fastpath.lstm.numpy_forward(p["W_x"], p["W_h"], p["b"], xs, h0, c0)
        return saved + fastpath.lstm.numpy_backward(p["W_x"], p["W_h"], xs, h0, c0, *saved, G,
                                                    weights["c_T"])
    if kind == "gru":
        saved = fastpath.gru.numpy_forward(p["W_x"], p["W_h"], p["b_x"], p["b_h"], xs, h0)
        return saved + fastpath.gru.numpy_backward(p["W_x"], p["W_h"], xs, h0, *saved, G)
    f = kind.split("_")[1]
    hs = fastpath.rnn.numpy_forward(p["W_x"], p["W_h"], p["b_h"], xs, h0, f)
    return (hs,) + fastpath.rnn.numpy_backward(p["W_x"], p["W_h"], xs, h0, hs, G, f)


@pytest.mark.parametrize("kind", KINDS)
def test_what_the_fast_path_returns_outlives_its_next_call(kind):
    """The fast path keeps work arrays between calls (fastpath.shared.work); nothing it returns or
    saves for the backward pass may be one: a second call with other numbers leaves them as they were."""
    cell, args, weights = make(kind, T=30, seed=1)
    _, other_args, other_weights = make(kind, T=30, seed=2)
    first = numpy_passes(kind, args, weights)
    kept = [np.copy(a) for a in first]
    numpy_passes(kind, other_args, other_weights)
    for k, (a, b) in enumerate(zip(first, kept)):
        np.testing.assert_array_equal(a, b, err_msg=f"result {k}")
    views = [a[..., 1:] for a in first]              # a view keeps its array's memory in use too
    del first, a
    numpy_passes(kind, other_args, other_weights)
    for k, (view, b) in enumerate(zip(views, kept)):
        np.testing.assert_array_equal(view, b[..., 1:], err_msg=f"a view of result {k}")


def test_a_result_nothing_uses_lends_its_memory_to_the_next_call():
    """fastpath.shared.result: the next call's result takes the memory of a dropped one (new
    memory costs page faults), and never that of one still in use."""
    cell, args, weights = make("lstm", T=30, seed=1)
    hs = numpy_passes("lstm", args, weights)[0]
    address = hs.ctypes.data
    assert numpy_passes("lstm", args, weights)[0].ctypes.data != address     # hs is in use
    del hs
    assert numpy_passes("lstm", args, weights)[0].ctypes.data == address


@pytest.mark.parametrize("forward", ["forward", "forward_reference"])
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(kind, forward):
    cell, args, weights = make(kind, T=4, B=2, D=2, H=3, seed=1)
    loss = cell.loss(forward, weights)
    grads = flat(autograd.grad(loss)(args))

    def f(flat_args):
        params = {k: flat_args[k] for k in args["params"]}
        state = {k: flat_args[k] for k in args["state"]}
        return loss({"params": params, "xs": flat_args["xs"], "state": state})

    report = gradcheck.check(f, flat(args), grads, tolerance=1e-6)
    assert report.ok, f"{kind}.{forward} against finite differences:\n{report}"


@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_composes_with_an_output_layer_and_a_loss(kind):
    cell, args, _ = make(kind, T=6, B=3, D=4, H=5, seed=2)
    rng = np.random.default_rng(3)
    args["params"]["out"] = linear.init(5, 7, rng)
    targets, label = rng.integers(0, 7, size=(6, 3)), rng.integers(0, 7, size=(1, 3))

    def loss(p, forward):                 # per-step predictions and one from the final state
        hs, finals = cell.run(forward, p, args["xs"], args["state"])
        per_step = losses.softmax_cross_entropy(linear.forward(p["out"], hs), targets)
        final = losses.softmax_cross_entropy(linear.forward(p["out"], finals["h_T"][None]), label)
        return per_step + final + (anp.sum(finals["c_T"] ** 2) if "c_T" in finals else 0.0)

    fast = autograd.grad(loss)(args["params"], "forward")
    ref = autograd.grad(loss)(args["params"], "forward_reference")
    flat_fast = {**{k: v for k, v in fast.items() if k != "out"}, **fast["out"]}
    flat_ref = {**{k: v for k, v in ref.items() if k != "out"}, **ref["out"]}
    report = gradcheck.compare(flat_fast, flat_ref, 1e-10)
    assert report.ok, report
    assert np.abs(fast["W_h"]).max() > 1e-6      # the gradient reached the recurrent weights


def test_steps_compose_into_the_reference_loop():
    for kind in ["lstm", "gru"]:
        cell, args, _ = make(kind, seed=4)
        hs, finals = cell.run("forward_reference", args["params"], args["xs"], args["state"])
        state = (args["state"]["h0"], args["state"]["c0"]) if kind == "lstm" else args["state"]["h0"]
        for t, x in enumerate(args["xs"]):
            state = cell.module.step(args["params"], x, state)
            h = state[0] if kind == "lstm" else state
            np.testing.assert_allclose(h, hs[t], rtol=1e-13, atol=1e-14)
        if kind == "lstm":
            np.testing.assert_allclose(state[1], finals["c_T"], rtol=1e-13)


def test_init_draws_as_pytorch_does():
    rng = np.random.default_rng(5)
    for module, gates in [(rnn, 1), (lstm, 4), (gru, 3)]:
        params = module.init(3, 16, rng, dtype=np.float32)
        assert params["W_x"].shape == (3, gates * 16) and params["W_h"].shape == (16, gates * 16)
        assert all(v.dtype == np.float32 for v in params.values())
        assert all(np.abs(v).max() <= 0.25 for v in params.values())          # 1/sqrt(16)
        assert np.abs(params["W_h"]).max() > 0.2                               # spans the range



def test_public_validation_and_initial_state_are_apart():
    for kind in ["rnn_tanh", "lstm", "gru"]:
        cell, args, _ = make(kind, dtype=np.float32)
        module, xs = cell.module, args["xs"]
        assert module.check_inputs(args["params"], xs) is None           # validates, returns nothing
        zeros = module.initial_state(args["params"], xs)
        for h in (zeros if kind == "lstm" else (zeros,)):
            assert h.shape == (2, 4) and h.dtype == np.float32 and not h.any()
        given = (args["state"]["h0"], args["state"]["c0"]) if kind == "lstm" else args["state"]["h0"]
        got = module.initial_state(args["params"], xs, given)              # the given state itself
        assert (got[0] is given[0] and got[1] is given[1]) if kind == "lstm" else got is given
        with pytest.raises(ValueError, match=r"xs has shape"):
            module.check_inputs(args["params"], xs[0])


def test_numerics_are_the_textbook_functions_without_overflow():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 30.0, 1000.0])
    with np.errstate(over="ignore"):
        textbook = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(numerics.sigmoid(z), textbook, rtol=1e-12, atol=1e-15)   # 1 + tanh
    logits = np.array([[1000.0, 999.0, -1000.0], [0.0, np.log(3.0), -np.inf]])
    p = numerics.softmax(logits)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(p[1], [0.25, 0.75, 0.0], rtol=1e-14)
    np.testing.assert_allclose(numerics.log_softmax(logits[:, :2]), np.log(p[:, :2]), rtol=1e-12)
    np.testing.assert_allclose(numerics.softmax(logits.T, axis=0), p.T, rtol=1e-14)
    drawn = numerics.uniform_init(np.random.default_rng(9), 16, (3, 5), np.float32)
    expected = np.random.default_rng(9).uniform(-0.25, 0.25, (3, 5)).astype(np.float32)
    assert drawn.dtype == np.float32 and np.array_equal(drawn, expected)

# --- the GRU of Cho et al. (2014) ------------------------------------------------------------------

def cho_column_form(params, x, h):
    """Cho et al.'s eqs. (5)-(8) for one example, column vectors, written from the paper."""
    H = h.shape[0]
    W, U = params["W_x"].T, params["W_h"].T                  # (3H, D), (3H, H): the book's form
    bW, bU = params["b_x"], params["b_h"]
    sig = lambda a: 1 / (1 + np.exp(-a))
    r = sig(W[:H] @ x + bW[:H] + U[:H] @ h + bU[:H])
    z = sig(W[H:2 * H] @ x + bW[H:2 * H] + U[H:2 * H] @ h + bU[H:2 * H])
    h_tilde = np.tanh(W[2 * H:] @ x + bW[2 * H:] + U[2 * H:] @ (r * h) + bU[2 * H:])
    return z * h + (1 - z) * h_tilde


def test_cho_step_is_the_papers_gru_and_differs_from_pytorchs_only_by_the_reset():
    _, args, _ = make("gru", B=3, seed=6)
    params, x, h = args["params"], args["xs"][0], args["state"]["h0"]
    cho = gru.cho_step(params, x, h)
    for b in range(3):
        np.testing.assert_allclose(cho[b], cho_column_form(params, x[b], h[b]), rtol=1e-12)
    assert np.abs(cho - gru.step(params, x, h)).max() > 1e-3
    open_reset = {**params, "b_x": params["b_x"] + np.r_[np.full(4, 50.0), np.zeros(8)]}   # r = 1
    np.testing.assert_allclose(gru.cho_step(open_reset, x, h), gru.step(open_reset, x, h),
                               rtol=1e-12)


# --- PyTorch: committed fixtures and a live check -----------------------------------------------------

def torch_grads(cell, data):
    """PyTorch's gradients in this library's names (weights transposed, biases summed for rnn/lstm)."""
    g = {k[len("grad_"):]: data[k] for k in data.files if k.startswith("grad_")}
    params = {"W_x": g["weight_ih_l0"].T, "W_h": g["weight_hh_l0"].T}
    if cell.kind == "gru":
        params.update(b_x=g["bias_ih_l0"], b_h=g["bias_hh_l0"])
    else:                                 # one bias b = b_ih + b_hh: both have its gradient
        np.testing.assert_allclose(g["bias_ih_l0"], g["bias_hh_l0"], rtol=1e-5)
        params["b_h" if cell.kind.startswith("rnn") else "b"] = g["bias_ih_l0"]
    return {**params, "xs": g["xs"], **{k: g[k] for k in cell.state_names}}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
def test_from_torch_reproduces_the_committed_fixtures(kind, dtype):
    data = np.load(FIXTURES / f"torch_{kind}_{dtype}.npz")
    cell = Cell(kind)
    params = cell.module.from_torch({k: data[k] for k in data.files if k.endswith("_l0")
                                     and not k.startswith("grad_")})
    assert all(v.dtype == np.dtype(dtype) for v in params.values()), "from_torch changed the dtype"
    args = {"params": params, "xs": data["xs"], "state": {k: data[k] for k in cell.state_names}}
    tol = 1e-5 if dtype == "float32" else 1e-10
    for forward in ["forward", "forward_reference"]:
        hs, finals = cell.run(forward, params, args["xs"], args["state"])
        for name, got in [("hs", hs), *finals.items()]:
            np.testing.assert_allclose(got, data[name], rtol=tol, atol=tol, err_msg=f"{forward} {name}")
    weights = {"hs": data["G"], "h_T": data["Gh"], "c_T": data["Gc"] if kind == "lstm" else None}
    grads = flat(autograd.grad(cell.loss("forward", weights))(args))
    assert_close(grads, torch_grads(cell, data), 1e-5 if dtype == "float32" else 1e-10,
                 f"{kind} gradients against PyTorch's")


@pytest.mark.parametrize("seed", range(3))
def test_from_torch_live(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        T, B, D, H = (int(n) for n in rng.integers(1, 7, size=4))
        for dtype, torch_dtype, tol in [(np.float32, torch.float32, 1e-5),
                                        (np.float64, torch.float64, 1e-10)]:
            torch.manual_seed(seed)
            if kind.startswith("rnn"):
                module = torch.nn.RNN(D, H, nonlinearity=kind[4:])
            else:
                module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](D, H)
            module = module.to(torch_dtype)
            cell = Cell(kind)
            params = cell.module.from_torch(module.state_dict())
            xs = rng.normal(size=(T, B, D)).astype(dtype)
            state = {k: rng.normal(size=(B, H)).astype(dtype) for k in cell.state_names}
            given_state = tuple(torch.from_numpy(state[k])[None] for k in cell.state_names)
            with torch.no_grad():
                out, final = module(torch.from_numpy(xs), given_state if kind == "lstm"
                                    else given_state[0])
            hs, finals = cell.run("forward", params, xs, state)
            np.testing.assert_allclose(hs, out.numpy(), rtol=tol, atol=tol)
            expected_h_T = (final[0] if kind == "lstm" else final)[0].numpy()
            np.testing.assert_allclose(finals["h_T"], expected_h_T, rtol=tol, atol=tol)
            if kind == "lstm":
                np.testing.assert_allclose(finals["c_T"], final[1][0].numpy(), rtol=tol, atol=tol)


def lstm_state_dict(H=4, D=3, dtype=np.float32):
    rng = np.random.default_rng(7)
    return {"weight_ih_l0": rng.normal(size=(4 * H, D)).astype(dtype),
            "weight_hh_l0": rng.normal(size=(4 * H, H)).astype(dtype),
            "bias_ih_l0": np.zeros(4 * H, dtype), "bias_hh_l0": np.zeros(4 * H, dtype)}


@pytest.mark.parametrize("call,message", [
    (lambda sd: lstm.from_torch({k: v for k, v in sd.items() if k != "bias_hh_l0"}),
     r"state_dict has missing \['bias_hh_l0'\]"),
    (lambda sd: lstm.from_torch({**sd, "weight_ih_l1": sd["weight_ih_l0"]}),
     r"unexpected \['weight_ih_l1'\].*single-layer, unidirectional torch.nn.LSTM"),
    (lambda sd: gru.from_torch(sd), r"state_dict\['weight_hh_l0'\] has shape \(16, 4\), expected "
                                    r"\(3H, H\) = \(12, 4\) for a torch.nn.GRU"),
    (lambda sd: lstm.from_torch({**sd, "bias_ih_l0": np.zeros(12, np.float32)}),
     r"state_dict\['bias_ih_l0'\] has shape \(12,\), expected \(4H,\) = \(16,\)"),
    (lambda sd: rnn.from_torch(sd), r"weight_hh_l0'\] has shape \(16, 4\), expected \(H, H\)"),
    (lambda sd: lstm.from_torch({**sd, "bias_hh_l0": np.zeros(16)}), r"one float dtype"),
])
def test_from_torch_rejects_what_it_cannot_read(call, message):
    with pytest.raises(ValueError, match=message):
        call(lstm_state_dict())


# --- errors a student can act on ---------------------------------------------------------------------

def nan_at(array, index, value=np.nan):
    array = array.copy()
    array[index] = value
    return array


@pytest.mark.parametrize("forward", ["forward", "forward_reference"])
@pytest.mark.parametrize("call,message", [
    (lambda f, p, xs, s: getattr(lstm, f)(p["lstm"], xs[..., :2], s["lstm"]),
     r"xs has shape \(5, 2, 2\), expected \(T, B, D\) = \(T, B, 3\) \(D = 3 from W_x\)"),
    (lambda f, p, xs, s: getattr(lstm, f)({**p["lstm"], "W_h": p["lstm"]["W_h"][:, :12]}, xs,
                                          s["lstm"]),
     r"W_h has shape \(4, 12\), expected \(H, 4H\) = \(4, 16\)"),
    (lambda f, p, xs, s: getattr(gru, f)(p["gru"], xs, s["gru"][:, :3]),
     r"state has shape \(2, 3\), expected \(B, H\) = \(2, 4\)"),
    (lambda f, p, xs, s: getattr(lstm, f)(p["lstm"], xs, s["lstm"][0]),
     r"LSTM's state is the pair \(h, c\)"),
    (lambda f, p, xs, s: getattr(gru, f)(p["lstm"], xs), r"params is missing \['b_x', 'b_h'\]"),
    (lambda f, p, xs, s: getattr(lstm, f)(p["gru"], xs), r"params is missing \['b'\]"),
    (lambda f, p, xs, s: getattr(gru, f)(p["gru"], xs.astype(int)),
     r"xs has dtype int64, but the layer computes in floating point: cast it, e.g. "
     r"xs.astype\(np.float64\)"),
    (lambda f, p, xs, s: getattr(lstm, f)(p["lstm"], xs.astype(np.float32)),
     r"xs has dtype float32 but the params have float64: cast one of them, e.g. "
     r"xs.astype\(np.float64\)"),
    (lambda f, p, xs, s: getattr(rnn, f)({**p["rnn"], "W_h": p["rnn"]["W_h"].astype(np.float32)},
                                         xs), r"the params have mixed dtypes \(W_x: float64, W_h: float32"),
    (lambda f, p, xs, s: getattr(gru, f)(p["gru"], xs, s["gru"].astype(np.float32)),
     r"state has dtype float32 but the params have float64"),
    (lambda f, p, xs, s: getattr(gru, f)(p["gru"], nan_at(xs, (3, 1, 0))),
     r"xs holds NaN at time step 3, batch index 1"),
    (lambda f, p, xs, s: getattr(rnn, f)(p["rnn"], nan_at(xs, (0, 0, 2), np.inf)),
     r"xs holds inf at time step 0, batch index 0"),
    (lambda f, p, xs, s: getattr(rnn, f)(p["rnn"], xs, nan_at(s["rnn"], (1, 2), -np.inf)),
     r"state holds inf at batch index 1"),
    (lambda f, p, xs, s: getattr(lstm, f)(p["lstm"], xs, (s["lstm"][0], nan_at(s["lstm"][1], (0, 0)))),
     r"c_0 holds NaN at batch index 0"),
])
def test_bad_calls_raise_value_errors_that_say_what_to_fix(forward, call, message):
    cells = {kind: make(kind) for kind in ["rnn_tanh", "lstm", "gru"]}
    params = {k.split("_")[0]: args["params"] for k, (_, args, _) in cells.items()}
    states = {"rnn": cells["rnn_tanh"][1]["state"]["h0"], "gru": cells["gru"][1]["state"]["h0"],
              "lstm": (cells["lstm"][1]["state"]["h0"], cells["lstm"][1]["state"]["c0"])}
    with pytest.raises(ValueError, match=message):
        call(forward, params, cells["gru"][1]["xs"], states)


@pytest.mark.parametrize("cache_numbers", [None, 2])
def test_an_exploding_gradient_is_named_by_its_time_step(cache_numbers, monkeypatch):
    # With cache_numbers = 2 the backward pass goes in blocks of two steps (fastpath.shared).
    if cache_numbers:
        monkeypatch.setattr(fastpath.shared, "CACHE_NUMBERS", cache_numbers)
    # xs = 0, h0 = 0, b = 0 keep every h_t = 0 (tanh'(0) = 1); W_h = 10 multiplies the gradient by
    # 10 per step back: 1e30 * 10^k passes float32's 3.4e38 at k = 9, i.e. at step 11 - 9 = 2.
    params = {"W_x": np.zeros((1, 1), np.float32), "W_h": np.full((1, 1), 10, np.float32),
              "b_h": np.zeros(1, np.float32)}
    xs = np.zeros((12, 1, 1), np.float32)
    G = np.zeros((12, 1, 1), np.float32)
    G[-1] = 1e30
    with np.errstate(over="ignore", invalid="ignore"):          # the overflow is the point
        with pytest.raises(ValueError, match=r"RNN layer's gradient became NaN or inf at time "
                                             r"step 2 "):
            autograd.grad(lambda p: anp.sum(rnn.forward(p, xs)[0] * G))(params)
        ref = autograd.grad(lambda p: anp.sum(rnn.forward_reference(p, xs)[0] * G))(params)
    assert not np.isfinite(ref["W_h"]).all()           # the reference path lets it through


@pytest.mark.parametrize("kind", ["rnn_relu", "lstm", "gru"])
def test_a_non_finite_gradient_arriving_from_the_loss_is_named(kind):
    cell, args, weights = make(kind, seed=8)
    weights["hs"] = nan_at(weights["hs"], (3, 1, 2))
    with pytest.raises(ValueError, match=r"gradient arriving at the .* hs is already NaN at time "
                                         r"step 3, batch index 1"):
        autograd.grad(cell.loss("forward", weights))(args)
