"""rnncore: recurrent neural networks in numpy, small enough to read, checked by autograd.

Modules, one idea each:

- :mod:`rnncore.rnn`, :mod:`rnncore.lstm`, :mod:`rnncore.gru`  the recurrent cells: init, cell,
                           step, forward (fast path), forward_reference (reference path), from_torch
- :mod:`rnncore.fastpath`  behind each cell's forward: the loops in plain numpy, BPTT by hand, and
                           the autograd primitive joining them
- :mod:`rnncore.numerics`  sigmoid, softmax, log-softmax and the uniform initialisation
- :mod:`rnncore.wrappers`  padded batches, stacked (deep) and bidirectional RNNs around any cell;
                           CELLS, the cell modules (a cell is chosen by its module everywhere)
- :mod:`rnncore.attention` dot-product and additive attention with masks
- :mod:`rnncore.seq2seq`   an encoder-decoder with attention (Seq2SeqSpec): teacher-forced loss,
                           greedy decoding
- :mod:`rnncore.transformer` self-attention, positional encoding, a pre-norm Transformer block
- :mod:`rnncore.tcn`       causal dilated convolutions and residual TCN blocks
- :mod:`rnncore.generate`  sampling with a temperature, text generation, unigram/bigram baselines
- :mod:`rnncore.dynamics`  Jacobian products dh_T/dh_t, gradient norms against the lag and their
                           bound (gamma sigma_max)^k; spectral radius and norm; runs that diverge
- :mod:`rnncore.gates`     the LSTM's and GRU's gate activations over a sequence, for plotting
- :mod:`rnncore.linear`    the linear output layer y_t = W_y h_t + b_y (logits); a model's parameters
                           are ``{"<part>": ..., "output": ...}`` (split_model takes them apart)
- :mod:`rnncore.losses`    softmax cross-entropy over sequences, mean squared error, accuracy,
                           perplexity; next_token_loss, the language-model loss of any model
- :mod:`rnncore.rnn_lm`    chapters 2-3's RNN language model: RNN -> output -> loss as one function
                           autograd can differentiate; truncated windows
- :mod:`rnncore.bptt`      backpropagation through time, by hand
- :mod:`rnncore.gradcheck` finite differences and gradient comparison that says where
- :mod:`rnncore.validation`  shape, dtype, class-index and finiteness checks with errors a
                           student can act on; the one helper that finds the first NaN or inf
- :mod:`rnncore.testing`   assertions for exercises that name the quantity and the place
- :mod:`rnncore.trees`     parameter trees (nested dicts of arrays): tree_map, leaves
- :mod:`rnncore.optim`     SGD, momentum, Adagrad and Adam as pure (init, update) pairs; clipping
- :mod:`rnncore.train`     the training loop (progress bar, history); truncated BPTT in windows
- :mod:`rnncore.data`      all the data: character vocabulary, language-model batches, windows,
                           splits, scaling; :mod:`rnncore.data.datasets` the small real data
                           shipped in the package's data folder (sunspots, a text corpus);
                           :mod:`rnncore.data.tasks` synthetic tasks (adding, copy, parity,
                           temporal order, noisy sine, Mackey-Glass)
- :mod:`rnncore.many_to_one`  many-to-one models (ManyToOneSpec): an encoder summarised by its
                           last or mean state, then a linear layer
- :mod:`rnncore.forecast`  time-ordered windows, persistence and least-squares AR baselines, RMSE
                           per horizon
- :mod:`rnncore.audio`     synthetic spoken words and log-power spectrograms
- :mod:`rnncore.video`     moving-shape clips and per-frame features
- :mod:`rnncore.dates`     date-format translation batches for seq2seq
- :mod:`rnncore.sequence_models`  five causal models (RNN, LSTM, GRU, TCN, Transformer) behind one
                           interface (SequenceModelSpec); parameters, sequential steps, path
                           length, input dependence
- :mod:`rnncore.streaming` one token at a time: a recurrent step against attention over a KV cache;
                           state memory, multiply-adds and time per token
- :mod:`rnncore.rotary`    rotary position embeddings: scores that depend on t - s only
- :mod:`rnncore.linear_attention`  causal linear attention, computed as attention and as an RNN
- :mod:`rnncore.plots`, :mod:`rnncore.widgets`  the book's figures and controls
- :mod:`rnncore.browser`   under Pyodide (the book's Run in the browser, 32-bit numpy):
                           ``np.bincount`` that takes int64 indices, installed on import there

Two gradient paths, one truth: each cell's ``forward`` is an autograd primitive whose backward is
the hand-derived BPTT in plain numpy (fast); ``forward_reference`` is the same loop differentiated
by autograd step by step (slow, obviously right). The tests hold them to each other, to finite
differences and to PyTorch.

Layout, everywhere: time-major sequences ``xs: (T, B, D)``, hidden states ``(B, H)``, row
vectors times weights (``h @ W_h``), so each weight is the transpose of the book's column form.
"""
__version__ = "0.1.0"

import sys as _sys

if _sys.platform == "emscripten":     # Pyodide (the book's Run in the browser): rnncore.browser
    from . import browser as _browser
    _browser.patch_numpy()

from . import (attention, audio, bptt, data, dates,  # noqa: E402,F401
               dynamics, forecast, gates, generate, gradcheck, gru, linear, losses, lstm,
               many_to_one, optim, rnn, rnn_lm, seq2seq, sequence_models, streaming, tcn,
               testing, train, transformer, trees, validation, video, wrappers)
from . import linear_attention, rotary  # noqa: E402,F401
