"""Small real data shipped inside the package (see ``rnncore/data/README.md`` for provenance)."""
import csv
from importlib import resources

import numpy as np


def load_sunspots():
    """Yearly mean sunspot activity, 1700-2008 (NOAA NGDC, public domain).

    Returns ``(years, activity)``, two float arrays of shape (309,).
    """
    with resources.files("rnncore.data").joinpath("sunspots.csv").open() as f:
        rows = list(csv.DictReader(f))
    years = np.array([float(r["YEAR"]) for r in rows])
    activity = np.array([float(r["SUNACTIVITY"]) for r in rows])
    return years, activity


def load_corpus():
    """About 270 KB of English prose for character-level language models (PSF License).

    The Python 3.11.7 Language Reference and Library topics as plain ASCII text, code removed
    (``rnncore/data/README.md`` says exactly how). Returns one string; paragraphs are separated
    by a blank line.
    """
    return resources.files("rnncore.data").joinpath("python_docs.txt").read_text(encoding="ascii")
