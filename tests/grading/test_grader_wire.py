"""What crosses the sandbox's wall (rnncore_grader.wire): plain data round-trips; nothing else does."""
import io
import pickle

import numpy as np
import pytest

from rnncore_grader import wire
from rnncore_grader.checks import CheckFailed, expect_close


def roundtrip(value):
    return wire.decode(wire.encode(value)[4:])


def test_plain_data_comes_back_equal_and_of_the_same_types():
    value = {"W": np.arange(6.0).reshape(2, 3), "mean": np.float64(1.5), "flag": np.bool_(True),
             "big": 2**70, "nan": float("nan"), "inf": -float("inf"), "text": "h_t",
             "nested": (1, [2.5, None, {"a": np.int32(3)}]), "f32": np.ones(2, np.float32)}
    got = roundtrip(value)
    assert set(got) == set(value)
    assert np.array_equal(got["W"], value["W"]) and got["W"].dtype == value["W"].dtype
    assert type(got["mean"]) is np.float64 and got["mean"] == 1.5
    assert got["big"] == 2**70 and np.isnan(got["nan"]) and got["inf"] == -np.inf
    assert got["nested"][0] == 1 and isinstance(got["nested"], tuple)
    assert got["nested"][1][2]["a"] == 3 and got["f32"].dtype == np.float32


def test_a_generator_travels_with_its_state():
    rng = np.random.default_rng(7)
    rng.random(5)
    copy = roundtrip(rng)
    assert np.array_equal(copy.random(10), rng.random(10))


@pytest.mark.parametrize("value", [np.array([1, "a"], dtype=object), {1: 2}, object(),
                                   lambda: 0, {"f": print}])
def test_anything_but_plain_data_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def test_a_pickle_in_a_message_is_never_loaded():
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array('{"array": "a0", "scalar": false}'),
             a0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(wire.WireError):
        wire.decode(buffer.getvalue())
    with pytest.raises(wire.WireError):
        wire.decode(pickle.dumps({"a": 1}))
    with pytest.raises(wire.WireError):
        wire.decode(b"\xff" * 64)


def test_expect_close_names_the_part_that_differs():
    want = (np.zeros((2, 3)), {"c": np.ones(2)})
    expect_close((np.zeros((2, 3)), {"c": np.ones(2)}), want, "f(x)")
    with pytest.raises(CheckFailed, match=r"f\(x\)\[1\]\['c'\] differs .* index \(1,\)"):
        expect_close((np.zeros((2, 3)), {"c": np.array([1.0, 2.0])}), want, "f(x)")
    with pytest.raises(CheckFailed, match=r"has shape \(3, 2\), expected \(2, 3\)"):
        expect_close((np.zeros((3, 2)), {"c": np.ones(2)}), want, "f(x)")
    with pytest.raises(CheckFailed, match="Hint: transpose"):
        expect_close([np.ones(1)], [np.zeros(1)], "g", hint="transpose")
    with pytest.raises(CheckFailed, match="should be numbers"):
        expect_close("text", np.zeros(1), "g")
