"""The website builds without warnings from the committed chapters, with their
figures and the widgets' saved state in the pages, and needs no CDN. (The `site`
fixture, shared with the browser test, is in conftest.py.)"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def test_pages_load_no_script_from_a_cdn(site):
    for page in sorted(site.rglob("*.html")):
        sources = re.findall(r'<script[^>]+src="([^"]+)"', page.read_text())
        remote = [s for s in sources if re.match(r"(https?:)?//", s)]
        assert not remote, f"{page.relative_to(site)} loads {remote}"


def test_root_page_leads_to_the_first_chapter_and_names_the_icon(site):
    root = (site / "index.html").read_text()
    first = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', root)
    assert first and (site / first.group(1)).exists(), root
    icon = re.search(r'<link rel="icon" href="([^"]+)"', root)
    assert icon and (site / icon.group(1)).exists(), "the root page names no icon: browsers would ask for /favicon.ico"
