"""What crosses the sandbox's wall: plain data, framed, never pickled.

A message is a 4-byte big-endian length followed by an ``.npz`` archive. Its ``__meta__`` entry
is JSON text describing the value; every numpy array in the value is stored as an entry of its
own and named in the JSON. ``np.load(..., allow_pickle=False)`` reads it back, so a message can
hold numbers, text and arrays but never code: whatever the submission writes, the grader only
ever reads data from it.

Values that travel: None, bool, int, float, str, numpy arrays and scalars (not of dtype object),
lists, tuples, dicts with str keys, ``np.random.Generator`` (sent as its bit generator's state, so
both sides draw the same numbers), and, towards the sandbox only, ``Library("module:attribute")``
(a library function as an argument).
"""
import io
import json
import os
import struct
import threading

import numpy as np

MAX_MESSAGE = 256 * 2**20          # bytes; a longer message is refused, not read
_HEADER = struct.Struct(">I")


class WireError(ValueError):
    """A value that cannot travel, or bytes that are not a message."""


class Library:
    """A function of the installed libraries, named "module:attribute", as an argument: the
    sandbox's side imports it (to test e.g. a student's wrapper with rnncore's cell). The
    grader's side never imports anything it receives: there it stays this inert name."""

    def __init__(self, target):
        self.target = str(target)

    def __repr__(self):
        return f"Library({self.target!r})"

    def resolve(self):
        import importlib
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


def encode(value):
    """The bytes of one message holding value."""
    arrays = {}

    def enc(x):
        if isinstance(x, (np.ndarray, np.generic)):     # first: np.float64 is a float too
            a = np.asarray(x)
            if a.dtype.hasobject or a.dtype.kind == "V":
                raise WireError(f"cannot send an array of dtype {a.dtype}")
            name = f"a{len(arrays)}"
            arrays[name] = a
            return {"array": name, "scalar": isinstance(x, np.generic)}
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return {"int": str(x)}                      # JSON would round big integers
        if isinstance(x, float):
            return {"float": repr(float(x))}            # nan and inf, exactly
        if isinstance(x, list):
            return [enc(v) for v in x]
        if isinstance(x, tuple):
            return {"tuple": [enc(v) for v in x]}
        if isinstance(x, dict):
            if not all(isinstance(k, str) for k in x):
                raise WireError("cannot send a dict whose keys are not all str")
            return {"dict": [[k, enc(v)] for k, v in x.items()]}
        if isinstance(x, np.random.Generator):
            return {"generator": enc(x.bit_generator.state)}
        if isinstance(x, Library):
            return {"library": x.target}
        raise WireError(f"cannot send a value of type {type(x).__name__}")

    meta = json.dumps(enc(value))
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(meta), **arrays)
    body = buffer.getvalue()
    return _HEADER.pack(len(body)) + body


# np.load reads each array's header with ast.literal_eval. In CPython 3.11 the ast module's
# recursion counter is shared by all threads, so two graders' threads building ast objects at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (seen in CI, a
# student then losing a point, and in rnncore_grader.names's ast.parse): every use of the ast
# module in the grading process holds this lock.
AST_LOCK = threading.Lock()


def decode(body, functions=False):
    """The value in a message's body (the bytes after its length). Library names become the
    functions they name only with functions=True (the sandbox's side)."""
    try:
        with AST_LOCK, np.load(io.BytesIO(body), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(str(arrays.pop("__meta__")))
    except Exception as error:                          # bad zip, pickled or unreadable entries
        raise WireError(f"not a message ({type(error).__name__}: {error})") from None

    def dec(x):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, list):
            return [dec(v) for v in x]
        if isinstance(x, dict) and len(x) >= 1:
            if "int" in x:
                return int(x["int"])
            if "float" in x:
                return float(x["float"])
            if "array" in x:
                a = arrays[x["array"]]
                return a[()] if x.get("scalar") else a
            if "tuple" in x:
                return tuple(dec(v) for v in x["tuple"])
            if "dict" in x:
                return {str(k): dec(v) for k, v in x["dict"]}
            if "library" in x:
                named = Library(x["library"])
                return named.resolve() if functions else named
            if "generator" in x:
                state = dec(x["generator"])
                bit_generator = getattr(np.random, str(state["bit_generator"]))()
                bit_generator.state = state
                return np.random.Generator(bit_generator)
        raise WireError(f"not a value: {str(x)[:80]}")

    try:
        return dec(meta)
    except WireError:
        raise
    except Exception as error:
        raise WireError(f"not a value ({type(error).__name__}: {error})") from None


def send(fd, value):
    """Write one message holding value to the file descriptor fd."""
    data = encode(value)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd, read_exactly, functions=False):
    """One value from fd; read_exactly(fd, n) returns n bytes or raises (EOF, timeout)."""
    (length,) = _HEADER.unpack(read_exactly(fd, _HEADER.size))
    if length > MAX_MESSAGE:
        raise WireError(f"message of {length} bytes refused (limit {MAX_MESSAGE})")
    return decode(read_exactly(fd, length), functions)
