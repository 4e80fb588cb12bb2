"""An exercise as a student meets it: a real JupyterLab, in a real browser.

A JupyterLab server is started on 127.0.0.1 in a temporary folder holding a copy of the released
exercise and of nbgrader_config.py (the repository is never touched; HOME and Jupyter's config,
data and runtime folders are temporary too). In Chromium the test opens the notebook, runs all
cells from the Run menu and sees the stub's NotImplementedError. It then opens a copy with the
solution's code in the answer cells and presses nbgrader's **Validate** toolbar button, which
asks the server to validate the saved notebook, and sees the success message. The server is shut
down (and its process group killed) whatever happens.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser_support import launch, offline, require_browser
from course_files import filled, read, release_path, solution_code

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "ch01_basic_structure"
STUB = "exercise.ipynb"
SOLVED = "solved.ipynb"
SCREENSHOTS = ROOT / "_build" / "screenshots"          # build output, not committed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


@pytest.fixture()
def lab(tmp_path):
    """A running JupyterLab: (base URL, token, notebook folder). Stopped afterwards."""
    require_browser()            # before starting anything: skip or fail without Chromium
    notebooks = tmp_path / "course"
    notebooks.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", notebooks)
    release = read(release_path(ASSIGNMENT))
    nbformat.write(release, notebooks / STUB)
    nbformat.write(filled(release, solution_code(ASSIGNMENT)), notebooks / SOLVED)

    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / ".ipython"),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    port, token = free_port(), secrets.token_hex(16)
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--ServerApp.token={token}", "--allow-root",
         f"--ServerApp.root_dir={notebooks}",
         # Nothing from the network: no news feed, no update check.
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n"
                            + (tmp_path / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base, token, notebooks
    finally:
        stop(server, base, token)
        log.close()


def stop(server, base, token):
    """Ask the server to shut down (it stops its kernels), then kill its process group."""
    try:
        request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        server.wait(timeout=15)
    except Exception:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue


CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"     # the notebook tab in front


def open_lab(page, base, token):
    """Open JupyterLab and wait until it knows its kernels (the launcher shows Python 3)."""
    page.goto(f"{base}/lab?token={token}&reset", wait_until="load")
    page.locator(".jp-LauncherCard", has_text="Python 3").first.wait_for(timeout=30_000)


def open_notebook(page, name):
    """Double-click a notebook in the file browser, as a student does; wait for an idle kernel."""
    page.locator(".jp-DirListing-item", has_text=name).first.dblclick()
    page.locator(f"{CURRENT} .jp-Notebook").wait_for(timeout=30_000)
    kernel = page.locator(f"{CURRENT} .jp-Toolbar-kernelName")
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const name = panel?.querySelector('.jp-Toolbar-kernelName')?.textContent || '';
            const status = panel?.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
            return name.includes('Python 3') && status === 'idle';
        }""", timeout=30_000)
    return kernel


def test_an_exercise_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    base, token, notebooks = lab
    shots = notebooks.parent / "screenshots"          # outside the folder JupyterLab shows
    shots.mkdir()
    for old in SCREENSHOTS.glob("jupyterlab__*.png"):
        old.unlink()
    outside = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        offline(context, outside)
        page = context.new_page()
        try:
            # 1. The released exercise: Run > Run All Cells stops at the stub's NotImplementedError.
            open_lab(page, base, token)
            open_notebook(page, STUB)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            error = page.locator(".jp-OutputArea-output", has_text="NotImplementedError").first
            error.wait_for(timeout=30_000)
            error.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "run-all.png"))

            # 2. With the solution's code in the answer cells, nbgrader's Validate button passes it.
            open_notebook(page, SOLVED)
            validate = page.locator(f"{CURRENT} .validate-button")
            assert validate.count() == 1, (
                "no Validate button in the notebook toolbar: is nbgrader's labextension enabled? "
                "(`jupyter labextension list`)")
            validate.click()
            dialog = page.locator(".jp-Dialog")
            dialog.wait_for(timeout=60_000)
            page.wait_for_function(
                "() => !/Validating/.test(document.querySelector('.jp-Dialog')?.textContent || "
                "'Validating')", timeout=60_000)
            text = dialog.inner_text()
            page.screenshot(path=str(shots / "validate.png"))
        except Exception:
            page.screenshot(path=str(shots / "failure.png"))     # what the browser showed
            raise
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for shot in shots.glob("*.png"):
                shutil.copy(shot, SCREENSHOTS / f"jupyterlab__{shot.name}")
            context.close()
            browser.close()
    assert "Success! Your notebook passes all the tests." in text, (
        f"Validate did not pass the solution:\n{text[:3000]}")
    assert not outside, f"JupyterLab in the browser tried to reach {outside}"
