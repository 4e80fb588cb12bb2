"""Fixtures and markers shared by the test folders (library, grading, course, browser)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")          # before any test module imports pyplot: figures are never shown

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = [str(Path(sys.executable).with_name("jupyter-book"))]   # beside this Python


@pytest.fixture
def close_figures():
    """Close every figure a test drew (modules that draw: pytestmark = usefixtures(...))."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the book as the README does, into a fresh folder: nothing cached, every cell run."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(JUPYTER_BOOK + ["build", str(ROOT), "--path-output", str(out), "-W",
                                            "--keep-going"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (f"the book failed to build (exit {result.returncode}):\n"
                                    f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return out / "_build" / "html"


# --- markers: what a test tests, and whether it is slow --------------------------------------------
# Each folder of tests/ is one kind and gets its marker: library, grading (the rnncore_grader
# package; marker "grader"), course, browser. The course and browser tests, and the grader's end-to-end tests
# (test_grader.py: whole courses graded in the sandbox, PostgreSQL; test_edition.py), are also
# "slow". `pytest -m "not slow"` runs the library's and the grader's unit tests in about a minute;
# plain `pytest` runs everything.
FOLDER_MARKERS = {"library": ("library",), "grading": ("grader",), "course": ("course", "slow"),
                  "browser": ("browser", "slow")}
SLOW_MODULES = {"test_grader.py", "test_edition.py", "test_scaling.py"}


# --- two workers (pytest-xdist: `-n 2` in pyproject.toml) ------------------------------------------
# Tests are handed out a module at a time (a module's fixtures are made once), except that every
# module that reads the built book or builds a book of its own (they share the JupyterLite download
# cache) goes to the same worker: the book is built once per run and no two builds race. (xdist's
# own `xdist_group` marks are ignored under pytest 9, which no longer reads the renamed node ids.)
BOOK_MODULES = {"test_book.py", "test_reader_features.py", "test_browser.py", "test_lite.py",
                "test_jupyterlab.py"}


def _work_unit(nodeid):
    module = nodeid.split("::", 1)[0]
    return "the book" if Path(module).name in BOOK_MODULES else module


if importlib.util.find_spec("xdist"):
    def pytest_xdist_make_scheduler(config, log):
        from xdist.scheduler import LoadScopeScheduling

        class ByModuleBookTogether(LoadScopeScheduling):
            def _split_scope(self, nodeid):
                return _work_unit(nodeid)

        return ByModuleBookTogether(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        for marker in FOLDER_MARKERS.get(path.parent.name, ()):
            item.add_marker(marker)
        if path.name in SLOW_MODULES:
            item.add_marker("slow")
        if "built_book" in getattr(item, "fixturenames", ()) and path.name not in BOOK_MODULES:
            raise pytest.UsageError(f"{item.nodeid} reads the built book: list its module in "
                                    f"BOOK_MODULES (tests/conftest.py)")
