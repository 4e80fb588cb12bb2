"""What readers expect of a Jupyter Book, checked in the built HTML and the sources (no browser):
launch buttons from one repository URL, downloads as .ipynb and .md, no duplicated inline scripts,
a default colour mode and a favicon, the bibliography, the notation page, the "how to use this
course" pages kept in step with the README and nbgrader_config.py, and colour-blind-safe plots.
"""
import re
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# The papers the chapters cite now and the later chapters will: key -> (first author, year).
PAPERS = {
    "vaswani2017": ("Vaswani", 2017), "bai2018": ("Bai", 2018),
    "katharopoulos2020": ("Katharopoulos", 2020), "gu2023": ("Gu", 2023),
    "elman1990": ("Elman", 1990), "werbos1990": ("Werbos", 1990),
    "williams1990": ("Williams", 1990), "pascanu2013": ("Pascanu", 2013),
    "hochreiter1997": ("Hochreiter", 1997), "cho2014": ("Cho", 2014),
    "bahdanau2015": ("Bahdanau", 2015), "vaswani2017": ("Vaswani", 2017),
    "bai2018": ("Bai", 2018), "graves2013": ("Graves", 2013),
    "schuster1997": ("Schuster", 1997), "kingma2015": ("Kingma", 2015),
}


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]


def notebook_pages():
    """Toc entries that are notebooks: the chapters (MyST .md notebooks) and the exercises."""
    return [name for name in toc_files()
            if name.startswith("exercises/") or re.match(r"book/ch\d\d_", name)]


def html(built_book, name):
    return (built_book / f"{name}.html").read_text(encoding="utf-8")


# --- launch buttons and downloads --------------------------------------------------------------

def test_launch_buttons_point_at_the_one_repository_url(built_book):
    url = CONFIG["repository"]["url"].rstrip("/")
    org_repo = "/".join(url.split("/")[-2:])
    branch = CONFIG["repository"].get("branch", "main")
    launchers = {key: value.rstrip("/") for key, value in CONFIG["launch_buttons"].items()
                 if key.endswith("_url") and value}
    assert {"binderhub_url", "colab_url"} <= set(launchers), "Binder and Colab must be configured"
    for name in notebook_pages():
        page = html(built_book, name)
        source = next(p for p in (ROOT / f"{name}.ipynb", ROOT / f"{name}.md") if p.exists())
        path = source.relative_to(ROOT).as_posix()
        expected = {
            "binderhub_url": f'{launchers["binderhub_url"]}/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{path}',
            "colab_url": f'{launchers["colab_url"]}/github/{org_repo}/blob/{branch}/{path}',
        }
        if "jupyterhub_url" in launchers:
            expected["jupyterhub_url"] = f'{launchers["jupyterhub_url"]}/hub/user-redirect/git-pull?'
        for key, link in expected.items():
            assert f'href="{link}' in page, f"{name}: no {key} launch link {link}"


def test_the_repository_url_is_written_in_one_place():
    url = CONFIG["repository"]["url"].rstrip("/")
    org_repo = "/".join(url.split("/")[-2:])
    files = [ROOT / "README.md", ROOT / "_toc.yml", ROOT / "nbgrader_config.py",
             ROOT / "pyproject.toml", ROOT / "requirements.txt", *ROOT.glob("book/*.md"),
             *ROOT.glob("book/_*/*.*")]
    others = [f.relative_to(ROOT).as_posix() for f in files
              if f.is_file() and f.suffix in (".md", ".py", ".toml", ".txt", ".yml", ".html",
                                              ".js", ".css")
              and org_repo in f.read_text(encoding="utf-8", errors="replace")]
    assert not others, f"the repository URL is repeated outside _config.yml in {others}"


def test_chapters_download_as_ipynb_with_outputs_and_as_md(built_book):
    for name in notebook_pages():
        if not name.startswith("book/"):
            continue
        page = html(built_book, name)
        for suffix in (".ipynb", ".md"):
            link = f"_sources/{name}{suffix}"
            assert f'{link}"' in page, f"{name}: no download link to {link}"
            assert (built_book / link).is_file(), f"{name}: {link} was not built"
        notebook = nbformat.read(built_book / f"_sources/{name}.ipynb", as_version=4)
        assert any(cell.get("outputs") for cell in notebook.cells), (
            f"{name}: the downloadable notebook has no outputs")


# --- page chrome: scripts, colour mode, favicon --------------------------------------------------

def pages(built_book):
    return [p for p in built_book.rglob("*.html")
            if "_static" not in p.relative_to(built_book).parts and p.name != "index.html"]


