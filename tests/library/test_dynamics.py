"""rnncore.dynamics: Jacobian products against autograd, the gradient they carry against autograd
and finite differences, the bound of Pascanu et al. (2013), the matrix-size helpers, divergence."""
import autograd
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rnncore import dynamics, gradcheck, linear, losses, optim, plots, rnn, rnn_lm, train


def make(T=6, B=3, D=2, H=4, seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = rnn.init(D, H, rng, dtype)
    params["W_h"] = (scale * rng.normal(size=(H, H)) / np.sqrt(H)).astype(dtype)
    params["b_h"] = (0.3 * rng.normal(size=H)).astype(dtype)
    xs = rng.normal(size=(T, B, D)).astype(dtype)
    h0 = (0.5 * rng.normal(size=(B, H))).astype(dtype)
    return params, xs, h0


def per_example(jacobian):
    """autograd.jacobian of a (B, H) -> (B, H) map is (B, H, B, H): the (H, H) block of each b."""
    return np.stack([jacobian[b, :, b, :] for b in range(jacobian.shape[0])])


pytestmark = pytest.mark.usefixtures("close_figures")


# --- Jacobians ----------------------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_jacobians_match_autograd_on_each_step(nonlinearity):
    params, xs, h0 = make()
    Js = dynamics.step_jacobians(params, xs, h0, nonlinearity)
    hs, _ = rnn.forward(params, xs, h0, nonlinearity)
    states = [h0] + list(hs)
    assert Js.shape == (6, 3, 4, 4)
    for t in range(len(xs)):
        expected = autograd.jacobian(
            lambda h: rnn.step(params, xs[t], h, nonlinearity))(states[t])
        np.testing.assert_allclose(Js[t], per_example(expected), rtol=1e-12, atol=1e-14,
                                   err_msg=f"J_{t + 1}")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,D,H", [(1, 1, 1, 1), (6, 3, 2, 4), (9, 2, 3, 5)])
def test_jacobian_products_match_autograd_through_the_sequence(nonlinearity, T, B, D, H):
    params, xs, h0 = make(T, B, D, H, scale=1.5)
    Ps = dynamics.jacobian_products(params, xs, h0, nonlinearity)
    hs, _ = rnn.forward(params, xs, h0, nonlinearity)
    states = [h0] + list(hs)
    assert Ps.shape == (T + 1, B, H, H)
    np.testing.assert_array_equal(Ps[0], np.broadcast_to(np.eye(H), (B, H, H)))
    for k in range(1, T + 1):                    # h_T as a function of h_{T-k}, the reference path
        expected = autograd.jacobian(
            lambda h: rnn.forward_reference(params, xs[T - k:], h, nonlinearity)[1])(states[T - k])
        np.testing.assert_allclose(Ps[k], per_example(expected), rtol=1e-10, atol=1e-13,
                                   err_msg=f"dh_T/dh_(T-{k})")


def test_the_product_carries_the_gradient_of_a_loss_at_the_last_step():
    """For l = sum(h_T * v), dl/dh_{T-k} = v dh_T/dh_{T-k}: witnessed by autograd and by finite
    differences on the initial state (k = T) and by autograd on every intermediate state."""
    T, B, H = 7, 2, 3
    params, xs, h0 = make(T, B, 2, H, seed=3, scale=1.2)
    v = np.random.default_rng(4).normal(size=(B, H))
    Ps = dynamics.jacobian_products(params, xs, h0)
    from_products = np.einsum("bi,kbij->kbj", v, Ps)                     # (T + 1, B, H)
    hs, _ = rnn.forward(params, xs, h0)
    states = [h0] + list(hs)
    for k in range(1, T + 1):
        loss = lambda h: anp.sum(rnn.forward(params, xs[T - k:], h)[1] * v)  # noqa: E731
        np.testing.assert_allclose(from_products[k], autograd.grad(loss)(states[T - k]),
                                   rtol=1e-10, atol=1e-14, err_msg=f"lag {k}")
    numerical = gradcheck.numerical_gradient(
        lambda p: np.sum(rnn.forward(params, xs, p["h0"])[1] * v), {"h0": h0})["h0"]
    assert gradcheck.relative_error(from_products[T], numerical).max() < 1e-5


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradient_norms_are_spectral_norms_and_float32_stays_float32(nonlinearity):
    params, xs, h0 = make(T=8, scale=1.3)
    norms = dynamics.gradient_norms(params, xs, h0, nonlinearity)
    Ps = dynamics.jacobian_products(params, xs, h0, nonlinearity)
    assert norms.shape == (9, 3)
    for k in range(9):
        for b in range(3):
            assert norms[k, b] == pytest.approx(np.linalg.svd(Ps[k, b], compute_uv=False)[0])
    np.testing.assert_array_equal(norms[0], 1.0)
    single = dynamics.gradient_norms({n: a.astype(np.float32) for n, a in params.items()},
                                     xs.astype(np.float32), h0.astype(np.float32), nonlinearity)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, norms, rtol=1e-4, atol=1e-9)


