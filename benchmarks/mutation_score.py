"""Mutation score of an assignment's tests: how many small changes of the solution they catch.

    python benchmarks/mutation_score.py ch01_basic_structure [more assignments] [--jobs 2]
                                        [--limit N] [--show-survivors]

For each answer cell of solutions/<a>/<a>.ipynb, every mutant is the solution with ONE change of
its code (the code between the solution markers, as Python's ast sees it):

- an arithmetic operator swapped (+ -, * /, @ *, ** *), a comparison loosened or flipped
  (< <=, > >=, == !=), a unary minus dropped;
- an integer constant +1 and -1 (indices, shapes, time offsets), a float constant * 2;
- an axis changed (axis=k -> another axis, or None; keepdims dropped);
- a transpose dropped (x.T -> x, np.transpose(x) / x.transpose() -> x, .swapaxes -> x);
- a statement deleted (an assignment or a call on its own line);
- a nonlinearity dropped (np.tanh(z) -> z, np.exp, np.log, np.maximum(a, b) -> a, sigmoid, ...).

Each mutant is graded by the course's grader (rnncore_grader.engine, in the sandbox when running as root)
with the other answer cells correct. It is killed when its own question loses points (hidden) or
one of the notebook's visible tests fails (what Validate shows); the score is killed/total over
the mutants not marked equivalent. EQUIVALENT below lists mutants that compute the same function
(found by reading the survivors), with the reason.
"""
import argparse
import ast
import copy
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnncore_grader import assignment as assignments, engine, sandbox as sandboxes, submission  # noqa

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
        ast.MatMult: ast.Mult, ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv,
        ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq}
TRANSPOSES = ("transpose", "swapaxes", "moveaxis")

# (assignment, answer cell, mutation description) -> why the mutant computes the same thing.
EQUIVALENT = {}


def solution_cells(assignment):
    """grade_id -> (the cell's code with the markers, the lines between them)."""
    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cells[meta["grade_id"]] = cell.source
    return cells


def answer_code(source):
    return "\n".join(line for line in source.split("\n")
                     if not any(marker in line for marker in MARKERS))


def _sites(tree):
    """[(node, description, how)] of the mutations of tree; how(node) changes it in place."""
    sites = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}:{getattr(node, 'col_offset', '?')}"
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAP:
            new = SWAP[type(node.op)]
            sites.append((node, f"{where}: {type(node.op).__name__} -> {new.__name__}",
                          lambda n, new=new: setattr(n, "op", new())))
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in SWAP:
                    new = SWAP[type(op)]
                    sites.append((node, f"{where}: {type(op).__name__} -> {new.__name__}",
                                  lambda n, i=i, new=new: n.ops.__setitem__(i, new())))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sites.append((node, f"{where}: unary minus dropped",
                          lambda n: (setattr(n, "op", ast.UAdd()))))
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if isinstance(node.value, int):
                for delta in (1, -1):
                    sites.append((node, f"{where}: {node.value} -> {node.value + delta}",
                                  lambda n, d=delta: setattr(n, "value", n.value + d)))
            else:
                sites.append((node, f"{where}: {node.value} -> {node.value * 2}",
                              lambda n: setattr(n, "value", n.value * 2)))
        if isinstance(node, ast.keyword) and node.arg == "axis":
            for new in _other_axes(node.value):
                sites.append((node, f"{where}: axis={ast.unparse(node.value)} -> "
                                    f"axis={ast.unparse(new)}",
                              lambda n, new=new: setattr(n, "value", copy.deepcopy(new))))
        if isinstance(node, ast.keyword) and node.arg == "keepdims":
            sites.append((node, f"{where}: keepdims dropped",
                          lambda n: setattr(n, "value", ast.Constant(False))))
        for field, child in ast.iter_fields(node):
            if isinstance(child, ast.Attribute) and child.attr == "T":
                sites.append((node, f"{where}: .T dropped",
                              lambda n, f=field: setattr(n, f, getattr(n, f).value)))
            if isinstance(child, ast.Call) and _transpose_of(child) is not None:
                sites.append((node, f"{where}: {ast.unparse(child.func)} dropped",
                              lambda n, f=field: setattr(n, f, _transpose_of(getattr(n, f)))))
            elif isinstance(child, ast.Call) and _elementwise_of(child) is not None:
                sites.append((node, f"{where}: {ast.unparse(child.func)}(...) dropped",
                              lambda n, f=field: setattr(n, f, _elementwise_of(getattr(n, f)))))
            if isinstance(child, list):
                for i, item in enumerate(child):
                    if isinstance(item, ast.Attribute) and item.attr == "T":
                        sites.append((node, f"{where}: .T dropped",
                                      lambda n, f=field, i=i: getattr(n, f).__setitem__(
                                          i, getattr(n, f)[i].value)))
                    if isinstance(item, ast.Call) and _transpose_of(item) is not None:
                        sites.append((node, f"{where}: {ast.unparse(item.func)} dropped",
                                      lambda n, f=field, i=i: getattr(n, f).__setitem__(
                                          i, _transpose_of(getattr(n, f)[i]))))
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            for i, statement in enumerate(statements):
                if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)) and not (
                        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
                    sites.append((node, f"line {statement.lineno}: statement deleted",
                                  lambda n, f=field, i=i: getattr(n, f).__setitem__(i, ast.Pass())))
    return sites


def _other_axes(value):
    if isinstance(value, ast.Constant) and value.value is None:
        return [ast.Constant(0)]
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return [ast.Constant(a) for a in (0, 1, -1, None) if a != value.value]
    if isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant):
        return [ast.Constant(0), ast.Constant(None)]
    if isinstance(value, ast.Tuple):
        return [ast.Constant(0), ast.Constant(None)]
    return []