def test_no_inline_script_declares_a_constant_twice(built_book):
    """A second `const X` in a page is a SyntaxError in the console (sphinx-thebe's config script
    was written twice under Sphinx 7.4; thebe is off and sphinx_thebe is no longer loaded)."""
    problems = []
    for page in pages(built_book):
        text = page.read_text(encoding="utf-8")
        assert "THEBE_JS_URL" not in text, f"{page.name}: sphinx-thebe's script is back"
        names = re.findall(r"<script>[^<]*?\b(?:const|let)\s+(\w+)", text)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(f"{page.relative_to(built_book)}: {twice}")
    assert not problems, "inline scripts declaring the same name twice:\n" + "\n".join(problems)


def test_pages_have_a_default_colour_mode_and_a_favicon(built_book):
    favicon = CONFIG["html"]["favicon"]
    assert (ROOT / favicon).is_file()
    for page in pages(built_book):
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(built_book)
        assert 'data-theme="auto"' in text and 'data-default-mode="auto"' in text, (
            f"{name}: no default colour mode (pydata-sphinx-theme logs 'invalid theme mode')")
        icon = re.search(r'<link rel="icon" href="([^"]+)"', text)
        assert icon, f"{name}: no favicon link (the browser would ask for /favicon.ico)"
        assert (page.parent / icon.group(1)).resolve().is_file(), f"{name}: favicon not built"


# --- bibliography --------------------------------------------------------------------------------

def bib_entries():
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    return dict(re.findall(r"@\w+\{(\w+),(.*?)\n\}", text, flags=re.S))


def test_the_bibliography_holds_the_papers_with_their_data():
    entries = bib_entries()
    assert set(PAPERS) <= set(entries), f"missing from references.bib: {set(PAPERS) - set(entries)}"
    for key, (author, year) in PAPERS.items():
        body = entries[key]
        assert re.search(rf"author\s*=\s*\{{{author}\b", body), f"{key}: first author {author}"
        assert re.search(rf"year\s*=\s*\{{{year}\}}", body), f"{key}: year {year}"
        assert re.search(r"\b(doi|url|eprint)\s*=", body), f"{key}: no DOI, URL or arXiv id"


def test_every_citation_resolves_and_the_bibliography_lists_every_paper(built_book):
    entries = bib_entries()
    for source in sorted(ROOT.glob("book/*.md")):
        for key in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source.read_text(encoding="utf-8")):
            for k in key.split(","):
                assert k.strip() in entries, f"{source.name} cites unknown key {k!r}"
    cited = {"book/ch01_basic_structure": ["elman1990"],
             "book/ch02_how_rnns_work": ["shannon1951", "mikolov2010", "jelinek1977", "chen1996",
                                         "holtzman2020"],
             "book/ch03_bptt": ["werbos1990", "williams1990", "pascanu2013"],
             "book/ch04_limitations": ["bengio1994", "pascanu2013", "mikolov2012"],
             "book/ch05_variants": ["hochreiter1997", "gers2000", "cho2014", "chung2014",
                                    "le2015", "schuster1997", "bahdanau2015", "luong2015"],
             "book/ch06_applications": ["yule1927", "hyndman2021", "peterson1952", "harris1978",
                                        "graves2013speech", "donahue2015", "srivastava2015",
                                        "sutskever2014", "karpathy2015"],
             "book/ch07_alternatives": ["vaswani2017", "bai2018", "haviv2022", "ba2016", "he2016",
                                        "xiong2020", "oord2016", "yu2016"],
             "book/ch08_conclusion": ["pope2023", "katharopoulos2020", "peng2023", "gu2023",
                                      "hochreiter1997"]}
    bibliography = html(built_book, "book/bibliography")
    for name, keys in cited.items():
        page = html(built_book, name)
        links = re.findall(r'href="bibliography\.html#([^"]+)"', page)
        assert len(links) >= len(keys), f"{name} should cite {keys}, links {links}"
        for anchor in links:
            assert f'id="{anchor}"' in bibliography, f"{name}: citation #{anchor} has no target"
    listed = re.findall(r'class="citation"', bibliography)
    assert len(listed) == len(entries), (
        f"the bibliography page lists {len(listed)} papers, references.bib has {len(entries)}")


# --- notation and the "how to use" pages -------------------------------------------------------

