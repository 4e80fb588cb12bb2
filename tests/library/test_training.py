"""Losses (mse, accuracy), optimizers and clipping, and the training loop."""
import copy

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import data, gradcheck, losses, optim, rnn_lm, train, trees
from rnncore.train import detach, tbptt_windows, train_tbptt


# --- losses -------------------------------------------------------------------------------------

def test_mse_is_the_mean_of_squared_errors_and_honours_the_mask():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    expected = np.mean([(p[t, b, d] - y[t, b, d]) ** 2
                        for t in range(4) for b in range(3) for d in range(2)])
    np.testing.assert_allclose(losses.mse(p, y), expected, rtol=1e-12)
    mask = np.zeros((4, 3))
    mask[1, 2] = mask[3, 0] = 1
    expected = (np.sum((p[1, 2] - y[1, 2]) ** 2) + np.sum((p[3, 0] - y[3, 0]) ** 2)) / 4
    np.testing.assert_allclose(losses.mse(p, y, mask), expected, rtol=1e-12)
    np.testing.assert_allclose(losses.mse(p[0], y[0]), np.mean((p[0] - y[0]) ** 2))  # (B, D)


def test_mse_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    y, mask = rng.normal(size=(3, 2, 2)), (rng.uniform(size=(3, 2)) > 0.3).astype(float)
    f = lambda params: losses.mse(params["p"], y, mask)           # noqa: E731
    params = {"p": rng.normal(size=(3, 2, 2))}
    report = gradcheck.check(f, params, autograd.grad(f)(params))
    assert report.ok, report


def test_accuracy_counts_argmax_hits_over_unmasked_positions():
    logits = np.array([[[2.0, 1.0, 0.0], [0.0, 0.0, 5.0]],
                       [[0.0, 3.0, 1.0], [1.0, 0.0, 0.0]]])       # (T=2, B=2, V=3)
    targets = np.array([[0, 1], [1, 2]])                           # hit, miss, hit, miss
    assert losses.accuracy(logits, targets) == 0.5
    assert losses.accuracy(logits, targets, mask=np.array([[1, 0], [1, 0]])) == 1.0
    assert losses.accuracy(logits[1], targets[1]) == 0.5          # (B, V)


@pytest.mark.parametrize("call, message", [
    (lambda: losses.mse(np.zeros((3, 2, 1)), np.zeros((3, 2))),
     r"targets has shape \(3, 2\), expected \(T, B, D\) = \(3, 2, 1\)"),
    (lambda: losses.mse(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), np.ones((2, 3))),
     r"mask has shape \(2, 3\), expected \(T, B\) = \(3, 2\)"),
    (lambda: losses.mse(np.zeros(3), np.zeros(3)), r"predictions has shape \(3,\)"),
    (lambda: losses.accuracy(np.zeros((3, 2, 4)), np.zeros((2, 3), int)),
     r"targets has shape \(2, 3\), expected \(T, B\) = \(3, 2\)"),
])
def test_loss_shape_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- optimizers: first steps by hand ------------------------------------------------------------

G1, G2 = np.array([1.0, -0.5]), np.array([-0.5, 2.0])


def two_steps(opt):
    params = {"w": np.array([1.0, 2.0])}
    state = opt.init(params)
    p1, state = opt.update(params, {"w": G1}, state)
    p2, state = opt.update(p1, {"w": G2}, state)
    return p1["w"], p2["w"], state


def test_sgd_steps_against_the_gradient():
    w1, w2, state = two_steps(optim.sgd(0.1))
    np.testing.assert_allclose(w1, [1.0 - 0.1, 2.0 + 0.05])
    np.testing.assert_allclose(w2, [0.9 + 0.05, 2.05 - 0.2])
    assert state["t"] == 2
    schedule = optim.sgd(lambda t: 1.0 / t)                         # eta_1 = 1, eta_2 = 1/2
    _, w2, _ = two_steps(schedule)
    np.testing.assert_allclose(w2, [1.0 - 1.0 + 0.25, 2.0 + 0.5 - 1.0])


