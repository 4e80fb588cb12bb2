"""A real browser for the tests: Debian's Chromium driven by Python Playwright.

Nothing is downloaded: Playwright's own browser builds are never installed (`playwright install`
is not used); Playwright drives the system's /usr/bin/chromium through ``executable_path``.
`.ci/run` installs it with apt. Outside CI, where Chromium is missing, the browser tests skip and
say how to enable them; in CI (CI=true) a missing browser fails them instead.
"""
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOW_TO_ENABLE = ("install Debian's Chromium (`sudo apt-get install -y chromium`) and the Python "
                 "requirements (`pip install -r requirements.txt`, which pins playwright); "
                 "never `playwright install`")


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def require_browser():
    """Skip (outside CI) or fail (in CI) unless Playwright and Chromium are both available."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM}"
                        + (f" (found {shutil.which('chromium')})" if shutil.which("chromium") else ""))
    if problems:
        message = "browser tests need a real browser: " + "; ".join(problems) + ". To run them, " \
                  + HOW_TO_ENABLE + "."
        if in_ci():
            pytest.fail(message + " In CI (CI=true) they must run: .ci/run installs Chromium.",
                        pytrace=False)
        pytest.skip(message)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def is_local(url):
    """True for URLs that do not leave this machine."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in ("127.0.0.1", "localhost", "::1")


def offline(context, outside):
    """Abort every request that would leave localhost, recording its URL in ``outside``."""
    def handle(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    context.route("**/*", handle)
