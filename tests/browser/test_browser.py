"""The built book as a reader meets it: every page in a real browser (Chromium, via Playwright).

The book built from clean (the session fixture ``built_book``) is served on 127.0.0.1 and every
page is opened once, with every request that would leave localhost blocked and recorded. Each
visit records what a reader would notice (console errors, failed loads, raw TeX, images without
alt text or that do not load, blank widgets, broken internal links), runs axe-core for
accessibility and saves a full-page screenshot to ``_build/screenshots/`` (build output, not
committed). The tests below then check one thing each over all the visits, so a failure lists
every page it affects.

Further tests move a slider and check the picture changes, look at a chapter in dark mode, search
for each page's title, and walk the navigation from the first page to the last.

Outside CI these tests skip when Chromium is missing (the message says how to enable them); in CI
(CI=true) they fail instead. See tests/browser/browser_support.py.
"""
import functools
import http.server
import io
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, unquote, urlsplit

import pytest
import yaml

from browser_support import launch, offline, require_browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "browser" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "_build" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
SEVERE = ("serious", "critical")
# axe-core rules switched off for one exact element, each with the reason. Empty: every serious or
# critical violation found so far was fixed in the book or its configuration instead (see
# book/_templates/README.md, book/_ext/course_citations.py, book/_vendor/README.md).
AXE_EXCLUSIONS: dict[tuple[str, str], str] = {}
# Text a reader should never see outside code: TeX that MathJax failed to typeset, or that was
# never marked as math (a dollar next to a subscript, superscript or backslash: "$z_t", "b_h$").
RAW_TEX = r"\$\$|\\begin\{|\\frac|\\\(|\\\[|\$[^\s$]*[_^\\]|[_^\\]\w*\$"


# --- serving the built book ------------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(built_book, browser):
    """The built book served over HTTP on 127.0.0.1 (a random free port): its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built_book)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def toc_files():
    """Every file the table of contents lists, in reading order, without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [chapter["file"] for part in toc.get("parts", [])
                            for chapter in part["chapters"]]


def page_names(built_book):
    """Every page of the built book (index.html is only a redirect; _static holds no pages)."""
    return sorted(p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")
                  if "_static" not in p.relative_to(built_book).parts and p.name != "index.html")


# --- one visit per page ------------------------------------------------------------------------------

@dataclass
class Visit:
    name: str
    status: int = 0
    title: str = ""
    console_errors: list = field(default_factory=list)
    failed_loads: list = field(default_factory=list)
    outside: list = field(default_factory=list)
    math_elements: int = 0
    untypeset: int = 0
    merrors: int = 0
    raw_tex: list = field(default_factory=list)
    images: list = field(default_factory=list)
    widget_state: bool = False
    sliders_visible: int = 0
    links: list = field(default_factory=list)
    ids: set = field(default_factory=set)
    violations: list = field(default_factory=list)
    screenshot: Path = None


def new_page(browser, outside, **context_options):
    """A page in a fresh context (no shared storage) that cannot reach beyond localhost."""
    context = browser.new_context(viewport=VIEWPORT, **context_options)
    offline(context, outside)
    return context, context.new_page()