# --- the bound ----------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 12), B=st.integers(1, 3), H=st.integers(1, 6),
       sigma=st.floats(0.1, 3.0), input_scale=st.floats(0.0, 3.0),
       nonlinearity=st.sampled_from(["tanh", "relu"]), seed=st.integers(0, 2 ** 16))
def test_every_norm_obeys_the_bound(T, B, H, sigma, input_scale, nonlinearity, seed):
    params, xs, h0 = make(T, B, 2, H, seed=seed)
    params["W_h"] = dynamics.with_spectral_norm(params["W_h"], sigma)
    norms = dynamics.gradient_norms(params, input_scale * xs, h0, nonlinearity)
    bound = dynamics.norm_bound(params["W_h"], nonlinearity, np.arange(T + 1))
    assert np.all(norms <= bound[:, None] * (1 + 1e-9)), (norms.max(axis=1), bound)


def test_the_bound_is_tight_for_a_scaled_orthogonal_matrix_near_zero():
    """In the linear regime (f' ~ 1, tiny inputs, h_0 = 0) with W_h = s Q, Q orthogonal, each
    product is s^k times an orthogonal matrix: the norm is the bound s^k."""
    H, T = 5, 20
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(H, H)))
    for s in (0.7, 1.2):
        params = {"W_x": np.ones((1, H)), "W_h": s * Q, "b_h": np.zeros(H)}
        xs = np.full((T, 1, 1), 1e-9)
        norms = dynamics.gradient_norms(params, xs, np.zeros((1, H)))[:, 0]
        np.testing.assert_allclose(norms, s ** np.arange(T + 1), rtol=1e-8)
        assert dynamics.norm_bound(s * Q, "tanh", 3) == pytest.approx(s ** 3)


def test_derivative_bounds():
    assert [dynamics.derivative_bound(f) for f in ("tanh", "relu", "sigmoid")] == [1, 1, 0.25]
    z = np.linspace(-6, 6, 100001)
    assert np.max(1 - np.tanh(z) ** 2) == pytest.approx(1.0)
    sigmoid = 1 / (1 + np.exp(-z))
    assert np.max(sigmoid * (1 - sigmoid)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        dynamics.derivative_bound("softplus")


# --- the size of W_h ----------------------------------------------------------------------------

def test_radius_and_norm_and_rescaling():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 6))
    assert dynamics.spectral_radius(W) <= dynamics.largest_singular_value(W)
    assert dynamics.spectral_radius(dynamics.with_spectral_radius(W, 0.9)) == pytest.approx(0.9)
    scaled = dynamics.with_spectral_norm(W, 2.5)
    assert dynamics.largest_singular_value(scaled) == pytest.approx(2.5)
    non_normal = np.array([[0.5, 2.0], [0.0, 0.5]])
    assert dynamics.spectral_radius(non_normal) == pytest.approx(0.5)
    assert dynamics.largest_singular_value(non_normal) > 2.0
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])                   # eigenvalues +-i: rho = 1
    assert dynamics.spectral_radius(rotation) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"W has shape \(2, 3\), expected \(H, H\)"):
        dynamics.spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="nilpotent"):
        dynamics.with_spectral_radius(np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0)
    with pytest.raises(ValueError, match="W is zero"):
        dynamics.with_spectral_norm(np.zeros((3, 3)), 1.0)