def test_heavy_ball_and_nesterov_momentum_by_hand():
    w1, w2, state = two_steps(optim.momentum(0.1, mu=0.9))
    # v1 = g1 = (1, -0.5); v2 = 0.9 v1 + g2 = (0.4, 1.55)
    np.testing.assert_allclose(w1, [0.9, 2.05])
    np.testing.assert_allclose(w2, [0.9 - 0.04, 2.05 - 0.155])
    np.testing.assert_allclose(state["v"]["w"], [0.4, 1.55])
    w1, w2, _ = two_steps(optim.momentum(0.1, mu=0.9, nesterov=True))
    # step1 = g1 + 0.9 v1 = 1.9 g1; step2 = g2 + 0.9 v2 = (-0.14, 3.395)
    np.testing.assert_allclose(w1, [1.0 - 0.19, 2.0 + 0.095])
    np.testing.assert_allclose(w2, [0.81 + 0.014, 2.095 - 0.3395])


def test_adagrad_by_hand():
    w1, w2, state = two_steps(optim.adagrad(0.1, eps=0.0))
    # G1 = (1, 0.25): step1 = 0.1 * (1/1, -0.5/0.5); G2 = (1.25, 4.25)
    np.testing.assert_allclose(w1, [0.9, 2.1])
    np.testing.assert_allclose(w2, [0.9 + 0.05 / np.sqrt(1.25), 2.1 - 0.2 / np.sqrt(4.25)])
    np.testing.assert_allclose(state["G"]["w"], [1.25, 4.25])


def test_adam_by_hand():
    w1, w2, state = two_steps(optim.adam(0.1, eps=0.0))
    # m1 = 0.1 g1, v1 = 0.001 g1^2 -> m_hat = g1, v_hat = g1^2: step1 = 0.1 sign(g1)
    np.testing.assert_allclose(w1, [0.9, 2.1])
    m2 = 0.9 * 0.1 * G1 + 0.1 * G2                                  # (0.04, 0.155)
    v2 = 0.999 * 0.001 * G1 ** 2 + 0.001 * G2 ** 2                  # (0.001249, 0.00424975)
    step2 = 0.1 * (m2 / 0.19) / np.sqrt(v2 / 0.001999)
    np.testing.assert_allclose(w2, w1 - step2, rtol=1e-12)
    np.testing.assert_allclose(state["m"]["w"], m2)
    np.testing.assert_allclose(state["v"]["w"], v2)


def test_adam_bias_correction_makes_early_steps_lr_sized():
    g = {"w": np.array([0.5, -2.0, 1e-3])}
    opt = optim.adam(0.01, eps=1e-12)
    params, state = {"w": np.zeros(3)}, opt.init({"w": np.zeros(3)})
    for t in range(1, 6):
        before = params["w"]
        params, state = opt.update(params, g, state)
        # m is biased towards zero, m = (1 - b1^t) g: the correction divides that out
        np.testing.assert_allclose(state["m"]["w"], (1 - 0.9 ** t) * g["w"], rtol=1e-12)
        np.testing.assert_allclose(params["w"] - before, -0.01 * np.sign(g["w"]), rtol=1e-6)