def settle(page, widgets):
    """Wait for what JavaScript draws after "load": MathJax's typesetting and the widgets."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    if widgets:
        try:
            page.wait_for_selector(".widget-slider", state="visible", timeout=20_000)
        except PlaywrightTimeout:
            pass            # recorded as no visible slider; test_widgets_show_their_controls fails


def screenshot_name(name):
    return name.removesuffix(".html").replace("/", "__") + ".png"


def visit(browser, base, name):
    record = Visit(name)
    context, page = new_page(browser, record.outside)
    page.on("console", lambda m: record.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: record.console_errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: record.failed_loads.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    page.on("requestfailed", lambda r: record.failed_loads.append(f"{r.failure} {r.url}")
            if r.url not in record.outside else None)
    try:
        response = page.goto(base + name, wait_until="load")
        record.status = response.status if response else 0
        record.widget_state = page.locator(
            'script[type="application/vnd.jupyter.widget-state+json"]').count() > 0
        settle(page, record.widget_state)
        record.title = page.title()
        facts = page.evaluate("""(rawTex) => {
            const visible = (el) => el.checkVisibility();
            const maths = [...document.querySelectorAll('.math')];
            const texts = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const code = 'pre, code, script, style, textarea, .highlight, mjx-container';
            const re = new RegExp(rawTex);
            while (walker.nextNode()) {
                const node = walker.currentNode, el = node.parentElement;
                if (el && !el.closest(code) && re.test(node.textContent) && visible(el)) {
                    texts.push(node.textContent.trim().slice(0, 100));
                }
            }
            return {
                math: maths.length,
                untypeset: maths.filter((m) => !m.querySelector('mjx-container')).length,
                merrors: document.querySelectorAll('mjx-merror').length,
                rawTex: texts,
                images: [...document.images].map((i) => ({
                    src: i.getAttribute('src').slice(0, 70), alt: i.getAttribute('alt'),
                    decorative: i.getAttribute('role') === 'presentation'
                                || i.getAttribute('aria-hidden') === 'true',
                    visible: visible(i), loaded: i.complete && i.naturalWidth > 0})),
                sliders: [...document.querySelectorAll('.widget-slider')].filter(visible).length,
                links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
                ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
            };
        }""", RAW_TEX)
        record.math_elements, record.untypeset = facts["math"], facts["untypeset"]
        record.merrors, record.raw_tex = facts["merrors"], facts["rawTex"]
        record.images, record.sliders_visible = facts["images"], facts["sliders"]
        record.links, record.ids = facts["links"], set(facts["ids"])
        record.screenshot = SCREENSHOTS / screenshot_name(name)
        page.screenshot(path=str(record.screenshot), full_page=True)
        page.add_script_tag(path=str(AXE))
        record.violations = page.evaluate("""async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.flatMap((v) => v.nodes.map((n) => ({
                rule: v.id, impact: n.impact || v.impact, help: v.help,
                target: n.target.join(' ')})));
        }""")
    finally:
        context.close()
    return record


@pytest.fixture(scope="module")
def visits(browser, site, built_book):
    """page name -> Visit, for every page of the built book."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return {name: visit(browser, site, name) for name in page_names(built_book)}


def report(problems, what):
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


# --- what every page must do ---------------------------------------------------------------------

def test_every_page_loads(visits):
    assert set(f"{name}.html" for name in toc_files()) <= set(visits), "a toc page was not visited"
    report([f"{v.name}: HTTP {v.status}" for v in visits.values() if v.status != 200]
           + [f"{v.name}: no title" for v in visits.values() if not v.title.strip()],
           "pages that did not load")


def test_console_has_no_errors(visits):
    report([f"{v.name}: {error}" for v in visits.values() for error in v.console_errors],
           "errors in the browser console")


def test_no_request_leaves_localhost(visits):
    report([f"{v.name}: {url}" for v in visits.values() for url in v.outside],
           "requests to outside the machine (blocked)")


def test_every_local_load_succeeds(visits):
    report([f"{v.name}: {failure}" for v in visits.values() for failure in v.failed_loads],
           "loads that failed (404s and the like)")


def test_math_is_typeset(visits):
    problems = []
    for v in visits.values():
        if v.untypeset:
            problems.append(f"{v.name}: {v.untypeset} of {v.math_elements} math elements have no "
                            "MathJax output")
        if v.merrors:
            problems.append(f"{v.name}: {v.merrors} MathJax errors (mjx-merror)")
        problems += [f"{v.name}: raw TeX on the page: {text!r}" for text in v.raw_tex]
    report(problems, "math a reader cannot read")
    chapters = [v for v in visits.values() if v.name.startswith("book/ch")]
    assert chapters and all(v.math_elements for v in chapters), "a chapter has no math at all?"


def test_every_image_has_alt_text_and_loads(visits):
    problems = []
    for v in visits.values():
        for image in v.images:
            if not image["decorative"] and not (image["alt"] or "").strip():
                problems.append(f"{v.name}: no alt text on {image['src']}")
            if image["visible"] and not image["loaded"]:
                problems.append(f"{v.name}: image does not load: {image['src']}")
    report(problems, "images")


def test_widgets_show_their_controls(visits):
    with_state = [v for v in visits.values() if v.widget_state]
    assert any(v.name.startswith("book/ch") for v in with_state), "no chapter has widget state"
    report([f"{v.name}: widget state but no visible slider" for v in with_state
            if not v.sliders_visible], "blank widgets")