def test_orthogonal_draws_are_orthogonal_seeded_and_not_all_alike():
    Q = dynamics.orthogonal(7, np.random.default_rng(3))
    np.testing.assert_allclose(Q @ Q.T, np.eye(7), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), np.ones(7), rtol=1e-12)
    assert dynamics.spectral_radius(Q) == pytest.approx(1.0)
    np.testing.assert_array_equal(Q, dynamics.orthogonal(7, np.random.default_rng(3)))
    assert not np.allclose(Q, dynamics.orthogonal(7, np.random.default_rng(4)))
    assert dynamics.orthogonal(3, np.random.default_rng(0), np.float32).dtype == np.float32
    # uniform (Haar): the mean of many draws is near zero, not biased towards +I as plain QR is
    mean = np.mean([dynamics.orthogonal(3, np.random.default_rng(s)) for s in range(400)], axis=0)
    assert np.abs(mean).max() < 0.1


def test_shape_errors_name_the_argument():
    params, xs, h0 = make()
    with pytest.raises(ValueError, match="xs has shape"):
        dynamics.gradient_norms(params, xs[:, 0], h0)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        dynamics.step_jacobians(params, xs, h0, "sigmoid")


# --- training that may diverge ------------------------------------------------------------------

def regression_problem(seed=0, T=12, B=4, H=8):
    rng = np.random.default_rng(seed)
    params = rnn_lm.init(1, H, 1, rng)
    batches = [(rng.normal(size=(T, B, 1)), rng.normal(size=(T, B, 1))) for _ in range(3)]

    def loss_fn(params, xs, ys):
        hs, _ = rnn.forward(params, xs)
        return losses.mse(linear.forward(params, hs), ys)
    return loss_fn, params, batches


def test_a_finished_run_is_trains_run():
    loss_fn, params, batches = regression_problem()
    got_params, history, diverged = dynamics.train_until_divergence(
        loss_fn, params, batches, optim.sgd(0.05), steps=20, clip=1.0, progress=False)
    want_params, want = train.train(loss_fn, params, batches, optim.sgd(0.05), steps=20,
                                    clip=1.0, progress=False)
    assert diverged is None
    assert history["loss"] == want["loss"] and history["grad_norm"] == want["grad_norm"]
    for name in want_params:
        np.testing.assert_array_equal(got_params[name], want_params[name])


def test_a_diverging_run_keeps_its_history_up_to_the_failing_step():
    loss_fn, params, batches = regression_problem()
    params = {**params, "W_h": dynamics.with_spectral_radius(params["W_h"], 3.0)}
    _, history, diverged = dynamics.train_until_divergence(
        loss_fn, params, batches, optim.sgd(50.0), steps=500, progress=False)
    assert diverged is not None and diverged < 500
    assert history["step"] == list(range(1, diverged + 1))
    assert len(history["loss"]) == len(history["grad_norm"]) == diverged
    assert np.all(np.isfinite(history["loss"][:-1]))
    assert not (np.isfinite(history["loss"][-1]) and np.isfinite(history["grad_norm"][-1]))
    with pytest.raises(ValueError) as error, np.errstate(all="ignore"):   # what train does
        train.train(loss_fn, params, batches, optim.sgd(50.0), steps=500, progress=False)
    assert history["error"] == str(error.value)
    _, clipped, diverged_clipped = dynamics.train_until_divergence(
        loss_fn, params, batches, optim.sgd(50.0), steps=30, clip=1e-3, progress=False)
    assert diverged_clipped is None and len(clipped["loss"]) == 30


def test_other_errors_are_not_divergence():
    loss_fn, params, batches = regression_problem()
    bad = [(xs[:, :, 0], ys) for xs, ys in batches]                 # no input axis
    with pytest.raises(ValueError, match="xs has shape"):
        dynamics.train_until_divergence(loss_fn, params, bad, optim.sgd(0.1), steps=3,
                                        progress=False)


# --- figures ------------------------------------------------------------------------------------

def test_figures_are_titled_and_labelled():
    params, xs, h0 = make(T=10)
    norms = dynamics.gradient_norms(params, xs, h0)
    ax = plots.norms_vs_lag(norms, bound=dynamics.norm_bound(params["W_h"], "tanh",
                                                             np.arange(11)), label="tanh")
    plots.norms_vs_lag(dynamics.gradient_norms(params, xs, h0, "relu"), ax=ax, label="relu")
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "tanh" and labels[-1] == "relu" and len(labels) == 3
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.median(norms, axis=1))
    assert ax.get_lines()[0].get_color() != ax.get_lines()[-1].get_color()
    slopes = plots.activation_slopes()
    assert slopes.get_title() and slopes.get_xlabel() and slopes.get_ylabel()
    assert len(slopes.get_legend().get_texts()) == 3
