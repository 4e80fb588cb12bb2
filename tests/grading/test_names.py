"""rnncore_grader.names: which graded test cells a run can leave out without changing what the
cells after them see by name. Each case is a notebook of cells (the test cell first) and whether
that test cell can be left out; when in doubt, the answer must be "no"."""
import pytest

from rnncore_grader.names import cell_names, deferrable

CASES = [
    # (why, [test cell, later cells...], can be left out)
    ("binds nothing anyone reads", ["x = 1\nassert x == 1", "y = 2"], True),
    ("a later cell reads its name", ["x = 1", "print(x)"], False),
    ("a later cell binds the name before reading it", ["x = 1", "x = 2\nprint(x)"], True),
    ("a later cell reads it in its own right-hand side", ["x = 1", "x = x + 1"], False),
    ("an augmented assignment reads it", ["x = 1", "x += 1"], False),
    ("a cell in between binds it for sure", ["x = 1", "x = 5", "print(x)"], True),
    ("a cell in between binds it in one branch only", ["x = 1", "if f():\n    x = 5",
                                                       "print(x)"], False),
    ("bound in both branches of an if", ["hint = 'a'", "if c:\n    hint = 'b'\nelse:\n"
                                         "    hint = 'c'\nprint(hint)"], True),
    ("read after an if that binds it in one branch", ["hint = 'a'", "if c:\n    hint = 'b'\n"
                                                      "print(hint)"], False),
    ("a loop's variable, bound by the later loop", ["i = 3", "for i in range(2):\n    print(i)"],
     True),
    ("read after a loop that may not run", ["i = 3", "for i in []:\n    pass\nprint(i)"], False),
    ("a function of a later cell reads it", ["helper = 2", "def f():\n    return helper"], False),
    ("a function's own argument of the same name", ["x = 1", "def f(x):\n    return x"], True),
    ("a comprehension's own variable", ["x = 1", "ys = [x for x in range(3)]"], True),
    ("a lambda's own argument", ["x = 1", "f = lambda x: x + 1"], True),
    ("a test cell that deletes a name", ["del x", "print(x)"], False),
    ("a test cell that defines a function used later", ["def check(a):\n    return a",
                                                        "check(1)"], False),
    ("a test cell that imports a module used later", ["import math", "math.sqrt(2)"], False),
    ("a later cell that does not parse", ["x = 1", "def (:"], False),
    ("a later cell that imports *", ["x = 1", "from math import *"], False),
    ("with ... as binds it", ["f = 1", "with open('a') as f:\n    f.read()"], True),
    ("an exception's name", ["error = 1", "try:\n    g()\nexcept ValueError as error:\n"
                             "    print(error)"], True),
    ("read in a try after binding in it", ["x = 1", "try:\n    x = 2\nexcept Exception:\n"
                                           "    pass\nprint(x)"], False),
    ("a magic's code is read too", ["x = 1", "%time y = x + 1"], False),
    ("a subscript assignment reads the container", ["grads = {}", "grads['W'] = 1"], False),
]


@pytest.mark.parametrize("why, cells, expected", CASES, ids=[c[0] for c in CASES])
def test_a_test_cell_is_left_out_only_when_no_later_cell_reads_its_names(why, cells, expected):
    marked = [(code, k == 0) for k, code in enumerate(cells)]
    assert (0 in deferrable(marked)) is expected, why


def test_only_graded_test_cells_are_left_out():
    cells = [("x = 1", False), ("y = 2", True), ("z = 3", False)]
    assert deferrable(cells) == {1}


def test_a_cell_that_cannot_be_read_is_never_left_out():
    assert cell_names("def (:") is None
    assert deferrable([("def (:", True)]) == set()
