"""rnncore.streaming: the KV-cache step against the full causal forward, counted multiply-adds
against the formulas, memory against its closed form."""
import numpy as np
import pytest

from rnncore import gru, linear_attention, lstm, rnn, streaming, transformer


def attention_params(d, seed, dtype=np.float64):
    return transformer.multihead_init(d, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("T, B, d", [(1, 1, 1), (5, 3, 4), (9, 2, 8)])
def test_cached_attention_token_by_token_equals_the_causal_forward(T, B, d):
    """A second implementation: transformer.multihead_forward over the whole sequence, with the
    causal mask, computes every output at once; the cache computes them one token at a time."""
    params = attention_params(d, T)
    xs = np.random.default_rng(100 + T).normal(size=(T, B, d))
    whole, _ = transformer.multihead_forward(params, xs, 1, transformer.causal_mask(T))
    cache = streaming.kv_cache(T, B, d)
    one_by_one = np.stack([streaming.attention_step(params, x, cache) for x in xs])  # (T, B, d)
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-10, atol=1e-12)
    assert cache["length"] == T


def test_prefill_then_steps_equals_steps_from_an_empty_cache():
    T, m, B, d = 8, 5, 2, 6
    params = attention_params(d, 1)
    xs = np.random.default_rng(2).normal(size=(T, B, d))
    cache_a = streaming.kv_cache(T, B, d)
    ys_a = [streaming.attention_step(params, x, cache_a) for x in xs]
    cache_b = streaming.prefill(params, xs[:m], capacity=T)
    assert cache_b["length"] == m
    ys_b = [streaming.attention_step(params, x, cache_b) for x in xs[m:]]
    np.testing.assert_allclose(ys_b, ys_a[m:], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache_b["K"], cache_a["K"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache_b["V"], cache_a["V"], rtol=1e-12, atol=1e-12)
    assert streaming.prefill(params, xs[:m])["K"].shape == (m + 1, B, d)   # room for one more


@pytest.mark.parametrize("a_shape, b_shape, macs", [
    ((3, 4), (4, 5), 60), ((2, 3, 4), (4, 5), 120), ((4,), (4, 5), 20), ((3, 4), (4,), 12),
    ((2, 1, 3), (1, 3, 7), 42), ((6,), (6,), 6)])
def test_count_macs_counts_each_matrix_product(a_shape, b_shape, macs):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    result, counted = streaming.count_macs(lambda a, b: np.tanh(a @ b) + 1.0, a, b)
    assert counted == macs
    assert type(result) is np.ndarray or np.isscalar(result)
    np.testing.assert_allclose(result, np.tanh(a @ b) + 1.0)


def test_count_macs_follows_arrays_computed_from_the_arguments_and_nested_containers():
    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(3, 4)), "pair": (rng.normal(size=(4, 2)), 7)}

    def fn(params):
        z = np.exp(params["W"]) * 2.0                    # computed: still counted
        z /= z.sum()                                     # in place (out=) too
        return (z @ params["pair"][0]) @ np.ones((2, 5))  # (3, 4)(4, 2) + (3, 2)(2, 5)

    result, counted = streaming.count_macs(fn, params)
    assert counted == 3 * 4 * 2 + 3 * 2 * 5
    z = np.exp(params["W"]) * 2.0
    np.testing.assert_allclose(result, (z / z.sum()) @ params["pair"][0] @ np.ones((2, 5)))
    assert streaming._Counted.tally is None              # ready for the next count


def test_count_macs_cannot_be_nested_and_resets_after_an_error():
    with pytest.raises(RuntimeError, match="nested"):
        streaming.count_macs(lambda a: streaming.count_macs(lambda b: b, a), np.ones(2))
    with pytest.raises(ZeroDivisionError):
        streaming.count_macs(lambda a: 1 / 0, np.ones(2))
    assert streaming.count_macs(lambda a: a @ a, np.ones(3))[1] == 3


@pytest.mark.parametrize("D, H", [(1, 1), (3, 5), (8, 4)])
def test_counted_macs_of_the_cells_match_the_formulas(D, H):
    rng = np.random.default_rng(D * 10 + H)
    x, h, c = rng.normal(size=(2, D)), rng.normal(size=(2, H)), rng.normal(size=(2, H))
    B = 2                                               # the formulas are per sequence
    steps = {"rnn": (rnn.step, rnn.init(D, H, rng), h),
             "gru": (gru.step, gru.init(D, H, rng), h),
             "lstm": (lstm.step, lstm.init(D, H, rng), (h, c))}
    for model, (step, params, state) in steps.items():
        result, counted = streaming.count_macs(step, params, x, state)
        assert counted == B * streaming.macs_per_token(model, D, H), model
        expected = step(params, x, state)
        np.testing.assert_allclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize("d, n", [(1, 1), (4, 1), (4, 7), (16, 33)])
def test_counted_macs_of_cached_attention_match_the_formula(d, n):
    params = attention_params(d, n)
    cache = streaming.prefill(params, np.random.default_rng(n).normal(size=(n - 1, 1, d)))
    x = np.random.default_rng(d).normal(size=(1, d))
    _, counted = streaming.count_macs(streaming.attention_step, params, x, cache)
    assert counted == streaming.macs_per_token("attention", d, d, n) == 4 * d * d + 2 * n * d
    assert cache["length"] == n, "the counted step wrote into the caller's cache"


def test_state_bytes_constant_for_a_cell_and_linear_in_the_context_for_the_cache():
    d = 6
    params = attention_params(d, 3, np.float32)
    cache = streaming.kv_cache(40, 1, d, np.float32)
    x = np.ones((1, d), np.float32)
    for n in range(1, 41):
        streaming.attention_step(params, x, cache)
        assert streaming.state_bytes(cache) == 2 * n * d * 4
    h = np.zeros((1, d), np.float32)
    assert streaming.state_bytes(h) == d * 4
    assert streaming.state_bytes((h, h)) == 2 * d * 4           # the LSTM's (h, c)


