"""Sampling with a temperature, text generation and the n-gram baselines (rnncore.generate)."""
import warnings

import numpy as np
import pytest

from rnncore import data, generate, gru, linear, losses, lstm, numerics, rnn, rnn_lm


def frequencies(ids, V):
    return np.bincount(np.ravel(ids), minlength=V) / np.size(ids)


def assert_frequencies(ids, p, where):
    """Empirical frequencies within 5 standard errors sqrt(p (1 - p) / n) of p, for every class.

    For a correct sampler each class exceeds 5 sigma with probability about 6e-7, so a handful
    of classes and checks fail by chance about once in 10^5 runs; the seeds are fixed anyway.
    """
    n, V = np.size(ids), len(p)
    sigma = np.sqrt(p * (1 - p) / n)
    got = frequencies(ids, V)
    z = np.abs(got - p) / np.maximum(sigma, 1e-12)
    assert np.all(z < 5), f"{where}: frequencies {got.round(4)} vs probabilities {p.round(4)}"


# --- sample ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.3, 0.5, 1.0, 2.0, 10.0])
def test_sample_draws_from_the_softmax_at_the_temperature_row_by_row(temperature):
    rows = np.log(np.array([[0.5, 0.3, 0.15, 0.05],
                            [0.1, 0.1, 0.1, 0.7],
                            [0.25, 0.25, 0.25, 0.25]]))          # three different distributions
    n = 20000
    logits = np.tile(rows, (n, 1))                                # (3n, V): rows interleaved
    ids = generate.sample(logits, temperature, np.random.default_rng(0))
    assert ids.shape == (3 * n,) and ids.dtype.kind == "i"
    for r, row in enumerate(rows):
        assert_frequencies(ids[r::3], numerics.softmax(row / temperature),
                           f"row {r} at temperature {temperature}")


def test_sample_at_temperature_zero_and_near_it_is_the_argmax_without_overflow():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, 7, 30)) * 10                     # (T, B, V): any leading shape
    argmax = np.argmax(logits, axis=-1)
    np.testing.assert_array_equal(generate.sample(logits, 0, rng), argmax)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                            # no overflow warning either
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            near_zero = generate.sample(logits, 1e-4, rng)
    np.testing.assert_array_equal(near_zero, argmax)
    huge = generate.sample(logits + 1e4, 1.0, rng)                # shifting logits changes nothing
    assert huge.shape == (5, 7)


