"""Validation with errors a student can act on: the argument, what it got, what was expected.

    >>> dims = check_shapes(xs=(xs, "T B D"), W_x=(W_x, "D H"))   # {"T": 5, "B": 2, "D": 3, "H": 4}

Each spec is a string of dimension symbols (the book's symbols). A symbol is bound by the first
argument that has it; every later argument must agree. A mismatch raises ``ValueError`` such as::

    W_h has shape (4, 5), expected (H, H) = (4, 4) (H = 4 from W_x)

- :func:`check_shapes`, :func:`check_ids` (integer class indices against a vocabulary size)
- the recurrent layers' checks (:mod:`rnncore.rnn`, :mod:`rnncore.lstm`, :mod:`rnncore.gru`):
  :func:`check_layer`, :func:`check_dtypes`, :func:`check_sequence`, :func:`check_state_dict`
- finiteness: :func:`first_non_finite` (the one helper that says where), :func:`check_finite` for
  an input (names the time step and batch index), :func:`check_finite_gradients` for a gradient
  tree (names the parameter; the optimizers and clipping call it), :func:`check_gradient` after a
  fast backward pass.

Each raises ``ValueError``. These functions look at values only, never at gradients, so they use
plain numpy on ``getval``.
"""
import numpy as onp
from autograd.tracer import getval

from .trees import leaves


def check_ids(name, ids, V):
    """Integer class indices (tokens, targets) in [0, V); return them as an array."""
    ids = onp.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class indices, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must lie in [0, V) = [0, {V}), got values from {ids.min()} "
                         f"to {ids.max()}")
    return ids


def _shape_of(name, value):
    shape = getattr(value, "shape", None)
    if shape is None:
        raise ValueError(f"{name} must be an array, got {type(value).__name__}")
    return tuple(int(n) for n in shape)


def check_shapes(**specs):
    """Check every ``name=(array, "SYM SYM ...")`` in order; return the bound dimensions."""
    dims, source = {}, {}
    for name, (value, spec) in specs.items():
        symbols = spec.split()
        shape = _shape_of(name, value)
        expected = tuple(dims.get(s, s) for s in symbols)
        bad = len(shape) != len(symbols) or any(
            s in dims and dims[s] != n for s, n in zip(symbols, shape))
        if not bad:
            # Bind new symbols, checking repeats within this argument (e.g. W_h: "H H").
            for s, n in zip(symbols, shape):
                if dims.setdefault(s, n) != n:
                    bad = True
                    break
                source.setdefault(s, name)
        if bad:
            pretty = "(" + ", ".join(symbols) + (",)" if len(symbols) == 1 else ")")
            known = "(" + ", ".join(str(e) for e in expected) + (",)" if len(expected) == 1 else ")")
            bound = ", ".join(f"{s} = {dims[s]} from {source[s]}" for s in dict.fromkeys(symbols)
                              if s in dims and source.get(s) != name)
            message = f"{name} has shape {shape}, expected {pretty}"
            if known != pretty:
                message += f" = {known}"
            if bound:
                message += f" ({bound})"
            raise ValueError(message)
    return dims


def values(params):
    """The params dict with plain arrays: checks read values and add nothing to autograd's graph
    (a boxed dict's ``params[k]`` would record a step for each look-up)."""
    return {name: getval(value) for name, value in getval(params).items()}


