"""The first code cell of every chapter: it installs ``cnnbook`` where it is missing.

On Colab, on Binder or in any Jupyter without the repository, ``import cnnbook`` fails,
so the cell installs the package from the one configured source: the repository in
``_config.yml`` (``repository.url`` and ``branch``), which the website's launch buttons
and repository button read too. Where ``cnnbook`` is installed the cell does nothing and
prints nothing, so the outputs of the other cells stay as committed. ``CNNBOOK_INSTALL_FROM``
overrides the source (a wheel, a folder or any pip requirement), as the tests do offline.

    python -m cnnbook.book.install_cell     # write the cell into every chapter and its text twin

Run it after changing the repository setting; the chapters keep their outputs.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIRST_LINE = "# Installs cnnbook where it is missing (Colab, Binder, any Jupyter); elsewhere does nothing"
CELL_ID = "install-cnnbook"
TAGS = ["remove-cell"]   # the website needs no installation


def package_source(config: Path = ROOT / "_config.yml") -> str:
    """The pip requirement for ``cnnbook`` from the repository setting of ``config``."""
    repository = yaml.safe_load(config.read_text())["repository"]
    return f"cnnbook @ git+{repository['url'].rstrip('/')}@{repository.get('branch', 'main')}"


def cell_source(source: str) -> str:
    """The install cell's code for the pip requirement ``source``."""
    return f"""{FIRST_LINE}
try:
    import cnnbook
except ImportError:
    import importlib, os, subprocess, sys
    source = os.environ.get("CNNBOOK_INSTALL_FROM",
                            "{source}")
    print(f"Installing {{source}} with pip")
    subprocess.run([sys.executable, "-m", "pip", "install", source], check=True)
    importlib.invalidate_caches()"""


def is_install_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and (cell.get("id") == CELL_ID or cell.source.startswith(FIRST_LINE))


def insert(notebook: nbformat.NotebookNode, source: str) -> bool:
    """Put the install cell before the first code cell of ``notebook``, or update it; True if changed.

    A new cell counts as the first one executed, so the execution counts after it move
    up by one, as a full run would number them; outputs are kept.
    """
    code = cell_source(source)
    existing = next((cell for cell in notebook.cells if is_install_cell(cell)), None)
    if existing is not None:
        changed = existing.source != code
        existing.source = code
        return changed
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.execution_count:
            cell.execution_count += 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count += 1
    position = next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"),
                    len(notebook.cells))
    cell = nbformat.v4.new_code_cell(code, id=CELL_ID, execution_count=1, metadata={"tags": TAGS})
    notebook.cells.insert(position, cell)
    return True


def update_chapters(chapters: Path = ROOT / "chapters", text: Path = ROOT / "text") -> list[Path]:
    """Write the install cell into every chapter and its text twin; the chapters changed."""
    source, changed = package_source(), []
    for path in sorted(chapters.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if insert(notebook, source):
            nbformat.write(notebook, path)
            twin = text / f"{path.stem}.md"
            jupytext.write(notebook, twin, fmt="md:myst")   # as jupytext.toml pairs them
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in update_chapters():
        print(f"install cell written into {path.relative_to(ROOT)} and its text twin")
