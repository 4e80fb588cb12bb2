"""The book builds from clean, every chapter page exists, and the pages need no network."""
import html
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import JUPYTER_BOOK
from course_files import (ASSIGNMENTS, HIDDEN_MARKERS, SOLUTION_MARKERS, code_lines,
                          secret_fragments)

ROOT = Path(__file__).resolve().parents[2]


def toc_files():
    """Every file the table of contents lists, without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


class Resources(HTMLParser):
    """Collect what a page loads (scripts, stylesheets, images, fonts) and its images' alt text."""

    def __init__(self):
        super().__init__()
        self.loads, self.images, self.styles = [], [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and set((attrs.get("rel") or "").split()) & {
                "stylesheet", "preload", "icon", "modulepreload", "prefetch"}:
            self.loads.append(attrs.get("href", ""))
        if tag == "img":
            self.images.append(attrs)
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def pages(built_book):
    """The book's pages (the theme's templates copied into _static/ are not pages)."""
    return [p for p in built_book.rglob("*.html") if "_static" not in p.relative_to(built_book).parts]


def external(url):
    return bool(re.match(r"^(https?:)?//", url.strip()))


def css_urls(text):
    return re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
        r"@import\s+['\"]([^'\"]+)", text)


def test_every_toc_entry_has_a_page(built_book):
    for name in toc_files():
        assert (built_book / f"{name}.html").is_file(), f"no page built for {name}"
    assert (built_book / "index.html").is_file()


def test_pages_load_nothing_from_outside_the_built_folder(built_book):
    problems = []
    for page in pages(built_book):
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        urls = parser.loads + [u for style in parser.styles for u in css_urls(style)]
        problems += [f"{page.relative_to(built_book)} loads {u}" for u in urls if external(u)]
    for sheet in built_book.rglob("*.css"):
        problems += [f"{sheet.relative_to(built_book)} loads {u}"
                     for u in css_urls(sheet.read_text(encoding="utf-8", errors="replace"))
                     if external(u)]
    assert not problems, "the built book reaches out to the network:\n" + "\n".join(problems)


def test_local_resources_exist(built_book):
    """Every script and stylesheet a page names is in the built folder (MathJax, widgets)."""
    missing = []
    for page in pages(built_book):
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.loads:
            if external(url) or url.startswith("data:") or not url:
                continue
            target = (page.parent / url.split("?")[0].split("#")[0]).resolve()
            if not target.exists():
                missing.append(f"{page.relative_to(built_book)} -> {url}")
    assert not missing, "pages name files that were not built:\n" + "\n".join(missing)
    chapter = (built_book / "book" / "ch01_basic_structure.html").read_text(encoding="utf-8")
    assert re.search(r'src="[^"]*mathjax/tex-mml-chtml\.js', chapter), "MathJax is not local"
    assert re.search(r'src="[^"]*html-manager/embed-amd\.js', chapter), "widget manager not local"


def test_chapter_pages_carry_outputs_widgets_and_alt_text(built_book):
    for name in toc_files():
        if not name.startswith("book/ch"):
            continue
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        parser = Resources()
        parser.feed(page)
        assert parser.images, f"{name} has no figures"
        no_alt = [img.get("src", "")[:60] for img in parser.images if not img.get("alt")]
        assert not no_alt, f"{name} has images without alt text: {no_alt}"
        assert "application/vnd.jupyter.widget-state+json" in page, (
            f"{name} embeds no widget state: its interactive control would be blank in the HTML")
        assert "Traceback" not in page, f"{name} shows a traceback"


def test_a_failing_cell_fails_the_build(tmp_path):
    """The configuration turns a cell error into a failed build (not a warning)."""
    book = tmp_path / "src"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    # Everything _config.yml refers to (vendored JS, CSS, templates, extension, favicon,
    # bibliography), but none of the pages.
    shutil.copytree(ROOT / "book", book / "book", ignore=shutil.ignore_patterns("*.md"),
                    dirs_exist_ok=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (book / "book" / "intro.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
        "  name: python3\n  display_name: Python 3\n---\n# Broken\n\n"
        "```{code-cell} ipython3\nraise RuntimeError('this cell fails')\n```\n")
    result = subprocess.run(JUPYTER_BOOK + ["build", str(book), "--path-output",
                                            str(tmp_path / "out")],
                            cwd=book, capture_output=True, text=True)
    assert result.returncode != 0, "a notebook cell raised, yet the build succeeded"
    assert "this cell fails" in result.stdout + result.stderr


def test_no_page_or_notebook_holds_a_control_character():
    """A Python string such as "\approx" written without r"" puts a control character (here BEL)
    where a backslash was: the page then shows broken maths. Tabs and newlines are text."""
    control = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    files = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]!r}"
             for path in files for n, line in enumerate(path.read_text().splitlines(), 1)
             if control.search(line) or re.search(r"\\u00(0[0-8bcef]|1[0-9a-f])", line)]
    assert files and not found, "control characters (a lost backslash?):\n" + "\n".join(found)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_built_book_shows_no_solution_code_and_no_hidden_tests(built_book, assignment):
    """The Exercises part of the book shows the release; no page may show an answer."""
    secret = secret_fragments(assignment)
    assert secret, f"{assignment}: found no solution or hidden-test code in the source"
    leaks = []
    for page in built_book.rglob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        lines = code_lines(text.split("\n"))
        shown = set(zip(lines, lines[1:])) | {(line,) for line in lines}
        leaks += [f"{page.relative_to(built_book)}: {fragment}" for fragment in sorted(shown & secret)]
    assert not leaks, "built pages show solution code or hidden tests:\n" + "\n".join(leaks)
    exercise_page = built_book / "exercises" / assignment / f"{assignment}.html"
    assert exercise_page.is_file(), f"the book has no page for the exercise {assignment}"
    shown = exercise_page.read_text(encoding="utf-8")
    assert "NotImplementedError" in shown
    # (the markers are named on the pages that explain them; on the exercise page they mean a leak)
    assert not [m for m in SOLUTION_MARKERS + HIDDEN_MARKERS if m in html.unescape(shown)], (
        f"the exercise page of {assignment} shows nbgrader's solution or hidden-test markers")