def test_the_notation_table_is_in_one_place():
    notation = (ROOT / "book" / "notation.md").read_text(encoding="utf-8")
    for symbol in ["$T$", "$B$", "$D$", "$H$", "$V$", "$x_t$", "$h_t$", "$h_0$", "$z_t$", "$y_t$",
                   "$W_x$", "$W_h$", "$b_h$", "$W_y$", "$b_y$", "$f$", "$g$", "$p_t$", "$L$",
                   "$\\ell_t$", "$dA$", "$g_t$", "$k$", "$\\odot$"]:
        assert f"| {symbol}" in notation, f"notation.md does not define {symbol} in a table row"
    rows = re.findall(r"^\| (\$[^|]+\$) \|", notation, flags=re.M)
    repeated = sorted({r for r in rows if rows.count(r) > 1})
    assert not repeated, f"notation.md defines {repeated} more than once"
    # The introduction and the "how to use" pages link to it rather than keep a copy. (Chapter 1
    # keeps its own table of the symbols it introduces: translating between the two layouts is
    # one of its learning objectives.)
    for page in ["intro.md", "for_students.md", "for_instructors.md"]:
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        assert not re.search(r"^\| \$W_x\$", text, flags=re.M), (
            f"{page} has its own notation table: link to notation.md instead")
        if page != "for_instructors.md":
            assert "{doc}`notation`" in text, f"{page} does not link to the notation page"


def readme_section(title):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 3)
    return text[start:end if end > 0 else None]


def test_the_instructor_page_matches_the_readme_and_nbgrader_config():
    page = (ROOT / "book" / "for_instructors.md").read_text(encoding="utf-8")
    readme = readme_section("For instructors")
    commands = [line.strip() for line in readme.splitlines() if line.strip().startswith("nbgrader ")]
    assert commands, "the README's instructor section shows no nbgrader command"
    for command in commands:
        assert command in page, f"for_instructors.md lacks the README's `{command}`"
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    for key in ("course_id", "source_directory", "release_directory"):
        value = re.search(rf"CourseDirectory\.{key} = \"([^\"]+)\"", config).group(1)
        assert f"`{value}" in page, f"for_instructors.md does not name {key} = {value!r}"
    timeout = re.search(r"ExecutePreprocessor\.timeout = (\d+)", config).group(1)
    assert f"{timeout} s timeout" in page and f"{timeout} s timeout" in readme, (
        f"the per-cell timeout ({timeout} s) differs between nbgrader_config.py and the docs")


def test_the_student_page_matches_the_readme():
    page = (ROOT / "book" / "for_students.md").read_text(encoding="utf-8")
    readme = readme_section("For students")
    for snippet in re.findall(r"`((?:nbgrader|jupyter) [^`]+)`", readme):
        assert snippet in page, f"for_students.md lacks the README's `{snippet}`"
    assert "Validate" in page and "NotImplementedError" in page


# --- colour-blind-safe plots --------------------------------------------------------------------

SAFE_CMAPS = {"cividis", "viridis", "Greys", "gray", "binary"}     # and their _r reverses
SAFE_NAMED = {"black", "white", "none", "k", "w", "gray", "grey"}


def test_plots_use_colour_blind_safe_colours():
    """Okabe & Ito's palette and cividis/viridis/greys only, in the library and the chapters."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnncore import plots
    plots.use_style()
    cycle = [c.upper() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.upper() for c in plots.OKABE_ITO]
    assert plt.rcParams["image.cmap"] in SAFE_CMAPS
    okabe_ito = {c.upper() for c in plots.OKABE_ITO}
    problems = []
    for path in [*ROOT.glob("rnncore/*.py"), *ROOT.glob("book/*.md")]:
        text = path.read_text(encoding="utf-8")
        for cmap in re.findall(r"cmap\s*=\s*[\"']([\w.]+)[\"']", text):
            if cmap.removesuffix("_r") not in SAFE_CMAPS:
                problems.append(f"{path.name}: cmap {cmap!r}")
        for colour in re.findall(r"\b(?:color|colour|edgecolor|facecolor|c)\s*=\s*[\"']([^\"']+)[\"']",
                                 text):
            grey = re.fullmatch(r"0?\.\d+|[01](\.0*)?", colour)
            if not (grey or colour.lower() in SAFE_NAMED or colour.upper() in okabe_ito
                    or re.fullmatch(r"C\d", colour)):
                problems.append(f"{path.name}: colour {colour!r}")
        if path.suffix == ".md" and "plt." in text and "plots.use_style()" not in text:
            problems.append(f"{path.name} plots without plots.use_style()")
    assert not problems, ("colours that are not colour-blind safe (use rnncore.plots.OKABE_ITO, "
                          "greys or cividis):\n" + "\n".join(problems))
