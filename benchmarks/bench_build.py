"""How long the book takes to build: from clean (every chapter executed) and with nothing to do.

    python benchmarks/bench_build.py            # from the repository root, in the course's venv

1. **Clean build**: a fresh output folder, `jupyter-book build . --path-output <tmp>`; every
   chapter notebook runs (the execution cache is empty).
2. **No-op rebuild**: the same command again into the same folder; nothing changed, so Sphinx
   re-reads no page and no notebook runs.
3. **Cached rebuild** (`--all`): every page is read and written again, but each notebook's outputs
   come from the execution cache (`_build/.jupyter_cache`): none runs. This is the cost of a
   rebuild after a change that leaves the code cells alone (a theme or configuration change).

It prints the times, how many pages each build re-read and how many notebooks it executed, the
targets (clean at most 300 s, no-op at most 15 s, on 2 cores; the cached rebuild is held to the
no-op target too) and the machine. A benchmark, not a test: it only fails if a build fails or the
cache does not work (or, with --check, if a target is missed).
"""
import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))
TARGETS = {"clean": 300.0, "no-op": 15.0, "cached": 15.0}      # seconds, on 2 cores


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown CPU") if Path("/proc/cpuinfo").exists() else \
        platform.processor()
    memory = ""
    if Path("/proc/meminfo").exists():
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 2**20:.1f} GiB RAM"
    version = subprocess.run([JUPYTER_BOOK, "--version"], capture_output=True, text=True).stdout
    book = re.search(r"Jupyter Book\s*:\s*(\S+)", version)
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores{memory}; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}; Jupyter Book "
            f"{book.group(1) if book else '?'}")


def build(out, *options):
    """Run the build; return (seconds, pages re-read, notebooks executed, from the cache)."""
    start = time.perf_counter()
    result = subprocess.run([JUPYTER_BOOK, "build", str(ROOT), "--path-output", str(out),
                             *options], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)     # no colours
    if result.returncode != 0:
        sys.exit(f"the build failed (exit {result.returncode}):\n{log[-5000:]}")
    read = re.search(r"updating environment: (?:\[[^\]]*\] )?(\d+) added, (\d+) changed", log)
    pages = int(read.group(1)) + int(read.group(2)) if read else 0
    executed = len(re.findall(r"Executed notebook in", log))
    cached = len(re.findall(r"Using cached notebook", log))
    return seconds, pages, executed, cached


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="output folder (default: a temporary one, "
                        "removed afterwards); emptied before the clean build")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    out = args.output or Path(tempfile.mkdtemp(prefix="bench_build_"))
    try:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        print(f"machine: {machine()}")
        print(f"command: jupyter-book build . --path-output {out}")
        figures = {"clean": build(out), "no-op": build(out), "cached": build(out, "--all")}
    finally:
        if not args.output:
            shutil.rmtree(out, ignore_errors=True)
    missed = []
    for name, (seconds, pages, executed, cached) in figures.items():
        target = TARGETS[name]
        verdict = "within" if seconds <= target else "OVER"
        missed += [name] if seconds > target else []
        print(f"{name:>6} build: {seconds:6.1f} s ({verdict} the {target:g} s target); pages "
              f"read: {pages}, notebooks executed: {executed}, from the cache: {cached}")
    if figures["clean"][2] == 0:
        sys.exit("the clean build executed no notebook: is the output folder really new?")
    if figures["no-op"][2] or figures["cached"][2] or not figures["cached"][3]:
        sys.exit("a rebuild executed notebooks again: the execution cache did not work")
    if args.check and missed:
        sys.exit(f"missed the target for: {', '.join(missed)}")


if __name__ == "__main__":
    main()
