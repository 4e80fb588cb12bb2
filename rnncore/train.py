r"""The training loop: gradients by autograd, an optimizer from :mod:`rnncore.optim`, a history.

    opt = optim.adam(1e-2)
    params, history = train(loss_fn, params, batches, opt, steps=500, clip=1.0)
    plots.loss_curves(history)

``loss_fn(params, *batch)`` returns a scalar; ``autograd.value_and_grad`` gives its value and its
gradient with respect to ``params`` in one pass. Each step

    loss, g = value_and_grad(loss_fn)(params, *batch)      # forward and backward
    g, ||g|| = clip(g)                                      # optional; ||g|| is logged either way
    params, opt_state = optimizer.update(params, g, opt_state)

Truncated BPTT (:func:`train_tbptt`, or ``state=`` here) carries the hidden state from one
window to the next but not the gradient, and makes one parameter update per window.
"""
import time
from itertools import count

import numpy as np
from autograd import value_and_grad
from autograd.tracer import getval

from . import optim

RESERVED = ("step", "loss", "grad_norm", "time", "eval_step")


def detach(state):
    """The value of a state without its autograd history (tuples/lists/dicts of arrays allowed).

    The next window starts from this value, and no gradient flows back through it: autograd
    sees a constant.
    """
    if isinstance(state, (tuple, list)):
        return type(state)(detach(s) for s in state)
    if isinstance(state, dict):
        return {k: detach(v) for k, v in state.items()}
    return getval(state)


def _loss_grads_and_state(loss_fn, params, batch, state):
    """loss_fn(params, *batch, state) -> (loss, new_state): the loss, its gradient, new_state."""
    carried = {}

    def objective(p):
        loss, new_state = loss_fn(p, *batch, state)
        carried["state"] = detach(new_state)     # goes on to the next window; the gradient stops
        return loss

    loss, grads = value_and_grad(objective)(params)
    return loss, grads, carried["state"]


def _epochs(batches, epochs, rng):
    """(epoch, batch) pairs: ``batches`` re-iterated, or called with rng, once per epoch."""
    if callable(batches) and rng is None:
        raise ValueError("batches is a function of rng: pass rng=np.random.default_rng(seed)")
    for epoch in count() if epochs is None else range(epochs):
        n = 0
        for batch in batches(rng) if callable(batches) else batches:
            n += 1
            yield epoch, batch
        if n == 0:
            raise ValueError(f"batches gave no batch in epoch {epoch + 1}: a generator runs only "
                             f"once; pass a list, or a function rng -> iterable of batches")


def _record_eval(history, eval_fn, params, step):
    result = eval_fn(params)
    metrics = result if isinstance(result, dict) else {"eval": result}
    clash = [name for name in metrics if name in RESERVED]
    if clash:
        raise ValueError(f"eval_fn returned metrics named {clash}: these names are reserved for "
                         f"the training history {RESERVED}")
    history["eval_step"].append(step)
    for name, value in metrics.items():
        history.setdefault(name, []).append(float(value))
    return metrics


