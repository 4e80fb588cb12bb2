r"""Sequence to sequence with attention (Bahdanau et al. 2015): an encoder reads the source, a
decoder writes the target one token at a time, looking back at the source as it goes.

Encoder: embed the source tokens and run a cell over them (both ways if bidirectional):

    e_s = E_src[x_s],      enc_s = Encoder(e_1..e_S)_s                 enc: (S, B, H_e)

Decoder, for t = 1..T, starting from h_0 = 0 and the cell's zero state (for an LSTM the cell
state c travels with h, unseen by the attention and the output layer):

    c_t, a_t = Attention(query = h_{t-1}, keys = values = enc, mask = src_mask)   (B, H_e), (S, B)
    h_t      = Decoder([E_tgt[y_{t-1}] ; c_t], h_{t-1})            the cell reads token and context
    logits_t = [h_t ; c_t] W_y + b_y                               and so does the output layer

Teacher forcing (:func:`loss`): y_{t-1} is the *true* previous token, ``tgt_in`` = <start>,
y_1, .., y_{T-1}, and the targets are ``tgt_out`` = y_1, .., y_T. Decoding (:func:`greedy_decode`)
feeds back the model's own most likely token instead.

Choices. H_e = H (2H if bidirectional) and the decoder has H_e units too, so that dot attention
can compare h_{t-1} with enc_s; "dot" is the scaled dot product. Bahdanau et al. start the
decoder from a projection of the encoder; we start from zeros, so that the same code serves every
cell (an LSTM's state is a pair), and the attention gives the decoder the source from step 1.
Layout: time-major, tokens ``(S, B)`` and ``(T, B)`` of ints, masks of 0/1 likewise.
"""
from dataclasses import dataclass
from types import ModuleType

import autograd.numpy as np
from autograd.tracer import getval

from . import attention, linear, losses, rnn, wrappers
from .validation import check_ids, check_shapes


@dataclass(frozen=True)
class Seq2SeqSpec:
    """The choices that are not arrays, so they live outside ``params`` (autograd differentiates
    params): the encoder and decoder cell modules, "additive" or "dot" attention, bidirectional."""
    encoder: ModuleType = rnn
    decoder: ModuleType = rnn
    attention: str = "additive"
    bidirectional: bool = False

    def __post_init__(self):
        wrappers.check_cell("spec.encoder", self.encoder)
        wrappers.check_cell("spec.decoder", self.decoder)
        if self.attention not in ("additive", "dot"):
            raise ValueError(f"spec.attention must be 'additive' or 'dot', got {self.attention!r}")


def init(src_vocab, tgt_vocab, embed_size, hidden_size, rng, spec=Seq2SeqSpec(), attn_size=None,
         dtype=np.float64):
    """Parameters: embeddings E_src (V_src, D) and E_tgt (V_tgt, D); the encoder; the attention
    (additive only, A = attn_size, default H_e); the decoder (input D + H_e, H_e units); the
    output layer (W_y: (2 H_e, V_tgt)). D = embed_size, H = hidden_size."""
    H_e = 2 * hidden_size if spec.bidirectional else hidden_size
    if spec.bidirectional:
        encoder = wrappers.bidirectional_init(spec.encoder, embed_size, hidden_size, rng, dtype)
    else:
        encoder = spec.encoder.init(embed_size, hidden_size, rng, dtype)
    params = {
        "E_src": rng.normal(0.0, 1.0, (src_vocab, embed_size)).astype(dtype),   # (V_src, D)
        "E_tgt": rng.normal(0.0, 1.0, (tgt_vocab, embed_size)).astype(dtype),   # (V_tgt, D)
        "encoder": encoder,
        "decoder": spec.decoder.init(embed_size + H_e, H_e, rng, dtype),
        "output": linear.init(H_e + H_e, tgt_vocab, rng, dtype),                # W_y (2H_e, V)
    }
    if spec.attention == "additive":
        params["attention"] = attention.additive_init(H_e, H_e, attn_size or H_e, rng, dtype)
    return params


def _check_tokens(name, tokens, embedding):
    check_ids(name, tokens, np.shape(embedding)[0])