def test_sample_is_reproducible_from_the_rng_and_leaves_the_global_state_alone():
    logits = np.random.default_rng(2).normal(size=(50, 10))
    before = np.random.get_state()[1].copy()
    a = generate.sample(logits, 1.0, np.random.default_rng(7))
    b = generate.sample(logits, 1.0, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert generate.sample(np.zeros(4), 1.0, np.random.default_rng(0)).shape == ()   # (V,) -> ()


def test_sample_never_draws_a_class_of_probability_zero():
    logits = np.array([-np.inf, 0.0, -np.inf, 1.0, -np.inf])
    ids = generate.sample(np.tile(logits, (5000, 1)), 3.0, np.random.default_rng(3))
    assert set(np.unique(ids)) == {1, 3}


@pytest.mark.parametrize("call, message", [
    (lambda: generate.sample(np.zeros(3), -1.0, np.random.default_rng(0)), "temperature must be"),
    (lambda: generate.sample(np.zeros(3), float("nan"), np.random.default_rng(0)),
     "temperature must be"),
    (lambda: generate.sample(np.array([0.0, np.nan]), 1.0, np.random.default_rng(0)), "NaN"),
    (lambda: generate.sample(np.float64(1.0), 1.0, np.random.default_rng(0)),
     r"expected \(..., V\)"),
])
def test_sample_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- generate -------------------------------------------------------------------------------------

def small_model(V=6, H=5, seed=0, init=rnn_lm.init):
    params = init(V, H, V, np.random.default_rng(seed))
    return {k: v * 3 for k, v in params.items()}                 # sharper predictions


def test_greedy_generation_agrees_with_one_forward_pass_over_prompt_and_output():
    """The independent witness: run the whole sequence (prompt + generated) through
    rnn_lm.forward in one pass; at temperature 0 each generated id is the argmax after the
    sequence so far."""
    V, params = 6, small_model()
    prompt = np.array([[0, 3], [2, 2], [5, 1]])                   # (P, B) = (3, 2)
    out = generate.generate(params, prompt, 12, 0.0, np.random.default_rng(0))
    assert out.shape == (12, 2) and out.dtype.kind == "i"
    full = np.concatenate([prompt, out])                          # (P + 12, B)
    logits, _, _ = rnn_lm.forward(params, data.one_hot(full, V))
    np.testing.assert_array_equal(out, np.argmax(logits[len(prompt) - 1:-1], axis=-1))
    # the columns are independent sequences: each alone gives the same continuation
    for b in range(2):
        alone = generate.generate(params, prompt[:, b:b + 1], 12, 0.0, np.random.default_rng(0))
        np.testing.assert_array_equal(alone[:, 0], out[:, b])


def test_the_first_generated_id_follows_the_models_distribution_after_the_prompt():
    V, params = 6, small_model(seed=1)
    prompt = np.array([1, 4, 2])[:, None]                         # (P, 1)
    logits, _, _ = rnn_lm.forward(params, data.one_hot(prompt, V))
    n = 20000
    first = generate.generate(params, np.repeat(prompt, n, axis=1), 1, 0.7,
                              np.random.default_rng(4))[0]        # (n,)
    assert_frequencies(first, numerics.softmax(logits[-1, 0] / 0.7), "first generated id")


@pytest.mark.parametrize("layer", [lstm, gru])
def test_generate_works_with_the_gated_layers(layer):
    V, H = 5, 4
    rng = np.random.default_rng(5)
    params = {**layer.init(V, H, rng), **linear.init(H, V, rng)}
    prompt = np.array([[1], [2]])
    a = generate.generate(params, prompt, 8, 1.0, np.random.default_rng(6), forward=layer.forward)
    b = generate.generate(params, prompt, 8, 1.0, np.random.default_rng(6), forward=layer.forward)
    assert a.shape == (8, 1)
    np.testing.assert_array_equal(a, b)
    greedy = generate.generate(params, prompt, 6, 0, rng, forward=layer.forward)
    hs, _ = layer.forward(params, data.one_hot(np.concatenate([prompt, greedy]), V))
    np.testing.assert_array_equal(greedy, np.argmax(linear.forward(params, hs)[1:-1], axis=-1))



@pytest.mark.parametrize("layer", [rnn, lstm, gru])
def test_generate_runs_a_model_of_parts_as_it_runs_the_same_weights_flat(layer):
    V, H = 6, 5
    rng = np.random.default_rng(8)
    model = {"layer": layer.init(V, H, rng), "output": linear.init(H, V, rng)}
    flat = {**model["layer"], **model["output"]}
    prompt = np.array([[1, 4], [2, 0]])
    a = generate.generate(model, prompt, 10, 0.8, np.random.default_rng(9), forward=layer.forward)
    b = generate.generate(flat, prompt, 10, 0.8, np.random.default_rng(9), forward=layer.forward)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"the parts \['layer', 'other'\] beside 'output'"):
        generate.generate({**model, "other": {}}, prompt, 3, 1.0, np.random.default_rng(0),
                          forward=layer.forward)


def test_generate_keeps_float32_and_checks_the_prompt():
    params = {k: v.astype(np.float32) for k, v in small_model().items()}
    out = generate.generate(params, np.array([[1]]), 3, 1.0, np.random.default_rng(0))
    assert out.shape == (3, 1)
    assert generate.generate(params, np.array([[1]]), 0, 1.0, None).shape == (0, 1)
    with pytest.raises(ValueError, match=r"prompt has shape \(3,\), expected \(P, B\)"):
        generate.generate(params, np.array([1, 2, 3]), 3, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"prompt must lie in \[0, V\) = \[0, 6\)"):
        generate.generate(params, np.array([[6]]), 3, 1.0, np.random.default_rng(0))