OPTIMIZERS = {"sgd": optim.sgd(0.1), "momentum": optim.momentum(0.02, mu=0.9),
              "nesterov": optim.momentum(0.02, mu=0.9, nesterov=True),
              "adagrad": optim.adagrad(0.5), "adam": optim.adam(0.05)}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_minimise_an_ill_conditioned_quadratic(name):
    """f = 1/2 (w - w*)^T A (w - w*) + 1/2 (b - b*)^2, condition number 10, nested params."""
    A = np.array([[5.0, 2.0], [2.0, 1.4]])                          # eigenvalues ~5.9 and ~0.6
    w_star, b_star = np.array([1.0, -2.0]), 3.0
    f = lambda p: (0.5 * (p["layer"]["w"] - w_star) @ A @ (p["layer"]["w"] - w_star)  # noqa
                   + 0.5 * (p["b"] - b_star) ** 2)
    opt = OPTIMIZERS[name]
    params = {"layer": {"w": np.zeros(2)}, "b": np.array(0.0)}
    state = opt.init(params)
    for _ in range(600):
        params, state = opt.update(params, autograd.grad(f)(params), state)
    np.testing.assert_allclose(params["layer"]["w"], w_star, atol=1e-3,
                               err_msg=f"{name} did not reach the minimum")
    np.testing.assert_allclose(params["b"], b_star, atol=1e-3)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_updates_are_pure(name):
    opt = OPTIMIZERS[name]
    params = {"layer": {"w": np.array([1.0, 2.0])}, "b": np.array([0.5])}
    grads = {"layer": {"w": np.array([0.3, -0.1])}, "b": np.array([2.0])}
    state = opt.init(params)
    params, state = opt.update(params, grads, state)                 # a state with history
    saved = copy.deepcopy((params, grads, state))
    new_params, new_state = opt.update(params, grads, state)
    for before, after in zip(saved, (params, grads, state)):
        for (name_b, b), (name_a, a) in zip(trees.leaves(before), trees.leaves(after)):
            np.testing.assert_array_equal(a, b, err_msg=f"update changed its input {name_a}")
    assert state["t"] == saved[2]["t"] and new_state["t"] == state["t"] + 1
    assert new_params["layer"]["w"] is not params["layer"]["w"]
    assert not np.allclose(new_params["layer"]["w"], params["layer"]["w"])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_nan_gradient_raises_naming_the_parameter(name):
    opt = OPTIMIZERS[name]
    params = {"layer": {"W_h": np.zeros((2, 2))}, "b": np.zeros(2)}
    grads = {"layer": {"W_h": np.array([[0.0, 1.0], [np.nan, 0.0]])}, "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"gradient of layer/W_h is not finite: nan at index "
                                         r"\(1, 0\) \(1 of 4 entries\)"):
        opt.update(params, grads, opt.init(params))


def test_mismatched_gradient_keys_raise():
    opt = optim.sgd(0.1)
    with pytest.raises(ValueError, match="different keys"):
        opt.update({"W_x": np.zeros(2)}, {"W_h": np.zeros(2)}, opt.init({"W_x": np.zeros(2)}))


# --- clipping -----------------------------------------------------------------------------------

GRADS = {"a": np.array([3.0, 0.0]), "inner": {"c": np.array([-4.0])}}     # global norm 5


def test_clip_by_global_norm_rescales_and_returns_the_norm_before():
    clipped, norm = optim.clip_by_global_norm(GRADS, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["inner"]["c"], [-0.8])
    unclipped, norm = optim.clip_by_global_norm(GRADS, 10.0)          # below the threshold
    assert norm == 5.0
    np.testing.assert_array_equal(unclipped["a"], GRADS["a"])
    np.testing.assert_array_equal(unclipped["inner"]["c"], GRADS["inner"]["c"])
    np.testing.assert_array_equal(GRADS["a"], [3.0, 0.0])            # input untouched


def test_clip_elementwise_clips_each_entry_and_returns_the_norm_before():
    clipped, norm = optim.clip_elementwise(GRADS, 3.5)
    assert norm == 5.0
    np.testing.assert_array_equal(clipped["a"], [3.0, 0.0])
    np.testing.assert_array_equal(clipped["inner"]["c"], [-3.5])
    same, norm = optim.clip_elementwise(GRADS, 4.0)
    np.testing.assert_array_equal(same["inner"]["c"], [-4.0])


def test_clipping_rejects_nan_and_bad_thresholds():
    with pytest.raises(ValueError, match="gradient of inner/c is not finite: inf"):
        optim.clip_by_global_norm({"a": np.ones(2), "inner": {"c": np.array([np.inf])}}, 1.0)
    with pytest.raises(ValueError, match="gradient of a is not finite"):
        optim.clip_elementwise({"a": np.array([np.nan])}, 1.0)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        optim.clip_by_global_norm(GRADS, 0.0)


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3)), min_size=1, max_size=3),
       max_norm=st.floats(0.01, 10.0), seed=st.integers(0, 2 ** 16))