def test_internal_links_resolve(visits, site, built_book):
    problems = []
    for v in visits.values():
        for url in v.links:
            if not url.startswith(site):
                continue                 # links to other sites are links, not loads
            parts = urlsplit(url)
            path = unquote(parts.path)[len(urlsplit(site).path):] or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if not (built_book / path).is_file():
                problems.append(f"{v.name}: link to missing {path}")
            elif parts.fragment and path in visits and unquote(parts.fragment) not in visits[path].ids:
                problems.append(f"{v.name}: link to missing anchor {path}#{parts.fragment}")
    report(problems, "broken internal links")


def test_axe_finds_no_serious_or_critical_violations(visits):
    problems = [f"{v.name}: [{n['impact']}] {n['rule']} at {n['target']} ({n['help']})"
                for v in visits.values() for n in v.violations
                if n["impact"] in SEVERE and (n["rule"], n["target"]) not in AXE_EXCLUSIONS]
    report(problems, "accessibility violations (axe-core)")


def test_screenshots_are_written(visits):
    missing = [v.name for v in visits.values()
               if not (v.screenshot and v.screenshot.is_file() and v.screenshot.stat().st_size)]
    assert not missing, f"no screenshot for {missing}"


# --- interaction, dark mode, search, navigation -------------------------------------------------------

def chapters_with_widgets(visits):
    return [v.name for v in visits.values() if v.widget_state and v.name.startswith("book/ch")]


def visible_frames(slider):
    """The images a reader sees now in this slider's own control (rnncore.widgets.frame_slider: a
    VBox of the slider and a Stack that shows one child and hides the rest)."""
    box = slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
    return box.evaluate("""(b) => [...b.querySelectorAll('img')]
        .filter((i) => i.checkVisibility()).map((i) => i.getAttribute('alt'))""")


def test_moving_a_slider_changes_the_picture(browser, site, visits):
    """The HTML has no kernel: every slider must switch between pre-computed frames, not move alone."""
    problems = []
    for name in chapters_with_widgets(visits):
        outside = []
        context, page = new_page(browser, outside)
        try:
            page.goto(site + name, wait_until="load")
            settle(page, widgets=True)
            sliders = page.locator(".widget-slider")
            for i in range(sliders.count()):
                slider = sliders.nth(i)
                handle = slider.locator(".noUi-handle")
                slider.scroll_into_view_if_needed()
                before = (visible_frames(slider), handle.get_attribute("aria-valuetext"))
                at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
                handle.focus()
                # noUiSlider moves one step per arrow key; a slider that starts at its last value
                # can only move back
                page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
                handle.evaluate("""(h, old) => new Promise((resolve, reject) => {
                    const t0 = Date.now();
                    (function poll() {
                        if (h.getAttribute('aria-valuetext') !== old) return resolve();
                        if (Date.now() - t0 > 5000) return reject(new Error('slider did not move'));
                        setTimeout(poll, 50);
                    })();
                })""", before[1])
                after = (visible_frames(slider), handle.get_attribute("aria-valuetext"))
                where = f"{name}, slider {i + 1}"
                if after[0] == before[0]:
                    problems.append(f"{where}: the slider moved ({before[1]} -> {after[1]}) but "
                                    f"the visible picture stayed {before[0]}")
                if len(after[0]) != 1:
                    problems.append(f"{where}: {len(after[0])} frames visible at once")
            page.screenshot(path=str(SCREENSHOTS / ("slider__" + screenshot_name(name))))
        finally:
            context.close()
    report(problems, "sliders that change nothing")