def train(loss_fn, params, batches, optimizer, steps=None, epochs=None, clip=None, rng=None,
          state=None, eval_fn=None, eval_every=None, progress=True, desc="training"):
    """Minimise ``loss_fn`` over ``batches``; return ``(params, history)``.

    loss_fn:   ``loss_fn(params, *batch) -> scalar`` (a batch that is not a tuple is passed as
               one argument). With ``state`` given: ``loss_fn(params, *batch, state) ->
               (loss, new_state)``, and new_state, detached, is the next batch's state.
    batches:   a list (or any re-iterable) of batches, run once per epoch; or a function
               ``batches(rng)`` returning one epoch's batches (fresh data or a new shuffle).
    optimizer: an :class:`rnncore.optim.Optimizer`, e.g. ``optim.adam(1e-3)``.
    steps, epochs: how long; give exactly one. ``steps`` starts new epochs as needed.
    clip:      None; a number, the maximum global gradient norm; or a function
               ``grads -> (clipped, norm)`` such as :func:`rnncore.optim.clip_elementwise`.
    rng:       a ``np.random.Generator``, needed when ``batches`` is a function.
    state:     the initial state of a stateful loss (e.g. h_0), restored at every epoch start.
    eval_fn:   ``eval_fn(params) -> number or dict name -> number``, run before the first step,
               every ``eval_every`` steps and after the last one.
    progress:  show a progress bar (a widget in Jupyter, text elsewhere) with the running loss.

    ``history`` is a dict of lists: ``step`` (1, 2, ...), ``loss`` (the batch loss *before* that
    step's update), ``grad_norm`` (global norm before clipping), ``time`` (seconds since the
    start), and, with eval_fn, ``eval_step`` and one list per metric. Everything but ``time``
    is reproducible: the same rng seed gives the same history.
    A NaN or infinite loss or gradient stops training with a ValueError naming the step.
    """
    if (steps is None) == (epochs is None):
        raise ValueError(f"give exactly one of steps and epochs, got steps={steps}, "
                         f"epochs={epochs}")
    if steps is not None and steps < 1 or epochs is not None and epochs < 1:
        raise ValueError(f"steps and epochs must be positive, got steps={steps}, epochs={epochs}")
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"eval_every must be a positive number of steps, got {eval_every}")
    if clip is not None and not callable(clip):
        max_norm = float(clip)
        clip = lambda grads: optim.clip_by_global_norm(grads, max_norm)  # noqa: E731
    stateful, initial_state = state is not None, state
    total = steps if steps is not None else (
        epochs * len(batches) if hasattr(batches, "__len__") else None)
    history = {name: [] for name in RESERVED}
    step_grads = value_and_grad(loss_fn)
    opt_state = optimizer.init(params)
    start, step, last_epoch, running, metrics = time.perf_counter(), 0, None, None, {}
    if eval_fn is not None:
        metrics = _record_eval(history, eval_fn, params, 0)
    from tqdm.auto import tqdm       # here, not at the top: it imports ipywidgets (30 ms)
    with tqdm(total=total, desc=desc, disable=not progress, unit="step") as bar:
        for epoch, batch in _epochs(batches, epochs, rng):
            step += 1
            if stateful and epoch != last_epoch:
                state, last_epoch = initial_state, epoch      # the data start again: so does h
            args = batch if isinstance(batch, tuple) else (batch,)
            if stateful:
                loss, grads, state = _loss_grads_and_state(loss_fn, params, args, state)
            else:
                loss, grads = step_grads(params, *args)
            loss = float(loss)
            if not np.isfinite(loss):
                last = (f"; the last finite loss was {history['loss'][-1]:.4g} at step "
                        f"{step - 1}" if history["loss"] else "")
                raise ValueError(f"the loss is {loss} at step {step} (epoch {epoch + 1}){last}. "
                                 f"Try a smaller learning rate or gradient clipping (clip=1.0)")
            try:
                grads, norm = clip(grads) if clip is not None else (grads, optim.global_norm(grads))
                params, opt_state = optimizer.update(params, grads, opt_state)
            except ValueError as error:
                raise ValueError(f"at step {step} (epoch {epoch + 1}): {error}") from None
            history["step"].append(step)
            history["loss"].append(loss)
            history["grad_norm"].append(norm)
            history["time"].append(time.perf_counter() - start)
            if eval_fn is not None and eval_every is not None and step % eval_every == 0:
                metrics = _record_eval(history, eval_fn, params, step)
            if progress:
                running = loss if running is None else 0.95 * running + 0.05 * loss
                shown = {"loss": running, **metrics}
                bar.set_postfix_str(", ".join(f"{k}={v:.4g}" for k, v in shown.items()),
                                    refresh=False)
                bar.update(1)
            if step == steps:
                break
    if eval_fn is not None and history["eval_step"][-1] != step:
        _record_eval(history, eval_fn, params, step)
    if eval_fn is None:
        del history["eval_step"]
    return params, history


def tbptt_windows(xs, ys, window):
    """Cut one long batch of sequences into consecutive windows of ``window`` time steps.

    xs: (T, B, ...), ys: (T, B, ...) -> a list of (xs[s:s+window], ys[s:s+window]) for
    s = 0, window, 2 window, ...; the last window is shorter when window does not divide T.
    """
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys must have the same number of time steps, got {len(xs)} "
                         f"and {len(ys)}")
    if int(window) < 1:
        raise ValueError(f"window must be a positive number of steps, got {window}")
    return [(xs[s:s + window], ys[s:s + window]) for s in range(0, len(xs), window)]


def train_tbptt(loss_fn, params, xs, ys, window, optimizer, state, epochs=1, **options):
    """Truncated BPTT: one parameter update per window, the state carried across windows.

    ``loss_fn(params, xs_window, ys_window, state) -> (loss, new_state)``. The windows run in
    order; each starts from the previous window's final state, *detached*: its value is carried
    forward, but the gradient of a window's loss stops at the window's start. Other options
    (clip, eval_fn, progress, ...) are those of :func:`train`.

    Compare chapter 3's ``rnn_lm.loss(params, xs, ys, truncate=k)``: it cuts the *gradient* at
    the same boundaries, but runs the whole sequence with one set of parameters and makes one
    update from the summed window gradients. Here every window updates the parameters, so there
    are T / k updates per pass, the state carried into a window was computed by the previous
    (slightly older) parameters, and only one window's activations are held in memory.
    """
    return train(loss_fn, params, tbptt_windows(xs, ys, window), optimizer, epochs=epochs,
                 state=state, **options)