ELEMENTWISE = ("tanh", "exp", "log", "sqrt", "abs", "maximum", "minimum", "clip", "sigmoid",
               "log1p", "expm1", "sign")


def _elementwise_of(call):
    """x of np.tanh(x), np.exp(x), ... (a nonlinearity dropped), else None."""
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr in ELEMENTWISE and call.args
            and isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy", "anp")):
        return call.args[0]
    if isinstance(func, ast.Name) and func.id in ("sigmoid", "softmax") and call.args:
        return call.args[0]
    return None


def _transpose_of(call):
    """The array a transpose call transposes (x of x.transpose(...), np.transpose(x, ...)),
    else None."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in TRANSPOSES:
        if isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy", "anp"):
            return call.args[0] if call.args else None
        return func.value
    return None


def mutants(source):
    """[(description, mutated answer code)] for the answer code source (no markers)."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    found, seen = [], set()
    for k in range(len(_sites(tree))):
        mutated = copy.deepcopy(tree)
        node, description, how = _sites(mutated)[k]
        try:
            how(node)
            code = ast.unparse(ast.fix_missing_locations(mutated))
            compile(code, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError, IndexError):
            continue
        if code != original and code not in seen:
            seen.add(code)
            same = sum(d == description or d.startswith(description + " (#") for d, _ in found)
            found.append((description + (f" (#{same + 1})" if same else ""), code))
    return found


def grade_mutants(assignment, jobs=2, limit=None, out=print):
    work = Path(tempfile.mkdtemp(prefix="mutants-"))
    try:
        for folder in ("solutions", "exercises"):
            shutil.copytree(ROOT / folder / assignment, work / folder / assignment)
        spec = assignments.load(work, assignment, "solutions", "exercises")
        (name, notebook), = spec.notebooks.items()
        notebook.ref
        correct = {g: answer_code(c) for g, c in solution_cells(assignment).items()}
        tasks = []
        for cell, code in correct.items():
            for description, mutated in mutants(code):
                tasks.append((cell, description, {**correct, cell: mutated}))
        if limit:
            tasks = tasks[:limit]
        try:
            sandboxes.check()
            unsafe = False
        except sandboxes.SandboxUnavailable:
            unsafe = True
        boxes = [sandboxes.Sandbox(4 + k, unsafe=unsafe) for k in range(jobs)]
        free = list(boxes)
        visible = [i for i, c in enumerate(notebook.release.cells)
                   if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                   and not c.metadata.get("nbgrader", {}).get("solution")]

        def grade(task):
            cell, description, codes = task
            box = free.pop()
            try:
                for attempt in range(3):          # (a sandbox that fails to start: try again)
                    try:
                        result = engine.grade(box, submission.prepare(notebook.release, codes),
                                              notebook.questions, notebook.points, notebook.ref,
                                              spec.seed(name, "mutant"),
                                              engine.Timeouts(cell=30, call=20))
                        break
                    except engine.SandboxError:
                        if attempt == 2:
                            raise
                        time.sleep(5)
            finally:
                free.append(box)
            hidden = result.scores.get(f"test_{cell}", (1, 1))
            anywhere = any(s < m for s, m in result.scores.values())
            seen = any(result.outcomes.get(i, {}).get("status") == "error" for i in visible)
            return hidden[0] < hidden[1] or anywhere, seen

        start = time.monotonic()
        try:
            with ThreadPoolExecutor(jobs) as pool:
                verdicts = list(pool.map(grade, tasks))
        finally:
            for box in boxes:
                box.close()
        rows = []
        for (cell, description, _), (by_grade, by_visible) in zip(tasks, verdicts):
            equivalent = EQUIVALENT.get((assignment, cell, description))
            rows.append((cell, description, by_grade, by_visible, equivalent))
        return rows, time.monotonic() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summary(assignment, rows, seconds, show_survivors, out=print):
    counted = [r for r in rows if not r[4]]
    killed = [r for r in counted if r[2] or r[3]]
    by_grade = sum(r[2] for r in counted)
    by_visible = sum(r[3] for r in counted)
    out(f"{assignment}: {len(killed)}/{len(counted)} mutants killed "
        f"({100 * len(killed) / max(len(counted), 1):.1f}%; by the grade {by_grade}, by a visible "
        f"test {by_visible}; {len(rows) - len(counted)} marked equivalent) in {seconds:.0f} s")
    for cell, description, g, v, equivalent in rows:
        if equivalent:
            out(f"    equivalent  {cell}: {description} ({equivalent})")
        elif show_survivors and not (g or v):
            out(f"    SURVIVED    {cell}: {description}")
        elif show_survivors and g != v:
            out(f"    {'hidden only ' if g else 'visible only'} {cell}: {description}")
    return len(killed), len(counted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, help="at most this many mutants per assignment")
    parser.add_argument("--show-survivors", action="store_true")
    args = parser.parse_args(argv)
    for assignment in args.assignments:
        rows, seconds = grade_mutants(assignment, args.jobs, args.limit)
        summary(assignment, rows, seconds, args.show_survivors)


if __name__ == "__main__":
    main()