def check_layer(params, layer, weights, gates=1, **arrays):
    """Check a layer's parameter dict and arrays; return the dimensions.

    weights: ``{name: spec}`` in the order to check, where the symbol ``G`` stands for ``gates * H``
    (the fused gate blocks), e.g. ``{"W_h": "H G", "W_x": "D G", "b": "G"}`` for an LSTM (gates=4).
    arrays: more ``name=(array, spec)`` pairs for :func:`check_shapes`.
    """
    missing = [name for name in weights if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: {layer} needs {', '.join(weights)}")
    gate = f"{gates}H" if gates > 1 else "H"
    specs = {name: (params[name], spec.replace("G", gate)) for name, spec in weights.items()}
    first = next(iter(specs))                      # W_h for the gated layers: binds H and gH
    dims = check_shapes(**{first: specs[first]})
    if gates > 1 and dims[gate] != gates * dims["H"]:
        raise ValueError(f"{first} has shape {tuple(onp.shape(params[first]))}, expected "
                         f"(H, {gate}) = ({dims['H']}, {gates * dims['H']}): {layer} has "
                         f"{gates} gate blocks of H columns")
    return check_shapes(**specs, **arrays)


def check_dtypes(params, names, **arrays):
    """All of ``params[names]`` and ``arrays`` (None skipped) share one floating dtype; return it."""
    dtypes = {name: onp.result_type(params[name]) for name in names}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise ValueError(f"the params have mixed dtypes ({listed}): cast them to one, "
                         f"e.g. {{k: v.astype(np.float64) for k, v in params.items()}}")
    dtype = dtypes[names[0]]
    if dtype.kind != "f":
        raise ValueError(f"the params have dtype {dtype}: cast them to np.float32 or np.float64")
    for name, value in arrays.items():
        if value is None:
            continue
        got = onp.result_type(value)
        if got.kind != "f":
            raise ValueError(f"{name} has dtype {got}, but the layer computes in floating point: "
                             f"cast it, e.g. {name}.astype(np.{dtype})")
        if got != dtype:
            raise ValueError(f"{name} has dtype {got} but the params have {dtype}: cast one of "
                             f"them, e.g. {name}.astype(np.{dtype}), so the layer computes in one "
                             f"precision")
    return dtype


def check_sequence(params, layer, weights, xs, state=None, gates=1):
    """What the RNN and the GRU check before a sequence: params (see :func:`check_layer`),
    xs: (T, B, D) and state (h_0: (B, H) or None) with matching shapes, one floating dtype and
    finite values. (The LSTM's state is a pair, so it checks its own.)"""
    params, xs, h0 = values(params), getval(xs), getval(state)
    given = {} if h0 is None else {"state": (h0, "B H")}
    check_layer(params, layer, weights, gates=gates, xs=(xs, "T B D"), **given)
    check_dtypes(params, list(weights), xs=xs, state=h0)
    check_finite("xs", xs)
    check_finite("state", h0, time_major=False)


def first_non_finite(value):
    """Index of the first NaN or inf (C order: smallest time step first) and which it is, as
    ``(index, "NaN" or "inf")``; None if every entry is finite."""
    value = onp.asarray(value)
    bad = ~onp.isfinite(value)
    if not bad.any():
        return None
    index = tuple(int(i) for i in onp.argwhere(bad)[0])
    return index, ("NaN" if onp.isnan(value[index]) else "inf")


def check_finite(name, value, time_major=True):
    """Raise if ``value`` (T, B, ...) or, with time_major=False, (B, ...) holds NaN or inf."""
    value = getval(value)
    if value is None or onp.isfinite(value).all():
        return
    index, kind = first_non_finite(value)
    where = (f"time step {index[0]}, batch index {index[1]}" if time_major
             else f"batch index {index[0]}")
    raise ValueError(f"{name} holds {kind} at {where} (index {index}): the layer needs finite "
                     f"inputs; check how {name} was made")


def check_finite_gradients(grads):
    """Raise ValueError naming the first parameter whose gradient holds a NaN or an infinity."""
    for name, g in leaves(grads):
        found = first_non_finite(g)
        if found is not None:
            index, _ = found
            raise ValueError(
                f"the gradient of {name} is not finite: {onp.asarray(g)[index]} at index {index} "
                f"({int(onp.size(g) - onp.sum(onp.isfinite(g)))} of {onp.size(g)} entries). The "
                f"loss or a gradient overflowed: try a smaller learning rate or gradient clipping")


def check_gradient(layer, dhs, dzs, grads):
    """After a fast backward pass: raise if the gradient became NaN or inf, naming the time step.

    dhs: (T, B, H) the gradient that arrived at hs; dzs: (T, B, ...) the gradients of the
    pre-activations, one slice per step; grads: the results (small arrays, checked first: a NaN or
    inf anywhere in dzs reaches their sums).
    """
    if all(onp.isfinite(g).all() for g in grads):
        return
    if not onp.isfinite(dhs).all():
        (t, b, *_), kind = first_non_finite(dhs)
        raise ValueError(f"the gradient arriving at the {layer}'s hs is already {kind} at time step "
                         f"{t}, batch index {b}: the loss or the layers after this one produced it")
    bad_steps = onp.flatnonzero(~onp.isfinite(dzs.reshape(len(dzs), -1)).all(axis=1))
    if len(bad_steps) == 0:
        raise ValueError(f"a parameter gradient of the {layer} overflowed when summed over time: "
                         f"scale the loss down or clip the gradients")
    t = int(bad_steps[-1])                         # backward runs from T - 1 down: it appeared here
    raise ValueError(f"the {layer}'s gradient became NaN or inf at time step {t} of the backward "
                     f"pass (and stays so for every earlier step): the gradient explodes through "
                     f"W_h; use a smaller learning rate, gradient clipping or float64, or run "
                     f"forward_reference to inspect it")


def check_state_dict(state_dict, module, gates):
    """Keys and shapes of a single-layer unidirectional PyTorch ``module`` state dict.

    Returns the four arrays (weight_ih, weight_hh, bias_ih, bias_hh) with their dtype kept, and H.
    """
    expected = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    missing = [k for k in expected if k not in state_dict]
    extra = sorted(k for k in state_dict if k not in expected)
    if missing or extra:
        problems = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra
                                                                  else [])
        raise ValueError(f"state_dict has {' and '.join(problems)}: from_torch takes the "
                         f"state_dict() of a single-layer, unidirectional {module} with biases, "
                         f"keys {expected}")
    w_ih, w_hh, b_ih, b_hh = (onp.asarray(state_dict[k]) for k in expected)
    H = w_hh.shape[1] if w_hh.ndim == 2 else "H"
    D = w_ih.shape[1] if w_ih.ndim == 2 else "D"
    G = f"{gates}H" if gates > 1 else "H"
    n = gates * H if w_hh.ndim == 2 else G
    for key, value, shape, spec in [("weight_hh_l0", w_hh, (n, H), f"({G}, H)"),
                                    ("weight_ih_l0", w_ih, (n, D), f"({G}, D)"),
                                    ("bias_ih_l0", b_ih, (n,), f"({G},)"),
                                    ("bias_hh_l0", b_hh, (n,), f"({G},)")]:
        if value.shape != shape:
            raise ValueError(f"state_dict['{key}'] has shape {value.shape}, expected {spec} = "
                             f"{shape} for a {module} (H from weight_hh_l0)")
    dtypes = {str(v.dtype) for v in (w_ih, w_hh, b_ih, b_hh)}
    if len(dtypes) > 1 or w_hh.dtype.kind != "f":
        raise ValueError(f"state_dict holds dtypes {sorted(dtypes)}: expected one float dtype")
    return w_ih, w_hh, b_ih, b_hh
