"""Fixtures shared by the test modules."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = [str(Path(sys.executable).with_name("jupyter-book"))]   # beside this Python


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
