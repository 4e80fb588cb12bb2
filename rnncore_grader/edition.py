"""``python -m rnncore_grader student-edition OUT``: what students (and the launch buttons) get.

The course repository holds the answers (``solutions/``: the source notebooks and each
assignment's ``grading.py``, the trusted questions with their hidden inputs), the tests (whose
``tests/course/answers/`` are wrong and right answers) and the benchmarks (which grade the solutions).
The student edition is every file git tracks except those: the book, the released exercises,
``rnncore`` with its data, the grader's code (it holds no answer; ``pip install -e .`` needs it)
and the configuration. Nothing untracked is copied (no gradebook, no submissions, no
``.grader/secret``). Before it writes anything, it checks that no file it would copy is a
``grading.py`` or holds nbgrader's solution or hidden-test markers.
"""
import json
import re
import shutil
import subprocess
from pathlib import Path

# Top-level folders that stay with the instructors.
WITHHELD = ("solutions", "tests", "benchmarks", ".ci")
# nbgrader's markers as nbgrader reads them: a comment line of their own in code.
MARKER = re.compile(r"(?m)^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[ \t]*$")

NOTE = """\
> **Student edition.** This copy of the course has the book, the exercises (`exercises/`),
> `rnncore` and its data. The answers, the hidden tests and the grading questions stay with
> the instructors (it was made with `python -m rnncore_grader student-edition`).

"""


class EditionError(RuntimeError):
    """The edition was not written; the message says why."""


def files(root):
    """The repository's tracked files (relative paths) that go into the student edition."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                                check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as error:
        raise EditionError(f"{root} is not a git checkout (git ls-files failed: {error}); the "
                           f"edition copies exactly the files git tracks.") from None
    chosen = []
    for name in filter(None, listed):
        path = Path(name)
        if path.parts[0] in WITHHELD or not (Path(root) / path).is_file():
            continue
        chosen.append(path)
    return chosen


def _check(root, chosen):
    leaks = []
    for path in chosen:
        if path.name == "grading.py":
            leaks.append(f"{path}: a grading.py")
            continue
        try:
            text = (Path(root) / path).read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                text = "\n".join("".join(c.get("source", "")) for c in json.loads(text)["cells"])
        except (UnicodeDecodeError, OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        leaks += [f"{path}: {m.group(0).strip()!r}" for m in MARKER.finditer(text)]
    if leaks:
        raise EditionError("Nothing was written: these files would carry answers or hidden "
                           "tests:\n  " + "\n  ".join(leaks))


def build(root, out, repository=None):
    """Write the student edition of the course at root into the folder out (new or empty);
    repository: the URL the edition's launch buttons point at (its own repository)."""
    root, out = Path(root).resolve(), Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise EditionError(f"{out} exists and is not empty: give a new folder.")
    if out == root or root in out.parents:
        raise EditionError(f"{out} is inside the course folder {root}: give a folder outside it.")
    chosen = files(root)
    _check(root, chosen)
    for path in chosen:
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, out / path)
    readme = out / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        readme.write_text(f"{first}\n\n{NOTE}{rest.lstrip()}", encoding="utf-8")
    if repository:
        config = out / "_config.yml"
        text = config.read_text(encoding="utf-8")
        text, count = re.subn(r"(?m)^(repository:\n(?:[ \t].*\n)*?[ \t]+url:[ \t]*)\S+",
                              lambda m: m.group(1) + repository, text, count=1)
        if not count:
            raise EditionError("_config.yml has no `repository: url:` to point at the edition.")
        config.write_text(text, encoding="utf-8")
    return chosen