def test_global_norm_clipping_keeps_the_direction_and_bounds_the_norm(shapes, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = {f"g{k}": rng.normal(size=shape) * 3 for k, shape in enumerate(shapes)}
    clipped, norm = optim.clip_by_global_norm(grads, max_norm)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    flat_clipped = np.concatenate([g.ravel() for g in clipped.values()])
    np.testing.assert_allclose(norm, np.linalg.norm(flat), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(flat_clipped), min(norm, max_norm), rtol=1e-9)
    np.testing.assert_allclose(flat_clipped * norm, flat * np.linalg.norm(flat_clipped),
                               rtol=1e-9, atol=1e-12)                # same direction


# --- the training loop --------------------------------------------------------------------------

def regression(seed=0, M=64):
    """y = X w* + b* + noise, and its mean squared error as a loss of params."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(M, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.01 * rng.normal(size=M)
    loss = lambda p, X, y: anp.mean((X @ p["w"] + p["b"] - y) ** 2)   # noqa: E731
    batches = [(X[k:k + 16], y[k:k + 16]) for k in range(0, M, 16)]
    return loss, {"w": np.zeros(3), "b": np.array(0.0)}, batches, (X, y)


def test_train_fits_a_regression_and_records_a_history():
    loss, params, batches, (X, y) = regression()
    trained, history = train.train(loss, params, batches, optim.adam(0.05), epochs=50,
                                   eval_fn=lambda p: {"val_loss": loss(p, X, y)}, eval_every=40,
                                   progress=False)
    np.testing.assert_allclose(trained["w"], [1.0, -2.0, 0.5], atol=0.02)
    assert history["step"] == list(range(1, 201))
    assert {len(history[k]) for k in ("loss", "grad_norm", "time")} == {200}
    assert history["eval_step"] == [0, 40, 80, 120, 160, 200]
    assert len(history["val_loss"]) == 6 and history["val_loss"][-1] < 1e-3
    assert history["val_loss"][0] == pytest.approx(float(loss(params, X, y)))
    assert history["loss"][-1] < 1e-2 * history["loss"][0]
    assert np.all(np.diff(history["time"]) >= 0)
    np.testing.assert_array_equal(params["w"], np.zeros(3))            # the input is untouched


def test_steps_run_on_into_new_epochs_and_epochs_count_passes():
    loss, params, batches, _ = regression()
    _, history = train.train(loss, params, batches, optim.sgd(0.01), steps=7, progress=False)
    assert history["step"] == list(range(1, 8)) and "eval_step" not in history
    # steps 5..7 see batches 0..2 again: same data, newer params, so a smaller loss
    assert history["loss"][4] < history["loss"][0]
    _, history = train.train(loss, params, batches, optim.sgd(0.01), epochs=3, progress=False)
    assert len(history["loss"]) == 12


def test_same_seed_same_history_other_seed_other_history():
    loss, params, _, (X, y) = regression(M=96)
    batches = lambda rng: data.minibatches(X[None], y[None], 16, rng)   # noqa: E731 (shuffled)
    time_major_loss = lambda p, X, y: loss(p, X[0], y[0])             # noqa: E731

    def run(seed):
        _, history = train.train(time_major_loss, params, batches, optim.momentum(0.02), steps=30,
                                 rng=np.random.default_rng(seed), progress=False)
        return {k: v for k, v in history.items() if k != "time"}

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert first["loss"] != other["loss"]


def test_grad_norm_is_logged_before_clipping_and_the_update_is_clipped():
    loss, params, batches, _ = regression()
    trained, history = train.train(loss, params, batches[:1], optim.sgd(1.0), steps=1, clip=0.1,
                                   progress=False)
    _, g = autograd.value_and_grad(loss)(params, *batches[0])
    assert history["grad_norm"][0] == pytest.approx(optim.global_norm(g))
    assert history["grad_norm"][0] > 1.0                                # so the clip acted
    step = np.concatenate([trained["w"] - params["w"], [trained["b"] - params["b"]]])
    np.testing.assert_allclose(np.linalg.norm(step), 0.1, rtol=1e-9)
    elementwise = lambda g: optim.clip_elementwise(g, 0.01)           # noqa: E731
    trained, _ = train.train(loss, params, batches[:1], optim.sgd(1.0), steps=1, clip=elementwise,
                             progress=False)
    assert np.max(np.abs(trained["w"] - params["w"])) == pytest.approx(0.01)


@pytest.mark.filterwarnings("ignore:overflow")
def test_a_nan_loss_stops_training_and_names_the_step():
    loss, params, batches, _ = regression()
    poisoned = batches[:2] + [(batches[2][0], np.full(16, np.nan))]
    with pytest.raises(ValueError, match=r"the loss is nan at step 3 \(epoch 1\); the last "
                                         r"finite loss was .* at step 2"):
        train.train(loss, params, poisoned, optim.sgd(0.01), epochs=3, progress=False)
    with pytest.raises(ValueError, match=r"the loss is inf at step \d+"):
        train.train(loss, {"w": np.full(3, 1e200), "b": np.array(0.0)}, batches, optim.sgd(0.01),
                    steps=3, progress=False)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_a_nan_gradient_stops_training_naming_the_step_and_the_parameter():
    sqrt_loss = lambda p, x: anp.sum(anp.sqrt(p["w"] + x))            # noqa: E731
    # lr = 0 keeps w = (1, 1): the loss is finite at both steps, d sqrt(0) is not at step 2
    with pytest.raises(ValueError, match=r"at step 2 \(epoch 1\): the gradient of w is not "
                                         r"finite: inf at index \(1,\)"):
        train.train(sqrt_loss, {"w": np.ones(2)}, [np.zeros(2), np.array([0.0, -1.0])],
                    optim.sgd(0.0), epochs=1, progress=False)


def test_bad_arguments_say_what_to_do():
    loss, params, batches, _ = regression()
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        train.train(loss, params, batches, optim.sgd(0.1), progress=False)
    with pytest.raises(ValueError, match="pass rng="):
        train.train(loss, params, lambda rng: batches, optim.sgd(0.1), steps=1, progress=False)
    with pytest.raises(ValueError, match="a generator runs only once"):
        train.train(loss, params, iter(batches), optim.sgd(0.1), epochs=2, progress=False)
    with pytest.raises(ValueError, match="reserved"):
        train.train(loss, params, batches, optim.sgd(0.1), steps=1, progress=False,
                    eval_fn=lambda p: {"loss": 0.0})


def test_the_progress_bar_shows_the_running_loss(capsys):
    loss, params, batches, _ = regression()
    train.train(loss, params, batches, optim.sgd(0.01), steps=8, desc="fit", progress=True,
                eval_fn=lambda p: 1.5, eval_every=4)
    err = capsys.readouterr().err
    assert "fit" in err and "8/8" in err and "loss=" in err and "eval=1.5" in err


# --- truncated BPTT -----------------------------------------------------------------------------

def rnn_problem(T=12, B=2, D=3, H=4, V=3, seed=0):
    rng = np.random.default_rng(seed)
    params = rnn_lm.init(D, H, V, rng)
    xs, ys = rng.normal(size=(T, B, D)), rng.integers(0, V, size=(T, B))
    return params, xs, ys, rng.normal(size=(B, H)) * 0.5


def window_loss(params, xs, ys, state):
    logits, _, h = rnn_lm.forward(params, xs, state)
    return losses.softmax_cross_entropy(logits, ys), h


def test_tbptt_windows_cut_time_into_consecutive_pieces():
    xs, ys = np.arange(10)[:, None] * np.ones((1, 2)), np.arange(10)[:, None] * np.ones((1, 2))
    pieces = tbptt_windows(xs, ys, 4)
    assert [len(x) for x, _ in pieces] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in pieces]), xs)
    with pytest.raises(ValueError, match="same number of time steps"):
        tbptt_windows(xs, ys[:5], 4)


def test_tbptt_is_one_update_per_window_with_a_detached_carried_state():
    """Two windows by hand: update on window 1; window 2 starts from window 1's final state,
    computed with the *old* parameters, and its gradient stops there."""
    params, xs, ys, h0 = rnn_problem()
    k, lr = 6, 0.5
    trained, history = train_tbptt(window_loss, params, xs, ys, k, optim.sgd(lr), h0,
                                   progress=False)
    loss1, g1 = autograd.value_and_grad(window_loss_value)(params, xs[:k], ys[:k], h0)
    _, _, h_k = rnn_lm.forward(params, xs[:k], h0)                     # state after window 1
    params1 = {name: params[name] - lr * g1[name] for name in params}
    loss2, g2 = autograd.value_and_grad(window_loss_value)(params1, xs[k:], ys[k:], h_k)
    expected = {name: params1[name] - lr * g2[name] for name in params}
    assert history["loss"] == pytest.approx([loss1, loss2], rel=1e-12)
    report = gradcheck.compare(trained, expected, tolerance=1e-12)
    assert report.ok, report


def window_loss_value(params, xs, ys, state):
    return window_loss(params, xs, ys, state)[0]


def test_one_window_equals_chapter_3_full_gradient_and_state_restarts_each_epoch():
    params, xs, ys, h0 = rnn_problem(T=5)
    seen = []

    def recording_loss(p, xs, ys, state):
        seen.append(np.array(state))
        return window_loss(p, xs, ys, state)

    trained, _ = train_tbptt(recording_loss, params, xs, ys, 5, optim.sgd(0.1), h0, epochs=2,
                             progress=False)
    np.testing.assert_array_equal(seen[1], h0)                        # epoch 2 starts from h0
    g = autograd.grad(rnn_lm.loss)(params, xs, ys, h0)                 # chapter 3, no truncation
    first = {name: params[name] - 0.1 * g[name] for name in params}
    g_again = autograd.grad(rnn_lm.loss)(first, xs, ys, h0)
    expected = {name: first[name] - 0.1 * g_again[name] for name in params}
    assert gradcheck.compare(trained, expected, tolerance=1e-12).ok


def test_detach_returns_plain_arrays_inside_tuples():
    def f(w):
        state = (anp.tanh(w), {"c": w * 2})
        plain = detach(state)
        assert type(plain[0]) is np.ndarray and type(plain[1]["c"]) is np.ndarray
        return anp.sum(state[0]) + anp.sum(plain[0])                 # the detached copy: constant
    np.testing.assert_allclose(autograd.grad(f)(np.array([0.5])), 1 - np.tanh(0.5) ** 2)


def test_a_character_model_learns_with_carried_state():
    text = "the cat sat on the mat. " * 40
    vocab = data.Vocab.from_text(text)
    V = len(vocab)
    batches = data.lm_batches(vocab.encode(text), batch_size=4, seq_len=12)

    def lm_loss(p, x_ids, y_ids, state):
        logits, _, h = rnn_lm.forward(p, data.one_hot(x_ids, V), state)
        return losses.softmax_cross_entropy(logits, y_ids), h

    params = rnn_lm.init(V, 24, V, np.random.default_rng(0))
    _, history = train.train(lm_loss, params, batches, optim.adam(0.02), epochs=3, clip=5.0,
                             state=np.zeros((4, 24)), progress=False)
    assert history["loss"][0] == pytest.approx(np.log(V), rel=0.05)
    assert np.mean(history["loss"][-5:]) < 0.3 * np.log(V)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_next_token_loss_is_the_output_layers_cross_entropy_on_the_parts_features(cell):
    from rnncore import gru, linear, rnn
    layer = {"rnn": rnn, "gru": gru}[cell]
    V, H, T, B = 7, 5, 6, 3
    rng = np.random.default_rng(2)
    model = {"layer": layer.init(V, H, rng), "output": linear.init(H, V, rng)}
    xs, ys = rng.integers(V, size=(T, B)), rng.integers(V, size=(T, B))
    hs, _ = layer.forward(model["layer"], data.one_hot(xs, V))
    expected = losses.softmax_cross_entropy(linear.forward(model["output"], hs), ys)
    loss = losses.next_token_loss(layer.forward, V)
    assert loss(model, xs, ys) == pytest.approx(float(expected), rel=1e-12)
    # inputs given already encoded (V=None), a forward returning features only, a flat dict
    features = losses.next_token_loss(lambda p, x: layer.forward(p, x)[0])
    assert features(model, data.one_hot(xs, V), ys) == pytest.approx(float(expected), rel=1e-12)
    flat = {**model["layer"], **model["output"]}
    assert loss(flat, xs, ys) == pytest.approx(float(expected), rel=1e-12)
    grads = autograd.grad(loss)(model, xs, ys)
    assert set(grads) == {"layer", "output"} and set(grads["output"]) == {"W_y", "b_y"}