def test_dark_mode_keeps_plots_readable(browser, site, built_book):
    """In dark mode the page turns dark, but every plot keeps its opaque white background, drawn
    as it is (book/_css/figures.css undoes the theme's dimming filter)."""
    from PIL import Image
    name = "book/ch01_basic_structure.html"
    outside = []
    context, page = new_page(browser, outside, color_scheme="dark")
    problems = []
    try:
        page.goto(site + name, wait_until="load")
        settle(page, widgets=True)
        assert page.evaluate("document.documentElement.dataset.theme") == "dark", (
            "the book does not follow the reader's dark colour scheme")
        page_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert luminance(page_bg) < 0.3, f"dark mode did not darken the page: {page_bg}"
        images = [i for i in page.locator(".cell_output img").all() if i.is_visible()]
        assert images, "no output image on the chapter page"
        for image in images:
            alt = (image.get_attribute("alt") or "")[:60]
            # The file itself: opaque at its corners (drawn on a canvas, read back).
            alpha = image.evaluate("""(i) => {
                const c = document.createElement('canvas');
                c.width = i.naturalWidth; c.height = i.naturalHeight;
                const g = c.getContext('2d'); g.drawImage(i, 0, 0);
                return [[0, 0], [c.width - 1, 0], [0, c.height - 1], [c.width - 1, c.height - 1]]
                    .map(([x, y]) => g.getImageData(x, y, 1, 1).data[3]);
            }""")
            if min(alpha) < 255:
                problems.append(f"{alt!r}: transparent corners (alpha {alpha}): the dark page "
                                "would show through")
            # What the reader sees: the rendered image, filters included, near its corners.
            image.scroll_into_view_if_needed()
            shot = Image.open(io.BytesIO(image.screenshot())).convert("RGB")
            w, h = shot.size
            seen = [shot.getpixel((x, y)) for x, y in
                    [(6, 6), (w - 7, 6), (6, h - 7), (w - 7, h - 7)]]
            dull = [px for px in seen if luminance("rgb(%d, %d, %d)" % px) < 0.9]
            if dull:
                problems.append(f"{alt!r}: shown with a dim or dark background {dull} "
                                f"(CSS background {image.evaluate('(i) => getComputedStyle(i).backgroundColor')}, "
                                f"filter {image.evaluate('(i) => getComputedStyle(i).filter')})")
        page.screenshot(path=str(SCREENSHOTS / ("dark__" + screenshot_name(name))), full_page=True)
    finally:
        context.close()
    report(problems, "plots that would be hard to read on the dark page")
    assert not outside, outside


def luminance(css_colour):
    """Relative luminance (0 black, 1 white) of a CSS rgb()/rgba() colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_colour)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_search_finds_every_page_by_its_title(browser, site, visits):
    """Sphinx's own search page (search.html and its JS index) finds each page by its title."""
    outside = []
    context, page = new_page(browser, outside)
    problems = []
    try:
        for name in toc_files():
            title = re.sub(r"\s+[-—|#].*$", "", visits[f"{name}.html"].title).strip()
            page.goto(f"{site}search.html?q={quote_plus(title)}", wait_until="load")
            page.wait_for_function("() => /finished/i.test(document.querySelector("
                                   "'#search-results .search-summary')?.textContent || '')",
                                   timeout=15_000)
            found = page.evaluate("""() => [...document.querySelectorAll(
                '#search-results ul.search li a')].map((a) => a.getAttribute('href'))""")
            if not any(href.split("#")[0].split("?")[0] == f"{name}.html" for href in found):
                problems.append(f"searching {title!r} did not list {name}.html "
                                f"(found {found[:5]})")
    finally:
        context.close()
    report(problems, "search misses")
    assert not outside, outside


def test_navigation_reaches_every_page(browser, site):
    """From the first page, the sidebar links to every page, and "next" walks them all in order."""
    expected = [f"{name}.html" for name in toc_files()]
    outside = []
    context, page = new_page(browser, outside)
    try:
        page.goto(site + "index.html")
        page.wait_for_url(f"{site}{expected[0]}", timeout=10_000)   # index.html redirects
        sidebar = page.evaluate("""() => [...document.querySelectorAll('nav.bd-docs-nav a[href]')]
            .map((a) => a.href)""")
        in_sidebar = {urlsplit(url).path.lstrip("/") for url in sidebar}
        missing = [name for name in expected[1:] if name not in in_sidebar]
        assert not missing, f"the sidebar does not link to {missing}"
        walked = [expected[0]]
        while (following := page.locator("a.right-next")).count():
            following.first.click()
            page.wait_for_load_state("load")
            walked.append(urlsplit(page.url).path.lstrip("/"))
            assert len(walked) <= len(expected) + 1, f"'next' never ends: {walked}"
    finally:
        context.close()
    assert walked == expected, f"'next' from the first page visits {walked}, not {expected}"
    assert not outside, outside
