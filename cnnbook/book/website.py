"""The website's scripts, taken from npm packages so that the book needs no internet.

The static pages need RequireJS and the Jupyter widgets' HTML manager, which draws
the widgets from the state saved in the notebooks, and MathJax for the equations.
Jupyter Book would load all three from CDNs. Instead, ``python -m cnnbook.book.website``
fetches pinned versions with ``npm pack`` (checked against the registry's sha512
integrity), and unpacks the files the pages use into ``_vendor/``, which
``_config.yml`` serves as part of the site's ``_static`` folder. It does nothing
when ``_vendor/`` already holds these versions, so it runs offline after the first time.

The module is also a Sphinx extension (listed in ``_config.yml``) that makes the
pages load those files cleanly: RequireJS is told where the widget manager lives (so
its icon fonts load from ``_static/widgets``), the widgets' MathJax 2 call is routed
to MathJax 3, and inline scripts that Sphinx would add twice are kept once.
"""

from __future__ import annotations

import base64
import hashlib
import html
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

VENDOR = Path(__file__).resolve().parents[2] / "_vendor"


@dataclass(frozen=True)
class Package:
    """An npm package, pinned, and which of its files go where under ``_vendor/``."""

    name: str
    version: str
    integrity: str                  # the registry's dist.integrity of the tarball
    files: dict[str, str]           # glob inside the package -> folder under _vendor

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package("requirejs", "2.3.8",   # MIT
            "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
            {"require.js": "."}),
    # The HTML manager of ipywidgets 8 (BSD-3-Clause): the bundle and the icon fonts it refers to.
    Package("@jupyter-widgets/html-manager", "1.0.15",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            {"dist/embed-amd.js": "widgets", "dist/*.woff*": "widgets", "dist/*.ttf": "widgets",
             "dist/*.eot": "widgets", "dist/*.svg": "widgets"}),
    # MathJax 3 (Apache-2.0): TeX input, HTML output, the extensions it loads on demand, its fonts.
    Package("mathjax", "3.2.2",
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
            {"es5/tex-mml-chtml.js": "mathjax",
             "es5/input/tex/extensions/*.js": "mathjax/input/tex/extensions",
             "es5/output/chtml/fonts/woff-v2/*": "mathjax/output/chtml/fonts/woff-v2",
             "es5/a11y/*.js": "mathjax/a11y", "es5/ui/*.js": "mathjax/ui"}),
)


def _integrity(tarball: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def _npm_pack(package: Package, folder: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is needed once to fetch the website's scripts: "
                                "install it (sudo apt-get install npm) and run again")
    result = subprocess.run([npm, "pack", package.spec, "--pack-destination", str(folder), "--silent"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {package.spec} failed: {result.stderr.strip()[-500:]}")
    tarball = folder / result.stdout.strip().splitlines()[-1]
    if _integrity(tarball) != package.integrity:
        raise RuntimeError(f"{tarball.name} does not match the pinned integrity of {package.spec}; "
                           "refusing to use it")
    return tarball


def _unpack(package: Package, tarball: Path, target: Path) -> None:
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        for pattern, folder in package.files.items():
            chosen = [m for m in members if PurePosixPath(m.name).relative_to("package").match(pattern)]
            if not chosen:
                raise RuntimeError(f"{package.spec} has no file matching {pattern!r}")
            for member in chosen:
                destination = target / folder / PurePosixPath(member.name).name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.extractfile(member).read())


# The site's icon: a 3x3 filter over a grid (without one, browsers ask for /favicon.ico).
FAVICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">
<rect width="16" height="16" rx="2" fill="#1f4e79"/>
<path d="M4 1v14M8 1v14M12 1v14M1 4h14M1 8h14M1 12h14" stroke="#9cc3e6" stroke-width="0.6"/>
<rect x="2" y="2" width="8" height="8" fill="#f5a623" fill-opacity="0.8"/>
</svg>
"""


def vendor(target: Path = VENDOR) -> Path:
    """Fill ``target`` with the pinned scripts, unless it already holds them; returns ``target``."""
    stamp = target / "VERSIONS"
    wanted = "".join(f"{p.spec} {p.integrity}\n" for p in PACKAGES)
    if not (stamp.exists() and stamp.read_text() == wanted):
        with tempfile.TemporaryDirectory() as scratch:
            partial = Path(scratch) / "vendor"
            for package in PACKAGES:
                _unpack(package, _npm_pack(package, Path(scratch)), partial)
            (partial / "VERSIONS").write_text(wanted)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(partial, target)
    (target / "favicon.svg").write_text(FAVICON)
    (target / "widgets" / "ipyevents.js").write_text(IPYEVENTS_STUB)
    return target


# RequireJS reads a global `require` defined before it loads as its configuration. Each widget
# module finds its fonts next to its own module's address, so every "@jupyter-widgets/..." name
# maps into _static/widgets/; widget libraries load through RequireJS before any CDN is tried.
REQUIRE_CONFIG = """var require = (function () {
  const widgets = new URL(document.documentElement.dataset.content_root + "_static/widgets/", document.baseURI).href;
  return {paths: {"@jupyter-widgets": widgets.slice(0, -1), "@jupyter-widgets/html-manager/dist": widgets.slice(0, -1),
                  "ipyevents": widgets + "ipyevents"}};
})();"""

# ipyevents (used by the explorers) sends mouse events to the kernel, and a static page has no
# kernel: its model only has to load for the page to read the saved state. It is not on npm.
IPYEVENTS_STUB = """define(["@jupyter-widgets/base"], base => ({EventModel: base.WidgetModel}));
"""

# The widgets typeset their labels with MathJax 2's MathJax.Hub.Queue; the book loads MathJax 3.
MATHJAX2_SHIM = """if (window.MathJax) {
  MathJax.startup = {ready() {
    MathJax.startup.defaultReady();
    MathJax.Hub = {Queue: ([, , element]) => MathJax.typesetPromise([element])};
  }};
}"""


def _scripts_once(app, pagename, templatename, context, doctree) -> None:
    """Sphinx 7 adds an inline script registered while reading twice, once with the
    file name None and once with "" (sphinx-thebe's ``const THEBE_JS_URL``): the page
    would then fail with 'already declared'. Runs after the other extensions' handlers."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def _root_redirect(app, exception: Exception | None) -> None:
    """The site's root page, which sends the browser to the book's first page. Written before
    sphinx-external-toc's bare one (priority 500), so that it names the icon: a page without
    one makes the browser ask for /favicon.ico, a 404 on this server."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    first = app.builder.get_target_uri(app.config.root_doc)
    title = html.escape(app.config.html_title)
    icon = f'<link rel="icon" href="_static/{Path(app.config.html_favicon).name}">' if app.config.html_favicon else ""
    (Path(app.outdir) / "index.html").write_text(
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>{icon}\n'
        f'<meta http-equiv="Refresh" content="0; url={first}"></head>\n'
        f'<body><a href="{first}">{title}</a></body></html>\n', encoding="utf8")


def setup(app) -> dict:
    """The Sphinx extension: the scripts above, around RequireJS (priority 500) and MathJax's
    config, and the root page."""
    app.add_js_file(None, body=REQUIRE_CONFIG, priority=200)
    app.add_js_file(None, body=MATHJAX2_SHIM, priority=501)
    app.connect("html-page-context", _scripts_once, priority=900)
    app.connect("build-finished", _root_redirect, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    folder = vendor(Path(sys.argv[1]) if len(sys.argv) > 1 else VENDOR)
    print(f"website scripts in {folder}: " + ", ".join(p.spec for p in PACKAGES))
