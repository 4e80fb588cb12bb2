"""Tests for rnncore.seq2seq: an encoder-decoder with attention, teacher forcing, greedy decoding."""
import autograd
import numpy as np
import pytest

from nested_gradcheck import assert_gradients_match
from rnncore import attention, gru, lstm, optim, rnn, seq2seq
from rnncore.seq2seq import Seq2SeqSpec

# Every attention x direction with the RNN; each other cell once each way; and a mixed pair.
SPECS = ([Seq2SeqSpec(rnn, rnn, a, bi) for a in ("additive", "dot") for bi in (False, True)] +
         [Seq2SeqSpec(c, c, "additive", False) for c in (lstm, gru)] +
         [Seq2SeqSpec(c, c, "dot", True) for c in (lstm, gru)] +
         [Seq2SeqSpec(lstm, gru, "additive", True)])
SPEC_IDS = [f"{s.encoder.__name__[8:]}-{s.decoder.__name__[8:]}-{s.attention}-"
            f"{'bi' if s.bidirectional else 'uni'}" for s in SPECS]
PAD, START = 0, 1


def batch(seed=0, S=5, T=4, lengths=(5, 3, 2), V_src=7, V_tgt=6):
    """Source tokens with padding after each sequence's length, random targets, their masks."""
    rng = np.random.default_rng(seed)
    B = len(lengths)
    src_mask = (np.arange(S)[:, None] < np.array(lengths)).astype(float)      # (S, B)
    src = np.where(src_mask == 1, rng.integers(2, V_src, (S, B)), PAD)
    tgt_out = rng.integers(2, V_tgt, (T, B))
    tgt_in = np.concatenate([np.full((1, B), START), tgt_out[:-1]])
    tgt_mask = np.ones((T, B))
    tgt_mask[-1, 0] = 0
    return rng, src, src_mask, tgt_in, tgt_out, tgt_mask


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_shapes(spec):
    rng, src, src_mask, tgt_in, tgt_out, tgt_mask = batch()
    params = seq2seq.init(7, 6, 3, 4, rng, spec)
    assert ("attention" in params) == (spec.attention == "additive")
    logits, weights = seq2seq.forward(params, src, src_mask, tgt_in, spec)
    assert logits.shape == (4, 3, 6) and weights.shape == (4, 5, 3)
    assert seq2seq.encode(params, src, src_mask, spec).shape == (5, 3, 8 if spec.bidirectional else 4)
    loss = seq2seq.loss(params, src, src_mask, tgt_in, tgt_out, tgt_mask, spec)
    assert np.ndim(loss) == 0 and 0 < loss < 10
    tokens, weights = seq2seq.greedy_decode(params, src, src_mask, START, 6, spec)
    assert tokens.shape == (6, 3) and tokens.dtype.kind == "i" and weights.shape == (6, 5, 3)
    assert tokens.min() >= 0 and tokens.max() < 6


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_loss_gradient_matches_finite_differences(spec):
    rng, src, src_mask, tgt_in, tgt_out, tgt_mask = batch(S=3, T=3, lengths=(3, 2), V_src=4, V_tgt=4)
    params = seq2seq.init(4, 4, 2, 2, rng, spec)
    assert_gradients_match(
        lambda p: seq2seq.loss(p, src, src_mask, tgt_in, tgt_out, tgt_mask, spec), params)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_decoded_attention_sums_to_one_and_ignores_padding(spec):
    rng, src, src_mask, *_ = batch()
    params = seq2seq.init(7, 6, 3, 4, rng, spec)
    tokens, weights = seq2seq.greedy_decode(params, src, src_mask, START, 5, spec)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    padded = np.broadcast_to(src_mask == 0, weights.shape)               # (T, S, B)
    assert padded.any() and np.all(weights[padded] == 0.0)
    other_padding = np.where(src_mask == 1, src, 6)                      # change the pad tokens
    tokens2, weights2 = seq2seq.greedy_decode(params, other_padding, src_mask, START, 5, spec)
    np.testing.assert_array_equal(tokens2, tokens)
    np.testing.assert_allclose(weights2, weights, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", SPECS[:2], ids=SPEC_IDS[:2])
def test_greedy_decoding_is_teacher_forcing_on_its_own_outputs(spec):
    """Two paths through the decoder: feeding back argmax, or teacher-forcing with those tokens."""
    rng, src, src_mask, *_ = batch(seed=3)
    params = seq2seq.init(7, 6, 3, 4, rng, spec)
    tokens, weights = seq2seq.greedy_decode(params, src, src_mask, START, 5, spec)
    tgt_in = np.concatenate([np.full((1, 3), START), tokens[:-1]])
    logits, weights_tf = seq2seq.forward(params, src, src_mask, tgt_in, spec)
    np.testing.assert_array_equal(np.argmax(logits, axis=-1), tokens)
    np.testing.assert_allclose(weights_tf, weights, rtol=1e-12)


def test_decoder_step_follows_the_equations():
    """c_t: attention with query h_{t-1}; h_t = cell([E_tgt[y]; c_t], h_{t-1}); logits of [h_t; c_t]."""
    rng, src, src_mask, *_ = batch(seed=5)
    params = seq2seq.init(7, 6, 3, 4, rng)
    enc = seq2seq.encode(params, src, src_mask)
    y_prev, h_prev = np.array([2, 3, 4]), rng.normal(size=(3, 4))
    logits, h, state, weights = seq2seq.decode_step(params, y_prev, h_prev, h_prev, enc, src_mask)
    c, a = attention.additive_attention(params["attention"], h_prev, enc, enc, src_mask)
    h_ref = rnn.step(params["decoder"], np.concatenate([params["E_tgt"][y_prev], c], -1), h_prev)
    out = params["output"]
    np.testing.assert_allclose(weights, a, rtol=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=1e-13)
    np.testing.assert_allclose(state, h_ref, rtol=1e-13)
    np.testing.assert_allclose(logits, np.concatenate([h_ref, c], -1) @ out["W_y"] + out["b_y"],
                               rtol=1e-13)


def test_masked_targets_do_not_count():
    rng, src, src_mask, tgt_in, tgt_out, tgt_mask = batch()
    params = seq2seq.init(7, 6, 3, 4, rng)
    loss = seq2seq.loss(params, src, src_mask, tgt_in, tgt_out, tgt_mask)
    other = np.where(tgt_mask == 1, tgt_out, (tgt_out + 1) % 6)
    assert seq2seq.loss(params, src, src_mask, tgt_in, other, tgt_mask) == loss
    assert seq2seq.loss(params, src, src_mask, tgt_in, other, np.ones_like(tgt_mask)) != loss


def test_a_tiny_model_learns_to_reverse_a_few_sequences():
    """Overfitting three short padded sequences: loss near 0 and greedy decoding reproduces them."""
    rng = np.random.default_rng(0)
    seqs = [[2, 3, 4, 5], [5, 3, 2], [4, 2]]
    S = T = max(len(seq) for seq in seqs)
    src = np.full((S, 3), PAD)
    tgt_out = np.full((T, 3), PAD)
    for b, seq in enumerate(seqs):
        src[:len(seq), b] = seq
        tgt_out[:len(seq), b] = seq[::-1]                                  # the reversed sequence
    src_mask = (src != PAD).astype(float)
    tgt_mask = src_mask.copy()
    tgt_in = np.concatenate([np.full((1, 3), START), tgt_out[:-1]])
    spec = Seq2SeqSpec()
    params = seq2seq.init(6, 6, 8, 16, rng, spec)
    value_and_grad = autograd.value_and_grad(seq2seq.loss)
    opt = optim.adam(lr=0.03)
    state = opt.init(params)
    for step in range(250):
        loss, grads = value_and_grad(params, src, src_mask, tgt_in, tgt_out, tgt_mask, spec)
        params, state = opt.update(params, grads, state)
    assert loss < 0.05, f"the loss is still {loss:.3f} after 250 Adam steps"
    tokens, _ = seq2seq.greedy_decode(params, src, src_mask, START, T, spec)
    for b, seq in enumerate(seqs):
        assert list(tokens[:len(seq), b]) == seq[::-1], f"sequence {b}: decoded {tokens[:, b]}"


def test_errors_name_the_problem():
    rng, src, src_mask, tgt_in, tgt_out, tgt_mask = batch()
    with pytest.raises(ValueError, match="'additive' or 'dot', got 'general'"):
        seq2seq.init(7, 6, 3, 4, rng, Seq2SeqSpec(attention="general"))
    with pytest.raises(ValueError, match="spec.decoder must be a cell module, one of rnncore.rnn, "
                                         "rnncore.lstm, rnncore.gru; got 'transformer'$"):
        Seq2SeqSpec(decoder="transformer")
    params = seq2seq.init(7, 6, 3, 4, rng)
    with pytest.raises(ValueError, match=r"tgt_out has shape \(3, 3\), expected \(T, B\) = \(4, 3\)"):
        seq2seq.loss(params, src, src_mask, tgt_in, tgt_out[:3], tgt_mask)
    with pytest.raises(ValueError, match=r"src_mask has shape \(5, 2\), expected \(S, B\) = \(5, 3\)"):
        seq2seq.greedy_decode(params, src, src_mask[:, :2], START, 3)
    with pytest.raises(ValueError, match=r"src must lie in \[0, V\) = \[0, 7\), got values from .* to 10"):
        seq2seq.loss(params, src + 4, src_mask, tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match=r"tgt_in must lie in \[0, V\) = \[0, 6\), got values from .* to 6"):
        seq2seq.loss(params, src, src_mask, tgt_in + 1, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="nothing to attend to"):
        seq2seq.greedy_decode(params, src, np.zeros_like(src_mask), START, 3)
