"""The website in a real browser, as a classroom without internet would see it.

The built site is served from a local HTTP server and opened in headless Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) with every other
address made unreachable. Every page must load without console errors and without
asking for anything outside the server; its figures must load, its widgets must be
drawn from their saved state and its equations typeset; its internal links must
lead to existing pages and anchors; and the search page must find a known word.
Screenshots of a few pages are kept in ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
PAGES = ["index.html", "search.html", "genindex.html"] + [f"chapters/{p.stem}.html" for p in CHAPTERS]
PHOTOGRAPHED = {"index.html", "search.html", "chapters/01_convolutions.html", "chapters/02_lenet.html"}
LOCAL_SCHEMES = {"data", "blob", "about"}
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):   # the browser may hang up early
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def origin(site):
    """The site served on a free port of the loopback address."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = ("the browser test needs Debian's chromium and chromium-driver: "
                   "sudo apt-get install chromium chromium-driver")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " (skipped because CI is unset; in CI it fails)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                     # offline: no name resolves but the loopback address, and no proxy leads anywhere
                     "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                     "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    yield chrome
    chrome.quit()


def _requested_urls(browser) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _open(browser, url: str) -> None:
    """Load ``url`` and wait until its widgets are drawn and its equations typeset."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser"), browser.get_log("performance")   # forget the previous page
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda b: b.execute_script(f"""
        if (document.readyState !== "complete") return false;
        const views = document.querySelectorAll('{WIDGET_VIEW}').length;
        return document.querySelectorAll(".widget-subarea").length >= views;"""))
    browser.set_script_timeout(60)
    browser.execute_async_script("""const done = arguments[arguments.length - 1];
        ((window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve()).then(done);""")


@functools.lru_cache(maxsize=None)
def _anchors_of(site: Path, page: str) -> frozenset[str]:
    return frozenset(re.findall(r'\sid="([^"]+)"', (site / page).read_text()))


@pytest.mark.parametrize("page", PAGES)
def test_page_works_offline(page, browser, origin, site):
    _open(browser, f"{origin}/{page}")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"console errors on {page}:\n" + "\n".join(errors)
    outside = [u for u in _requested_urls(browser)
               if not u.startswith(origin + "/") and urlparse(u).scheme not in LOCAL_SCHEMES]
    assert not outside, f"{page} asked for addresses outside the site: {outside}"

    images = browser.execute_script(
        "return Array.from(document.querySelectorAll('main img')).map(i => [i.src, i.complete && i.naturalWidth > 0])")
    assert all(loaded for _,
               loaded in images), f"images that did not load: {[s for s, ok in images if not ok]}"
    notebook = ROOT / "chapters" / f"{Path(page).stem}.ipynb"
    if page.startswith("chapters/") and '"image/png"' in notebook.read_text():
        assert images, f"{page}: the chapter has figures but the page shows none"

    views, drawn, failed = browser.execute_script(f"""
        const views = Array.from(document.querySelectorAll('{WIDGET_VIEW}'));
        const drawn = views.filter(s => s.previousElementSibling
            && s.previousElementSibling.classList.contains("widget-subarea")
            && s.previousElementSibling.querySelector(".jupyter-widgets"));
        return [views.length, drawn.length, document.body.innerText.includes("Error displaying widget")];""")
    assert drawn == views and not failed, f"{page}: {drawn} of {views} widgets drawn from their saved state"
    if page.startswith("chapters/") and "application/vnd.jupyter.widget-view+json" in notebook.read_text():
        assert views, f"{page}: the chapter has widgets but the page has none"

    equations, typeset, math_errors = browser.execute_script("""return [
        document.querySelectorAll("main span.math, main div.math").length,
        document.querySelectorAll("main mjx-container").length,
        document.querySelectorAll("main mjx-merror").length]""")
    assert typeset >= equations and not math_errors, f"{page}: {typeset} of {equations} equations typeset"

    links = browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    for link in {link for link in links if link.startswith(origin + "/")}:
        address, anchor = urldefrag(link)
        target = urlparse(address).path.lstrip("/") or "index.html"
        try:
            urllib.request.urlopen(address, timeout=10).close()
        except urllib.error.HTTPError as error:
            pytest.fail(f"{page} links to {link}: HTTP {error.code}")
        if anchor and target.endswith(".html"):
            assert anchor in _anchors_of(site, target), f"{page} links to {link}: no such anchor"

    if page in PHOTOGRAPHED:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = page.replace("/", "_").removesuffix(".html")
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        if views:
            widget = browser.find_element("css selector", ".widget-subarea")
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", widget)
            browser.save_screenshot(str(SCREENSHOTS / f"{name}_widget.png"))


def test_search_finds_a_known_word(browser, origin):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{origin}/search.html?q=LeNet")
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return document.querySelectorAll('#search-results ul.search li').length > 0"))
    hits = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)")
    assert any("chapters/02_lenet.html" in hit for hit in hits), hits
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "search_results.png"))
