"""The website builds without warnings from the committed chapters, with their
figures and the widgets' saved state in the pages."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    source = out / "book"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "_build", ".git", ".pytest_cache", "*.pt"))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", "--warningiserror", "--keep-going", str(source)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return source / "_build" / "html"


def test_every_chapter_has_a_page(site):
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        assert (site / "chapters" / f"{notebook.stem}.html").exists()


def test_pages_show_the_chapters_figures(site):
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        page = (site / "chapters" / f"{notebook.stem}.html").read_text()
        if '"image/png"' in notebook.read_text():
            images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
            assert images, f"{notebook.stem}: no figure on the page"
            for src in images:
                assert (site / "chapters" / src).resolve().exists(), src


def test_pages_carry_the_widgets_saved_state(site):
    with_widgets = [p for p in sorted((ROOT / "chapters").glob("*.ipynb"))
                    if "application/vnd.jupyter.widget-state+json" in p.read_text()]
    assert with_widgets, "no chapter saved widget state: execute the chapters with nbconvert"
    for notebook in with_widgets:
        page = (site / "chapters" / f"{notebook.stem}.html").read_text()
        assert "application/vnd.jupyter.widget-state+json" in page
        assert "application/vnd.jupyter.widget-view+json" in page