def test_attention_step_errors_name_the_problem():
    d = 3
    params = attention_params(d, 0)
    cache = streaming.kv_cache(1, 2, d)
    with pytest.raises(ValueError, match="x has shape"):
        streaming.attention_step(params, np.ones((2, d + 1)), cache)
    with pytest.raises(ValueError, match="x has shape"):
        streaming.attention_step(params, np.ones((1, d)), cache)     # B = 1, the cache's B = 2
    streaming.attention_step(params, np.ones((2, d)), cache)
    with pytest.raises(ValueError, match="cache is full"):
        streaming.attention_step(params, np.ones((2, d)), cache)
    with pytest.raises(ValueError, match="missing"):
        streaming.attention_step({"W_q": params["W_q"]}, np.ones((2, d)), cache)
    with pytest.raises(ValueError, match="capacity"):
        streaming.kv_cache(0, 1, d)
    with pytest.raises(ValueError, match="capacity"):
        streaming.prefill(params, np.ones((4, 1, d)), capacity=3)
    with pytest.raises(ValueError, match="model must be"):
        streaming.macs_per_token("tcn", 3, 3)
    with pytest.raises(ValueError, match="context"):
        streaming.macs_per_token("attention", 3, 3)


def test_seconds_per_call_ranks_a_slower_function_slower():
    big = np.ones(200_000)
    times = streaming.seconds_per_call({"fast": lambda: None, "slow": lambda: np.sort(big)},
                                       number=3, repeat=3)
    assert set(times) == {"fast", "slow"}
    assert 0 < times["fast"] < times["slow"]


def test_per_token_costs_memory_and_macs_against_the_formulas():
    contexts, d = [1, 3, 20], 8
    costs = streaming.per_token_costs(contexts, d, np.random.default_rng(0), number=2, repeat=1)
    assert set(costs) == {"gru", "lstm", "attention", "block", "linear"}
    n = np.array(contexts)
    np.testing.assert_array_equal(costs["gru"]["bytes"], [d * 4] * 3)         # float32
    np.testing.assert_array_equal(costs["lstm"]["bytes"], [2 * d * 4] * 3)
    np.testing.assert_array_equal(costs["attention"]["bytes"], 2 * n * d * 4)
    np.testing.assert_array_equal(costs["gru"]["macs"], [6 * d * d] * 3)
    np.testing.assert_array_equal(costs["lstm"]["macs"], [8 * d * d] * 3)
    np.testing.assert_array_equal(costs["attention"]["macs"], 4 * d * d + 2 * n * d)
    np.testing.assert_array_equal(costs["block"]["bytes"], 2 * n * d * 4)
    np.testing.assert_array_equal(costs["block"]["macs"], 12 * d * d + 2 * n * d)
    np.testing.assert_array_equal(costs["linear"]["bytes"], [(d * d + d) * 4] * 3)
    np.testing.assert_array_equal(costs["linear"]["macs"], [6 * d * d] * 3)
    for model in costs:
        assert costs[model]["seconds"].shape == (3,)
        assert np.all(np.isfinite(costs[model]["seconds"]) & (costs[model]["seconds"] > 0))
    with pytest.raises(ValueError, match="contexts"):
        streaming.per_token_costs([0], d, np.random.default_rng(0))


@pytest.mark.parametrize("T, B, d", [(1, 1, 2), (6, 3, 4)])
def test_block_step_token_by_token_equals_the_causal_block(T, B, d):
    rng = np.random.default_rng(T)
    params = transformer.block_init(d, 4 * d, rng)
    xs = rng.normal(size=(T, B, d))
    whole = transformer.block_forward(params, xs, 1, causal=True)
    cache = streaming.kv_cache(T, B, d)
    one_by_one = np.stack([streaming.block_step(params, x, cache) for x in xs])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-10, atol=1e-12)


def test_linear_step_equals_linear_attention_computed_as_attention():
    T, B, d = 7, 2, 5
    rng = np.random.default_rng(4)
    params = attention_params(d, 4)
    xs = rng.normal(size=(T, B, d))
    Q, K, V = (xs @ params[W] for W in ("W_q", "W_k", "W_v"))
    whole = linear_attention.parallel(Q, K, V) @ params["W_o"]
    state, ys = linear_attention.init_state(B, d, d), []
    for x in xs:
        y, new = streaming.linear_step(params, x, state)
        assert streaming.state_bytes(new) == streaming.state_bytes(state)     # never grows
        ys.append(y)
        state = new
    np.testing.assert_allclose(np.stack(ys), whole, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d, n", [(4, 1), (8, 10)])
def test_counted_macs_of_the_block_and_linear_steps_match_the_formulas(d, n):
    rng = np.random.default_rng(d)
    block = transformer.block_init(d, 4 * d, rng)
    cache = streaming.prefill(block["attn"], rng.normal(size=(n - 1, 1, d)), capacity=n)
    x = rng.normal(size=(1, d))
    _, macs = streaming.count_macs(streaming.block_step, block, x, cache)
    assert macs == streaming.macs_per_token("block", d, d, n) == 12 * d * d + 2 * n * d
    params = attention_params(d, 0)
    _, macs = streaming.count_macs(streaming.linear_step, params, x,
                                   linear_attention.init_state(1, d, d))
    assert macs == streaming.macs_per_token("linear", d, d) == 6 * d * d
    with pytest.raises(ValueError, match="D == H"):
        streaming.macs_per_token("linear", d, d + 1)
