"""Fixtures shared by the test modules."""
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
