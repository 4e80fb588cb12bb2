"""Which test cells a run can leave out: what each notebook cell reads and binds by name.

A graded test cell awards nothing (the questions decide every point); left out of a run it saves
its time, provided the cells after it see the same names. :func:`deferrable` says which test
cells bind (or delete) no name that a later cell reads before binding it itself, as far as the
code says by name: a cell that changes an object in place (``params["W"] += 1``) or the global
random state is not seen, and the grader's own questions pass every input they use.

The analysis errs towards keeping a cell: a name read anywhere in a function, a class or a branch
counts as read where the definition or the branch starts; a name bound only in one branch of an
``if``, in a loop or in a ``try`` does not count as bound after it; a cell that does not parse,
imports ``*`` or holds a magic or a shell escape (IPython makes them calls whose code is a
string) keeps every test cell before it, and itself if it is one.
"""
import ast
import functools

from rnncore_grader.wire import AST_LOCK


def _loads(node):
    """Names an expression (or any node) reads, less those it binds itself first (comprehension
    targets, lambda arguments, ``:=``)."""
    reads, own = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (reads if isinstance(sub.ctx, ast.Load) else own).add(sub.id)
        elif isinstance(sub, ast.arg):
            own.add(sub.arg)
    return reads - own


def _bound(target):
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


class _Cell:
    """free: names read before the cell binds them; binds: every name it binds or deletes
    anywhere; sure: names it binds at its top level whatever happens (after it, they hold the
    cell's values)."""

    def __init__(self, tree):
        self.free, self.binds, self.sure = set(), set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self.binds.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.binds.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.binds.update(_imported(node))
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                self.binds.update(node.names)
        self.sure = self._block(tree.body, set())

    def _read(self, node, bound):
        self.free |= _loads(node) - bound

    def _block(self, statements, bound):
        """Reads the statements' free names; returns the names they surely bind."""
        start = set(bound)
        for statement in statements:
            bound |= self._statement(statement, bound)
        return bound - start

    def _statement(self, node, bound):
        """Reads node's free names; returns the names it surely binds."""
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            if node.value is not None:
                self._read(node.value, bound)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:       # a[i] = v reads a and i; x = v binds x
                if not isinstance(target, ast.Name):
                    self._read(target, bound)
            return set().union(*[_bound(t) for t in targets if isinstance(t, (ast.Name,
                                                                              ast.Tuple,
                                                                              ast.List))])
        if isinstance(node, ast.AugAssign):
            self._read(node.value, bound)
            self.free |= ({node.target.id} - bound if isinstance(node.target, ast.Name)
                          else _loads(node.target) - bound)
            return set()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return _imported(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._read(node, bound - {node.name})
            return {node.name}
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self._read(node.iter, bound)
            self._block(node.body + node.orelse, bound | _bound(node.target))
            return set()
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = set(bound)
            for item in node.items:
                self._read(item.context_expr, inner)
                if item.optional_vars is not None:
                    inner |= _bound(item.optional_vars)
            self._block(node.body, inner)
            return inner - bound
        if isinstance(node, (ast.If, ast.While)):
            self._read(node.test, bound)
            body, orelse = self._block(node.body, set(bound)), self._block(node.orelse, set(bound))
            return body & orelse if isinstance(node, ast.If) else set()
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self._block(node.body, set(bound))
            for handler in node.handlers:
                if handler.type is not None:
                    self._read(handler.type, bound)
                self._block(handler.body, bound | ({handler.name} if handler.name else set()))
            self._block(node.orelse + node.finalbody, set(bound))
            return set()
        if isinstance(node, ast.Delete):
            self._read(node, bound)
            return set()
        self._read(node, bound)          # expressions, assert, return, raise, match, ...
        return set()


def _imported(node):
    return {alias.asname or alias.name.split(".")[0] for alias in node.names}


@functools.lru_cache(maxsize=4096)
def cell_names(code):
    """The _Cell of a cell's code, or None when it cannot be told: the code does not parse, it
    imports *, or IPython would turn some of it into calls (a magic such as %time runs code
    that is only a string to the parser). Kept per code: every submission of an assignment
    has the same instructor's cells (and the result is only read)."""
    from rnncore_grader.runner import transform
    try:
        with AST_LOCK:                   # (CPython 3.11's ast is not thread-safe: see wire)
            python = transform(code)
            tree = ast.parse(python)
    except SyntaxError:
        return None
    if python != code and "get_ipython()" in python:
        return None
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
           for n in ast.walk(tree)):
        return None
    return _Cell(tree)


def deferrable(cells):
    """The positions in cells ([(code, is_graded_test)]) of the graded test cells whose names no
    later cell reads: for each name the test cell binds or deletes, every later cell up to one
    that surely binds it again reads it only after binding it itself."""
    found = [cell_names(code) for code, _ in cells]
    out = set()
    for k, (_, is_test) in enumerate(cells):
        if not is_test or found[k] is None:
            continue
        names, depends = set(found[k].binds), False
        for later in found[k + 1:]:
            if not names:
                break
            if later is None or names & later.free:
                depends = True
                break
            names -= later.sure
        if not depends:
            out.add(k)
    return out