def encode(params, src, src_mask, spec=Seq2SeqSpec()):
    """enc: (S, B, H_e), the encoder's states; padded steps are skipped (see rnncore.wrappers)."""
    check_shapes(src=(src, "S B"), src_mask=(src_mask, "S B"))
    _check_tokens("src", src, params["E_src"])
    embedded = params["E_src"][src]                                    # (S, B, D)
    if spec.bidirectional:
        enc, _ = wrappers.bidirectional_forward(spec.encoder, params["encoder"], embedded,
                                                mask=src_mask)
    else:
        enc, _ = wrappers.masked_forward(spec.encoder, params["encoder"], embedded, src_mask)
    return enc                                                          # (S, B, H_e)


def _attend(params, spec, query, enc, src_mask):
    if spec.attention == "additive":
        return attention.additive_attention(params["attention"], query, enc, enc, src_mask)
    return attention.dot_attention(query, enc, enc, src_mask, scale=True)     # "dot"


def decode_step(params, y_prev, h_prev, state, enc, src_mask, spec=Seq2SeqSpec()):
    """One decoder step. y_prev: (B,) tokens; h_prev: (B, H_e); state: the cell's state (None at
    the start). Returns ``(logits (B, V), h_t (B, H_e), state, weights (S, B))``."""
    context, weights = _attend(params, spec, h_prev, enc, src_mask)      # (B, H_e), (S, B)
    inputs = np.concatenate([params["E_tgt"][y_prev], context], axis=-1)  # (B, D + H_e)
    # One step as a sequence of length 1: forward returns h_t *and* the state in the same form
    # for every cell (the state is h for the RNN and the GRU, (h, c) for the LSTM).
    hs, state = spec.decoder.forward(params["decoder"], inputs[None], state)
    h = hs[0]                                                             # (B, H_e)
    logits = linear.forward(params["output"], np.concatenate([h, context], axis=-1))  # (B, V)
    return logits, h, state, weights


def forward(params, src, src_mask, tgt_in, spec=Seq2SeqSpec()):
    """Teacher-forced logits (T, B, V) and attention weights (T, S, B) for ``tgt_in: (T, B)``."""
    dims = check_shapes(src=(src, "S B"), src_mask=(src_mask, "S B"), tgt_in=(tgt_in, "T B"))
    _check_tokens("tgt_in", tgt_in, params["E_tgt"])
    enc = encode(params, src, src_mask, spec)                             # (S, B, H_e)
    h, state = np.zeros((dims["B"], enc.shape[-1]), dtype=enc.dtype), None
    all_logits, all_weights = [], []
    for y_prev in tgt_in:                                                 # (B,) true tokens
        logits, h, state, weights = decode_step(params, y_prev, h, state, enc, src_mask, spec)
        all_logits.append(logits)
        all_weights.append(weights)
    return np.stack(all_logits), np.stack(all_weights)                   # (T, B, V), (T, S, B)


def loss(params, src, src_mask, tgt_in, tgt_out, tgt_mask, spec=Seq2SeqSpec()):
    """Mean cross-entropy of the targets ``tgt_out: (T, B)`` at the unmasked positions of
    ``tgt_mask: (T, B)``, teacher-forced with ``tgt_in: (T, B)``."""
    check_shapes(tgt_in=(tgt_in, "T B"), tgt_out=(tgt_out, "T B"), tgt_mask=(tgt_mask, "T B"))
    logits, _ = forward(params, src, src_mask, tgt_in, spec)
    return losses.softmax_cross_entropy(logits, tgt_out, tgt_mask)


def greedy_decode(params, src, src_mask, start_token, max_len, spec=Seq2SeqSpec()):
    """Decode ``max_len`` tokens, each step feeding back argmax_v logits_t (no gradient).

    Returns ``(tokens (max_len, B) of ints, weights (max_len, S, B))``. There is no end token:
    tokens after a sequence's end symbol, if the vocabulary has one, are for the caller to drop.
    """
    check_shapes(src=(src, "S B"), src_mask=(src_mask, "S B"))
    enc = getval(encode(params, src, src_mask, spec))                     # (S, B, H_e)
    B = enc.shape[1]
    y = np.full(B, start_token, dtype=int)
    h, state = np.zeros((B, enc.shape[-1]), dtype=enc.dtype), None
    tokens, all_weights = [], []
    for _ in range(max_len):
        logits, h, state, weights = decode_step(params, y, h, state, enc, src_mask, spec)
        y = np.argmax(getval(logits), axis=-1)                            # (B,) the model's guess
        tokens.append(y)
        all_weights.append(getval(weights))
    return np.stack(tokens), np.stack(all_weights)                       # (T, B), (T, S, B)
