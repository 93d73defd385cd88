"""The book in JupyterLab, as a reader opens it with ``make lab``, driven in headless Chromium.

``make lab`` is started with its workspace in a temporary folder, on the loopback address
with a token (and ``--allow-root`` when the tests run as root, as in most containers).
Chromium (Debian's ``chromium`` and ``chromium-driver``, through Selenium) opens chapters
and checks that jupyterlab-myst renders the exercises as exercises with their solutions
collapsed, runs an explorer in quick mode and moves its slider, and edits each twin of a
paired chapter in turn. Screenshots go to ``_build/screenshots/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SETTINGS = {   # every cell in the page (no windowing), and no news pop-up over the notebook
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}


def _book_files() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("chapters", "text") for p in sorted((ROOT / folder).iterdir())}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` on a free port; yields (address, token, workspace). The book must come out unchanged."""
    tmp = tmp_path_factory.mktemp("lab")
    for name, values in SETTINGS.items():
        path = tmp / "settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token, workspace = secrets.token_hex(16), tmp / "workspace"
    options = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.port_retries=0 "
               f"--IdentityProvider.token={token} --LabApp.expose_app_in_browser=True "
               f"--LabApp.user_settings_dir={tmp / 'settings'} --LabApp.workspaces_dir={tmp / 'workspaces'}")
    environment = dict(os.environ, CNNBOOK_QUICK="1", CNNBOOK_CACHE=str(tmp / "cache"),
                       JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"))
    before = _book_files()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(["make", "-s", "lab", f"WORKSPACE={workspace}", f"LAB_OPTIONS={options}"],
                              cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    address = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{address}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, (tmp / "server.log").read_text()[-3000:]
                time.sleep(1)
        else:
            pytest.fail("JupyterLab did not start:\n" + (tmp / "server.log").read_text()[-3000:])
        yield address, token, workspace
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert _book_files() == before, "the reader's session changed the book's own chapters"


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("the JupyterLab test needs Debian's chromium and chromium-driver: "
                    "sudo apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                     "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.set_script_timeout(300)
    yield chrome
    chrome.quit()


def _wait(browser, script: str, seconds: float = 120, *args):
    """Poll ``script`` (a JS expression's body returning a value) until it is truthy; return it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = browser.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds} s waiting for: {script}")


def _open(browser, lab, path: str, factory: str = "Notebook") -> None:
    """Open ``path`` in JupyterLab (the app of the page, exposed for tests) and wait until it is shown."""
    address, token, _ = lab
    if not browser.execute_script("return !!window.jupyterapp"):
        browser.get(f"{address}/lab?token={token}")
        _wait(browser,
              "return window.jupyterapp && jupyterapp.started && document.querySelector('.jp-DirListing')")
    browser.execute_async_script("""const done = arguments[arguments.length - 1];
        jupyterapp.commands.execute('docmanager:open', {path: arguments[0], factory: arguments[1]})
            .then(widget => widget.context.ready).then(() => done(true));""", path, factory)
    _wait(browser, """const w = jupyterapp.shell.currentWidget;
        return w && w.context && w.context.path === arguments[0] && w.content.widgets.length > 0""", 60, path)


def _render_markdown(browser) -> list[str]:
    """Scroll every markdown cell of the current notebook into view until rendered; their visible text."""
    count = browser.execute_script("return jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-MarkdownCell').length")
    texts = []
    for index in range(count):
        texts.append(_wait(browser,
                           """const cell = jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-MarkdownCell')[arguments[0]];
            cell.scrollIntoView();
            const shown = cell.querySelector('.jp-Cell-inputWrapper').innerText.trim();
            return shown && !cell.querySelector('.jp-InputArea-editor:not(.lm-mod-hidden)') ? shown : null""",
                           60, index))
    return texts


def _screenshot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.parametrize("chapter", ["01_convolutions", "02_lenet"])
def test_exercises_render_with_solutions_collapsed(lab, browser, chapter):
    source = (ROOT / "text" / f"{chapter}.md").read_text()
    titles = re.findall(r"^`{3,}\{exercise\} (.+)$", source, re.M)
    solutions = len(re.findall(r"^`{3,}\{solution\}", source, re.M))
    assert titles and solutions
    _open(browser, lab, f"chapters/{chapter}.ipynb")
    shown = "\n".join(_render_markdown(browser)).replace("\u2019", "'")   # MyST's typographic apostrophe
    for raw in (":label:", ":class:", "{exercise}", "{solution}", "```"):
        assert raw not in shown, f"{chapter}: raw MyST {raw!r} is visible"
    numbered = re.findall(r"Exercise (\d+) \((.+?)\)", shown)
    assert [title for _, title in numbered] == titles, numbered
    assert [int(n) for n, _ in numbered] == list(range(1, len(titles) + 1))

    closed = browser.execute_script("""return Array.from(jupyterapp.shell.currentWidget.node.querySelectorAll('details'))
        .map(d => d.open)""")
    assert closed == [False] * solutions, f"{chapter}: solutions (open?) {closed}"
    first = browser.execute_script("""const d = jupyterapp.shell.currentWidget.node.querySelector('details');
        d.scrollIntoView({block: 'center'}); return d.innerText""")
    _screenshot(browser, f"jupyterlab_{chapter}_exercise")
    browser.execute_script("jupyterapp.shell.currentWidget.node.querySelector('details > summary').click()")
    opened = _wait(browser, """const d = jupyterapp.shell.currentWidget.node.querySelector('details');
        return d.open && d.innerText.length > arguments[0] + 20 ? d.innerText : null""", 10, len(first))
    assert len(opened) > len(first), "opening the solution shows nothing more"
    _screenshot(browser, f"jupyterlab_{chapter}_solution_opened")


def test_explorer_runs_and_its_slider_changes_the_picture(lab, browser):
    from selenium.webdriver.common.keys import Keys

    _open(browser, lab, "chapters/01_convolutions.ipynb")
    index = browser.execute_script("""return jupyterapp.shell.currentWidget.content.widgets
        .findIndex(c => c.model.type === 'code' && c.model.sharedModel.getSource().startsWith('conv_output_explorer('))""")
    assert index > 0
    ran = browser.execute_async_script("""const done = arguments[arguments.length - 1];
        const panel = jupyterapp.shell.currentWidget;
        panel.sessionContext.ready
            .then(() => { panel.content.activeCellIndex = arguments[0];
                          return jupyterapp.commands.execute('notebook:run-all-above'); })
            .then(() => jupyterapp.commands.execute('notebook:run-cell'))
            .then(() => done(true), error => done(String(error)));""", index)
    assert ran is True, ran
    cell = browser.execute_script("return jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node", index)
    _wait(browser, "return arguments[0].querySelector('.widget-slider .noUi-handle, .widget-slider input') "
                   "&& arguments[0].querySelector('.jp-OutputArea img')", 240, cell)
    errors = browser.execute_script("""return jupyterapp.shell.currentWidget.content.widgets.slice(0, arguments[0] + 1)
        .flatMap(c => Array.from(c.node.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
                      .map(e => e.innerText)).filter(t => /Error|Traceback/.test(t))""", index)
    assert not errors, errors
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    image = cell.find_element("css selector", ".jp-OutputArea img")
    before, source_before = image.screenshot_as_png, image.get_attribute("src")
    _screenshot(browser, "jupyterlab_explorer_before")

    handle = cell.find_elements("css selector", ".widget-slider .noUi-handle")[0]   # the first slider: W
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)
    _wait(browser, "return arguments[0].querySelector('.jp-OutputArea img').src !== arguments[1]", 60,
          cell, source_before)
    time.sleep(1)
    after = cell.find_element("css selector", ".jp-OutputArea img").screenshot_as_png
    _screenshot(browser, "jupyterlab_explorer_after")
    assert after != before, "moving the slider did not change the picture"


def _edit_and_save(browser, marker: str) -> None:
    """Append ``marker`` to the first markdown cell of the current notebook and save it, as a reader would."""
    saved = browser.execute_async_script("""const done = arguments[arguments.length - 1];
        const panel = jupyterapp.shell.currentWidget;
        const cell = panel.content.widgets.find(c => c.model.type === 'markdown');
        cell.model.sharedModel.setSource(cell.model.sharedModel.getSource() + '\\n\\n' + arguments[0]);
        panel.context.save().then(() => done(true), error => done(String(error)));""", marker)
    assert saved is True, saved


def test_pairing_works_both_ways(lab, browser):
    _, _, workspace = lab
    notebook, twin = workspace / "chapters" / "02_lenet.ipynb", workspace / "text" / "02_lenet.md"
    outputs = sum(len(c.get("outputs", [])) for c in nbformat.read(notebook, as_version=4).cells)
    assert outputs > 0

    _open(browser, lab, "chapters/02_lenet.ipynb")
    _edit_and_save(browser, "Edited in the notebook.")
    assert "Edited in the notebook." in twin.read_text()

    _open(browser, lab, "text/02_lenet.md", factory="Jupytext Notebook")
    _edit_and_save(browser, "Edited in the text twin.")
    _screenshot(browser, "jupyterlab_text_twin")
    saved = nbformat.read(notebook, as_version=4)
    assert "Edited in the text twin." in saved.cells[0].source
    assert sum(len(c.get("outputs", [])) for c in saved.cells) == outputs, "saving the twin lost outputs"


def test_workspace_copies_only_what_is_missing(tmp_path):
    ignored = subprocess.run(["git", "check-ignore", "-q",
                              "workspace/chapters/01_convolutions.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0, "git must ignore the default workspace/"
    workspace = tmp_path / "workspace"
    make = ["make", "-s", "workspace", f"WORKSPACE={workspace}"]
    assert subprocess.run(make, cwd=ROOT).returncode == 0
    chapters = sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
    assert sorted(p.name for p in (workspace / "chapters").iterdir()) == chapters
    assert (workspace / "jupytext.toml").read_text() == (ROOT / "jupytext.toml").read_text()
    mine = workspace / "chapters" / "01_convolutions.ipynb"
    mine.write_text(mine.read_text().replace("Convolutions from first principles", "My notes"))
    (workspace / "chapters" / "02_lenet.ipynb").unlink()
    (workspace / "text" / "02_lenet.md").unlink()
    assert subprocess.run(make, cwd=ROOT).returncode == 0
    assert "My notes" in mine.read_text(), "make lab overwrote the reader's chapter"
    assert (workspace / "chapters" / "02_lenet.ipynb").read_bytes() == (ROOT / "chapters" / "02_lenet.ipynb").read_bytes()