def test_generate_with_a_relu_layer_through_forward():
    params = small_model()
    relu = lambda p, xs, state: rnn.forward(p, xs, state, nonlinearity="relu")   # noqa: E731
    out = generate.generate(params, np.array([[2]]), 5, 0, None, forward=relu)
    hs, _ = rnn.forward(params, data.one_hot(np.concatenate([[[2]], out]), 6), None, "relu")
    np.testing.assert_array_equal(out, np.argmax(linear.forward(params, hs)[:-1], axis=-1))


# --- n-gram baselines -----------------------------------------------------------------------------

def test_unigram_and_bigram_by_hand():
    ids = np.array([0, 1, 0, 1, 1])                               # "abab b", V = 3 ("c" unseen)
    np.testing.assert_allclose(np.exp(generate.unigram(ids, 3, alpha=1.0)), [3 / 8, 4 / 8, 1 / 8])
    # pairs: (0,1) twice, (1,0) once, (1,1) once; add-1 over V = 3 outcomes per row
    expected = np.array([[1, 3, 1], [2, 2, 1], [1, 1, 1]]) / np.array([[5], [5], [3]])
    np.testing.assert_allclose(np.exp(generate.bigram(ids, 3, alpha=1.0)), expected)
    # the rows are distributions for every alpha > 0
    for alpha in [0.01, 0.5, 2.0]:
        np.testing.assert_allclose(np.exp(generate.bigram(ids, 3, alpha)).sum(axis=1), 1.0)
        np.testing.assert_allclose(np.exp(generate.unigram(ids, 3, alpha)).sum(), 1.0)


def test_ngram_nll_scores_the_same_targets_as_a_language_model():
    rng = np.random.default_rng(8)
    train_ids, test_ids = rng.integers(0, 4, 300), rng.integers(0, 4, 50)
    lp1, lp2 = generate.unigram(train_ids, 4, 0.5), generate.bigram(train_ids, 4, 0.5)
    by_hand_1 = -np.mean([lp1[c] for c in test_ids[1:]])
    by_hand_2 = -np.mean([lp2[a, b] for a, b in zip(test_ids[:-1], test_ids[1:])])
    assert generate.ngram_nll(lp1, test_ids) == pytest.approx(by_hand_1, rel=1e-12)
    assert generate.ngram_nll(lp2, test_ids) == pytest.approx(by_hand_2, rel=1e-12)
    # uniform logits in a language model give the uniform unigram's loss: ln V
    assert generate.ngram_nll(np.full(4, -np.log(4)), test_ids) == pytest.approx(np.log(4))
    logits = np.zeros((len(test_ids) - 1, 1, 4))
    assert losses.softmax_cross_entropy(logits, test_ids[1:, None]) == pytest.approx(np.log(4))


def test_without_smoothing_an_unseen_pair_has_infinite_loss_and_no_warning():
    train_ids, test_ids = np.array([0, 1, 0, 1]), np.array([0, 1, 1])   # (1, 1) never seen
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lp = generate.bigram(train_ids, 3, alpha=0.0)
        assert np.isneginf(lp[2]).all()                           # "c" never seen as a context
        assert generate.ngram_nll(lp, test_ids) == np.inf
        assert generate.ngram_nll(generate.bigram(train_ids, 3, alpha=1.0), test_ids) < np.inf


def test_maximum_likelihood_bigram_fits_its_own_data_at_least_as_well_as_the_unigram():
    ids = data.Vocab.from_text("abracadabra alakazam").encode("abracadabra alakazam")
    V = int(ids.max()) + 1
    assert (generate.ngram_nll(generate.bigram(ids, V, 0.0), ids)
            <= generate.ngram_nll(generate.unigram(ids[1:], V, 0.0), ids) + 1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: generate.unigram(np.zeros((2, 2), int), 3), r"one stream of shape \(N,\)"),
    (lambda: generate.bigram(np.array([0, 1]), 3, alpha=-1), "pseudo-count alpha must be"),
    (lambda: generate.bigram(np.array([0, 5]), 3), r"ids must lie in \[0, V\) = \[0, 3\)"),
    (lambda: generate.ngram_nll(np.zeros((3, 2)), np.array([0, 1])), r"expected \(V,\)"),
    (lambda: generate.ngram_nll(np.zeros(3), np.array([0])), "N >= 2"),
])
def test_ngram_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()
